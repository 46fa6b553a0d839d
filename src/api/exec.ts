import { createRoute, z } from "@hono/zod-openapi";
import { SandboxIdParam } from "../schemas/common";
import { ExecRequest, ExecResult } from "../schemas/exec";
import { ExecutionPage, ExecutionsQuery } from "../schemas/executions";
import { createApp, ops } from "./app";
import { BODY_ERRORS, json, LIVE_ERRORS, problem, SANDBOX_ERRORS, SSE_HEADERS } from "./responses";

export const exec = createApp();

const execRoute = createRoute({
  operationId: "execCode",
  method: "post",
  path: "/v1/sandboxes/{id}/exec",
  summary: "Run a snippet: JS/TS in a fresh isolate, or python/bash on a linux sandbox",
  description:
    "Top-level await works; the value of the last expression statement (or of `return`) is the result. A thrown error is status \"error\" with HTTP 200. To watch output as it happens, use `POST /v1/sandboxes/{id}/exec/stream` (or send `Accept: text/event-stream` here).",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: ExecRequest } }, required: true },
  },
  responses: {
    200: json(ExecResult, "The execution's result"),
    ...LIVE_ERRORS,
    ...BODY_ERRORS,
    422: problem("A per-call limit above the profile's, or code over the size limit"),
  },
});

const execStreamRoute = createRoute({
  operationId: "execCodeStream",
  method: "post",
  path: "/v1/sandboxes/{id}/exec/stream",
  summary: "Run a snippet and stream its events",
  description:
    "Server-sent events as they happen: `stdout` and `stderr` (`{stream, level, message, ts, cut?}`), then `result` (`{result, resultType?}`) or `error` (the error object), then `done` (the result without its output, value or error: an `ExecSummary`). A line cut at the output limit carries `cut: true`. The same as `exec` with `Accept: text/event-stream`.",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: ExecRequest } }, required: true },
  },
  responses: {
    200: {
      description: "The execution's events",
      content: { "text/event-stream": { schema: z.string().openapi({ description: "event: stdout|stderr|result|error|done\ndata: JSON" }) } },
    },
    ...LIVE_ERRORS,
    ...BODY_ERRORS,
    422: problem("A per-call limit above the profile's, or code over the size limit"),
    429: problem("Too many executions already queued in this sandbox (`rate_limited`), or the tenant's executionsInFlight quota is reached (`quota_exceeded`)"),
  },
});

exec.openapi(execRoute, async (c) => {
  const id = c.req.valid("param").id;
  const request = c.req.valid("json");
  // Streaming by Accept stays for callers that negotiate; the document declares only JSON here
  // (the stream has its own route) so generated clients type this response cleanly, hence the cast.
  if ((c.req.header("Accept") ?? "").includes("text/event-stream")) return c.body(await ops(c).execStream(id, request), 200, SSE_HEADERS) as never;
  return c.json(await ops(c).exec(id, request), 200);
});

exec.openapi(execStreamRoute, async (c) => {
  return c.body(await ops(c).execStream(c.req.valid("param").id, c.req.valid("json")), 200, SSE_HEADERS);
});

const listExecutions = createRoute({
  operationId: "listExecutions",
  method: "get",
  path: "/v1/sandboxes/{id}/executions",
  summary: "Execution history",
  description: "Newest first: code hash, status, duration, CPU used, timestamps; outputs for an hour after each finished.",
  request: {
    params: SandboxIdParam,
    query: ExecutionsQuery,
  },
  responses: { 200: json(ExecutionPage, "A page of executions"), ...SANDBOX_ERRORS },
});

exec.openapi(listExecutions, async (c) => {
  return c.json(await ops(c).executions(c.req.valid("param").id, c.req.valid("query")), 200);
});
