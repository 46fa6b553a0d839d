import { McpServer, ResourceTemplate, type ToolCallback } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode as McpErrorCode, McpError, type CallToolResult, type ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { toSandboxerError } from "../api/problem";
import { ErrorCode, SandboxerError } from "../errors";
import type { Operations } from "../operations";
import {
  CreateSandboxToolInput,
  ListFilesToolInput,
  ListSandboxesToolInput,
  ListSnapshotsToolInput,
  ReadFileToolInput,
  RestoreSandboxToolInput,
  RunCodeToolInput,
  RunCommandToolInput,
  SandboxToolInput,
  SetTimeoutToolInput,
  SnapshotSandboxToolInput,
  SnapshotToolInput,
  WriteFileToolInput,
} from "../schemas/mcp";
import { commandResult, errorResult, execResult, jsonResult, snapshotListResult, toolResult } from "./render";

/** What the server tells a model about itself when it connects. */
const INSTRUCTIONS =
  "sand-boxer runs JavaScript/TypeScript in isolated sandboxes with a CPU budget, wall-time and output limits, and no network unless the profile allows it, and shell commands and python/bash in Linux sandboxes. " +
  "For a quick computation call run_code without sandboxId. To keep files between runs, create_sandbox, then write_file / run_code (code can import workspace files by relative path) / read_file, and stop_sandbox when done. " +
  "For a shell, create_sandbox with profile `linux` (bash, python3, no network; `linux-net` for network), then run_command or run_code with language `python` or `bash` and that sandboxId. " +
  "Before a risky change, snapshot_sandbox; restore_sandbox rolls the sandbox back to it, and create_sandbox with `fromSnapshot` makes independent copies (forks). pause_sandbox keeps a sandbox you will come back to without its idle clock running; resume_sandbox before using it again. " +
  "A sandbox stops by itself after its TTL or idle timeout. get_types gives the TypeScript declarations of the `env` the code receives.";

/** URI of a sandbox's `.d.ts` resource. */
const TYPES_URI_TEMPLATE = "sandboxer://sandboxes/{sandboxId}/types.d.ts";

/** At most this many sandboxes are offered as `.d.ts` resources in a listing. */
const LISTED_TYPE_RESOURCES = 100;

/**
 * The MCP server of one request, for one authenticated tenant. Every tool is a door over
 * the operation layer: its arguments are checked by a schema built from the HTTP contract,
 * the operation does the rest (validation, limits, activity, audit), and whatever it throws
 * comes back as a tool result with `isError` and the error's stable `code`.
 */
export function buildMcpServer(ops: Operations, version: string): McpServer {
  const server = new McpServer({ name: "sand-boxer", version }, { instructions: INSTRUCTIONS, capabilities: { tools: {}, resources: {} } });

  // One POST may carry a JSON-RPC batch (up to 100 calls), which the SDK would run all at once:
  // the local runtime's admission counts a POST /mcp as one execution
  // (scripts/supervisor/admission.mjs), so its tool calls take turns, one running at a time.
  let turn: Promise<void> = Promise.resolve();

  /** Registers a tool whose failures become `isError` results rather than protocol errors. */
  function tool<S extends z.ZodObject>(
    name: string,
    description: string,
    inputSchema: S,
    annotations: ToolAnnotations,
    run: (args: z.output<S>) => Promise<CallToolResult>,
  ): void {
    // The SDK has parsed `args` with `inputSchema`; its callback type cannot follow a generic S.
    const guarded = async (args: z.output<S>): Promise<CallToolResult> => {
      const previous = turn;
      let done!: () => void;
      turn = new Promise((resolve) => (done = resolve));
      await previous;
      try {
        return await run(args);
      } catch (error) {
        return errorResult(error, name);
      } finally {
        done();
      }
    };
    // Closed world unless a tool says otherwise: only run_code's code can reach beyond sand-boxer.
    server.registerTool(name, { description, inputSchema, annotations: { openWorldHint: false, ...annotations } }, guarded as unknown as ToolCallback<S>);
  }

  tool(
    "create_sandbox",
    "Create a sandbox: an isolated workspace where run_code, write_file, read_file and list_files work, kept until stop_sandbox, its TTL or its idle timeout. With `fromSnapshot` it is a fork: a new, independent sandbox starting from that snapshot's files, state and settings. Returns the sandbox record; use its `id` as `sandboxId`.",
    CreateSandboxToolInput,
    {},
    async (args) => {
      const { sandbox } = await ops.create(args);
      const from = args.fromSnapshot ? ` from snapshot ${args.fromSnapshot}` : "";
      return toolResult(`Created sandbox ${sandbox.id}${from} (profile ${sandbox.profile}), expires at ${sandbox.expiresAt}.`, sandbox);
    },
  );

  tool(
    "run_code",
    "Run a JavaScript or TypeScript snippet in a fresh V8 isolate and get its result, stdout and stderr; or, with `language` `python` or `bash` and the `sandboxId` of a linux sandbox, a script run by that interpreter. Without `sandboxId` it runs in a one-off sandbox deleted afterwards. A thrown error or an exceeded limit (CPU budget, wall time, output) comes back as an error result with the error's line and column in your code: fix the code and call again.",
    RunCodeToolInput,
    // With a `js-net` sandbox the code may reach the hosts its allowlist names.
    { openWorldHint: true },
    async ({ sandboxId, ...request }) => {
      if (sandboxId) return execResult(await ops.exec(sandboxId, request), sandboxId);
      // One call into one ephemeral sandbox, stopped before the answer (POST /v1/exec).
      return execResult(await ops.runOnce(request), undefined);
    },
  );

  tool(
    "run_command",
    "Run a shell command (`bash -lc`) in a linux sandbox's /workspace and get its exit code, stdout and stderr (files written by write_file are there). A non-zero exit or a limit that stopped it (wall time, memory, output) comes back as an error result with the output: read it, fix the command and call again. Needs a sandbox created with profile `linux` (or `linux-net`).",
    RunCommandToolInput,
    // With a `linux-net` sandbox the command may reach the network.
    { openWorldHint: true },
    async ({ sandboxId, ...request }) => commandResult(await ops.runCommand(sandboxId, request), sandboxId),
  );

  tool(
    "write_file",
    "Create or replace a file in a sandbox's workspace. Code run with run_code in that sandbox can import it (`import { f } from \"./lib/f.ts\"`).",
    WriteFileToolInput,
    { idempotentHint: true },
    async ({ sandboxId, path, content, encoding }) => {
      const entry = await ops.writeFile(sandboxId, path, encoding === "base64" ? decodeBase64(content) : content);
      return toolResult(`Wrote ${entry.path} (${entry.size} bytes).`, entry);
    },
  );

  tool(
    "read_file",
    "Read a file from a sandbox's workspace. Text comes back as UTF-8; a file that is not valid UTF-8 comes back base64-encoded (`encoding: \"base64\"`).",
    ReadFileToolInput,
    { readOnlyHint: true },
    async ({ sandboxId, path }) => {
      const { entry, data } = await ops.readFile(sandboxId, path);
      const text = decodeUtf8(data);
      const file = text === undefined ? { ...entry, encoding: "base64", content: encodeBase64(data) } : { ...entry, encoding: "utf8", content: text };
      return toolResult(text ?? file.content, file);
    },
  );

  tool(
    "list_files",
    "List the files in a sandbox's workspace (path, size, updatedAt), sorted by path, optionally only under a prefix.",
    ListFilesToolInput,
    { readOnlyHint: true },
    async ({ sandboxId, prefix }) => {
      const files = await ops.listFiles(sandboxId, prefix);
      const text = files.length === 0 ? "No files." : files.map((f) => `${f.path}\t${f.size} bytes\t${f.updatedAt}`).join("\n");
      return toolResult(text, { files });
    },
  );

  tool(
    "set_timeout",
    "Set how long a sandbox lives: it stops `ttlSeconds` from now (shorter or longer than before, at most the profile's maximum). Returns the updated record.",
    SetTimeoutToolInput,
    { idempotentHint: true },
    async ({ sandboxId, ttlSeconds }) => {
      const sandbox = await ops.update(sandboxId, { ttlSeconds });
      return toolResult(`Sandbox ${sandbox.id} now expires at ${sandbox.expiresAt}.`, sandbox);
    },
  );

  tool(
    "stop_sandbox",
    "Stop a sandbox and release its files. Its record stays readable (state `stopped`) for 24 hours. Stopping a stopped sandbox does nothing.",
    SandboxToolInput,
    { destructiveHint: true, idempotentHint: true },
    async ({ sandboxId }) => {
      await ops.destroy(sandboxId);
      const sandbox = await ops.get(sandboxId);
      return toolResult(`Sandbox ${sandbox.id} is ${sandbox.state}.`, sandbox);
    },
  );

  tool(
    "list_sandboxes",
    "List your sandboxes, newest first, optionally only running or stopped ones and only those whose metadata has all the given key/values. Page with `cursor` = the previous `nextCursor`.",
    ListSandboxesToolInput,
    { readOnlyHint: true },
    async (args) => jsonResult(await ops.list(args)),
  );

  tool(
    "snapshot_sandbox",
    "Save a snapshot of a running sandbox: its workspace files, `state` data, code contexts and settings (secret values are never copied). Kept 7 days (or `retentionSeconds`, 1 hour to 30 days), even after the sandbox stops. Use its `snapshotId` with restore_sandbox to roll back, or with create_sandbox `fromSnapshot` to fork copies.",
    SnapshotSandboxToolInput,
    {},
    async ({ sandboxId, name }) => {
      const snapshot = await ops.createSnapshot(sandboxId, { name });
      return toolResult(`Snapshot ${snapshot.snapshotId} ("${snapshot.name}", ${snapshot.size} bytes) of ${sandboxId}, kept until ${snapshot.expiresAt}.`, snapshot);
    },
  );

  tool(
    "restore_sandbox",
    "Roll a running sandbox back to a snapshot, in place: its workspace files, `state` data and code contexts become the snapshot's (files written since are gone). Its id and clocks stay. The snapshot must be of a sandbox with the same profile. Returns the sandbox record.",
    RestoreSandboxToolInput,
    { destructiveHint: true, idempotentHint: true },
    async ({ sandboxId, snapshotId }) => {
      const sandbox = await ops.restore(sandboxId, { snapshotId });
      return toolResult(`Sandbox ${sandbox.id} restored to snapshot ${snapshotId}.`, sandbox);
    },
  );

  tool(
    "list_snapshots",
    "List your snapshots (snapshotId, name, size, createdAt, expiresAt, sourceSandboxId, profile), or with `sandboxId` only those taken of that sandbox, newest first. Page the full list with `cursor` = the previous `nextCursor`.",
    ListSnapshotsToolInput,
    { readOnlyHint: true },
    async ({ sandboxId, ...page }) => {
      if (sandboxId) return snapshotListResult({ snapshots: await ops.sandboxSnapshots(sandboxId), nextCursor: null });
      return snapshotListResult(await ops.listSnapshots(page));
    },
  );

  tool(
    "delete_snapshot",
    "Delete a snapshot for good (its storage counts against your quota until then). Sandboxes forked from it are not affected.",
    SnapshotToolInput,
    { destructiveHint: true },
    async ({ snapshotId }) => {
      await ops.deleteSnapshot(snapshotId);
      return toolResult(`Deleted snapshot ${snapshotId}.`, { snapshotId, deleted: true });
    },
  );

  tool(
    "pause_sandbox",
    "Pause a running sandbox you will come back to: its files, state and contexts are kept, its runtime is released and its idle clock stops (its TTL keeps running). While paused, run_code, run_command and file tools answer `sandbox_paused`; call resume_sandbox first. Refused while code is running in it.",
    SandboxToolInput,
    {},
    async ({ sandboxId }) => {
      const sandbox = await ops.pause(sandboxId);
      return toolResult(`Sandbox ${sandbox.id} is paused; it still expires at ${sandbox.expiresAt}. Call resume_sandbox to use it again.`, sandbox);
    },
  );

  tool(
    "resume_sandbox",
    "Resume a paused sandbox with its files, state and contexts; its idle clock starts again. Resuming a sandbox that is not paused does nothing.",
    SandboxToolInput,
    { idempotentHint: true },
    async ({ sandboxId }) => {
      const sandbox = await ops.resume(sandboxId);
      return toolResult(`Sandbox ${sandbox.id} is running; it expires at ${sandbox.expiresAt}.`, sandbox);
    },
  );

  tool(
    "get_types",
    "Get the TypeScript declarations (.d.ts) of the `env` that code in this sandbox receives (its capabilities, environment values and secrets placeholders), to write code that type-checks.",
    SandboxToolInput,
    { readOnlyHint: true },
    async ({ sandboxId }) => {
      const declarations = await ops.types(sandboxId);
      return toolResult(declarations, { sandboxId, declarations });
    },
  );

  server.registerResource(
    "sandbox-types",
    new ResourceTemplate(TYPES_URI_TEMPLATE, {
      list: async () => {
        const { sandboxes } = await resourceCall(() => ops.list({ state: "running", limit: LISTED_TYPE_RESOURCES }));
        return {
          resources: sandboxes.map((s) => ({
            uri: TYPES_URI_TEMPLATE.replace("{sandboxId}", s.id),
            name: `${s.id} env types`,
            mimeType: "text/typescript",
          })),
        };
      },
    }),
    {
      description: "The TypeScript declarations (.d.ts) of the `env` a sandbox's code receives.",
      mimeType: "text/typescript",
    },
    async (uri, { sandboxId }) => {
      const text = await resourceCall(() => ops.types(String(sandboxId)));
      return { contents: [{ uri: uri.href, mimeType: "text/typescript", text }] };
    },
  );

  return server;
}

/**
 * Resource reads have no `isError` result: a failure is a JSON-RPC error, whose message and
 * data carry our code and detail (not the internal wire form of the error).
 */
async function resourceCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const problem = toSandboxerError(error);
    if (problem.code === ErrorCode.internal) console.error("internal error in an MCP resource read:", error);
    const mcpCode = problem.code === ErrorCode.notFound ? McpErrorCode.InvalidParams : McpErrorCode.InternalError;
    throw new McpError(mcpCode, `${problem.code}: ${problem.detail}`, { code: problem.code, detail: problem.detail, ...problem.extra });
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** base64 `content` of write_file; anything else is refused rather than silently mangled. */
function decodeBase64(content: string): Uint8Array {
  const compact = content.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new SandboxerError(ErrorCode.validationFailed, "`content` is not valid base64: send the file's bytes base64-encoded, or set `encoding` to `utf8` for text.", {
      errors: [{ path: "arguments.content", message: "not valid base64" }],
    });
  }
  return Uint8Array.from(atob(compact), (c) => c.charCodeAt(0));
}

function encodeBase64(data: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The bytes as text if they are valid UTF-8. */
function decodeUtf8(data: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(data);
  } catch {
    return undefined;
  }
}
