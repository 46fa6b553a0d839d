import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { ops, type AppEnv } from "../api/app";
import { requireTenant } from "../api/auth";
import { ErrorCode, SandboxerError } from "../errors";
import { buildMcpServer } from "./server";

/** Largest JSON-RPC request body: room for a 1 MiB snippet or a file, JSON-escaped. */
export const MAX_MCP_BODY_BYTES = 10 * 1024 * 1024;

/**
 * `/mcp`: MCP over Streamable HTTP, stateless. Each POST gets a new server and transport
 * bound to the tenant of its Bearer key, so no session lives in the isolate and any
 * Worker instance can answer any request. Replies are plain JSON (no SSE stream): every
 * tool answers with one result.
 */
export const mcp = new Hono<AppEnv>();

mcp.use(requireTenant);

mcp.post("/", async (c) => {
  const server = buildMcpServer(ops(c), c.env.SANDBOXER_VERSION);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
    maxRequestBodySize: MAX_MCP_BODY_BYTES,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(c.req.raw);
  } finally {
    // The JSON reply is complete once handleRequest returns; nothing outlives the request.
    await server.close();
  }
});

// Stateless: there is no session to stream server-initiated messages on (GET) or to end
// (DELETE). Clients treat 405 on GET as "no standalone stream", as the spec allows.
mcp.on(["GET", "DELETE"], "/", (c) => {
  throw new SandboxerError(ErrorCode.methodNotAllowed, `${c.req.method} is not used: this MCP endpoint is stateless; send JSON-RPC requests with POST.`);
});
