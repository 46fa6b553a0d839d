import { describe, expect, it } from "vitest";
import { run } from "./helpers";

describe("valid code runs as it runs in Node", () => {
  it.each([
    ["a directive without a semicolon", 'function f() { "use strict"\n return this }\nf() === undefined', true],
    ["a directive without a semicolon in an arrow", 'const f = () => { "use strict"\n return 7 }\nf()', 7],
    ["a function whose body is only a string", 'function g() { "just a string" }\ng() === undefined', true],
    ["two directives, the last unterminated", 'function h() { "a"; "use strict"\n return typeof this }\nh()', "undefined"],
    ["a hashbang", "#!/usr/bin/env node\n1 + 1", 2],
    ["typeof arguments at the top level", "typeof arguments", "undefined"],
    ["this at the top level", "this === undefined", true],
  ])("%s", async (_name, code, expected) => {
    const out = await run(code);
    expect(out.status, JSON.stringify(out.error)).toBe("ok");
    expect(out.result).toEqual(expected);
  });

  it("a hashbang at the top of a workspace module, JS or TypeScript", async () => {
    const files = { "a.js": "#!/usr/bin/env node\nexport const a = 1;", "b.ts": "#!/usr/bin/env -S node --experimental-strip-types\nexport const b: number = 2;" };
    const out = await run("import { a } from './a.js'; import { b } from './b.ts'; a + b", { files });
    expect(out).toMatchObject({ status: "ok", result: 3 });
  });

  it("a hashbang in a TypeScript snippet", async () => {
    const out = await run("#!/usr/bin/env node\nconst n: number = 4;\nn", { language: "ts" });
    expect(out).toMatchObject({ status: "ok", result: 4 });
  });

  it("Function.prototype.toString and class toString show the original source", async () => {
    const source = [
      "function add(a, b) { for (let i = 0; i < 1; i++) {} return a + b }",
      "const arrow = async (x) => await x",
      "const bare = (n) => n * 2",
      'function strict() { "use strict"\n return 1 }',
      "class Point { x = 1; static { } get norm() { while (false) ; return 0 } async *walk() { for (const p of []) yield p } }",
      "const method = { m(a = () => 1) { return a() } }.m",
    ];
    const code = `${source.join(";\n")};\n[add, arrow, bare, strict, Point, method].map((f) => Function.prototype.toString.call(f))`;
    const out = await run(code);
    expect(out.status, JSON.stringify(out.error)).toBe("ok");
    expect(out.result).toEqual([
      "function add(a, b) { for (let i = 0; i < 1; i++) {} return a + b }",
      "async (x) => await x",
      "(n) => n * 2",
      'function strict() { "use strict"\n return 1 }',
      "class Point { x = 1; static { } get norm() { while (false) ; return 0 } async *walk() { for (const p of []) yield p } }",
      "m(a = () => 1) { return a() }",
    ]);
  });

  it("toString of a workspace module's function, and of toString itself, look as in Node", async () => {
    const files = { "lib.js": "export function twice(f) { return (x) => f(f(x)) }" };
    const out = await run("import { twice } from './lib.js'; [twice.toString(), String(twice((x) => x)), Function.prototype.toString.toString()]", { files });
    expect(out.result).toEqual(["function twice(f) { return (x) => f(f(x)) }", "(x) => f(f(x))", "function toString() { [native code] }"]);
  });

  // The await's value passes through the check (`check(await x)`), which V8 names when it
  // quotes the code around a TypeError; the host's scrub (stack.ts) puts back what Node says.
  it.each([
    ["(await 1)()", "(intermediate value) is not a function"],
    ["const f = async () => (await 1)(); await f()", "(intermediate value) is not a function"],
    ["new (await 1)()", "(intermediate value) is not a constructor"],
    ["const [a] = await 5; a", "(intermediate value) is not iterable"],
    ["for (const x of await 5) {}", "(intermediate value) is not iterable"],
    ["const { a } = await null; a", "Cannot destructure property 'a' of '(intermediate value)' as it is null."],
  ])("the error of %s does not name the check function", async (code, message) => {
    const out = await run(code);
    expect(out.error).toMatchObject({ name: "TypeError", message, file: "<snippet>", line: 1 });
    expect(out.error?.stack).not.toContain("__sbx");
  });

  it("an error caught and logged does not name the check function either", async () => {
    const out = await run("try { (await 1)() } catch (e) { console.log(e) } try { const [a] = await 5 } catch (e) { console.error('failed:', e) }");
    expect(out.status, JSON.stringify(out.error)).toBe("ok");
    expect(out.stdout).toBe("TypeError: (intermediate value) is not a function\n");
    expect(out.stderr).toBe("failed: TypeError: (intermediate value) is not iterable\n");
  });
});

describe("TypeScript namespaces compile or fail loudly", () => {
  it("a namespace with values is refused, naming the construct", async () => {
    const out = await run("namespace Geometry {\n  export const unit = 1;\n}\nGeometry.unit", { language: "ts" });
    expect(out.error).toMatchObject({ name: "SyntaxError", line: 1, column: 1 });
    expect(out.error?.message).toContain("TypeScript namespace 'Geometry' declares values");
  });

  it("a module declaration with values in a workspace file is refused too", async () => {
    const out = await run("import './m.ts'; 1", { files: { "m.ts": "const x = 1;\nexport module Tools { export function f() {} }" } });
    expect(out.error).toMatchObject({ name: "SyntaxError", file: "m.ts", line: 2 });
    expect(out.error?.message).toContain("TypeScript module 'Tools'");
  });

  it("type-only and declared namespaces are types, dropped as tsc drops them", async () => {
    const code = "namespace Shapes { export type Kind = 'a' | 'b'; export interface S { k: Kind } }\ndeclare namespace Ambient { const v: number }\nconst s: Shapes.S = { k: 'a' };\ns.k";
    const out = await run(code, { language: "ts" });
    expect(out).toMatchObject({ status: "ok", result: "a" });
  });

  it("a property named namespace is not a namespace", async () => {
    const out = await run("const o = { namespace: 1, module: 2 };\nconst namespace = o.namespace + o.module;\nnamespace", { language: "ts" });
    expect(out).toMatchObject({ status: "ok", result: 3 });
  });
});
