import { describe, expect, it } from "vitest";
import { Admission, execTarget, MAX_PENDING_PER_SANDBOX, tenantResolver } from "../../scripts/supervisor/admission.mjs";
import { createHash } from "node:crypto";

// The supervisor's admission decisions, driven directly (the fairness suite drives them over HTTP).

type Started = { tenant: string; n: number; release: () => void };

function harness(limits = { execSlots: 4, execSlotsPerTenant: 2, windowSlots: 4, windowSlotsPerTenant: 3 }) {
  const admission = new Admission(limits);
  const started: Started[] = [];
  const submit = (tenant: string, n: number, url = `/v1/sandboxes/sbx_${tenant}${n}/exec`, method = "POST") =>
    admission.admit({ tenant, method, url }, (release) => void started.push({ tenant, n, release }), () => undefined);
  return { admission, started, submit };
}

describe("admission at the supervisor's proxy", () => {
  it("tells executions from other requests", () => {
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/exec")).toBe("sbx_a");
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/commands")).toBe("sbx_a");
    expect(execTarget("POST", "/v1/exec")).toBe("");
    expect(execTarget("GET", "/v1/sandboxes/sbx_a/exec")).toBeNull();
    expect(execTarget("POST", "/v1/sandboxes")).toBeNull();
  });

  it("streamed executions and commands are executions too", () => {
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/exec/stream")).toBe("sbx_a");
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/commands/stream")).toBe("sbx_a");
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/exec/stream?x=1")).toBe("sbx_a");
    expect(execTarget("GET", "/v1/sandboxes/sbx_a/exec/stream")).toBeNull();
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/snapshots")).toBeNull();
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/exec/other")).toBeNull();
  });

  it("POST /mcp is an execution in no one sandbox (its tools run code); GET /mcp is not", () => {
    expect(execTarget("POST", "/mcp")).toBe("");
    expect(execTarget("POST", "/mcp/")).toBe("");
    expect(execTarget("POST", "/mcp?x=1")).toBe("");
    expect(execTarget("GET", "/mcp")).toBeNull();
  });

  it("reads a target as the Worker routes it: trailing slash, percent-escapes, dot segments, absolute form", () => {
    // Each of these ran code on the local runtime without being admitted as an execution.
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/exec/")).toBe("sbx_a");
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/%65xec")).toBe("sbx_a");
    expect(execTarget("POST", "/v1/%65xec")).toBe("");
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/./exec")).toBe("sbx_a");
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/x/../exec")).toBe("sbx_a");
    expect(execTarget("POST", "/v1/sandboxes/sbx_a/%2e/exec/stream/")).toBe("sbx_a");
    expect(execTarget("POST", "http://elsewhere/v1/sandboxes/sbx_a/commands")).toBe("sbx_a");
    expect(execTarget("POST", "/%6Dcp")).toBe("");
    // Not routed to an execution by the Worker either: a doubled slash, an escaped slash.
    expect(execTarget("POST", "//v1/sandboxes/sbx_a/exec")).toBeNull();
    expect(execTarget("POST", "/v1/sandboxes/sbx_a%2Fexec")).toBeNull();
  });

  it("maps API keys to tenants by their SHA-256, unknown keys to one shared lane", () => {
    const resolve = tenantResolver(JSON.stringify({ acme: [createHash("sha256").update("k1").digest("hex")] }));
    expect(resolve("Bearer k1")).toBe("acme");
    expect(resolve("Bearer nope")).toBe("-");
    expect(resolve(undefined)).toBe("-");
  });

  it("one tenant holds at most its share of execution slots; the others' executions start at once", () => {
    const { started, submit } = harness();
    for (let n = 0; n < 10; n++) submit("a", n);
    expect(started.map((s) => s.tenant)).toEqual(["a", "a"]);
    submit("b", 0);
    submit("c", 0);
    expect(started.map((s) => s.tenant)).toEqual(["a", "a", "b", "c"]);
  });

  it("a freed slot goes to the waiting tenant with the fewest running, not to whoever came first", () => {
    const { started, submit } = harness();
    for (let n = 0; n < 4; n++) submit("a", n);
    for (let n = 0; n < 4; n++) submit("b", n);
    for (let n = 0; n < 4; n++) submit("c", n);
    expect(started.map((s) => s.tenant)).toEqual(["a", "a", "b", "b"]);
    // c waits with nothing running: the next freed slot is c's, whoever frees it.
    started[0]!.release();
    expect(started.at(-1)!.tenant).toBe("c");
    // Now a, b and c each run 1 after b frees one: a tie goes round-robin, and c, just served,
    // went to the back of the round, so a is next.
    started[2]!.release();
    expect(started.at(-1)!.tenant).toBe("a");
    expect(started.length).toBe(6);
  });

  it("executions never take the request window: a tenant's reads start while its executions wait", () => {
    const { started, submit } = harness();
    for (let n = 0; n < 6; n++) submit("a", n);
    submit("a", 100, "/v1/sandboxes/sbx_x", "GET");
    expect(started.filter((s) => s.n === 100)).toHaveLength(1);
  });

  it("past the sandbox's queue (4 running + 64 waiting) the proxy answers 429 itself", () => {
    const { submit } = harness();
    const url = "/v1/sandboxes/sbx_one/exec";
    const answers = Array.from({ length: MAX_PENDING_PER_SANDBOX + 2 }, (_, n) => submit("a", n, url));
    expect(answers.slice(0, MAX_PENDING_PER_SANDBOX).every((a) => a === undefined)).toBe(true);
    expect(answers.at(-1)).toMatchObject({ status: 429, code: "rate_limited", extra: { retryAfterSeconds: 1 } });
  });
});
