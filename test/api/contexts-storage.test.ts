import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readRecords, resolveSavedText, type ContextStore } from "../../durable-objects/sandbox/contexts";
import { api, createSandbox, sandboxObject } from "../helpers";

// How a context's saved bindings are stored (durable-objects/sandbox/contexts.ts): a row per
// binding, rewritten only when the binding's saved text changed.

async function newContext(id: string): Promise<string> {
  return (await (await api("POST", `/v1/sandboxes/${id}/contexts`, { json: {} })).json<any>()).contextId;
}

async function cell(id: string, context: string, code: string) {
  const body = await (await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code, context } })).json<any>();
  expect(body.status, JSON.stringify(body.error)).toBe("ok");
  return body;
}

/** Each stored binding's row ids (SQLite gives a row written again a new one) and total characters. */
async function storedRows(id: string, context: string): Promise<Record<string, { rowids: number[]; chars: number }>> {
  return runInDurableObject(sandboxObject(id), (_, state) => {
    const rows: Record<string, { rowids: number[]; chars: number }> = {};
    for (const row of state.storage.sql.exec<{ name: string; rowid: number; chars: number }>(
      "SELECT v.name, v.rowid AS rowid, b.chars FROM context_values v JOIN context_bindings b ON b.id = v.id AND b.name = v.name WHERE v.id = ? ORDER BY v.name, v.seq",
      context,
    )) {
      (rows[row.name] ??= { rowids: [], chars: row.chars }).rowids.push(row.rowid);
    }
    return rows;
  });
}

describe("context storage", () => {
  it("a cell rewrites the bindings it changed and leaves an unchanged megabyte's rows alone", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    await cell(id, context, "const blob = new Uint8Array(1024 * 1024).fill(7); let n = 0; const shared = { blob }");
    const first = await storedRows(id, context);
    expect(Object.keys(first).sort()).toEqual(["blob", "n", "shared"]);
    expect(first.blob!.rowids.length).toBeGreaterThan(1);

    await cell(id, context, "n++");
    const second = await storedRows(id, context);
    expect(second.blob).toEqual(first.blob);
    expect(second.shared).toEqual(first.shared);
    expect(second.n!.rowids).not.toEqual(first.n!.rowids);

    await cell(id, context, "blob[0] = 1");
    const third = await storedRows(id, context);
    expect(third.blob!.rowids).not.toEqual(first.blob!.rowids);
    // The shared reference still comes back as one object, with the change.
    expect((await cell(id, context, "[n, blob[0], blob[1], shared.blob === blob, blob.length]")).result).toEqual([1, 1, 7, true, 1024 * 1024]);
  });

  it("a binding that is dropped or no longer carried loses its rows", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    await cell(id, context, "let keep = 1; let later = 'text'");
    const dropped = await cell(id, context, "later = Promise.resolve(1)");
    expect(dropped.contextDropped).toEqual([expect.objectContaining({ name: "later" })]);
    expect(Object.keys(await storedRows(id, context))).toEqual(["keep"]);
    expect((await cell(id, context, "[keep, typeof later]")).result).toEqual([1, "undefined"]);
  });

  it("a context saved as one JSON text before per-binding rows is moved to rows and keeps its values", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    const legacy = JSON.stringify({
      m: { $: "map", i: 0, v: [[1, { $: "obj", i: 1, v: { x: 2 } }]] },
      alias: { $: "ref", i: 1 },
      n: 5,
    });
    await runInDurableObject(sandboxObject(id), (instance, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE context_chunks (id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (id, seq))");
      sql.exec("INSERT INTO context_chunks (id, seq, data) VALUES (?, 0, ?)", context, legacy);
      const shape = { values: ["m", "alias", "n"].map((name) => ({ name, kind: "let" })), declarations: [], imports: [] };
      sql.exec("UPDATE contexts SET shape = ? WHERE id = ?", JSON.stringify(shape), context);
      // As a fresh instance of the Durable Object would find it.
      (instance as unknown as { contexts: ContextStore }).contexts = new (Object.getPrototypeOf((instance as any).contexts).constructor)(sql);
    });
    expect((await cell(id, context, "[m.get(1).x, alias === m.get(1), n]")).result).toEqual([2, true, 5]);
    expect(Object.keys(await storedRows(id, context)).sort()).toEqual(["alias", "m", "n"]);
  });

  it("saved texts are read as records, unchanged markers included, and an older single JSON object by its keys", () => {
    expect(readRecords('\u00011,1:a53,=:big')).toEqual([
      ["a", "5"],
      ["big", undefined],
    ]);
    expect(readRecords('{"a":5,"b":{"$":"ref","i":0}}')).toEqual([
      ["a", "5"],
      ["b", '{"$":"ref","i":0}'],
    ]);
    expect(readRecords("not json")).toEqual([]);
    expect(() => readRecords("\u00019,9:short")).toThrow(/cannot read/);
  });

  it("a cell's records resolve against the text it started from: unchanged ones are taken from it", () => {
    expect(resolveSavedText("\u00013,3:big\"x\"1,1:n0", "\u00011,1:n13,=:big")).toBe('\u00011,1:n13,3:big"x"');
    expect(resolveSavedText("{}", "\u0001")).toBe("{}");
    expect(() => resolveSavedText("{}", "\u00011,=:n")).toThrow(/cannot read/);
  });
});
