import { createRoute } from "@hono/zod-openapi";
import { SandboxIdParam } from "../schemas/common";
import { CodeContext, ContextIdParam, ContextList, CreateContextBody } from "../schemas/contexts";
import { createApp, ops } from "./app";
import { BODY_ERRORS, json, LIVE_ERRORS, problem } from "./responses";

/** Code contexts: cells of `exec` that keep earlier cells' declarations. */
export const contexts = createApp();

const contextErrors = {
  ...LIVE_ERRORS,
  410: problem("The sandbox is stopped (its contexts are gone with it)"),
} as const;

const createContext = createRoute({
  operationId: "createContext",
  method: "post",
  path: "/v1/sandboxes/{id}/contexts",
  summary: "Create a code context (js/ts sandboxes)",
  description:
    "Run cells in it with `POST /v1/sandboxes/{id}/exec` and `context: contextId`: each cell still runs in a fresh isolate with the CPU budget, and sees the top-level `const`/`let`/`var`/`function`/`class` declarations and imports of earlier successful cells. Values structured clone can carry are saved (Map, Set, Date, typed arrays, cycles); functions and classes are carried as source; anything else is dropped and named in the result's `contextDropped`. The body may be empty.",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: CreateContextBody } }, required: false },
  },
  responses: {
    201: json(CodeContext, "The new context"),
    ...contextErrors,
    ...BODY_ERRORS,
    422: problem("The sandbox's profile has no contexts (linux), or it already holds the most contexts allowed"),
  },
});

contexts.openapi(createContext, async (c) => {
  const id = c.req.valid("param").id;
  const context = await ops(c).createContext(id, c.req.valid("json") ?? {});
  return c.json(context, 201, { Location: `/v1/sandboxes/${id}/contexts/${context.contextId}` });
});

const listContexts = createRoute({
  operationId: "listContexts",
  method: "get",
  path: "/v1/sandboxes/{id}/contexts",
  summary: "List code contexts",
  request: { params: SandboxIdParam },
  responses: { 200: json(ContextList, "The sandbox's contexts, oldest first"), ...contextErrors },
});

contexts.openapi(listContexts, async (c) => {
  return c.json({ contexts: await ops(c).listContexts(c.req.valid("param").id) }, 200);
});

const deleteContext = createRoute({
  operationId: "deleteContext",
  method: "delete",
  path: "/v1/sandboxes/{id}/contexts/{contextId}",
  summary: "Delete a code context",
  request: { params: ContextIdParam },
  responses: {
    204: { description: "Deleted" },
    ...contextErrors,
    404: problem("No such sandbox (or another tenant's), or no such context in it"),
  },
});

contexts.openapi(deleteContext, async (c) => {
  const { id, contextId } = c.req.valid("param");
  await ops(c).deleteContext(id, contextId);
  return c.body(null, 204);
});
