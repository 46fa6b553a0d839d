import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createSandbox, KEYS, type Tenant } from "../helpers";

// The /mcp door in-process: the official MCP client whose HTTP goes to the Worker itself.
// Hostile code and the real server are in test/e2e/mcp.test.ts.

async function connect(as: Tenant): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL("http://sandboxer.test/mcp"), {
    requestInit: { headers: { Authorization: `Bearer ${KEYS[as]}` } },
    fetch: (input, init) => exports.default.fetch(new Request(input, init)),
  });
  const client = new Client({ name: "in-runtime", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  return (await client.callTool({ name, arguments: args })) as CallToolResult & { structuredContent?: any };
}

describe("/mcp", () => {
  it("scopes every tool to the key's tenant: another tenant's sandbox is not found", async () => {
    const { id } = await createSandbox({}, "a");
    const b = await connect("b");
    for (const [tool, args] of [
      ["run_code", { sandboxId: id, code: "1" }],
      ["run_command", { sandboxId: id, cmd: "true" }],
      ["read_file", { sandboxId: id, path: "a.txt" }],
      ["write_file", { sandboxId: id, path: "a.txt", content: "x" }],
      ["list_files", { sandboxId: id }],
      ["set_timeout", { sandboxId: id, ttlSeconds: 60 }],
      ["stop_sandbox", { sandboxId: id }],
      ["get_types", { sandboxId: id }],
    ] as const) {
      const result = await call(b, tool, args);
      expect(result.isError, tool).toBe(true);
      expect(result.structuredContent, tool).toMatchObject({ code: "not_found" });
    }
    const listed = await call(b, "list_sandboxes", {});
    expect(listed.structuredContent.sandboxes.map((s: { id: string }) => s.id)).not.toContain(id);
    expect((await api("GET", `/v1/sandboxes/${id}`, { as: "a" })).status).toBe(200);
    expect((await (await api("GET", `/v1/sandboxes/${id}`, { as: "a" })).json()) as { state: string }).toMatchObject({ state: "running" });
  });

  it("creates sandboxes for the key's tenant, visible through the HTTP API", async () => {
    const a = await connect("a");
    const created = await call(a, "create_sandbox", { metadata: { door: "mcp" } });
    expect(created.structuredContent).toMatchObject({ tenant: "tenant-a", metadata: { door: "mcp" } });
    const res = await api("GET", `/v1/sandboxes/${created.structuredContent.id}`, { as: "a" });
    expect(res.status).toBe(200);
    expect((await api("GET", `/v1/sandboxes/${created.structuredContent.id}`, { as: "b" })).status).toBe(404);
  });

  it("returns the operation's validation error, with the same code, detail and fields as HTTP", async () => {
    const a = await connect("a");
    const result = await call(a, "create_sandbox", { profile: "python-gpu" });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({
      code: "validation_failed",
      detail: expect.stringContaining("Known profiles: js"),
      errors: [{ path: "profile", message: expect.stringContaining("js") }],
    });
    expect(result.content[0]).toMatchObject({ type: "text", text: expect.stringMatching(/^validation_failed: .*Known profiles: js/) });
  });

  it("runs run_code without sandboxId once, in an ephemeral sandbox that is stopped and never listed", async () => {
    const a = await connect("a");
    const result = await call(a, "run_code", { code: "console.log('hi'); 6 * 7" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: "ok", result: 42, stdout: "hi\n", sandboxId: expect.stringMatching(/^sbx_/) });
    const { sandboxId } = result.structuredContent;
    expect(await (await api("GET", `/v1/sandboxes/${sandboxId}`, { as: "a" })).json()).toMatchObject({ state: "stopped", endReason: "deleted" });
    const listed = (await (await api("GET", "/v1/sandboxes?limit=100", { as: "a" })).json()) as { sandboxes: { id: string }[] };
    expect(listed.sandboxes.map((s) => s.id)).not.toContain(sandboxId);
  });

  it("snapshots a sandbox, and restore_sandbox brings back a file broken after it", async () => {
    const a = await connect("a");
    const { structuredContent: sandbox } = await call(a, "create_sandbox", { metadata: { door: "mcp-snapshots" } });
    await call(a, "write_file", { sandboxId: sandbox.id, path: "src/app.ts", content: "export const answer = 42;\n" });
    const taken = await call(a, "snapshot_sandbox", { sandboxId: sandbox.id, name: "before-break" });
    expect(taken.isError).toBeFalsy();
    expect(taken.structuredContent).toMatchObject({ snapshotId: expect.stringMatching(/^snap_/), name: "before-break", sourceSandboxId: sandbox.id, size: expect.any(Number) });
    const { snapshotId } = taken.structuredContent;
    expect(taken.content[0]).toMatchObject({ type: "text", text: expect.stringContaining(snapshotId) });

    await call(a, "write_file", { sandboxId: sandbox.id, path: "src/app.ts", content: "syntax error (" });
    await call(a, "write_file", { sandboxId: sandbox.id, path: "scratch.txt", content: "made after the snapshot" });
    const restored = await call(a, "restore_sandbox", { sandboxId: sandbox.id, snapshotId });
    expect(restored.isError).toBeFalsy();
    expect(restored.structuredContent).toMatchObject({ id: sandbox.id, state: "running" });
    expect((await call(a, "read_file", { sandboxId: sandbox.id, path: "src/app.ts" })).structuredContent).toMatchObject({ content: "export const answer = 42;\n" });
    const files = (await call(a, "list_files", { sandboxId: sandbox.id })).structuredContent.files.map((f: { path: string }) => f.path);
    expect(files).toEqual(["src/app.ts"]);
    const ran = await call(a, "run_code", { sandboxId: sandbox.id, language: "ts", code: 'import { answer } from "./src/app.ts";\nanswer' });
    expect(ran.structuredContent).toMatchObject({ status: "ok", result: 42 });

    const ofSandbox = await call(a, "list_snapshots", { sandboxId: sandbox.id });
    expect(ofSandbox.structuredContent).toEqual({ snapshots: [taken.structuredContent], nextCursor: null });
    const all = await call(a, "list_snapshots", { limit: 100 });
    expect(all.structuredContent.snapshots).toContainEqual(taken.structuredContent);
  });

  it("forks with create_sandbox fromSnapshot into independent copies, and delete_snapshot removes it", async () => {
    const a = await connect("a");
    const { structuredContent: source } = await call(a, "create_sandbox", { capabilities: [{ name: "files" }], metadata: { role: "source" } });
    await call(a, "write_file", { sandboxId: source.id, path: "data.json", content: '{"n":1}' });
    const { snapshotId } = (await call(a, "snapshot_sandbox", { sandboxId: source.id })).structuredContent;
    const forks = [];
    for (let i = 0; i < 2; i++) {
      const fork = await call(a, "create_sandbox", { fromSnapshot: snapshotId, metadata: { copy: String(i) } });
      expect(fork.isError).toBeFalsy();
      expect(fork.structuredContent).toMatchObject({ capabilities: [{ name: "files" }], metadata: { role: "source", copy: String(i) } });
      expect(fork.content[0]).toMatchObject({ text: expect.stringContaining(`from snapshot ${snapshotId}`) });
      forks.push(fork.structuredContent.id as string);
    }
    await call(a, "write_file", { sandboxId: forks[0], path: "data.json", content: '{"n":2}' });
    expect((await call(a, "read_file", { sandboxId: forks[1], path: "data.json" })).structuredContent.content).toBe('{"n":1}');
    expect((await call(a, "read_file", { sandboxId: source.id, path: "data.json" })).structuredContent.content).toBe('{"n":1}');

    // The operation's rule, not a copy of it: a fork takes its profile from the snapshot.
    const refused = await call(a, "create_sandbox", { fromSnapshot: snapshotId, profile: "js" });
    expect(refused.structuredContent).toMatchObject({ code: "validation_failed", errors: [{ path: "profile" }] });

    expect((await call(a, "delete_snapshot", { snapshotId })).structuredContent).toEqual({ snapshotId, deleted: true });
    const again = await call(a, "delete_snapshot", { snapshotId });
    expect(again).toMatchObject({ isError: true, structuredContent: { code: "not_found" } });
    expect((await call(a, "create_sandbox", { fromSnapshot: snapshotId })).structuredContent).toMatchObject({ code: "not_found" });
  });

  it("pauses a sandbox: run_code and run_command answer sandbox_paused saying to resume, and after resume_sandbox it runs", async () => {
    const a = await connect("a");
    const { structuredContent: sandbox } = await call(a, "create_sandbox", {});
    await call(a, "write_file", { sandboxId: sandbox.id, path: "kept.txt", content: "still here" });
    const paused = await call(a, "pause_sandbox", { sandboxId: sandbox.id });
    expect(paused.isError).toBeFalsy();
    expect(paused.structuredContent).toMatchObject({ id: sandbox.id, paused: true, pausedAt: expect.any(String), idleExpiresAt: null });

    for (const [tool, args] of [
      ["run_code", { sandboxId: sandbox.id, code: "1 + 1" }],
      ["run_command", { sandboxId: sandbox.id, cmd: "true" }],
      ["read_file", { sandboxId: sandbox.id, path: "kept.txt" }],
    ] as const) {
      const refused = await call(a, tool, args);
      expect(refused.isError, tool).toBe(true);
      expect(refused.structuredContent, tool).toMatchObject({
        code: "sandbox_paused",
        detail: expect.stringContaining("resume it first"),
        nextStep: expect.stringContaining("resume_sandbox"),
      });
      expect(refused.content[0], tool).toMatchObject({ text: expect.stringMatching(/^sandbox_paused: .*resume_sandbox/) });
    }
    // The same code and status as the HTTP door.
    const http = await api("POST", `/v1/sandboxes/${sandbox.id}/exec`, { json: { code: "1" } });
    expect(http.status).toBe(409);
    expect(await http.json()).toMatchObject({ code: "sandbox_paused" });

    const resumed = await call(a, "resume_sandbox", { sandboxId: sandbox.id });
    expect(resumed.isError).toBeFalsy();
    expect(resumed.structuredContent.paused).toBeUndefined();
    const ran = await call(a, "run_code", { sandboxId: sandbox.id, code: "1 + 1" });
    expect(ran.structuredContent).toMatchObject({ status: "ok", result: 2 });
    expect((await call(a, "read_file", { sandboxId: sandbox.id, path: "kept.txt" })).structuredContent.content).toBe("still here");
  });

  it("treats another tenant's snapshot id as not found in every snapshot tool", async () => {
    const a = await connect("a");
    const b = await connect("b");
    const { structuredContent: mine } = await call(a, "create_sandbox", {});
    await call(a, "write_file", { sandboxId: mine.id, path: "secret.txt", content: "tenant a only" });
    const { snapshotId } = (await call(a, "snapshot_sandbox", { sandboxId: mine.id })).structuredContent;
    const { structuredContent: theirs } = await call(b, "create_sandbox", {});

    for (const [tool, args] of [
      ["restore_sandbox", { sandboxId: theirs.id, snapshotId }],
      ["create_sandbox", { fromSnapshot: snapshotId }],
      ["delete_snapshot", { snapshotId }],
      ["snapshot_sandbox", { sandboxId: mine.id }],
      ["pause_sandbox", { sandboxId: mine.id }],
      ["resume_sandbox", { sandboxId: mine.id }],
    ] as const) {
      const result = await call(b, tool, args);
      expect(result.isError, tool).toBe(true);
      expect(result.structuredContent, tool).toMatchObject({ code: "not_found" });
    }
    expect((await call(b, "list_snapshots", { limit: 100 })).structuredContent.snapshots.map((s: { snapshotId: string }) => s.snapshotId)).not.toContain(snapshotId);
    expect((await call(b, "list_snapshots", { sandboxId: mine.id })).structuredContent.snapshots).toEqual([]);
    expect((await call(b, "list_files", { sandboxId: theirs.id })).structuredContent.files).toEqual([]);
    expect((await call(a, "list_snapshots", { sandboxId: mine.id })).structuredContent.snapshots).toHaveLength(1);
  });

  it("answers a request without a key with problem+json 401 before any MCP handling", async () => {
    const res = await exports.default.fetch(
      new Request("http://sandboxer.test/mcp", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      }),
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unauthorized" });
  });

  it("answers malformed JSON-RPC with a JSON-RPC parse error, not a 500", async () => {
    const res = await exports.default.fetch(
      new Request("http://sandboxer.test/mcp", {
        method: "POST",
        headers: { Authorization: `Bearer ${KEYS.a}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
        body: "{not json",
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 } });
  });

  it("runs the tool calls of one batched POST one after another (the local runtime admits the POST as one execution)", async () => {
    const code = "const began = Date.now(); await new Promise((r) => setTimeout(r, 200)); [began, Date.now()]";
    const batch = [1, 2, 3].map((id) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "run_code", arguments: { code } } }));
    const res = await exports.default.fetch(
      new Request("http://sandboxer.test/mcp", {
        method: "POST",
        headers: { Authorization: `Bearer ${KEYS.a}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
        body: JSON.stringify(batch),
      }),
    );
    expect(res.status).toBe(200);
    const replies = (await res.json()) as { id: number; result: { structuredContent: { status: string; result: [number, number] } } }[];
    const spans = replies.sort((x, y) => x.id - y.id).map((reply) => reply.result.structuredContent);
    expect(spans.map((span) => span.status)).toEqual(["ok", "ok", "ok"]);
    for (let n = 1; n < spans.length; n++) expect(spans[n]!.result[0]).toBeGreaterThanOrEqual(spans[n - 1]!.result[1]);
  });

  it("answers other methods with 405 problem+json", async () => {
    for (const method of ["GET", "DELETE", "PUT"]) {
      const res = await exports.default.fetch(new Request("http://sandboxer.test/mcp", { method, headers: { Authorization: `Bearer ${KEYS.a}` } }));
      expect(res.status, method).toBe(405);
      expect(await res.json(), method).toMatchObject({ code: "method_not_allowed" });
    }
  });
});
