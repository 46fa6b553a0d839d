import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { compileCached } from "../../../src/providers/isolate/cache";
import { randomIdentifier } from "../../../src/providers/isolate/instrument";
import { budgetModuleSource } from "../../../src/providers/isolate/runtime/budget";
import { consoleModuleSource } from "../../../src/providers/isolate/runtime/console";
import { inspectModuleSource } from "../../../src/providers/isolate/runtime/inspect";
import { guardsModuleSource } from "../../../src/providers/isolate/runtime/guards";
import { contextModuleSource } from "../../../src/providers/isolate/runtime/context";
import { mainModuleSource } from "../../../src/providers/isolate/runtime/main";
import { primordialsModuleSource } from "../../../src/providers/isolate/runtime/primordials";
import { ISOLATE_COMPATIBILITY_DATE } from "../../../src/providers/isolate";
import { checkedResult, reconcileCpu } from "../../../src/providers/isolate/run";
import { run } from "./helpers";

const SMALL = { cpuMs: 50, wallMs: 10_000 };

describe("a run starts once and user code cannot reach the runtime's entrypoint", () => {
  /** The isolate runSnippet would load, with its entrypoint in the test's hands (as a loopback would have it). */
  function loadRuntime(code: string, cpuMs = 1000) {
    const reserved = randomIdentifier();
    const names = {
      primordials: `/${reserved}_primordials.js`,
      budget: `/${reserved}_budget.js`,
      inspect: `/${reserved}_inspect.js`,
      console: `/${reserved}_console.js`,
      guards: `/${reserved}_guards.js`,
      context: `/${reserved}_context.js`,
      snippet: `/${reserved}_snippet.js`,
    };
    const snippet = compileCached(code, "snippet", "js", true);
    const worker = env.LOADER.load({
      compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
      mainModule: "main.js",
      modules: {
        [names.primordials.slice(1)]: { js: primordialsModuleSource() },
        [names.budget.slice(1)]: { js: budgetModuleSource(cpuMs, names.primordials) },
        [names.inspect.slice(1)]: { js: inspectModuleSource(names.primordials) },
        [names.console.slice(1)]: { js: consoleModuleSource(names, 1 << 20) },
        [names.guards.slice(1)]: { js: guardsModuleSource(names.primordials, {}) },
        [names.context.slice(1)]: { js: contextModuleSource(names.primordials) },
        [names.snippet.slice(1)]: { js: snippet.link(names.budget) },
        "main.js": { js: mainModuleSource(names, { cpuMs, outputBytes: 1 << 20 }) },
      },
      globalOutbound: null,
    });
    return worker.getEntrypoint() as unknown as {
      run(input: unknown, sink: (batch: unknown) => void, token: string): Promise<string>;
      stop(token: string): Promise<string>;
    };
  }

  it("a second run() on the same isolate is refused and does not reset the budget", async () => {
    const entrypoint = loadRuntime("let x = 0; for (let i = 0; i < 1e5; i++) x += i; x");
    const first = JSON.parse(await entrypoint.run(undefined, () => {}, "token-1"));
    expect(first).toMatchObject({ status: "ok", json: "4999950000" });
    expect(await entrypoint.run(undefined, () => {}, "token-1")).toMatch(/^refused/);
  });

  it("stop() obeys only the run's token (the right token is the wall-clock path, see budget.test.ts)", async () => {
    const entrypoint = loadRuntime("await new Promise((r) => setTimeout(r, 100)); 1");
    const running = entrypoint.run(undefined, () => {}, "the-token");
    await new Promise((r) => setTimeout(r, 20));
    expect(await entrypoint.stop("a-guess")).toMatch(/^refused/);
    expect(JSON.parse(await running)).toMatchObject({ status: "ok", json: "1" });
  });

  it.each([
    ["import { exports } from 'cloudflare:workers'; exports.default", "'exports' from 'cloudflare:workers'"],
    ["import { waitUntil } from 'cloudflare:workers'; waitUntil", "'waitUntil' from 'cloudflare:workers'"],
    ["import { abortIsolate } from 'cloudflare:workers'; 1", "'abortIsolate'"],
    ["import * as workers from 'cloudflare:workers'; workers.exports", "'cloudflare:workers' as a namespace"],
    ["import { exports as e } from 'cloudflare:workers'; e", "'exports' from 'cloudflare:workers'"],
    ["import { createRequire } from 'node:module'; createRequire('/')('cloudflare:workers')", "'node:module'"],
    ["import { getBuiltinModule } from 'node:process'; getBuiltinModule('node:module').createRequire('/')('cloudflare:workers').exports", "'getBuiltinModule' from 'node:process'"],
    ["import { getBuiltinModule as g } from 'process'; g('cloudflare:workers').exports", "'getBuiltinModule' from 'process'"],
    ["import * as p from 'node:process'; p.getBuiltinModule('cloudflare:workers').exports", "'node:process' as a namespace"],
    ["import * as p from 'process'; p.getBuiltinModule('node:module')", "'process' as a namespace"],
  ])("%s is an ImportError", async (code, named) => {
    const out = await run(code);
    expect(out.error?.name).toBe("ImportError");
    expect(out.error?.message).toContain(named);
    expect(out.error?.message).toContain("not available in a sandbox");
  });

  it.each([
    ["export * from 'cloudflare:workers';", "everything from 'cloudflare:workers'"],
    ["export { exports } from 'cloudflare:workers';", "'exports' from 'cloudflare:workers'"],
    ["export { waitUntil as later } from 'cloudflare:workers';", "'waitUntil' from 'cloudflare:workers'"],
    ["export { getBuiltinModule } from 'node:process';", "'getBuiltinModule' from 'node:process'"],
    ["export * from 'node:process';", "everything from 'node:process'"],
  ])("a workspace module re-exporting it (%s) is an ImportError naming the module", async (source, named) => {
    const out = await run("import * as lib from './lib.js'; Object.keys(lib)", { files: { "lib.js": source } });
    expect(out.error).toMatchObject({ name: "ImportError", file: "lib.js" });
    expect(out.error?.message).toContain(named);
  });

  it("process.getBuiltinModule cannot load cloudflare:workers or node:module", async () => {
    const out = await run(
      "const r = []; for (const id of ['cloudflare:workers', 'node:module', 'module']) { try { process.getBuiltinModule(id); r.push('loaded') } catch (e) { r.push(e.message) } } r.push(typeof process.getBuiltinModule('node:path').join); r",
    );
    expect(out.status, JSON.stringify(out.error)).toBe("ok");
    expect(out.result).toEqual([
      expect.stringContaining("not available in a sandbox"),
      expect.stringContaining("not available in a sandbox"),
      expect.stringContaining("not available in a sandbox"),
      "function",
    ]);
  });

  it("node:process's other names and its default export (the guarded process object) still import", async () => {
    const out = await run(
      "import p, { nextTick, env as e } from 'node:process'; let refused; try { p.getBuiltinModule('node:module') } catch (error) { refused = error.message } [p === process, typeof nextTick, typeof e, refused]",
    );
    expect(out.status, JSON.stringify(out.error)).toBe("ok");
    expect(out.result).toEqual([true, "function", "object", expect.stringContaining("not available in a sandbox")]);
  });

  it("the safe names of cloudflare:workers still import", async () => {
    const out = await run("import { RpcTarget, WorkerEntrypoint, env as e } from 'cloudflare:workers'; [typeof RpcTarget, typeof WorkerEntrypoint, typeof e]");
    expect(out.result).toEqual(["function", "function", "object"]);
  });
});

describe("the report cannot be forged", () => {
  it("a then() on Object.prototype does not turn a stopped loop into ok", async () => {
    const out = await run(
      "Object.prototype.then = function (resolve) { resolve({ status: 'ok', json: '\"forged\"', cpuUsedMs: 1 }) }; while (true) {}",
      { limits: SMALL },
    );
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
    expect(out.cpu.usedMs).toBeGreaterThanOrEqual(SMALL.cpuMs);
  });

  it("a bound builtin as Object.prototype.then does not either", async () => {
    const out = await run("Object.prototype.then = Array.prototype.push.bind([]); while (true) {}", { limits: SMALL });
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
  });

  it("a toJSON on Object.prototype cannot rewrite the report", async () => {
    const out = await run("Object.prototype.toJSON = function () { return { status: 'ok', cpuUsedMs: 0 } }; while (true) {}", { limits: SMALL });
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
  });

  it("getters for the report's fields on Object.prototype are not consulted", async () => {
    const code =
      "for (const k of ['status', 'json', 'cpuUsedMs', 'error', 'resultType', 'output', 'value', 'truncated', 'usedMs', 'exceeded']) Object.defineProperty(Object.prototype, k, { __proto__: null, get() { return 'forged' }, configurable: true }); 42";
    const out = await run(code);
    expect(out).toMatchObject({ status: "ok", result: 42 });
  });
});

describe("the host does not take the isolate's CPU figure on trust", () => {
  it("an ok report claiming more CPU than the isolate's budget is over budget", () => {
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 951 }, 5000, 950)).toEqual({ usedMs: 951, overBudget: true });
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 950 }, 5000, 950)).toEqual({ usedMs: 950, overBudget: false });
  });

  it("an ok report over budget is flagged even when its claim is above the measured wall time", () => {
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 10_000 }, 40, 950)).toEqual({ usedMs: 40, overBudget: true });
  });

  it("CPU claimed beyond the wall time the host measured is capped at that time", () => {
    expect(reconcileCpu({ status: "error", cpuUsedMs: 1e9 }, 120, 950)).toEqual({ usedMs: 120, overBudget: false });
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 80 }, 30, 950)).toEqual({ usedMs: 30, overBudget: false });
  });

  it("with workspace modules, measured time the run does not account for is charged as loading, within the measured time", () => {
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 10, runMs: 20 }, 320, 950, true)).toEqual({ usedMs: 310, overBudget: false });
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 300, runMs: 0 }, 320, 950, true)).toEqual({ usedMs: 320, overBudget: false });
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 10, runMs: 500 }, 320, 950, true)).toEqual({ usedMs: 10, overBudget: false });
  });

  it("without workspace modules (no user code while the isolate loads) nothing is charged as loading", () => {
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 10, runMs: 20 }, 320, 950, false)).toEqual({ usedMs: 10, overBudget: false });
  });

  it("an uninstrumented run (no budget) is never over budget; an honest claim passes through", () => {
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 1e6 }, 2e6, Infinity)).toEqual({ usedMs: 1e6, overBudget: false });
    expect(reconcileCpu({ status: "ok", cpuUsedMs: 12 }, 30, 950)).toEqual({ usedMs: 12, overBudget: false });
  });
});

describe("our code inside the isolate does not trust builtins user code can replace", () => {
  it.each([
    ["Map.prototype.clear", "Map.prototype.clear = () => { throw new Error('x') }"],
    ["Map and Set methods", "for (const C of [Map, Set]) for (const k of Object.getOwnPropertyNames(C.prototype)) if (k !== 'constructor' && k !== 'size') C.prototype[k] = () => { throw new Error(k) }"],
    ["Array.prototype", "for (const k of ['push', 'pop', 'join', 'slice', 'map', 'filter', 'includes', 'indexOf', 'splice']) Array.prototype[k] = () => { throw new Error(k) }; Array.prototype[Symbol.iterator] = function* () { yield 'forged' }"],
    ["String.prototype", "for (const k of ['slice', 'includes', 'startsWith', 'endsWith', 'replace', 'replaceAll', 'charCodeAt', 'indexOf']) String.prototype[k] = () => { throw new Error(k) }"],
    ["JSON", "JSON.stringify = () => '{\"status\":\"ok\",\"cpuUsedMs\":0}'; JSON.parse = () => ({})"],
    ["Promise", "Promise.prototype.then = function () { return this }; Promise.prototype.catch = () => {}; Promise.resolve = () => ({}); Object.defineProperty(Promise.prototype, 'constructor', { get() { throw new Error('species') } })"],
    ["Promise species", "Object.defineProperty(Promise, Symbol.species, { get() { return function () {} } })"],
    ["Symbol", "globalThis.Symbol = () => 'x'; Symbol.iterator = 'x'"],
    ["Reflect", "Reflect.apply = () => { throw new Error('apply') }; Reflect.ownKeys = () => []"],
    ["Function.prototype", "Function.prototype.call = () => { throw new Error('call') }; Function.prototype.apply = () => { throw new Error('apply') }; Function.prototype.bind = () => { throw new Error('bind') }"],
    ["Date and performance", "Date.now = () => 0; Date.prototype.getTime = () => 0; performance.now = () => 0"],
    ["console", "console.log = () => { throw new Error('log') }; globalThis.console = null"],
    ["Object statics", "for (const k of ['keys', 'getPrototypeOf', 'getOwnPropertyDescriptor', 'defineProperty', 'setPrototypeOf', 'freeze']) Object[k] = () => { throw new Error(k) }"],
    ["TextEncoder", "TextEncoder.prototype.encode = () => new Uint8Array(0); Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), 'length', { get() { return 0 } })"],
    ["getters on Object.prototype", "for (const k of ['get', 'set', 'value', 'then', 'constructor', 'length', 'name', 'message', 'stack']) { try { Object.defineProperty(Object.prototype, k, { get() { throw new Error(k) }, configurable: true }) } catch {} }"],
  ])("after patching %s, a run that returns 42 still returns 42", async (_name, patch) => {
    const out = await run(`${patch};\n42`, { limits: { cpuMs: 1000 } });
    expect(out.status, JSON.stringify(out.error)).toBe("ok");
    expect(out.result).toBe(42);
    expect(out.cpu.usedMs).toBeLessThan(1000);
  });

  it("a workspace module that patches everything while it loads (before the run starts) changes nothing either", async () => {
    const evil = [
      "Map.prototype.clear = Map.prototype.set = () => { throw new Error('map') };",
      "Array.prototype.push = () => { throw new Error('push') }; Array.prototype[Symbol.iterator] = function* () {};",
      "JSON.stringify = () => '{\"status\":\"ok\",\"cpuUsedMs\":0,\"json\":\"1\"}';",
      "Promise.prototype.then = function () { return this };",
      "Object.defineProperty(Promise.prototype, 'constructor', { __proto__: null, get() { throw new Error('species') } });",
      "for (const k of ['then', 'toJSON', 'env', 'status', 'get', 'set', 'value']) Object.defineProperty(Object.prototype, k, { __proto__: null, get() { throw new Error(k) }, configurable: true });",
      "Date.now = () => 0;",
      "export const loaded = true;",
    ].join("\n");
    const out = await run("import { loaded } from './evil.js';\nloaded ? 42 : 0", { files: { "evil.js": evil } });
    expect(out.status, JSON.stringify(out.error)).toBe("ok");
    expect(out.result).toBe(42);
  });

  it("console output still arrives after console-facing builtins are patched", async () => {
    const out = await run("console.log('before'); Array.prototype.push = () => 0; Date.now = () => 0; console.log('after'); 1");
    expect(out.stdout).toBe("before\nafter\n");
  });
});

describe("the result is rendered once, and its size holds", () => {
  it("a getter bound to a stateful builtin cannot hand the serialiser a bigger value than the renderer saw", async () => {
    const code =
      "const values = ['x'.repeat(8e6), 'small', 'x'.repeat(8e6), 'small']; const o = {}; Object.defineProperty(o, 'v', { get: Array.prototype.pop.bind(values), enumerable: true }); o";
    const out = await run(code, { limits: { outputBytes: 1024 } });
    expect(out.status).toBe("ok");
    expect(new TextEncoder().encode(JSON.stringify(out.result)).length).toBeLessThanOrEqual(1024 + 2);
    expect(out.result).toEqual({ v: { "@type": "getter", text: "[Getter]" } });
    expect(out.resultType).toBe("tagged");
  });

  it("tagged results are built where patched prototypes cannot reach", async () => {
    const code =
      "Object.defineProperty(Array.prototype, '0', { set() { throw new Error('setter reached') }, configurable: true });" +
      "Object.defineProperty(Object.prototype, 'value', { get() { return 'forged' }, configurable: true });" +
      "const o = { n: 1n }; Object.defineProperty(o, 'g', { __proto__: null, get() { return 'called' }, enumerable: true }); [undefined, o]";
    const out = await run(code);
    expect(out.error).toBeUndefined();
    expect(out).toMatchObject({ status: "ok", resultType: "tagged" });
    expect(out.result).toEqual([
      { "@type": "undefined", text: "undefined" },
      { n: { "@type": "bigint", text: "1n" }, g: { "@type": "getter", text: "[Getter]" } },
    ]);
  });

  it("a Proxy that answers differently each time is still cut to the limit", async () => {
    const code =
      "let n = 0; const p = new Proxy({ v: 1 }, { get: (t, k) => (k === 'v' ? (n++ % 2 ? 'x'.repeat(4e6) : 1) : t[k]) }); p";
    const out = await run(code, { limits: { outputBytes: 4096 } });
    expect(out.status).toBe("ok");
    if (typeof out.result === "string") expect(new TextEncoder().encode(out.result).length).toBeLessThanOrEqual(4096);
    else expect(new TextEncoder().encode(JSON.stringify(out.result)).length).toBeLessThanOrEqual(4096);
  });

  it.each([
    ["a 12 MB string", "'y'.repeat(12e6)"],
    ["a 30 MB JSON array", "Array.from({ length: 3e6 }, () => 'abcdefgh')"],
  ])("%s comes back cut to the limit with resultTruncated", async (_name, code) => {
    const out = await run(code, { limits: { cpuMs: 5000, outputBytes: 1 << 20 } });
    expect(out).toMatchObject({ status: "ok", resultTruncated: true });
    expect(new TextEncoder().encode(String(out.result)).length).toBeLessThanOrEqual(1 << 20);
  });

  it("the host cuts a result the isolate failed to cut, and flags it", () => {
    const big = "é".repeat(3000);
    expect(checkedResult({ json: JSON.stringify(big) }, 1000)).toEqual({ result: "é".repeat(500), resultTruncated: true });
    const array = Array.from({ length: 500 }, (_, i) => i);
    const cut = checkedResult({ json: JSON.stringify(array) }, 100);
    expect(cut).toMatchObject({ resultType: "json", resultTruncated: true });
    expect(cut!.result).toBe(JSON.stringify(array).slice(0, 100));
    expect(checkedResult({ json: "[1,2]" }, 100)).toEqual({ result: [1, 2] });
    expect(checkedResult({ json: "not json" }, 100)).toBeNull();
  });

  it("an error with a huge message is cut", async () => {
    const out = await run("throw new Error('m'.repeat(5e6))");
    expect(out.error?.name).toBe("Error");
    expect(out.error!.message.length).toBeLessThanOrEqual(64 * 1024);
  });
});

describe("nothing of a run continues after it", () => {
  it("scheduler.wait is counted like setTimeout: a builtin chained after it cannot run past the budget", async () => {
    const started = Date.now();
    const out = await run(
      "const heavy = JSON.stringify.bind(JSON, Array.from({ length: 20000 }, (_, i) => ({ i, s: 'abcdefgh' }))); for (;;) await scheduler.wait(1).then(heavy)",
      { limits: { cpuMs: 50, wallMs: 20_000 } },
    );
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("bare builtins scheduled with setImmediate are counted too", async () => {
    // About 600 ms of work, each piece run by the runtime with no check of its own.
    const out = await run(
      "const heavy = JSON.stringify.bind(JSON, Array.from({ length: 20000 }, (_, i) => ({ i, s: 'abcdefgh' }))); for (let i = 0; i < 400; i++) setImmediate(heavy); await scheduler.wait(1); 'done'",
      { limits: { cpuMs: 50, wallMs: 20_000 } },
    );
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
    expect(out.cpu.usedMs).toBeGreaterThanOrEqual(50);
  });

  // node:timers and node:timers/promises hold their own copies of the runtime's timers: their
  // named exports are refused, and their default exports (what process.getBuiltinModule gives)
  // hold the wrapped ones.
  it.each([
    ["timers.setTimeout", "import timers from 'node:timers'; for (let i = 0; i < 400; i++) timers.setTimeout(heavy, 1); await scheduler.wait(20)"],
    ["timers.setImmediate", "import timers from 'node:timers'; for (let i = 0; i < 400; i++) timers.setImmediate(heavy); await scheduler.wait(1)"],
    ["timers.setInterval", "import timers from 'node:timers'; const h = timers.setInterval(heavy, 0); await new Promise((r) => setTimeout(r, 2000)); clearInterval(h)"],
    ["getBuiltinModule('node:timers').setTimeout", "for (let i = 0; i < 400; i++) process.getBuiltinModule('node:timers').setTimeout(heavy, 1); await scheduler.wait(20)"],
    ["timers/promises setTimeout", "import tp from 'node:timers/promises'; for (let i = 0; i < 400; i++) tp.setTimeout(1).then(heavy); await scheduler.wait(20)"],
    ["timers/promises setImmediate", "import tp from 'node:timers/promises'; for (let i = 0; i < 400; i++) tp.setImmediate().then(heavy); await scheduler.wait(1)"],
    ["timers/promises scheduler.yield", "import tp from 'node:timers/promises'; for (let i = 0; i < 400; i++) tp.scheduler.yield().then(heavy); await scheduler.wait(20)"],
    ["timers.promises.setTimeout", "import timers from 'node:timers'; for (let i = 0; i < 400; i++) timers.promises.setTimeout(1).then(heavy); await scheduler.wait(20)"],
    ["getBuiltinModule('node:timers/promises').setTimeout", "for (let i = 0; i < 400; i++) process.getBuiltinModule('node:timers/promises').setTimeout(1).then(heavy); await scheduler.wait(20)"],
    ["AbortSignal.timeout", "for (let i = 0; i < 400; i++) AbortSignal.timeout(1).addEventListener('abort', heavy); await scheduler.wait(20)"],
    ["AbortSignal.timeout's onabort", "for (let i = 0; i < 400; i++) AbortSignal.timeout(1).onabort = heavy; await scheduler.wait(20)"],
    ["timers/promises setInterval", "import tp from 'node:timers/promises'; const it = tp.setInterval(1); for (let i = 0; i < 400; i++) it.next().then(heavy); await scheduler.wait(2000)"],
    ["a named setTimeout of node:timers", "import { setTimeout as later } from 'node:timers'; for (let i = 0; i < 400; i++) later(heavy, 1); await scheduler.wait(20)"],
    ["a named setImmediate of node:timers", "import { setImmediate } from 'node:timers'; for (let i = 0; i < 400; i++) setImmediate(heavy); await scheduler.wait(1)"],
    ["a named setTimeout of node:timers/promises", "import { setTimeout as sleep } from 'node:timers/promises'; for (let i = 0; i < 400; i++) sleep(1).then(heavy); await scheduler.wait(20)"],
    ["node:timers/promises as a namespace", "import * as tp from 'node:timers/promises'; for (let i = 0; i < 400; i++) tp.setImmediate().then(heavy); await scheduler.wait(1)"],
    ["a named scheduler of node:timers/promises", "import { scheduler as s } from 'node:timers/promises'; for (let i = 0; i < 400; i++) s.yield().then(heavy); await scheduler.wait(20)"],
  ])("bare builtins scheduled through %s are counted", async (_door, attack) => {
    const heavy = "const heavy = JSON.stringify.bind(JSON, Array.from({ length: 20000 }, (_, i) => ({ i, s: 'abcdefgh' }))); ";
    const [imports, rest] = attack.startsWith("import") ? [attack.slice(0, attack.indexOf(";") + 1), attack.slice(attack.indexOf(";") + 1)] : ["", attack];
    const started = Date.now();
    const out = await run(`${imports} ${heavy}${rest}; 'done'`, { limits: { cpuMs: 50, wallMs: 20_000 } });
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("timers/promises' setInterval still iterates, through a check", async () => {
    const out = await run("import tp from 'node:timers/promises'; const r = []; for await (const v of tp.setInterval(2, 'v')) { r.push(v); if (r.length === 3) break } [r, await tp.setTimeout(1, 'later'), await tp.setImmediate('now')]");
    expect(out.result).toEqual([["v", "v", "v"], "later", "now"]);
  });

  it.each([
    ["import { Timeout } from 'node:timers'; 1", "'Timeout' from 'node:timers'"],
    ["import { active } from 'node:timers'; 1", "'active' from 'node:timers'"],
    ["export { setTimeout } from 'node:timers/promises'", "'setTimeout' from 'node:timers/promises'"],
  ])("%s is an ImportError (its own copy is not wrapped)", async (code, named) => {
    const out = await run(code);
    expect(out.error?.name).toBe("ImportError");
    expect(out.error?.message).toContain(named);
  });

  it("Node's named imports of node:timers and node:timers/promises work as in Node, through the wrapped timers", async () => {
    const out = await run(
      "import { setTimeout as sleep, setImmediate as soon, scheduler } from 'node:timers/promises'; import * as tp from 'node:timers/promises'; import timers, { setTimeout, clearTimeout, promises } from 'node:timers'; const seen = []; clearTimeout(setTimeout(() => seen.push('cleared'), 1)); setTimeout((a) => seen.push(a), 1, 'timeout'); seen.push(await soon('immediate')); seen.push(await sleep(5, 'slept')); await scheduler.wait(1); seen.push(await tp.setTimeout(1, 'namespace')); seen.push(await promises.setTimeout(1, 'promises')); [seen, timers.setTimeout === setTimeout, setTimeout === globalThis.setTimeout]",
    );
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual([["immediate", "timeout", "slept", "namespace", "promises"], true, true]);
  });

  it("a workspace module's named timers import works and is counted", async () => {
    const heavy = "const heavy = JSON.stringify.bind(JSON, Array.from({ length: 20000 }, (_, i) => ({ i, s: 'abcdefgh' })));";
    const files = { "wait.js": `import { setTimeout as sleep } from 'node:timers/promises';\n${heavy}\nexport const nap = (ms) => sleep(ms, 'rested');\nexport const burn = () => { for (let i = 0; i < 400; i++) sleep(1).then(heavy); };` };
    expect((await run("import { nap } from './wait.js'; await nap(2)", { files })).result).toBe("rested");
    const out = await run("import { burn } from './wait.js'; burn(); await scheduler.wait(20); 'done'", { files, limits: { cpuMs: 50, wallMs: 20_000 } });
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
  });

  it("the default exports of node:timers and node:timers/promises, and its clear functions, still work", async () => {
    const out = await run(
      "import timers, { clearTimeout as clear } from 'node:timers'; import tp from 'node:timers/promises'; const seen = []; clear(timers.setTimeout(() => seen.push('cleared'), 1)); timers.setTimeout((a) => seen.push(a), 1, 'timeout'); timers.setImmediate((a) => seen.push(a), 'immediate'); seen.push(await tp.setTimeout(5, 'awaited')); seen",
    );
    expect(out.result).toEqual(["immediate", "timeout", "awaited"]);
  });

  it("AbortSignal.timeout still aborts with a TimeoutError", async () => {
    const out = await run("const signal = AbortSignal.timeout(5); const before = signal.aborted; await new Promise((r) => signal.addEventListener('abort', r)); [before, signal.aborted, signal.reason.name, signal.reason instanceof DOMException, typeof AbortSignal.timeout]");
    expect(out.result).toEqual([false, true, "TimeoutError", true, "function"]);
  });

  it("clearImmediate still cancels, and an immediate's arguments reach its callback", async () => {
    const out = await run("const seen = []; const h = setImmediate(() => seen.push('cleared')); clearImmediate(h); setImmediate((a, b) => seen.push(a + b), 1, 2); await scheduler.wait(5); seen");
    expect(out.result).toEqual([3]);
  });

  it("a timer left pending never fires once the run has returned", async () => {
    const out = await run("globalThis.leak = []; setTimeout(() => console.log('late'), 1); scheduler.wait(1).then(() => console.log('late too')); 'done'");
    expect(out).toMatchObject({ status: "ok", result: "done", stdout: "" });
  });
});

describe("idle time is not CPU", () => {
  // Time the runtime spends descheduled (another test file busy on the other core) still counts
  // as busy, so on a loaded two-core machine a run can miss; a retry sees the same code again.
  it("300 timer waits of 5 ms fit in a 100 ms budget", { retry: 2 }, async () => {
    const out = await run("for (let i = 0; i < 300; i++) await new Promise((r) => setTimeout(r, 5)); 'rested'", { limits: { cpuMs: 100, wallMs: 20_000 } });
    expect(out, JSON.stringify(out.error)).toMatchObject({ status: "ok", result: "rested" });
    expect(out.cpu.usedMs).toBeLessThan(100);
  });

  it("1,000 awaited 2 ms timers fit in the default budget", async () => {
    const out = await run("for (let i = 0; i < 1000; i++) await new Promise((r) => setTimeout(r, 2)); 'rested'", { limits: { cpuMs: 1000, wallMs: 30_000 } });
    expect(out, JSON.stringify(out.error)).toMatchObject({ status: "ok", result: "rested" });
  });

  it("300 awaited zero-delay timers and scheduler.wait(1) calls fit in the default budget", async () => {
    const out = await run("for (let i = 0; i < 300; i++) { await new Promise((r) => setTimeout(r, 0)); await scheduler.wait(1) } 'rested'", { limits: { cpuMs: 1000, wallMs: 30_000 } });
    expect(out, JSON.stringify(out.error)).toMatchObject({ status: "ok", result: "rested" });
  });
});

describe("failures are clean errors in our words", () => {
  it("an imported JSON file 200,000 levels deep is an ImportError", async () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    const out = await run("import data from './deep.json'; data.length", { files: { "deep.json": deep } });
    expect(out.error).toMatchObject({ name: "ImportError", file: "deep.json" });
    expect(out.error?.message).toContain("nests deeper than");
  });

  it("a JSON file of ordinary depth still imports", async () => {
    const out = await run("import data from './d.json'; data.a.b", { files: { "d.json": '{"a":{"b":[1,"[{"]}}' } });
    expect(out.result).toEqual([1, "[{"]);
  });
});
