import { createRoute, z } from "@hono/zod-openapi";
import { SandboxIdParam } from "../schemas/common";
import { CreateSandboxBody, ListSandboxesQuery, PatchSandboxBody, SandboxList, SandboxRecord } from "../schemas/sandbox";
import { createApp, ops } from "./app";
import { BODY_ERRORS, COMMON_ERRORS, json, LIVE_ERRORS, problem, SANDBOX_ERRORS } from "./responses";

export const sandboxes = createApp();

const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({
    description: "Same key and body within 24 h returns the same sandbox; a different body is refused with 422.",
  }),
});

const createSandbox = createRoute({
  operationId: "createSandbox",
  method: "post",
  path: "/v1/sandboxes",
  summary: "Create a sandbox",
  request: {
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: CreateSandboxBody } }, required: false },
  },
  responses: {
    201: json(SandboxRecord, "Created"),
    200: json(SandboxRecord, "Replayed: the sandbox this Idempotency-Key created"),
    ...COMMON_ERRORS,
    ...BODY_ERRORS,
    404: problem("`fromSnapshot` names no snapshot of this tenant (or an expired one)"),
    422: problem("A profile limit exceeded, or an Idempotency-Key reused with a different body"),
    503: problem("The profile's runtime is not available here (e.g. linux without the jail host); the detail says what is missing"),
    429: problem("The tenant's sandboxesAlive quota is reached (`quota_exceeded`, with Retry-After)"),
  },
});

sandboxes.openapi(createSandbox, async (c) => {
  const { sandbox, replayed } = await ops(c).create(c.req.valid("json"), { idempotencyKey: c.req.valid("header")["idempotency-key"] });
  const headers: Record<string, string> = { Location: `/v1/sandboxes/${sandbox.id}`, ETag: sandbox.etag };
  return replayed ? c.json(sandbox, 200, { ...headers, "Idempotent-Replayed": "true" }) : c.json(sandbox, 201, headers);
});

/** The listing query as HTTP spells it: the metadata filter is a family of parameters. */
const ListSandboxesHttpQuery = ListSandboxesQuery.extend({
  metadata: z
    .record(z.string(), z.string())
    .optional()
    .openapi({
      param: { name: "metadata", in: "query", style: "deepObject", explode: true },
      description: "Metadata filter: `metadata[team]=infra` (or `metadata.team=infra`); every pair must match.",
      example: { team: "infra" },
    }),
});

const listSandboxes = createRoute({
  operationId: "listSandboxes",
  method: "get",
  path: "/v1/sandboxes",
  summary: "List sandboxes",
  description: "Newest first. Filter by `state` and by metadata with `metadata.<key>=<value>` or `metadata[<key>]=<value>` (repeatable, all must match).",
  request: { query: ListSandboxesHttpQuery },
  responses: { 200: json(SandboxList, "A page of sandboxes"), ...COMMON_ERRORS },
});

sandboxes.openapi(listSandboxes, async (c) => {
  const { state, limit, cursor } = c.req.valid("query");
  // The metadata filter's parameters become the operation's `metadata` (it checks the keys).
  const metadata: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    // `metadata.<key>` and `metadata[<key>]` are the same filter.
    const key = /^metadata(?:\.(.*)|\[(.*)\])$/.exec(name)?.slice(1).find((k) => k !== undefined);
    const value = values.at(-1);
    if (key !== undefined && value !== undefined) metadata[key] = value;
  }
  return c.json(await ops(c).list({ state, metadata, limit, cursor }), 200);
});

const getSandbox = createRoute({
  operationId: "getSandbox",
  method: "get",
  path: "/v1/sandboxes/{id}",
  summary: "Get a sandbox",
  description: "A stopped sandbox answers with `state: \"stopped\"` and its `endReason` for 24 h, then 404. Not activity.",
  request: { params: SandboxIdParam },
  responses: { 200: json(SandboxRecord, "The sandbox"), ...SANDBOX_ERRORS },
});

sandboxes.openapi(getSandbox, async (c) => {
  const record = await ops(c).get(c.req.valid("param").id);
  return c.json(record, 200, { ETag: record.etag });
});

const patchSandbox = createRoute({
  operationId: "updateSandbox",
  method: "patch",
  path: "/v1/sandboxes/{id}",
  summary: "Change TTL, idle timeout or metadata",
  description: "`ttlSeconds` counts from now and may lengthen or shorten life (capped by the profile). `metadata` is a JSON merge patch (`null` removes a key). Honours `If-Match`.",
  request: {
    params: SandboxIdParam,
    headers: z.object({ "if-match": z.string().optional() }),
    body: { content: { "application/json": { schema: PatchSandboxBody } }, required: true },
  },
  responses: {
    200: json(SandboxRecord, "The updated sandbox"),
    ...LIVE_ERRORS,
    ...BODY_ERRORS,
    412: problem("If-Match does not match the current ETag"),
    422: problem("A profile limit exceeded"),
  },
});

sandboxes.openapi(patchSandbox, async (c) => {
  const record = await ops(c).update(c.req.valid("param").id, c.req.valid("json"), { ifMatch: c.req.valid("header")["if-match"] });
  return c.json(record, 200, { ETag: record.etag });
});

const keepalive = createRoute({
  operationId: "keepaliveSandbox",
  method: "post",
  path: "/v1/sandboxes/{id}/keepalive",
  summary: "Reset the idle clock",
  request: { params: SandboxIdParam },
  responses: { 200: json(SandboxRecord, "The sandbox"), ...LIVE_ERRORS },
});

sandboxes.openapi(keepalive, async (c) => {
  const record = await ops(c).keepalive(c.req.valid("param").id);
  return c.json(record, 200, { ETag: record.etag });
});

const deleteSandbox = createRoute({
  operationId: "deleteSandbox",
  method: "delete",
  path: "/v1/sandboxes/{id}",
  summary: "Stop a sandbox and release its files",
  request: { params: SandboxIdParam },
  responses: { 204: { description: "Stopped (reason `deleted`)" }, ...SANDBOX_ERRORS },
});

sandboxes.openapi(deleteSandbox, async (c) => {
  await ops(c).destroy(c.req.valid("param").id);
  return c.body(null, 204);
});
