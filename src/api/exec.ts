import { createRoute, z } from "@hono/zod-openapi";
import { SandboxIdParam } from "../schemas/common";
import { ExecRequest, ExecResult } from "../schemas/exec";
import { ExecutionPage } from "../schemas/executions";
import { createApp } from "./app";
import { COMMON_ERRORS, json, problem } from "./responses";
import { sandboxStub } from "./stubs";

export const exec = createApp();

const execRoute = createRoute({
  method: "post",
  path: "/v1/sandboxes/{id}/exec",
  summary: "Run a JS/TS snippet in a fresh isolate",
  description:
    "Top-level await works; the value of the last expression statement (or of `return`) is the result. A thrown error is status \"error\" with HTTP 200. With `Accept: text/event-stream` the same route streams `stdout`, `stderr`, `result`, `error` and `done` events as they happen.",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: ExecRequest } }, required: true },
  },
  responses: {
    200: {
      description: "The execution's result (or, with Accept: text/event-stream, its events)",
      content: {
        "application/json": { schema: ExecResult },
        "text/event-stream": { schema: z.string().openapi({ description: "event: stdout|stderr|result|error|done, data: JSON" }) },
      },
    },
    ...COMMON_ERRORS,
    410: problem("The sandbox is stopped"),
    422: problem("A per-call limit above the profile's, or code over the size limit"),
    429: problem("Too many executions already queued in this sandbox (`rate_limited`), or the tenant's executionsInFlight quota is reached (`quota_exceeded`)"),
  },
});

exec.openapi(execRoute, async (c) => {
  const stub = sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id);
  const request = c.req.valid("json");
  if ((c.req.header("Accept") ?? "").includes("text/event-stream")) {
    const stream = await stub.execStream(request);
    return c.body(stream, 200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
    });
  }
  return c.json(await stub.exec(request), 200);
});

const listExecutions = createRoute({
  method: "get",
  path: "/v1/sandboxes/{id}/executions",
  summary: "Execution history",
  description: "Newest first: code hash, status, duration, CPU used, timestamps; outputs for an hour after each finished.",
  request: {
    params: SandboxIdParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: z.string().max(64).optional(),
    }),
  },
  responses: { 200: json(ExecutionPage, "A page of executions"), ...COMMON_ERRORS },
});

exec.openapi(listExecutions, async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const page = await sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id).listExecutions(limit, cursor);
  return c.json(page, 200);
});
