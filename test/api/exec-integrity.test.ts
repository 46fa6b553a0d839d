import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EgressGateway } from "../../src/egress/gateway";
import { api, createSandbox, problemOf, sandboxObject, TENANT_NAMES } from "../helpers";

async function exec(id: string, json: Record<string, unknown>) {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json });
  expect(res.status).toBe(200);
  return res.json<any>();
}

async function history(id: string) {
  return (await (await api("GET", `/v1/sandboxes/${id}/executions`)).json<any>()).executions;
}

describe("failures are clean answers, never a 500 or a row stuck at running", () => {
  it.each([
    ["a 12 MB string", "'y'.repeat(12e6)"],
    ["a 32 MB string", "'z'.repeat(32e6)"],
    ["a 13 MB JSON array", "Array.from({ length: 1.2e6 }, () => 'abcdefgh')"],
  ])("%s is cut to the limit with resultTruncated, and its history row holds at most the limit", async (_name, code) => {
    const { id } = await createSandbox();
    const out = await exec(id, { code });
    expect(out).toMatchObject({ status: "ok", resultTruncated: true });
    expect(new TextEncoder().encode(out.result).length).toBeLessThanOrEqual(1 << 20);
    const [row] = await history(id);
    expect(row).toMatchObject({ executionId: out.executionId, status: "ok" });
    expect(new TextEncoder().encode(row.output.result).length).toBeLessThanOrEqual(1 << 20);
  });

  it.each([12e6, 30e6])("a getter that hands the serialiser %d bytes the renderer never saw cannot pass the limit or leave the row running", async (bytes) => {
    const { id } = await createSandbox();
    const code = `const values = ['x'.repeat(${bytes}), 'small']; const o = {}; Object.defineProperty(o, 'v', { get: Array.prototype.pop.bind(values), enumerable: true }); o`;
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code } });
    expect(res.status).toBe(200);
    const out = await res.json<any>();
    expect(out.status).toBe("ok");
    expect(new TextEncoder().encode(JSON.stringify(out.result)).length).toBeLessThanOrEqual((1 << 20) + 2);
    const [row] = await history(id);
    expect(row.status).toBe("ok");
    expect(new TextEncoder().encode(JSON.stringify(row.output.result)).length).toBeLessThanOrEqual((1 << 20) + 2);
  });

  it("input nested 5,000 deep is a 400 that says what to do", async () => {
    const { id } = await createSandbox();
    let input: unknown = 1;
    for (let i = 0; i < 5000; i++) input = [input];
    const { status, body } = await problemOf(
      await api("POST", `/v1/sandboxes/${id}/exec`, { body: `{"code":"input","input":${"[".repeat(5000)}1${"]".repeat(5000)}}`, headers: { "Content-Type": "application/json" } }),
    );
    expect(status).toBe(400);
    expect(body.code).toBe("validation_failed");
    expect(body.errors[0]).toMatchObject({ path: "body.input" });
    expect(body.errors[0].message).toContain("nests deeper than 256 levels");
    expect(await history(id)).toEqual([]);
  });

  it("input nested 200 deep still runs", async () => {
    const { id } = await createSandbox();
    const out = await exec(id, { code: "JSON.stringify(input).length", input: JSON.parse(`${"[".repeat(200)}${"]".repeat(200)}`) });
    expect(out).toMatchObject({ status: "ok", result: 400 });
  });

  it.each([
    ["env.files.read(123)", "files.read(path): path must be a string, not a number."],
    ["env.files.write('a.txt', { x: 1 })", "files.write(path, content): content must be a string or a Uint8Array, not an object."],
    ["env.files.list(42)", "files.list(prefix): prefix must be a string, not a number."],
    ["env.state.get(null)", "state.get(key): key must be a string, not null."],
  ])("%s is a TypeError in our words", async (call, message) => {
    const { id } = await createSandbox({ capabilities: [{ name: "files" }, { name: "state" }] });
    const out = await exec(id, { code: `await ${call}` });
    expect(out.error).toMatchObject({ name: "TypeError", message });
  });
});

describe("nothing of an execution acts after it has finished", () => {
  it("a capability call on behalf of a finished execution is refused", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "state" }] });
    const out = await exec(id, { code: "await env.state.put('during', 1); 'done'" });
    expect(out.status).toBe("ok");
    const late = await sandboxObject(id).invokeCapability({ capability: "state", method: "put", key: "after", value: 1 }, out.executionId);
    expect(late).toMatchObject({ ok: false, error: { code: "capability_denied" } });
    expect(JSON.stringify(late)).toContain("has ended");
    const check = await exec(id, { code: "[await env.state.get('during'), (await env.state.get('after')) ?? null]" });
    expect(check.result).toEqual([1, null]);
  });

  it("the egress gateway refuses a finished execution's requests", async () => {
    const { id } = await createSandbox({ profile: "js-net", network: { allow: [{ host: "api.allowed.test" }] } });
    const out = await exec(id, { code: "1" });
    const grant = await sandboxObject(id).egressGrant(out.executionId);
    expect(grant).toMatchObject({ ok: false, error: { code: "capability_denied" } });
    const gateway = new EgressGateway({ props: { tenant: TENANT_NAMES.a, sandboxId: id, executionId: out.executionId } } as any, env);
    const res = await gateway.fetch(new Request("https://api.allowed.test/late"));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "egress_denied", reason: "execution_ended" });
  });

  it("a timer that would call a capability after the result never does", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "state" }] });
    const out = await exec(id, { code: "setTimeout(() => env.state.put('late', 1), 20); scheduler.wait(20).then(() => env.state.put('later', 1)); 'returned'" });
    expect(out.result).toBe("returned");
    await new Promise((r) => setTimeout(r, 150));
    const check = await exec(id, { code: "await env.state.list()" });
    expect(check.result).toEqual([]);
  });
});

describe("compilation is cached and counted", () => {
  it("re-importing an unchanged large module costs no compile time, and compile time is part of usedMs", async () => {
    const { id } = await createSandbox();
    const body = Array.from({ length: 800 }, (_, i) => `export function f${i}(x) { for (let j = 0; j < 2; j++) x = (x * 31 + ${i}) % 1000003; return x }`).join("\n");
    await api("PUT", `/v1/sandboxes/${id}/files/big.js`, { body });
    const code = "import * as big from './big.js'; Object.keys(big).length";
    const first = await exec(id, { code });
    expect(first, JSON.stringify(first.error)).toMatchObject({ status: "ok", result: 800 });
    expect(first.cpu.compileMs).toBeGreaterThan(0);
    expect(first.cpu.usedMs).toBeGreaterThanOrEqual(first.cpu.compileMs);
    const second = await exec(id, { code });
    expect(second).toMatchObject({ status: "ok", result: 800 });
    expect(second.cpu.compileMs).toBe(0);
  });
});
