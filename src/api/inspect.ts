import { createRoute, z } from "@hono/zod-openapi";
import { AuditPage, AuditQuery } from "../schemas/audit";
import { SandboxIdParam } from "../schemas/common";
import { createApp, ops } from "./app";
import { json, SANDBOX_ERRORS } from "./responses";

/** What a sandbox did and what its code can see: the audit log and the env declarations. */
export const inspect = createApp();

const listAudit = createRoute({
  operationId: "listAudit",
  method: "get",
  path: "/v1/sandboxes/{id}/audit",
  summary: "Audit log",
  description: "Every capability call and egress decision (allowed or denied, host, method, status, bytes), oldest first. Kept until the sandbox is purged.",
  request: {
    params: SandboxIdParam,
    query: AuditQuery,
  },
  responses: { 200: json(AuditPage, "A page of audit entries"), ...SANDBOX_ERRORS },
});

inspect.openapi(listAudit, async (c) => {
  return c.json(await ops(c).audit(c.req.valid("param").id, c.req.valid("query")), 200);
});

const types = createRoute({
  operationId: "getTypes",
  method: "get",
  path: "/v1/sandboxes/{id}/types",
  summary: "TypeScript declarations of the sandbox's env",
  description: "A `.d.ts` describing exactly the `env` this sandbox's code receives (plain values, secret placeholders, granted capabilities), so an agent can write correct code the first time.",
  request: { params: SandboxIdParam },
  responses: {
    200: { description: "The declarations", content: { "text/plain": { schema: z.string() } } },
    ...SANDBOX_ERRORS,
  },
});

inspect.openapi(types, async (c) => {
  const text = await ops(c).types(c.req.valid("param").id);
  return c.text(text, 200, { "Content-Type": "text/plain; charset=utf-8" });
});
