import { createRoute, z } from "@hono/zod-openapi";
import { SandboxIdParam } from "../schemas/common";
import { CommandRequest, CommandResult, ProcessIdParam, ProcessInfo, ProcessList } from "../schemas/commands";
import { createApp, ops } from "./app";
import { BODY_ERRORS, json, LIVE_ERRORS, problem, SSE_HEADERS } from "./responses";

/** Shell commands and background processes on linux sandboxes: a door over `src/operations/commands.ts`. */
export const commands = createApp();

/** What every commands/processes route can answer besides its own outcome. */
const COMMAND_ERRORS = {
  ...LIVE_ERRORS,
  422: problem("The sandbox's profile has no shell (use profile linux), or a per-call limit above the profile's"),
  429: problem("Too many executions already queued in this sandbox, or too many requests (see `Retry-After`)"),
  503: problem("The Linux runtime is unavailable (locally: the jail host cannot start; the detail says what is missing), or the runtime is restarting"),
} as const;

const runCommand = createRoute({
  method: "post",
  path: "/v1/sandboxes/{id}/commands",
  operationId: "runCommand",
  summary: "Run a shell command (linux profiles)",
  description:
    "`cmd` is run by `bash -lc`; `argv` runs exactly those words. The working directory is /workspace unless `cwd` says otherwise. With `background: true` it starts the command and answers 202 with its process (see /processes). A limit that stops a command (wall, cpu, memory, output, disk) is named in `limit`; the HTTP status is still 200. To watch output as it happens, use `POST /v1/sandboxes/{id}/commands/stream` (or send `Accept: text/event-stream` here).",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: CommandRequest } }, required: true },
  },
  responses: {
    200: json(CommandResult, "The command's result"),
    202: json(ProcessInfo, "Started in the background"),
    ...COMMAND_ERRORS,
    ...BODY_ERRORS,
  },
});

const runCommandStream = createRoute({
  method: "post",
  path: "/v1/sandboxes/{id}/commands/stream",
  operationId: "runCommandStream",
  summary: "Run a shell command and stream its output (linux profiles)",
  description:
    "Server-sent events as they happen: `stdout` and `stderr` (`{data}`: a chunk of text as the command wrote it), then `exit` (the whole `CommandResult`), or `error` (`{commandId, name, message}`) if it could not be run. The same as `runCommand` with `Accept: text/event-stream`. `background` is refused here.",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: CommandRequest } }, required: true },
  },
  responses: {
    200: {
      description: "The command's events",
      content: { "text/event-stream": { schema: z.string().openapi({ description: "event: stdout|stderr|exit|error\ndata: JSON" }) } },
    },
    ...COMMAND_ERRORS,
    ...BODY_ERRORS,
  },
});

commands.openapi(runCommand, async (c) => {
  const id = c.req.valid("param").id;
  const request = c.req.valid("json");
  if (request.background) {
    const process = await ops(c).startProcess(id, request);
    return c.json(process, 202, { Location: `/v1/sandboxes/${id}/processes/${process.pid}` });
  }
  // Streaming by Accept stays for callers that negotiate; the document declares only JSON here
  // (the stream has its own route) so generated clients type this response cleanly, hence the cast.
  if ((c.req.header("Accept") ?? "").includes("text/event-stream")) return c.body(await ops(c).runCommandStream(id, request), 200, SSE_HEADERS) as never;
  return c.json(await ops(c).runCommand(id, request), 200);
});

commands.openapi(runCommandStream, async (c) => {
  return c.body(await ops(c).runCommandStream(c.req.valid("param").id, c.req.valid("json")), 200, SSE_HEADERS);
});

const listProcesses = createRoute({
  method: "get",
  path: "/v1/sandboxes/{id}/processes",
  operationId: "listProcesses",
  summary: "List background processes",
  request: { params: SandboxIdParam },
  responses: { 200: json(ProcessList, "Running and recently finished processes"), ...COMMAND_ERRORS },
});

commands.openapi(listProcesses, async (c) => {
  return c.json({ processes: await ops(c).listProcesses(c.req.valid("param").id) }, 200);
});

const getProcess = createRoute({
  method: "get",
  path: "/v1/sandboxes/{id}/processes/{pid}",
  operationId: "getProcess",
  summary: "A background process: status, exit code, output tail",
  request: { params: ProcessIdParam },
  responses: { 200: json(ProcessInfo, "The process"), ...COMMAND_ERRORS },
});

commands.openapi(getProcess, async (c) => {
  const { id, pid } = c.req.valid("param");
  return c.json(await ops(c).getProcess(id, pid), 200);
});

const killProcess = createRoute({
  method: "delete",
  path: "/v1/sandboxes/{id}/processes/{pid}",
  operationId: "killProcess",
  summary: "Kill a background process and everything it started",
  request: { params: ProcessIdParam },
  responses: { 200: json(ProcessInfo, "The process after the kill"), ...COMMAND_ERRORS },
});

commands.openapi(killProcess, async (c) => {
  const { id, pid } = c.req.valid("param");
  return c.json(await ops(c).killProcess(id, pid), 200);
});
