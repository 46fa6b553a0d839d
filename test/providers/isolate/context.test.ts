import { describe, expect, it } from "vitest";
import { resolveSavedText } from "../../../durable-objects/sandbox/contexts";
import { EMPTY_CONTEXT_SHAPE } from "../../../src/providers/isolate/context";
import type { IsolateCellContext } from "../../../src/providers/isolate/run";
import { run } from "./helpers";

/**
 * A notebook in the engine alone: each cell runs in a fresh isolate and threads what it saved
 * to the next (bindings it left unchanged are taken from what it started from, as the host does).
 */
function notebook(language: "js" | "ts" = "js", files: Record<string, string> = {}) {
  let context: IsolateCellContext = { shape: EMPTY_CONTEXT_SHAPE, state: "{}", maxChars: 1 << 22 };
  return async (code: string) => {
    const result = await run(code, { language, context, files, limits: { cpuMs: 500 } });
    if (result.status === "ok" && result.contextOutcome && result.contextOutcome.tooLargeChars === undefined) {
      context = { ...context, shape: result.contextOutcome.shape, state: resolveSavedText(context.state, result.contextOutcome.state) };
    }
    return result;
  };
}

describe("context cells in the engine", () => {
  it("a later cell sees an earlier cell's variables, functions and classes", async () => {
    const cell = notebook();
    expect((await cell("let count = 2; const base = 10; function add(a, b) { return a + b } class Box { constructor(v) { this.v = v } }")).status).toBe("ok");
    const second = await cell("count++; const doubled = (x) => add(x, x); new Box(doubled(base) + count).v");
    expect(second).toMatchObject({ status: "ok", result: 23 });
    expect((await cell("[count, doubled(count)]")).result).toEqual([3, 6]);
  });

  it("Map, Set, Date, typed arrays and cycles come back as they were", async () => {
    const cell = notebook();
    await cell("const m = new Map([[1, 'a']]); const s = new Set(['x']); const d = new Date(5); const bytes = new Uint8Array([1, 2, 255]); const node = { name: 'n' }; node.self = node; const alias = node; const big = 12n; let odd = [NaN, -0, undefined, Infinity]");
    const result = await cell(
      "[m.get(1), s.has('x'), d.getTime(), Array.from(bytes), node.self === node, alias === node, typeof big, Number.isNaN(odd[0]), Object.is(odd[1], -0), odd[2] === undefined, odd[3] === Infinity]",
    );
    expect(result).toMatchObject({ status: "ok", result: ["a", true, 5, [1, 2, 255], true, true, "bigint", true, true, true, true] });
  });

  it("a value that cannot be carried is dropped and named", async () => {
    const cell = notebook();
    const first = await cell("const pending = new Promise(() => {}); let fn = () => 1; const kept = 1");
    expect(first.status).toBe("ok");
    expect(first.contextOutcome?.dropped.map((d) => d.name).sort()).toEqual(["fn", "pending"]);
    expect(first.contextOutcome?.dropped.find((d) => d.name === "pending")?.reason).toMatch(/promise/);
    expect(await cell("[typeof pending, kept]")).toMatchObject({ status: "ok", result: ["undefined", 1] });
  });

  it("a carried function still runs inside the CPU budget", async () => {
    const cell = notebook();
    await cell("function spin() { for (;;) {} }");
    const result = await cell("spin()");
    expect(result).toMatchObject({ status: "error", error: { name: "LimitExceeded", limit: "cpu" } });
  });

  it("a cell may declare again a name an earlier cell declared, var included", async () => {
    const cell = notebook();
    await cell("var x = 1");
    expect(await cell("var x = x === undefined ? 'shadowed' : x + 1; x")).toMatchObject({ status: "ok" });
    expect(await cell("let x = 'again'; x")).toMatchObject({ status: "ok", result: "again" });
    expect((await cell("x")).result).toBe("again");
  });

  it("TypeScript cells carry their declarations without types", async () => {
    const cell = notebook("ts");
    await cell("interface P { n: number } const p: P = { n: 4 }; function sq(v: number): number { return v * v }");
    expect(await cell("sq(p.n) as number")).toMatchObject({ status: "ok", result: 16 });
  });

  it("binding names the isolate reports that the host did not find in the code are ignored", async () => {
    const cell = notebook();
    const result = await cell("globalThis.sneaky = 1; const real = 2");
    expect(result.contextOutcome?.shape.values.map((v) => v.name)).toEqual(["real"]);
  });
});

describe("context cells against code that tampers with the runtime", () => {
  it("patched builtins and Object.prototype setters do not change what is saved or restored", async () => {
    const cell = notebook();
    await cell("const data = { list: [1, 2], map: new Map([['k', new Set([3])]]) }");
    const tamper = await cell(
      "const more = new Map([['m', 1]]);" +
        "Object.defineProperty(Object.prototype, 'list', { set() { throw new Error('setter ran') }, configurable: true });" +
        "JSON.stringify = () => 'forged'; Map.prototype.forEach = () => {}; Map.prototype.set = () => {}; Array.prototype.push = () => 0;" +
        "globalThis.structuredClone = () => ({ forged: true }); 1",
    );
    expect(tamper.status).toBe("ok");
    const after = await cell("[data.list, data.map.get('k').has(3), more.get('m')]");
    expect(after).toMatchObject({ status: "ok", result: [[1, 2], true, 1] });
  });

  it("a getter that never ends during saving is stopped by the CPU budget, and the context stays as before", async () => {
    const cell = notebook();
    await cell("let kept = 'before'");
    const stuck = await cell("kept = 'changed'; const trap = { get loop() { for (;;) {} } }; 1");
    expect(stuck).toMatchObject({ status: "error", error: { name: "LimitExceeded", limit: "cpu" } });
    expect((await cell("kept")).result).toBe("before");
  });
});

describe("context cells keep the snippet's conventions", () => {
  it("an earlier cell's own env or input shadows the parameters in later cells", async () => {
    const cell = notebook();
    expect((await cell("const input = 'mine'; let env = 2")).status).toBe("ok");
    expect(await cell("[input, env]")).toMatchObject({ status: "ok", result: ["mine", 2] });
  });

  it("an error in a cell points at the cell's own line", async () => {
    const cell = notebook();
    await cell("function helper() {\n  return 1;\n}");
    expect(await cell("helper();\nnull.x")).toMatchObject({ status: "error", error: { name: "TypeError", line: 2 } });
  });

  it("imports of earlier cells stay available", async () => {
    const cell = notebook("js", { "lib/math.js": "export const add = (a, b) => a + b;" });
    expect((await cell("import { add } from './lib/math.js'; const two = add(1, 1)")).status).toBe("ok");
    expect(await cell("add(two, 40)")).toMatchObject({ status: "ok", result: 42 });
  });
});
