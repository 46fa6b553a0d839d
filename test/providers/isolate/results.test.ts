import { describe, expect, it } from "vitest";
import { run } from "./helpers";

describe("snippet semantics", () => {
  it.each([
    ["1 + 2", 3, undefined],
    ["'text'", "text", undefined],
    ["[1, { a: null }]", [1, { a: null }], undefined],
    ["({ nested: { ok: true } })", { nested: { ok: true } }, undefined],
    ["undefined", "undefined", "undefined"],
    ["10n ** 20n", "100000000000000000000n", "bigint"],
    ["new Map([['a', 1]])", "Map(1) { 'a' => 1 }", "Map"],
    ["new Set([1, 2])", "Set(2) { 1, 2 }", "Set"],
    ["new Date(0)", "1970-01-01T00:00:00.000Z", "Date"],
    ["function named() {}; named", "[Function: named]", "function"],
    ["Symbol('s')", "Symbol(s)", "symbol"],
    ["NaN", "NaN", "number"],
    ["const o = { a: 1 }; o.self = o; o", { a: 1, self: { "@type": "circular", text: "[Circular]" } }, "tagged"],
    ["new Uint8Array([1, 2])", "Uint8Array(2) [ 1, 2 ]", "Uint8Array"],
    ["class Point { constructor() { this.x = 1 } }; new Point()", "Point { x: 1 }", "Point"],
    ["[1, undefined]", [1, { "@type": "undefined", text: "undefined" }], "tagged"],
    [
      "({ n: 1, big: 2n, when: new Date(0), tags: new Set(['a']), nested: [NaN, { f() {} }] })",
      {
        n: 1,
        big: { "@type": "bigint", text: "2n" },
        when: { "@type": "Date", text: "1970-01-01T00:00:00.000Z" },
        tags: { "@type": "Set", text: "Set(1) { 'a' }" },
        nested: [{ "@type": "number", text: "NaN" }, { f: { "@type": "function", text: "[Function: f]" } }],
      },
      "tagged",
    ],
    ["[1, , 3]", "[ 1, <1 empty item>, 3 ]", "Array"],
  ])("%s → %j (%s)", async (code, result, resultType) => {
    const out = await run(code);
    expect(out.status).toBe("ok");
    expect(out.result).toEqual(result);
    expect(out.resultType).toBe(resultType);
  });

  it("top-level await works and the last expression is the result", async () => {
    expect((await run("const x = await new Promise((r) => setTimeout(() => r(20), 10));\nx + 1")).result).toBe(21);
  });

  it("an explicit return is the result", async () => {
    expect((await run("if (true) { return 'early' }\n'late'")).result).toBe("early");
  });

  it("a last statement that is not an expression gives undefined", async () => {
    expect((await run("const x = 1;")).resultType).toBe("undefined");
  });

  it("input is visible to the code", async () => {
    expect((await run("input.a * 2", { input: { a: 21 } })).result).toBe(42);
  });

  it("env values are visible as env", async () => {
    expect((await run("env.GREETING + '!'", { env: { GREETING: "hi" } })).result).toBe("hi!");
  });

  it("strips TypeScript types", async () => {
    const out = await run("interface P { x: number }\nconst p: P = { x: 2 };\nfunction sq(n: number): number { return n * n }\nsq(p.x) as number", { language: "ts" });
    expect(out).toMatchObject({ status: "ok", result: 4 });
  });
});

describe("console", () => {
  it("log/info/debug go to stdout, warn/error to stderr, each in logs with level and time", async () => {
    const out = await run("console.log('a', 1, { b: 2 }); console.info('i'); console.debug('d'); console.warn('w'); console.error(new Error('boom'))");
    expect(out.stdout).toBe("a 1 { b: 2 }\ni\nd\n");
    expect(out.stderr).toBe("w\nError: boom\n");
    expect(out.logs.map((l) => [l.level, l.message])).toEqual([
      ["log", "a 1 { b: 2 }"],
      ["info", "i"],
      ["debug", "d"],
      ["warn", "w"],
      ["error", "Error: boom"],
    ]);
    expect(Date.parse(out.logs[0]!.ts)).toBeGreaterThan(0);
  });

  it("truncates stdout, stderr and the result at the output limit, with flags", async () => {
    const limits = { cpuMs: 1000, wallMs: 5000, outputBytes: 100, codeBytes: 1 << 20, subRequests: 10 };
    const out = await run("for (let i = 0; i < 50; i++) { console.log('line ' + i); console.error('err ' + i) }\n'x'.repeat(500)", { limits });
    expect(out.stdout.length).toBe(100);
    expect(out.stdoutTruncated).toBe(true);
    expect(out.stderrTruncated).toBe(true);
    expect(out.resultTruncated).toBe(true);
    expect((out.result as string).length).toBe(100);
  });
});

describe("imports of workspace files", () => {
  const files = {
    "lib/math.js": "import { base } from './base.ts';\nexport const add = (a, b) => a + b + base;",
    "lib/base.ts": "export const base: number = 0;",
    "data.json": '{ "n": 40 }',
    "lib/broken.js": "export const = 1",
  };

  it("imports .js, .ts and .json files, nested, by relative path", async () => {
    const out = await run("import { add } from './lib/math.js';\nimport data from './data.json';\nadd(data.n, 2)", { files });
    expect(out).toMatchObject({ status: "ok", result: 42 });
  });

  it("a missing module is a clear error", async () => {
    const out = await run("import { x } from './nope.js';\nx", { files });
    expect(out.status).toBe("error");
    expect(out.error).toMatchObject({ name: "ImportError" });
    expect(out.error!.message).toContain("no workspace file 'nope.js'");
  });

  it("imports cannot leave the workspace or name packages", async () => {
    for (const spec of ["../outside.js", "lodash", "/abs.js"]) {
      const out = await run(`import x from '${spec}';\nx`, { files });
      expect(out.error?.name, spec).toBe("ImportError");
    }
  });

  it("a syntax error in an imported module names the file and line", async () => {
    const out = await run("import { x } from './lib/broken.js';\nx", { files });
    expect(out.error).toMatchObject({ name: "SyntaxError", line: 1 });
    expect(out.error!.message).toContain("lib/broken.js");
  });

  it("dynamic import() is refused", async () => {
    const out = await run("const m = await import('./data.json'); m");
    expect(out.error).toMatchObject({ name: "SyntaxError", line: 1, column: 17 });
  });
});

describe("Node APIs", () => {
  it("node: modules and Node globals work when the code uses them", async () => {
    const out = await run(`import { createHash } from "node:crypto";\n[createHash("sha256").update("a").digest("hex").slice(0, 8), Buffer.from("hi").toString("base64"), typeof process.env]`);
    expect(out).toMatchObject({ status: "ok", result: ["ca978112", "aGk=", "object"] });
  });

  it("a workspace module that uses them turns them on too", async () => {
    const files = { "b64.js": "export const b64 = (s) => Buffer.from(s).toString('base64');" };
    const out = await run("import { b64 } from './b64.js'; b64('hi')", { files });
    expect(out).toMatchObject({ status: "ok", result: "aGk=" });
  });

  it("code that does not use them loads without Node compatibility (faster)", async () => {
    const out = await run(`typeof globalThis["Buf" + "fer"]`);
    expect(out).toMatchObject({ status: "ok", result: "undefined" });
  });
});

describe("errors point into the user's code", () => {
  it("a syntax error gives line and column", async () => {
    const out = await run("const a = 1;\nconst b = ;\n");
    expect(out.status).toBe("error");
    expect(out.error).toMatchObject({ name: "SyntaxError", line: 2, column: 11 });
  });

  it("a syntax error in TypeScript gives its line", async () => {
    const out = await run("const a: number = 1;\nlet b: = 2;", { language: "ts" });
    expect(out.error).toMatchObject({ name: "SyntaxError", line: 2 });
  });

  it("a thrown error is status error with name, message, line and column, and no wrapper frames", async () => {
    const out = await run("const x = 1;\nfunction fail() {\n  throw new RangeError('bad ' + x);\n}\nfail()");
    expect(out.status).toBe("error");
    expect(out.error).toMatchObject({ name: "RangeError", message: "bad 1", line: 3, column: 9, file: "<snippet>" });
    expect(out.error!.stack).toContain("<snippet>:3:9");
    expect(out.error!.stack).not.toMatch(/__sbx_|run \(|SandboxerRun/);
  });

  it("a runtime error in TypeScript points at the right line", async () => {
    const out = await run("type T = { a?: { b: number } };\nconst t: T = {};\nt.a!.b", { language: "ts" });
    expect(out.error).toMatchObject({ name: "TypeError", line: 3 });
  });

  it("an error in an imported module points into that module", async () => {
    const out = await run("import { boom } from './util.js';\nboom()", { files: { "util.js": "export function boom() {\n  return null.field;\n}" } });
    expect(out.error).toMatchObject({ name: "TypeError", file: "util.js", line: 2 });
  });

  it("a thrown non-Error value is reported", async () => {
    const out = await run("throw 'plain string'");
    expect(out.error).toMatchObject({ name: "Error", message: "Uncaught plain string" });
  });
});

describe("no network", () => {
  it("fetch is blocked", async () => {
    const out = await run("await fetch('https://example.com/')");
    expect(out.status).toBe("error");
    expect(out.error!.message).toContain("not permitted to access the internet");
  });

  it("connect is blocked", async () => {
    const out = await run("import { connect } from 'cloudflare:sockets';\nconst s = connect('example.com:80');\nawait s.opened");
    expect(out.status).toBe("error");
    expect(out.error!.message).toContain("not permitted to access the internet");
  });
});

describe("isolation between runs", () => {
  it("globals and prototype patches from one run are gone in the next", async () => {
    await run("globalThis.leak = 1; Array.prototype.evil = () => 'pwned'; Object.prototype.polluted = true");
    const out = await run("[typeof globalThis.leak, typeof [].evil, typeof ({}).polluted]");
    expect(out.result).toEqual(["undefined", "undefined", "undefined"]);
  });
});
