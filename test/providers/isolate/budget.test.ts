import { describe, expect, it } from "vitest";
import { run } from "./helpers";

const SMALL = { cpuMs: 50, wallMs: 10_000, outputBytes: 1 << 20, codeBytes: 1 << 20, subRequests: 10 };

async function expectCpuLimit(code: string, language: "js" | "ts" = "js") {
  const out = await run(code, { limits: SMALL, language });
  expect(out.status, JSON.stringify(out.error)).toBe("error");
  expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
  expect(out.cpu.usedMs).toBeGreaterThanOrEqual(SMALL.cpuMs);
  return out;
}

describe("the CPU budget stops every loop form", () => {
  it.each([
    ["while", "while (true) {}"],
    ["while without braces", "let i = 0; while (true) i++"],
    ["do-while", "do {} while (true)"],
    ["for", "for (;;) {}"],
    ["for without braces", "for (let i = 0; ; i++) ;"],
    ["for-in with a heavy body", "const big = Array.from({ length: 2000 }, (_, i) => i); const o = {}; for (let i = 0; i < 100000; i++) o['k' + i] = i; for (const k in o) { JSON.stringify(big) }"],
    ["for-of over an endless generator", "function* g() { while (true) yield 1 } for (const x of g()) {}"],
    ["for-of over an endless iterator", "const it = { [Symbol.iterator]: () => ({ next: () => ({ value: 1, done: false }) }) }; for (const x of it) {}"],
    ["labelled continue", "outer: for (;;) { for (let i = 0; i < 10; i++) { continue outer } }"],
    ["for await", "async function* g() { while (true) yield 1 } for await (const x of g()) {}"],
  ])("%s", async (_name, code) => {
    await expectCpuLimit(code);
  });
});

describe("the CPU budget stops functions and callbacks", () => {
  it.each([
    ["async function loop", "async function f() { while (true) {} } await f()"],
    ["mutual recursion that never overflows", "function a(n) { return n > 1000 ? 0 : b(n + 1) } function b(n) { return a(n) } while (true) a(0)"],
    ["catch-and-retry of stack overflow", "function f() { try { f() } catch { f() } } f()"],
    ["arr.map callbacks", "const arr = Array.from({ length: 1000 }, (_, i) => i); while (true) arr.map((x) => x * 2)"],
    ["Array.prototype.sort comparator", "const arr = Array.from({ length: 5000 }, () => Math.random()); while (true) arr.slice().sort((a, b) => a - b)"],
    ["Promise.then chain", "let p = Promise.resolve(); for (;;) { p = p.then(() => {}); await p }"],
    ["microtask loop", "await new Promise(() => { function f() { Promise.resolve().then(f) } f() })"],
    ["queueMicrotask loop", "await new Promise(() => { function f() { queueMicrotask(f) } f() })"],
    ["setTimeout loop", "await new Promise(() => { function f() { for (let i = 0; i < 1e5; i++); setTimeout(f, 0) } f() })"],
    ["exponential expression-bodied arrow recursion", "const f = (n) => (n > 25 ? 0 : f(n + 1) + f(n + 1)); f(0)"],
    ["exponential getter recursion in a class", "class A { constructor(n) { this.n = n } get x() { return this.n > 25 ? 0 : new A(this.n + 1).x + new A(this.n + 1).x } } new A(0).x"],
    ["generator resumed forever", "function* g() { let i = 0; for (;;) yield i++ } const it = g(); for (;;) it.next()"],
  ])("%s", async (_name, code) => {
    await expectCpuLimit(code);
  });

  it("stops a TypeScript loop", async () => {
    await expectCpuLimit("let n: number = 0;\nwhile (n >= 0) { n++ }", "ts");
  });
});

describe("the budget cannot be swallowed or blinded", () => {
  it("catching LimitExceeded and returning normally still reports LimitExceeded", async () => {
    const out = await expectCpuLimit("try { while (true) {} } catch (e) { 'swallowed: ' + e.name }");
    expect(out.result).toBeNull();
  });

  it("catching it inside the loop and continuing is stopped again at the next check", async () => {
    await expectCpuLimit("for (;;) { try { while (true) {} } catch {} }");
  });

  it("patching Date.now does not blind the budget", async () => {
    await expectCpuLimit("Date.now = () => 0; Math.max = () => 1e9; while (true) {}");
  });

  it("the check and its module cannot be named by user code", async () => {
    const out = await run("typeof check + typeof __sbx_c + Object.keys(globalThis).filter((k) => k.startsWith('__sbx')).length");
    expect(out.result).toBe("undefinedundefined0");
  });

  it("time spent awaiting does not count", async () => {
    const out = await run("await new Promise((r) => setTimeout(r, 200)); 'ok'", { limits: SMALL });
    expect(out).toMatchObject({ status: "ok", result: "ok" });
    expect(out.cpu.usedMs).toBeLessThan(SMALL.cpuMs);
  });

  it("the next run after a stopped one works", async () => {
    await expectCpuLimit("while (true) {}");
    expect((await run("1 + 2")).result).toBe(3);
  });
});

describe("wall-clock limit", () => {
  it("a run that waits too long is stopped from the host side", async () => {
    const out = await run("await new Promise((r) => setTimeout(r, 60_000))", { limits: { ...SMALL, wallMs: 200 } });
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "wall" });
  });

  it("awaiting a promise nothing can settle is reported as a hang, at once", async () => {
    const out = await run("await new Promise(() => {})", { limits: { ...SMALL, wallMs: 5000 } });
    expect(out.error?.name).toBe("Hang");
    expect(out.durationMs).toBeLessThan(2000);
  });

  it("infinite recursion ends with a RangeError, not a hang", async () => {
    const out = await run("class A { get x() { return this.x } } new A().x", { limits: SMALL });
    expect(out.error?.name).toBe("RangeError");
  });
});

describe("the CPU budget while modules load", () => {
  // Top-level code of an imported file runs when the isolate loads, where the clock reads 0:
  // the budget counts checks there instead of milliseconds.
  it("an endless loop at the top level of an imported file is stopped", async () => {
    const started = Date.now();
    const out = await run("import { x } from './spin.js'; x", { limits: SMALL, files: { "spin.js": "let i = 0; while (true) i++; export const x = i;" } });
    expect(out.status).toBe("error");
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("top-level work of an imported file is in the reported CPU, even work the check count misses (bare builtins)", async () => {
    const heavy = "const heavy = JSON.stringify.bind(JSON, Array.from({ length: 20000 }, (_, i) => ({ i, s: 'abcdefgh' })));";
    const files = { "slow.js": `${heavy}\nfor (let i = 0; i < 200; i++) heavy();\nexport const done = true;` };
    const started = Date.now();
    const out = await run("import { done } from './slow.js'; done", { limits: { cpuMs: 20_000, wallMs: 20_000 }, files });
    const wallMs = Date.now() - started;
    expect(out).toMatchObject({ status: "ok", result: true });
    // 200 serialisations of a 20,000-object array: a few hundred milliseconds here.
    expect(out.cpu.usedMs - (out.cpu.compileMs ?? 0)).toBeGreaterThan(100);
    expect(out.cpu.usedMs).toBeLessThanOrEqual(wallMs);
  });

  it("ordinary top-level work in an imported file is not stopped", async () => {
    const files = { "table.js": "export const table = []; for (let i = 0; i < 10000; i++) table.push(i * i);" };
    const out = await run("import { table } from './table.js'; table.length", { limits: SMALL, files });
    expect(out).toMatchObject({ status: "ok", result: 10000 });
  });
});
