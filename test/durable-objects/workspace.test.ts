import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Workspace } from "../../durable-objects/sandbox/workspace";
import type { WorkspaceFile } from "../../src/providers/contract";
import { api, createSandbox, sandboxObject } from "../helpers";

/** Runs `fn` with the workspace of a new sandbox, inside its Durable Object. */
async function withWorkspace<T>(fn: (workspace: Workspace, sql: SqlStorage) => Promise<T> | T): Promise<T> {
  const { id } = await createSandbox();
  return runInDurableObject(sandboxObject(id), (instance, state) => fn((instance as unknown as { workspace: Workspace }).workspace, state.storage.sql));
}

/** Files whose bodies lie one after another in one buffer, as in a snapshot archive. */
function adjacentFiles(sizes: [string, number][]): { buffer: Uint8Array; files: WorkspaceFile[] } {
  const buffer = new Uint8Array(sizes.reduce((n, [, size]) => n + size, 0));
  let x = 7;
  for (let i = 0; i < buffer.length; i++) buffer[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const files: WorkspaceFile[] = [];
  let offset = 0;
  for (const [path, size] of sizes) {
    files.push({ path, data: buffer.subarray(offset, offset + size) });
    offset += size;
  }
  return { buffer, files };
}

const MIB = 1024 * 1024;

describe("workspace: replacing and reading every file at once", () => {
  it("replaceAll writes adjacent files byte for byte, empty and multi-chunk ones included, and removes the old files", async () => {
    const sizes: [string, number][] = [
      ["a/empty.txt", 0],
      ...Array.from({ length: 300 }, (_, i): [string, number] => [`a/small-${String(i).padStart(3, "0")}.bin`, 1 + ((i * 7919) % 9000)]),
      ["b/big.bin", MIB + 12345],
      ["b/exactly-one-chunk.bin", MIB],
      ["c/after-big.bin", 3],
    ];
    const { files } = adjacentFiles(sizes);
    await withWorkspace(async (workspace) => {
      workspace.write("old.txt", new Uint8Array([1, 2]).buffer, 1);
      await workspace.replaceAll(files, 2);
      expect(workspace.read("old.txt")).toBeUndefined();
      expect(workspace.list("").map((e) => [e.path, e.size])).toEqual([...sizes].sort(([a], [b]) => (a < b ? -1 : 1)));
      for (const file of files) expect(workspace.read(file.path)!.data).toEqual(file.data);
      const all = workspace.readAll();
      expect(all.map((f) => f.path)).toEqual(workspace.list("").map((e) => e.path));
      for (const file of all) expect(file.data).toEqual(files.find((f) => f.path === file.path)!.data);
    });
  });

  it("files that are not adjacent in one buffer are written byte for byte too", async () => {
    const files = ["x", "y", "z"].map((path, i) => ({ path, data: new Uint8Array(1000 + i).fill(i + 1) }));
    await withWorkspace(async (workspace) => {
      await workspace.replaceAll(files, 1);
      for (const file of files) expect(workspace.read(file.path)!.data).toEqual(file.data);
    });
  });

  it("a set past the profile's file count is refused whole and leaves the workspace as it was", async () => {
    const files = Array.from({ length: 10_001 }, (_, i) => ({ path: `f${i}`, data: new Uint8Array(0) }));
    await withWorkspace(async (workspace, sql) => {
      workspace.write("keep.txt", new Uint8Array([115, 116, 105, 108, 108]).buffer, 1);
      await expect(workspace.replaceAll(files, 2)).rejects.toMatchObject({ code: "limit_exceeded", extra: { limit: "max_files", max: 10_000 } });
      expect(workspace.list("").map((e) => e.path)).toEqual(["keep.txt"]);
      expect(new TextDecoder().decode(workspace.read("keep.txt")!.data)).toBe("still");
      expect(sql.exec("SELECT name FROM sqlite_master WHERE name LIKE '%_next'").toArray()).toEqual([]);
    });
  });

  it("staging tables left by a replacement cut short are dropped by the next one", async () => {
    await withWorkspace(async (workspace, sql) => {
      sql.exec("CREATE TABLE files_next (path TEXT PRIMARY KEY, size INTEGER NOT NULL, updated_at INTEGER NOT NULL)");
      sql.exec("INSERT INTO files_next VALUES ('half-written', 1, 1)");
      await workspace.replaceAll([{ path: "whole.txt", data: new Uint8Array([1, 2, 3]) }], 2);
      expect(workspace.list("").map((e) => e.path)).toEqual(["whole.txt"]);
    });
  });

  it("two replacements at once run one after the other, and the later one is what remains", async () => {
    await withWorkspace(async (workspace) => {
      const first = adjacentFiles(Array.from({ length: 50 }, (_, i): [string, number] => [`first/${i}`, 40_000])).files;
      const second = adjacentFiles([["second/only.bin", 5000]]).files;
      await Promise.all([workspace.replaceAll(first, 1), workspace.replaceAll(second, 2)]);
      expect(workspace.list("").map((e) => e.path)).toEqual(["second/only.bin"]);
      expect(workspace.read("second/only.bin")!.data).toEqual(second[0]!.data);
    });
  });
});

describe("fork of a workspace with every kind of file", () => {
  it("a fork holds empty, small and multi-chunk files byte for byte", async () => {
    const { id } = await createSandbox();
    const big = adjacentFiles([["big", MIB + 999]]).files[0]!.data;
    const put = async (path: string, body: Uint8Array) => expect((await api("PUT", `/v1/sandboxes/${id}/files/${path}`, { body })).status).toBe(201);
    await put("empty.txt", new Uint8Array(0));
    await put("big.bin", big);
    for (let i = 0; i < 20; i++) await put(`small/${i}.bin`, new Uint8Array(i * 100).fill(i));
    const snap = await (await api("POST", `/v1/sandboxes/${id}/snapshots`, { json: {} })).json<any>();
    const fork = await api("POST", "/v1/sandboxes", { json: { fromSnapshot: snap.snapshotId } });
    expect(fork.status).toBe(201);
    const forkId = (await fork.json<any>()).id;
    const read = async (path: string) => new Uint8Array(await (await api("GET", `/v1/sandboxes/${forkId}/files/${path}`)).arrayBuffer());
    expect(await read("empty.txt")).toEqual(new Uint8Array(0));
    expect(await read("big.bin")).toEqual(big);
    for (let i = 0; i < 20; i++) expect(await read(`small/${i}.bin`)).toEqual(new Uint8Array(i * 100).fill(i));
  });
});
