import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_AUDIT_ROWS, type AuditLog } from "../../durable-objects/sandbox/audit";
import type { AuditEntry } from "../../src/schemas/audit";
import { api, createSandbox, problemOf, sandboxObject } from "../helpers";

async function exec(id: string, code: string) {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code } });
  expect(res.status).toBe(200);
  return res.json<any>();
}

describe("files capability", () => {
  it("code reads and writes the workspace through real RPC, and the HTTP API sees the same files", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "files" }] });
    await api("PUT", `/v1/sandboxes/${id}/files/in.txt`, { body: "from http" });
    const out = await exec(
      id,
      `const text = await env.files.read("in.txt");
       await env.files.write("out/result.txt", text.toUpperCase());
       (await env.files.list("out/")).map((f) => f.path)`,
    );
    expect(out).toMatchObject({ status: "ok", result: ["out/result.txt"] });
    expect(await (await api("GET", `/v1/sandboxes/${id}/files/out/result.txt`)).text()).toBe("FROM HTTP");
  });

  it("applies the same path rules as the HTTP API", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "files" }] });
    const out = await exec(id, `await env.files.write("../escape.txt", "x")`);
    expect(out.status).toBe("error");
    expect(out.error.message).toContain("validation_failed");
  });

  it("a read-only grant refuses writes", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "files", options: { readOnly: true } }] });
    const out = await exec(id, `await env.files.write("a.txt", "x")`);
    expect(out.status).toBe("error");
    expect(out.error.message).toContain("read-only");
  });

  it("refuses unknown grant options at create", async () => {
    const { status, body } = await problemOf(
      await api("POST", "/v1/sandboxes", { json: { capabilities: [{ name: "files", options: { root: "/" } }] } }),
    );
    expect(status).toBe(400);
    expect(body.errors[0].path).toContain("capabilities.0.options");
  });
});

describe("state capability", () => {
  it("stores JSON values across executions", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "state" }] });
    await exec(id, `await env.state.put("counter", { n: 1 }); await env.state.put("other", [1, 2])`);
    const out = await exec(id, `const v = await env.state.get("counter"); [v.n + 1, await env.state.list(), await env.state.delete("other"), (await env.state.get("missing")) ?? null]`);
    expect(out.result).toEqual([2, ["counter", "other"], true, null]);
    expect(out.resultType).toBeUndefined();
  });

  it("refuses values over 128 KiB", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "state" }] });
    const out = await exec(id, `await env.state.put("big", "x".repeat(129 * 1024))`);
    expect(out.status).toBe("error");
    expect(out.error.message).toContain("limit_exceeded");
  });
});

describe("grants", () => {
  it("code without a grant has no such env member", async () => {
    const { id } = await createSandbox({ env: { GREETING: "hi" } });
    const out = await exec(id, `["files" in env, "state" in env, env.GREETING, Object.keys(env)]`);
    expect(out.result).toEqual([false, false, "hi", ["GREETING"]]);
  });

  it("revocation with PATCH takes effect on the next execution", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "files" }, { name: "state" }] });
    expect((await exec(id, `await env.state.put("k", 1); "ok"`)).result).toBe("ok");
    const patched = await api("PATCH", `/v1/sandboxes/${id}`, { json: { capabilities: [{ name: "files" }] } });
    expect((await patched.json<any>()).capabilities).toEqual([{ name: "files", options: { readOnly: false } }]);
    const out = await exec(id, `"state" in env`);
    expect(out.result).toBe(false);
  });

  it("PATCH cannot add a grant", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "files" }] });
    const { status } = await problemOf(await api("PATCH", `/v1/sandboxes/${id}`, { json: { capabilities: [{ name: "files" }, { name: "state" }] } }));
    expect(status).toBe(400);
  });

  it("a stub kept from before a revocation is refused at call time", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "state" }] });
    const running = api("POST", `/v1/sandboxes/${id}/exec`, {
      json: { code: `await new Promise((r) => setTimeout(r, 300)); await env.state.put("late", 1)` },
    });
    await new Promise((r) => setTimeout(r, 100));
    await api("PATCH", `/v1/sandboxes/${id}`, { json: { capabilities: [] } });
    const out = await (await running).json<any>();
    expect(out.status).toBe("error");
    expect(out.error.message).toContain("capability_denied");
  });
});

describe("audit and types", () => {
  it("records every capability call, allowed and denied", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "files", options: { readOnly: true } }] });
    await api("PUT", `/v1/sandboxes/${id}/files/a.txt`, { body: "x" });
    await exec(id, `await env.files.read("a.txt"); try { await env.files.write("b.txt", "y") } catch {}`);
    const page = await (await api("GET", `/v1/sandboxes/${id}/audit`)).json<any>();
    expect(page.entries).toMatchObject([
      { kind: "capability", action: "files.read", decision: "allowed", bytes: 1 },
      { kind: "capability", action: "files.write", decision: "denied" },
    ]);
    expect(page.entries[0].executionId).toMatch(/^exe_/);
  });

  it("GET /types declares exactly the sandbox's env", async () => {
    const { id } = await createSandbox({ env: { MODE: "test" }, capabilities: [{ name: "state" }] });
    const res = await api("GET", `/v1/sandboxes/${id}/types`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const dts = await res.text();
    expect(dts).toContain("MODE: string;");
    expect(dts).toContain("state: {");
    expect(dts).not.toContain("files: {");
    expect(dts).toContain("declare const env: SandboxEnv;");
  });
});

describe("errors that direct", () => {
  async function exec(id: string, code: string) {
    return (await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code } })).json<any>();
  }

  it("a capability the sandbox was not granted says how to grant it", async () => {
    const sandbox = await createSandbox();
    const out = await exec(sandbox.id, "await env.state.put('k', 1)");
    expect(out.error).toMatchObject({ name: "TypeError" });
    expect(out.error.message).toBe(`env.state is not granted to this sandbox. Create the sandbox with "capabilities": [{ "name": "state" }] (profile 'js' offers it).`);
    expect(out.error.line).toBe(1);
  });

  it("a granted capability is unchanged, and missing ones stay out of Object.keys(env)", async () => {
    const sandbox = await createSandbox({ capabilities: [{ name: "state" }], env: { A: "1" } });
    const out = await exec(sandbox.id, "await env.state.put('k', 1); [await env.state.get('k'), Object.keys(env).sort()]");
    expect(out.result).toEqual([1, ["A", "state"]]);
  });

  it("fetch without a network names the profile and the allowlist to use", async () => {
    const sandbox = await createSandbox();
    const out = await exec(sandbox.id, "await fetch('https://example.com/')");
    expect(out.error.name).toBe("TypeError");
    expect(out.error.message).toContain(`profile 'js' gives none. Create the sandbox with "profile": "js-net" and "network": { "allow": [{ "host": "api.example.com" }] }`);
  });

  it("fetch in js-net without an allowlist says to add one", async () => {
    const sandbox = await createSandbox({ profile: "js-net" });
    const out = await exec(sandbox.id, "await fetch('https://example.com/')");
    expect(out.error.message).toContain(`created without "network": { "allow": [...] }`);
  });
});

describe("capability calls count against subRequests", () => {
  it("the call past the profile's subRequests fails, and the execution ends as LimitExceeded (subrequests)", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "state" }] });
    const out = await exec(id, `const seen = []; for (let i = 0; i < 52; i++) { try { await env.state.get("k" + i); seen.push("ok") } catch (e) { seen.push(e.message.split(":")[0]) } } seen`);
    expect(out.status).toBe("error");
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: "subrequests" });
    // The next execution starts afresh.
    expect((await exec(id, `(await env.state.get("k")) ?? "fresh"`)).result).toBe("fresh");
  });

  it("a burst of 3,000 calls in Promise.allSettled ends promptly on a limit: at most 50 calls do work and the refusals are one audit row", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "state" }] });
    const started = Date.now();
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, {
      json: { cpuMs: 200, code: `const r = await Promise.allSettled(Array.from({ length: 3000 }, (_, i) => env.state.get("k" + i))); r.length` },
    });
    const out = await res.json<any>();
    // Issuing 3,000 RPCs may itself use up a 200 ms budget; either way the run ends on a limit, promptly.
    expect(out.error).toMatchObject({ name: "LimitExceeded", limit: expect.stringMatching(/^(subrequests|cpu)$/) });
    expect(Date.now() - started).toBeLessThan(10_000);
    const page = await (await api("GET", `/v1/sandboxes/${id}/audit?limit=1000`)).json<any>();
    // At most 50 calls did any work (fewer if the budget ran out first); the refusals are at most one
    // aggregated row; and few of the other 2,950 even reached the object.
    expect(page.entries.filter((e: any) => e.decision === "allowed").length).toBeLessThanOrEqual(50);
    const refused = page.entries.filter((e: any) => e.detail === "subrequest_limit");
    expect(refused.length).toBeLessThanOrEqual(1);
    expect(refused[0]?.count ?? 1).toBeLessThan(100);
    expect(page.entries.length).toBeLessThanOrEqual(51);
  }, 30_000);
});

/** The sandbox object's audit log, reached inside the object (a private member). */
async function withAudit(id: string, fn: (audit: AuditLog) => unknown): Promise<unknown> {
  return runInDurableObject(sandboxObject(id), (instance) => fn((instance as unknown as { audit: AuditLog }).audit));
}

describe("an audit log the audited code cannot erase", () => {
  const row = (over: Partial<AuditEntry>): AuditEntry => ({ ts: new Date().toISOString(), kind: "capability", action: "files.read", decision: "allowed", ...over });

  it("repeated identical failures are one row with a count", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "files" }] });
    await exec(id, `for (let i = 0; i < 30; i++) { try { await env.files.read("missing-" + i + ".txt") } catch {} }`);
    const page = await (await api("GET", `/v1/sandboxes/${id}/audit`)).json<any>();
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]).toMatchObject({ action: "files.read", detail: "failed: not_found", count: 30 });
    expect(page.entries[0].lastTs).toBeDefined();
  });

  it("when full, failures and reads are evicted before allowed egress and writes", async () => {
    const { id } = await createSandbox({ capabilities: [{ name: "files" }] });
    await withAudit(id, (audit) => {
      audit.append([row({ kind: "egress", action: "fetch", host: "api.example.com", detail: "first egress" }), row({ action: "files.write", detail: "first write" })]);
      // Distinct failures (different details defeat aggregation) and reads, far past the cap.
      const flood: AuditEntry[] = [];
      for (let i = 0; i < MAX_AUDIT_ROWS; i++) flood.push(row({ decision: "denied", detail: `failure ${i}` }));
      for (let i = 0; i < 200; i++) flood.push(row({ detail: `read ${i}` }));
      audit.append(flood);
    });
    const page = await (await api("GET", `/v1/sandboxes/${id}/audit?limit=1000`)).json<any>();
    expect(page.entries.slice(0, 2).map((e: any) => e.detail)).toEqual(["first egress", "first write"]);
    // The newest reads survive too: only failures made room.
    const all = (await withAudit(id, (audit) => audit.page(20_000, 0).entries)) as AuditEntry[];
    expect(all.length).toBeLessThanOrEqual(MAX_AUDIT_ROWS);
    expect(all.filter((e) => e.detail?.startsWith("read ")).length).toBe(200);
  });
});
