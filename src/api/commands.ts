import { createRoute, z } from "@hono/zod-openapi";
import { SandboxIdParam } from "../schemas/common";
import { CommandRequest, CommandResult, ProcessIdParam, ProcessInfo, ProcessList } from "../schemas/commands";
import { createApp } from "./app";
import { COMMON_ERRORS, json, problem } from "./responses";
import { sandboxStub } from "./stubs";

/** Shell commands and background processes on linux sandboxes. */
export const commands = createApp();

const commandErrors = {
  ...COMMON_ERRORS,
  410: problem("The sandbox is stopped"),
  422: problem("The sandbox's profile has no shell (use profile linux), or a per-call limit above the profile's"),
  429: problem("Too many executions already queued in this sandbox"),
  503: problem("The Linux runtime is unavailable (locally: the jail host cannot start; the detail says what is missing)"),
} as const;

const runCommand = createRoute({
  method: "post",
  path: "/v1/sandboxes/{id}/commands",
  operationId: "runCommand",
  summary: "Run a shell command (linux profiles)",
  description:
    "`cmd` is run by `bash -lc`; `argv` runs exactly those words. The working directory is /workspace unless `cwd` says otherwise. With `Accept: text/event-stream` the route streams `stdout` and `stderr` events (`{data}`) as the command produces them, then `exit` with the whole result. With `background: true` it starts the command and answers 202 with its process (see /processes). A limit that stops a command (wall, cpu, memory, output, disk) is named in `limit`; the HTTP status is still 200.",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: CommandRequest } }, required: true },
  },
  responses: {
    200: {
      description: "The command's result (or, with Accept: text/event-stream, its events)",
      content: {
        "application/json": { schema: CommandResult },
        "text/event-stream": { schema: z.string().openapi({ description: "event: stdout|stderr|exit|error, data: JSON" }) },
      },
    },
    202: json(ProcessInfo, "Started in the background"),
    ...commandErrors,
  },
});

commands.openapi(runCommand, async (c) => {
  const stub = sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id);
  const request = c.req.valid("json");
  if (request.background) {
    const process = await stub.startProcess(request);
    return c.json(process, 202, { Location: `/v1/sandboxes/${c.req.valid("param").id}/processes/${process.pid}` });
  }
  if ((c.req.header("Accept") ?? "").includes("text/event-stream")) {
    const stream = await stub.runCommandStream(request);
    return c.body(stream, 200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
    });
  }
  return c.json(await stub.runCommand(request), 200);
});

const listProcesses = createRoute({
  method: "get",
  path: "/v1/sandboxes/{id}/processes",
  operationId: "listProcesses",
  summary: "List background processes",
  request: { params: SandboxIdParam },
  responses: { 200: json(ProcessList, "Running and recently finished processes"), ...commandErrors },
});

commands.openapi(listProcesses, async (c) => {
  const processes = await sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id).listProcesses();
  return c.json({ processes }, 200);
});

const getProcess = createRoute({
  method: "get",
  path: "/v1/sandboxes/{id}/processes/{pid}",
  operationId: "getProcess",
  summary: "A background process: status, exit code, output tail",
  request: { params: ProcessIdParam },
  responses: { 200: json(ProcessInfo, "The process"), ...commandErrors },
});

commands.openapi(getProcess, async (c) => {
  const { id, pid } = c.req.valid("param");
  return c.json(await sandboxStub(c.env, c.get("tenant"), id).getProcess(pid), 200);
});

const killProcess = createRoute({
  method: "delete",
  path: "/v1/sandboxes/{id}/processes/{pid}",
  operationId: "killProcess",
  summary: "Kill a background process and everything it started",
  request: { params: ProcessIdParam },
  responses: { 200: json(ProcessInfo, "The process after the kill"), ...commandErrors },
});

commands.openapi(killProcess, async (c) => {
  const { id, pid } = c.req.valid("param");
  return c.json(await sandboxStub(c.env, c.get("tenant"), id).killProcess(pid), 200);
});
