import { createRoute, z } from "@hono/zod-openapi";
import { AuditPage } from "../schemas/audit";
import { SandboxIdParam } from "../schemas/common";
import { createApp } from "./app";
import { COMMON_ERRORS, json } from "./responses";
import { sandboxStub } from "./stubs";

/** What a sandbox did and what its code can see: the audit log and the env declarations. */
export const inspect = createApp();

const listAudit = createRoute({
  method: "get",
  path: "/v1/sandboxes/{id}/audit",
  summary: "Audit log",
  description: "Every capability call and egress decision (allowed or denied, host, method, status, bytes), oldest first. Kept until the sandbox is purged.",
  request: {
    params: SandboxIdParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      cursor: z.string().max(64).optional(),
    }),
  },
  responses: { 200: json(AuditPage, "A page of audit entries"), ...COMMON_ERRORS },
});

inspect.openapi(listAudit, async (c) => {
  const { limit, cursor } = c.req.valid("query");
  return c.json(await sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id).listAudit(limit, cursor), 200);
});

const types = createRoute({
  method: "get",
  path: "/v1/sandboxes/{id}/types",
  summary: "TypeScript declarations of the sandbox's env",
  description: "A `.d.ts` describing exactly the `env` this sandbox's code receives (plain values, secret placeholders, granted capabilities), so an agent can write correct code the first time.",
  request: { params: SandboxIdParam },
  responses: {
    200: { description: "The declarations", content: { "text/plain": { schema: z.string() } } },
    ...COMMON_ERRORS,
  },
});

inspect.openapi(types, async (c) => {
  const text = await sandboxStub(c.env, c.get("tenant"), c.req.valid("param").id).typeDeclarations();
  return c.text(text, 200, { "Content-Type": "text/plain; charset=utf-8" });
});
