import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, problemOf } from "../helpers";

// POST /v1/exec: one call, one ephemeral sandbox, stopped before the answer.

async function runOnce(json: Record<string, unknown>, as: "a" | "b" = "a") {
  return api("POST", "/v1/exec", { json, as });
}

async function listedIds(): Promise<string[]> {
  const res = await api("GET", "/v1/sandboxes?limit=100");
  return ((await res.json()) as { sandboxes: { id: string }[] }).sandboxes.map((s) => s.id);
}

/** The egress audit rows (the gateway records an allowed request as its response completes, so wait for `count`). */
async function egressAudit(id: string, count: number): Promise<Record<string, any>[]> {
  for (let attempt = 0; ; attempt++) {
    const page = (await (await api("GET", `/v1/sandboxes/${id}/audit?limit=100`)).json()) as { entries: Record<string, any>[] };
    const rows = page.entries.filter((e) => e.kind === "egress");
    if (rows.length >= count || attempt >= 50) return rows;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("POST /v1/exec", () => {
  it("runs a snippet and answers the exec result with the id of an ephemeral sandbox that is already stopped", async () => {
    const res = await runOnce({ code: "console.log('hi'); input.a * 2", input: { a: 21 } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({ status: "ok", result: 42, stdout: "hi\n", sandboxId: expect.stringMatching(/^sbx_/), executionId: expect.stringMatching(/^exe_/) });
    const record = (await (await api("GET", `/v1/sandboxes/${body.sandboxId}`)).json()) as Record<string, any>;
    expect(record).toMatchObject({ state: "stopped", endReason: "deleted", profile: "js" });
    const again = await api("POST", `/v1/sandboxes/${body.sandboxId}/exec`, { json: { code: "1" } });
    expect((await problemOf(again)).status).toBe(410);
  });

  it("never enters the tenant's listing", async () => {
    const { sandboxId } = (await (await runOnce({ code: "1" })).json()) as { sandboxId: string };
    expect(await listedIds()).not.toContain(sandboxId);
    const index = env.REGISTRY.get(env.REGISTRY.idFromName("tenant-a"));
    const found = await index.list({ metadata: {}, limit: 100, idPrefix: sandboxId });
    expect(found).toMatchObject({ ok: true, value: { sandboxes: [] } });
  });

  it("writes files to the workspace first, so the code can import them by relative path", async () => {
    const res = await runOnce({
      language: "ts",
      code: 'import { add } from "./lib/add.ts";\nimport data from "./data.json";\nadd(data.a, 2)',
      files: { "lib/add.ts": "export const add = (a: number, b: number): number => a + b;", "./data.json": '{"a": 40}' },
    });
    expect(await res.json()).toMatchObject({ status: "ok", result: 42 });
  });

  it("returns a thrown error as status error with HTTP 200, its line in the user's code", async () => {
    const res = await runOnce({ code: "const x = 1;\nthrow new TypeError('boom')" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "error", error: { name: "TypeError", message: "boom", line: 2 } });
  });

  it("applies the profile's limits: a CPU loop stops at the budget, a longer timeout is refused", async () => {
    const looped = (await (await runOnce({ code: "for (;;) {}", cpuMs: 50 })).json()) as Record<string, any>;
    expect(looped).toMatchObject({ status: "error", error: { name: "LimitExceeded", limit: "cpu" } });
    const refused = await problemOf(await runOnce({ code: "1", timeoutMs: 10_000_000 }));
    expect(refused).toMatchObject({ status: 422, body: { code: "limit_exceeded", limit: "timeoutMs" } });
  });

  it("applies the egress policy: no network on js, and allowed hosts only on js-net, audited", async () => {
    const offline = (await (await runOnce({ code: 'await fetch("https://api.allowed.test/")' })).json()) as Record<string, any>;
    expect(offline.status).toBe("error");
    expect((await problemOf(await runOnce({ code: "1", network: { allow: [{ host: "api.allowed.test" }] } }))).body).toMatchObject({
      code: "limit_exceeded",
      limit: "network",
    });
    const online = (await (
      await runOnce({
        profile: "js-net",
        network: { allow: [{ host: "api.allowed.test" }] },
        code: 'const ok = await fetch("https://api.allowed.test/x"); const no = await fetch("https://evil.test/"); [ok.status, no.status]',
      })
    ).json()) as Record<string, any>;
    expect(online).toMatchObject({ status: "ok", result: [200, 403] });
    const egress = await egressAudit(online.sandboxId, 2);
    expect(egress.map((e) => [e.decision, e.host]).sort()).toEqual([
      ["allowed", "api.allowed.test"],
      ["denied", "evil.test"],
    ]);
    expect(egress.every((e) => e.executionId === online.executionId)).toBe(true);
  });

  it("keeps what a one-shot did from other tenants: its id answers 404 to them", async () => {
    const { sandboxId } = (await (await runOnce({ code: "1" })).json()) as { sandboxId: string };
    expect((await api("GET", `/v1/sandboxes/${sandboxId}/audit`, { as: "b" })).status).toBe(404);
    expect((await api("GET", `/v1/sandboxes/${sandboxId}/executions`, { as: "b" })).status).toBe(404);
    const history = (await (await api("GET", `/v1/sandboxes/${sandboxId}/executions`)).json()) as { executions: unknown[] };
    expect(history.executions).toHaveLength(1);
  });

  it("refuses bad input with problems that name the field: unknown profile, bad path, unknown field, no code", async () => {
    expect(await problemOf(await runOnce({ code: "1", profile: "python-gpu" }))).toMatchObject({ status: 400, body: { code: "validation_failed" } });
    const badPath = await problemOf(await runOnce({ code: "1", files: { "../etc/passwd": "x" } }));
    expect(badPath).toMatchObject({ status: 400, body: { code: "validation_failed", errors: [{ path: "body.files.../etc/passwd" }] } });
    expect(await problemOf(await runOnce({ code: "1", ttlSeconds: 5 }))).toMatchObject({ status: 400, body: { code: "validation_failed" } });
    expect(await problemOf(await runOnce({}))).toMatchObject({ status: 400, body: { code: "validation_failed" } });
    expect(await problemOf(await api("POST", "/v1/exec", { json: { code: "1" }, as: null }))).toMatchObject({ status: 401 });
  });

  it("refuses a language the profile does not run, naming the profile that does", async () => {
    const refused = await problemOf(await runOnce({ code: "print(1)", language: "python" }));
    expect(refused).toMatchObject({ status: 422, body: { code: "limit_exceeded", limit: "language", profile: "linux" } });
  });
});
