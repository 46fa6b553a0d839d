import { createRoute } from "@hono/zod-openapi";
import { RunOnceRequest, RunOnceResult } from "../schemas/once";
import { createApp, ops } from "./app";
import { BODY_ERRORS, COMMON_ERRORS, json, problem } from "./responses";

export const once = createApp();

const runOnceRoute = createRoute({
  operationId: "runOnce",
  method: "post",
  path: "/v1/exec",
  summary: "Run a snippet once, in an ephemeral sandbox",
  description:
    "One call instead of create + exec + delete: the code runs in a new sandbox of `profile` (its limits, network policy and audit apply) that nothing else can address and that is stopped before the answer. `files` are written to its workspace first. The result is the exec result plus `sandboxId`, whose audit and execution history stay readable for 24 h. A thrown error is status \"error\" with HTTP 200.",
  request: {
    body: { content: { "application/json": { schema: RunOnceRequest } }, required: true },
  },
  responses: {
    200: json(RunOnceResult, "The execution's result and the ephemeral sandbox's id"),
    ...COMMON_ERRORS,
    ...BODY_ERRORS,
    422: problem("A per-call limit above the profile's, code or files over the profile's limits, or a language the profile does not run"),
  },
});

once.openapi(runOnceRoute, async (c) => {
  return c.json(await ops(c).runOnce(c.req.valid("json")), 200);
});
