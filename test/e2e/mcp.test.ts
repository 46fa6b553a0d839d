import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client as httpClient, KEY, startService, type Service } from "./service";

// The MCP endpoint as an agent framework sees it: the official MCP client SDK over real
// HTTP against the supervised service (`npm start`).

let service: Service;
let mcp: Client;

async function connect(key: string | undefined): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
    requestInit: { headers: key === undefined ? {} : { Authorization: `Bearer ${key}` } },
  });
  const c = new Client({ name: "sand-boxer-e2e", version: "1.0.0" });
  await c.connect(transport);
  return c;
}

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult & { structuredContent?: any }> {
  return (await mcp.callTool({ name, arguments: args })) as CallToolResult & { structuredContent?: any };
}

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

beforeAll(async () => {
  service = await startService();
  mcp = await connect(KEY);
});

afterAll(async () => {
  await mcp?.close();
  await service?.stop();
});

describe("MCP endpoint", () => {
  it("initializes as sand-boxer with tools and resources, and instructions for the model", () => {
    expect(mcp.getServerVersion()).toMatchObject({ name: "sand-boxer" });
    expect(mcp.getServerCapabilities()).toMatchObject({ tools: {}, resources: {} });
    expect(mcp.getInstructions()).toContain("run_code");
  });

  it("lists every tool with a description and a JSON schema for its arguments", async () => {
    const { tools } = await mcp.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        "create_sandbox",
        "delete_snapshot",
        "get_types",
        "list_files",
        "list_sandboxes",
        "list_snapshots",
        "pause_sandbox",
        "read_file",
        "restore_sandbox",
        "resume_sandbox",
        "run_code",
        "run_command",
        "set_timeout",
        "snapshot_sandbox",
        "stop_sandbox",
        "write_file",
      ].sort(),
    );
    for (const t of tools) {
      expect(t.description!.length).toBeGreaterThan(40);
      expect(t.inputSchema.type).toBe("object");
    }
    const runCode = tools.find((t) => t.name === "run_code")!;
    expect(Object.keys(runCode.inputSchema.properties!)).toEqual(expect.arrayContaining(["code", "sandboxId", "language"]));
    expect(runCode.inputSchema.required).toEqual(["code"]);
    expect((runCode.inputSchema.properties!.language as { enum: string[] }).enum).toEqual(expect.arrayContaining(["python", "bash"]));
    const runCommand = tools.find((t) => t.name === "run_command")!;
    expect(Object.keys(runCommand.inputSchema.properties!).sort()).toEqual(["cmd", "cwd", "sandboxId", "timeoutMs"]);
    expect(runCommand.inputSchema.required!.sort()).toEqual(["cmd", "sandboxId"]);
    expect(mcp.getInstructions()).toContain("run_command");
    expect(mcp.getInstructions()).toContain("linux");
    const create = tools.find((t) => t.name === "create_sandbox")!;
    expect(Object.keys(create.inputSchema.properties!)).toContain("fromSnapshot");
    expect(tools.find((t) => t.name === "restore_sandbox")!.inputSchema.required!.sort()).toEqual(["sandboxId", "snapshotId"]);
    expect(tools.find((t) => t.name === "restore_sandbox")!.annotations).toMatchObject({ destructiveHint: true });
    expect(mcp.getInstructions()).toContain("snapshot_sandbox");
  });

  it("refuses a request without a key or with a wrong key, as HTTP does", async () => {
    await expect(connect(undefined)).rejects.toThrow(/401|unauthorized/i);
    await expect(connect("sbx_not_a_key")).rejects.toThrow(/401|unauthorized/i);
    const res = await fetch(`${service.url}/mcp`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", Authorization: "Bearer wrong" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "unauthorized" });
  });

  it("answers GET with 405: the endpoint is stateless and opens no stream", async () => {
    const res = await fetch(`${service.url}/mcp`, { headers: { Authorization: `Bearer ${KEY}`, Accept: "text/event-stream" } });
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ code: "method_not_allowed" });
  });

  it("runs code without a sandbox in a one-off sandbox that is deleted afterwards", async () => {
    const before = await httpClient(service.url).call("GET", "/v1/sandboxes?state=running&limit=100");
    const result = await call("run_code", { code: "console.log('hi'); console.error('careful'); 6 * 7" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: "ok", result: 42, stdout: "hi\n", stderr: "careful\n" });
    expect(text(result)).toContain("result: 42");
    expect(text(result)).toContain("stdout:\nhi");
    const after = await httpClient(service.url).call("GET", "/v1/sandboxes?state=running&limit=100");
    expect(after.body.sandboxes.length).toBe(before.body.sandboxes.length);
  });

  it("creates a sandbox, writes, lists and reads files, and imports a written module from run_code", async () => {
    const created = await call("create_sandbox", { ttlSeconds: 600, metadata: { agent: "mcp-e2e" } });
    expect(created.isError).toBeFalsy();
    const id = created.structuredContent.id as string;
    expect(created.structuredContent).toMatchObject({ state: "running", profile: "js", metadata: { agent: "mcp-e2e" } });
    expect(text(created)).toContain(id);

    const written = await call("write_file", { sandboxId: id, path: "lib/math.ts", content: "export const add = (a: number, b: number): number => a + b;\n" });
    expect(written.structuredContent).toMatchObject({ path: "lib/math.ts" });
    await call("write_file", { sandboxId: id, path: "blob.bin", content: "AP+A", encoding: "base64" });

    const listed = await call("list_files", { sandboxId: id, prefix: "lib/" });
    expect(listed.structuredContent.files.map((f: { path: string }) => f.path)).toEqual(["lib/math.ts"]);

    const read = await call("read_file", { sandboxId: id, path: "lib/math.ts" });
    expect(read.structuredContent).toMatchObject({ encoding: "utf8", content: expect.stringContaining("export const add") });
    const binary = await call("read_file", { sandboxId: id, path: "blob.bin" });
    expect(binary.structuredContent).toMatchObject({ encoding: "base64", content: "AP+A", size: 3 });

    const ran = await call("run_code", { sandboxId: id, language: "ts", code: 'import { add } from "./lib/math.ts";\nadd(40, 2)' });
    expect(ran.structuredContent).toMatchObject({ sandboxId: id, status: "ok", result: 42 });
  });

  it("sets a sandbox's timeout, lists it by metadata, gives its .d.ts as a tool and a resource, and stops it", async () => {
    const created = await call("create_sandbox", { metadata: { agent: "lister" }, capabilities: [{ name: "files" }] });
    const id = created.structuredContent.id as string;

    const timed = await call("set_timeout", { sandboxId: id, ttlSeconds: 120 });
    const expiresInMs = Date.parse(timed.structuredContent.expiresAt) - Date.now();
    expect(expiresInMs).toBeGreaterThan(100_000);
    expect(expiresInMs).toBeLessThanOrEqual(120_000);

    const listed = await call("list_sandboxes", { state: "running", metadata: { agent: "lister" } });
    expect(listed.structuredContent.sandboxes.map((s: { id: string }) => s.id)).toEqual([id]);

    const types = await call("get_types", { sandboxId: id });
    expect(types.structuredContent.declarations).toContain("files");

    const { resources } = await mcp.listResources();
    const uri = `sandboxer://sandboxes/${id}/types.d.ts`;
    expect(resources.map((r) => r.uri)).toContain(uri);
    const resource = await mcp.readResource({ uri });
    expect(resource.contents[0]).toMatchObject({ uri, mimeType: "text/typescript", text: types.structuredContent.declarations });

    const stopped = await call("stop_sandbox", { sandboxId: id });
    expect(stopped.structuredContent).toMatchObject({ id, state: "stopped", endReason: "deleted" });
    const afterStop = await call("run_code", { sandboxId: id, code: "1" });
    expect(afterStop.isError).toBe(true);
    expect(afterStop.structuredContent).toMatchObject({ code: "sandbox_stopped", reason: "deleted" });
  });

  it("snapshots, breaks and restores a workspace, forks it, and pauses and resumes a sandbox over real HTTP", async () => {
    const id = (await call("create_sandbox", { ttlSeconds: 600 })).structuredContent.id as string;
    await call("write_file", { sandboxId: id, path: "main.ts", content: "export const v = 1;\n" });
    const snap = await call("snapshot_sandbox", { sandboxId: id, name: "good" });
    expect(snap.structuredContent).toMatchObject({ name: "good", sourceSandboxId: id });
    const { snapshotId } = snap.structuredContent;
    await call("write_file", { sandboxId: id, path: "main.ts", content: "broken" });
    expect((await call("restore_sandbox", { sandboxId: id, snapshotId })).isError).toBeFalsy();
    expect((await call("read_file", { sandboxId: id, path: "main.ts" })).structuredContent.content).toBe("export const v = 1;\n");
    expect(text(await call("list_snapshots", { sandboxId: id }))).toContain(`${snapshotId}\t"good"`);

    const fork = (await call("create_sandbox", { fromSnapshot: snapshotId })).structuredContent.id as string;
    const forked = await call("run_code", { sandboxId: fork, language: "ts", code: 'import { v } from "./main.ts";\nv + 1' });
    expect(forked.structuredContent).toMatchObject({ status: "ok", result: 2 });

    expect((await call("pause_sandbox", { sandboxId: id })).structuredContent).toMatchObject({ paused: true });
    const refused = await call("run_code", { sandboxId: id, code: "1" });
    expect(refused).toMatchObject({ isError: true, structuredContent: { code: "sandbox_paused" } });
    expect(text(refused)).toContain("resume_sandbox");
    await call("resume_sandbox", { sandboxId: id });
    expect((await call("run_code", { sandboxId: id, code: "1 + 1" })).structuredContent).toMatchObject({ status: "ok", result: 2 });
    expect((await call("delete_snapshot", { snapshotId })).isError).toBeFalsy();
  });

  it("returns a thrown error as an error result with its position and the output before it", async () => {
    const result = await call("run_code", { code: "console.log('before');\nconst x = null;\nx.boom();" });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ status: "error", stdout: "before\n", error: { name: "TypeError", line: 3 } });
    expect(text(result)).toMatch(/error: TypeError: .* at <snippet>:3:\d+/);
    expect(text(result)).toContain("stdout:\nbefore");
  });

  it("maps operation errors to tool errors with the same code as the HTTP API", async () => {
    const missing = await call("read_file", { sandboxId: "sbx_aaaaaaaaaaaaaaaaaaaaaaaaaa", path: "x.txt" });
    expect(missing.isError).toBe(true);
    expect(missing.structuredContent).toMatchObject({ code: "not_found" });

    const created = await call("create_sandbox", {});
    const escape = await call("write_file", { sandboxId: created.structuredContent.id, path: "../etc/passwd", content: "x" });
    expect(escape.isError).toBe(true);
    expect(escape.structuredContent).toMatchObject({ code: "validation_failed" });

    const tooLong = await call("set_timeout", { sandboxId: created.structuredContent.id, ttlSeconds: 10_000_000 });
    expect(tooLong.isError).toBe(true);
    expect(tooLong.structuredContent.code).toBe("limit_exceeded");

    const badBase64 = await call("write_file", { sandboxId: created.structuredContent.id, path: "a.bin", content: "not base64!", encoding: "base64" });
    expect(badBase64.structuredContent).toMatchObject({ code: "validation_failed" });
  });

  it("reports arguments that break a tool's schema as an error result naming the field", async () => {
    const result = await call("run_code", { code: 42 });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/code/);
  });

  it("stops a hostile busy loop with the CPU budget, returns it as an error result, and keeps answering", async () => {
    const started = Date.now();
    const result = await call("run_code", { code: "let i = 0;\nwhile (true) { i++; }", cpuMs: 200 });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ status: "error", error: { name: "LimitExceeded", limit: "cpu", line: 2 } });
    expect(text(result)).toContain("limit: cpu");
    expect(Date.now() - started).toBeLessThan(10_000);

    const next = await call("run_code", { code: "1 + 1" });
    expect(next.structuredContent).toMatchObject({ status: "ok", result: 2 });
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

// Linux sandboxes under `npm start` are real bubblewrap jails started by the jail host.
describe("MCP on a linux sandbox", () => {
  let sandboxId: string;
  beforeAll(async () => {
    const created = await call("create_sandbox", { profile: "linux", ttlSeconds: 600 });
    expect(created.isError, text(created)).toBeFalsy();
    sandboxId = created.structuredContent.id;
  });

  it("run_command runs a shell line in /workspace and sees files written by write_file", async () => {
    await call("write_file", { sandboxId, path: "notes/a.txt", content: "from write_file" });
    const result = await call("run_command", { sandboxId, cmd: "pwd && cat notes/a.txt && echo oops >&2" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ sandboxId, exitCode: 0, stdout: "/workspace\nfrom write_file", stderr: "oops\n" });
    expect(text(result)).toMatch(/^exit code: 0 /);
    expect(text(result)).toContain("stdout:\n/workspace\nfrom write_file");
  });

  it("run_command honours cwd, and a non-zero exit is an error result with the exit code and the output", async () => {
    const inDir = await call("run_command", { sandboxId, cmd: "pwd", cwd: "notes" });
    expect(inDir.structuredContent).toMatchObject({ exitCode: 0, stdout: "/workspace/notes\n" });
    const failed = await call("run_command", { sandboxId, cmd: "echo partial; ls /nonexistent; exit 3" });
    expect(failed.isError).toBe(true);
    expect(failed.structuredContent).toMatchObject({ exitCode: 3, stdout: "partial\n" });
    expect(failed.structuredContent.stderr).toContain("/nonexistent");
    expect(text(failed)).toContain("exit code: 3");
    expect(text(failed)).toContain("stderr:\n");
  });

  it("run_command stops a command at its timeoutMs and says which limit did", async () => {
    const result = await call("run_command", { sandboxId, cmd: "sleep 30", timeoutMs: 500 });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ limit: "wall" });
    expect(text(result)).toContain("wall limit");
  });

  it("run_command refuses what the operation refuses: a js sandbox has no shell, a bad cwd is named", async () => {
    const js = await call("create_sandbox", {});
    const refused = await call("run_command", { sandboxId: js.structuredContent.id, cmd: "echo hi" });
    expect(refused.isError).toBe(true);
    expect(refused.structuredContent).toMatchObject({ code: "limit_exceeded", limit: "commands", profiles: ["linux", "linux-net"] });
    const empty = await call("run_command", { sandboxId, cmd: "" });
    expect(empty.isError).toBe(true);
    expect(text(empty)).toMatch(/cmd/);
  });

  it("run_code runs python and bash on a linux sandbox; a python exception is an error result", async () => {
    const python = await call("run_code", { sandboxId, language: "python", code: "import sys\nprint(6 * 7)\nprint('warn', file=sys.stderr)" });
    expect(python.isError, text(python)).toBeFalsy();
    expect(python.structuredContent).toMatchObject({ sandboxId, status: "ok", stdout: "42\n", stderr: "warn\n" });
    const bash = await call("run_code", { sandboxId, language: "bash", code: "echo $((40 + 2))" });
    expect(bash.structuredContent).toMatchObject({ status: "ok", stdout: "42\n" });
    const raised = await call("run_code", { sandboxId, language: "python", code: "raise ValueError('bad input')" });
    expect(raised.isError).toBe(true);
    expect(text(raised)).toContain("ValueError");
  });
});
