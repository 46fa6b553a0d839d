import { describe, expect, it } from "vitest";
import { compileModule } from "../../../src/providers/isolate";
import { CORPUS, DRIVER } from "./corpus";
import { run } from "./helpers";

const GENEROUS = { cpuMs: 60_000, wallMs: 60_000, outputBytes: 1 << 20, codeBytes: 1 << 20, subRequests: 10 };

describe("instrumentation preserves behaviour", () => {
  it("a few hundred lines of real-world utility code give identical results instrumented and not", async () => {
    const files = { "corpus.js": CORPUS };
    const plain = await run(DRIVER, { files, limits: GENEROUS, uninstrumented: true });
    const instrumented = await run(DRIVER, { files, limits: GENEROUS });
    expect(plain.status, JSON.stringify(plain.error)).toBe("ok");
    expect(instrumented.status, JSON.stringify(instrumented.error)).toBe("ok");
    expect(instrumented.result).toEqual(plain.result);
    expect(plain.resultType, String(plain.result).slice(0, 300)).toBeUndefined();
    expect((plain.result as any).fib).toBe(23416728348467684);
  });

  it("every line keeps its number after instrumentation", () => {
    const budget = { check: "__c", pause: "__p", resume: "__r", module: "/budget.js" };
    const compiled = compileModule(CORPUS, { kind: "module", language: "js", budget });
    expect(compiled.code.split("\n").length).toBe(CORPUS.split("\n").length);
    expect(compiled.code).toContain("__c()");
  });
});
