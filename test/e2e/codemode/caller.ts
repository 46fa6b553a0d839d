// A codemode user's Worker, as a customer writes one: it binds to sand-boxer's SandboxService
// (`SANDBOXER`, props.tenant) and runs codemode's own createCodeTool / runCode / codeMcpServer
// with SandboxerExecutor. With a LOADER binding instead it runs codemode's stock
// DynamicWorkerExecutor, for the comparison. Bundled by test/e2e/codemode.test.ts.
import { DynamicWorkerExecutor, runCode, type Executor } from "@cloudflare/codemode";
import { createCodeTool } from "@cloudflare/codemode/ai";
import { codeMcpServer } from "@cloudflare/codemode/mcp";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { tool } from "ai";
import { z } from "zod";
import { SandboxerExecutor, type SandboxerBinding } from "sand-boxer/codemode";

interface Env {
  SANDBOXER?: SandboxerBinding;
  LOADER?: WorkerLoader;
}

interface Scenario {
  code: string;
  sandboxId?: string;
  cpuMs?: number;
}

/** What only the host holds: the sandboxed code must be able to use it without seeing it. */
const HOST_ONLY_TOKEN = "host-only-token-7f3a";

function executorFor(env: Env, scenario: Scenario): Executor {
  if (env.SANDBOXER) return new SandboxerExecutor({ sandboxer: env.SANDBOXER, sandboxId: scenario.sandboxId, cpuMs: scenario.cpuMs });
  return new DynamicWorkerExecutor({ loader: env.LOADER!, timeout: 1000 });
}

const aiTools = {
  add: tool({
    description: "Adds two numbers",
    inputSchema: z.object({ a: z.number(), b: z.number() }),
    execute: async ({ a, b }) => a + b,
  }),
  authorised: tool({
    description: "Whether the host holds a token",
    inputSchema: z.object({}),
    execute: async () => ({ authorised: HOST_ONLY_TOKEN.length > 0 }),
  }),
  broken: tool({
    description: "Always fails",
    inputSchema: z.object({}),
    execute: async () => {
      throw new Error("the tool broke");
    },
  }),
};

async function scenario(path: string, env: Env, input: Scenario): Promise<unknown> {
  const executor = executorFor(env, input);
  switch (path) {
    case "/code-tool": {
      const codeTool = createCodeTool({ tools: aiTools, executor });
      return codeTool.execute!({ code: input.code }, { toolCallId: "call-1", messages: [] });
    }
    case "/run-code":
      return runCode({
        code: input.code,
        executor,
        providers: [{ name: "math", fns: { twice: async (n: unknown) => (n as number) * 2, bytes: async () => new Uint8Array([1, 2, 3]) } }],
      });
    case "/execute":
      // The executor directly, with a connector (codemode's connector protocol).
      return executor.execute(input.code, [], {
        connectors: [
          {
            name: "conn",
            binding: {
              callTool: async (method: string, args: unknown) =>
                method === "fail" ? { __codemode_control__: "error", message: "refused by the connector" } : { method, args },
            },
          },
        ],
      });
    case "/colliding-names":
      // Two tool names that sanitize to the same identifier: an error, as codemode's own executor says.
      return executor.execute(input.code, [{ name: "tools2", fns: { "get-user": async () => 1, get_user: async () => 2 } }]);
    case "/code-mcp": {
      const upstream = new McpServer({ name: "upstream", version: "1.0.0" });
      upstream.registerTool("greet", { description: "Greets someone", inputSchema: { name: z.string() } }, async ({ name }) => ({
        content: [{ type: "text", text: `hello ${name}` }],
      }));
      const server = await codeMcpServer({ server: upstream, executor });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new Client({ name: "caller", version: "1.0.0" });
      await client.connect(clientSide);
      const { tools } = await client.listTools();
      const result = await client.callTool({ name: "code", arguments: { code: input.code } });
      await client.close();
      return { tools: tools.map((t) => t.name), result };
    }
  }
  throw new Error(`no scenario ${path}`);
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    const input = (await request.json()) as Scenario;
    try {
      return Response.json({ value: await scenario(path, env, input) });
    } catch (error) {
      return Response.json({ error: error instanceof Error ? error.message : String(error) });
    }
  },
};
