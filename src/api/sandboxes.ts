import { createRoute, z } from "@hono/zod-openapi";
import { admitSandbox } from "../../durable-objects/registry/admit";
import { planCreate } from "../../durable-objects/sandbox/lifecycle";
import { ErrorCode, SandboxerError } from "../errors";
import { newSandboxId, sha256Hex } from "../ids";
import { SandboxIdParam } from "../schemas/common";
import { CreateSandboxBody, ListSandboxesQuery, PatchSandboxBody, SandboxList, SandboxRecord } from "../schemas/sandbox";
import { createApp } from "./app";
import { COMMON_ERRORS, json, problem } from "./responses";
import { registryStub, sandboxStub } from "./stubs";

export const sandboxes = createApp();

const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({
    description: "Same key and body within 24 h returns the same sandbox; a different body is refused with 422.",
  }),
});

const createSandbox = createRoute({
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
    422: problem("A profile limit exceeded, or an Idempotency-Key reused with a different body"),
    429: problem("The tenant's sandboxesAlive quota is reached (`quota_exceeded`, with Retry-After)"),
  },
});

sandboxes.openapi(createSandbox, async (c) => {
  const body = c.req.valid("json");
  const tenant = c.get("tenant");
  const id = newSandboxId();
  const initial = planCreate(body, tenant, id, Date.now());
  const bound = Object.entries(initial.secrets ?? {});
  if (bound.length > 0) {
    const missing = new Set(await registryStub(c.env, tenant).missingSecrets([...new Set(bound.map(([, b]) => b.secret))]));
    if (missing.size > 0) {
      throw new SandboxerError(ErrorCode.validationFailed, `No such secret: ${[...missing].join(", ")}. Store it first with PUT /v1/secrets/{name}.`, {
        errors: bound.filter(([, b]) => missing.has(b.secret)).map(([name]) => ({ path: `secrets.${name}.secret`, message: "no such secret" })),
      });
    }
  }
  const key = c.req.valid("header")["idempotency-key"];
  if (key) {
    const claim = await registryStub(c.env, tenant).claimIdempotencyKey(key, await sha256Hex(JSON.stringify(body)), id);
    if (claim.outcome === "conflict") {
      throw new SandboxerError(
        ErrorCode.idempotencyConflict,
        "This Idempotency-Key was already used with a different request body within the last 24 hours.",
      );
    }
    if (claim.outcome === "replay") {
      const record = await sandboxStub(c.env, tenant, claim.sandboxId).describe();
      return c.json(record, 200, { Location: `/v1/sandboxes/${record.id}`, ETag: record.etag, "Idempotent-Replayed": "true" });
    }
  }
  let record: SandboxRecord;
  try {
    await admitSandbox(c.env, tenant, id);
    record = await sandboxStub(c.env, tenant, id).create(initial);
  } catch (error) {
    if (key) await registryStub(c.env, tenant).releaseIdempotencyKey(key, id);
    throw error;
  }
  return c.json(record, 201, { Location: `/v1/sandboxes/${record.id}`, ETag: record.etag });
});

const listSandboxes = createRoute({
  method: "get",
  path: "/v1/sandboxes",
  summary: "List sandboxes",
  description: "Newest first. Filter by `state` and by metadata with `metadata.<key>=<value>` (repeatable, all must match).",
  request: { query: ListSandboxesQuery },
  responses: { 200: json(SandboxList, "A page of sandboxes"), ...COMMON_ERRORS },
});

sandboxes.openapi(listSandboxes, async (c) => {
  const { state, limit, cursor } = c.req.valid("query");
  const metadata: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (!name.startsWith("metadata.")) continue;
    const key = name.slice("metadata.".length);
    const value = values.at(-1);
    if (!key || value === undefined) {
      throw new SandboxerError(ErrorCode.validationFailed, "A metadata filter needs a key: metadata.<key>=<value>.", {
        errors: [{ path: `query.${name}`, message: "empty metadata key" }],
      });
    }
    metadata[key] = value;
  }
  const page = await registryStub(c.env, c.get("tenant")).list({ state, metadata, limit, cursor });
  return c.json(page, 200);
});

const getSandbox = createRoute({
  method: "get",
  path: "/v1/sandboxes/{id}",
  summary: "Get a sandbox",
  description: "A stopped sandbox answers with `state: \"stopped\"` and its `endReason` for 24 h, then 404. Not activity.",
  request: { params: SandboxIdParam },
  responses: { 200: json(SandboxRecord, "The sandbox"), ...COMMON_ERRORS },
});

sandboxes.openapi(getSandbox, async (c) => {
  const record = await sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id).describe();
  return c.json(record, 200, { ETag: record.etag });
});

const patchSandbox = createRoute({
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
    ...COMMON_ERRORS,
    410: problem("The sandbox is stopped"),
    412: problem("If-Match does not match the current ETag"),
    422: problem("A profile limit exceeded"),
  },
});

sandboxes.openapi(patchSandbox, async (c) => {
  const stub = sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id);
  const record = await stub.update(c.req.valid("json"), c.req.valid("header")["if-match"]);
  return c.json(record, 200, { ETag: record.etag });
});

const keepalive = createRoute({
  method: "post",
  path: "/v1/sandboxes/{id}/keepalive",
  summary: "Reset the idle clock",
  request: { params: SandboxIdParam },
  responses: { 200: json(SandboxRecord, "The sandbox"), ...COMMON_ERRORS, 410: problem("The sandbox is stopped") },
});

sandboxes.openapi(keepalive, async (c) => {
  const record = await sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id).keepalive();
  return c.json(record, 200, { ETag: record.etag });
});

const deleteSandbox = createRoute({
  method: "delete",
  path: "/v1/sandboxes/{id}",
  summary: "Stop a sandbox and release its files",
  request: { params: SandboxIdParam },
  responses: { 204: { description: "Stopped (reason `deleted`)" }, ...COMMON_ERRORS },
});

sandboxes.openapi(deleteSandbox, async (c) => {
  await sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id).destroy();
  return c.body(null, 204);
});
