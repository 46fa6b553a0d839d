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

  it("answers other methods with 405 problem+json", async () => {
    for (const method of ["GET", "DELETE", "PUT"]) {
      const res = await exports.default.fetch(new Request("http://sandboxer.test/mcp", { method, headers: { Authorization: `Bearer ${KEYS.a}` } }));
      expect(res.status, method).toBe(405);
      expect(await res.json(), method).toMatchObject({ code: "method_not_allowed" });
    }
  });
});
