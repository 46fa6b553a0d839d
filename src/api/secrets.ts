import { createRoute } from "@hono/zod-openapi";
import { ErrorCode, SandboxerError } from "../errors";
import { PutSecretBody, SecretInfo, SecretList, SecretNameParam } from "../schemas/secrets";
import { sealSecret } from "../secrets/crypto";
import { createApp } from "./app";
import { COMMON_ERRORS, json, problem } from "./responses";
import { registryStub } from "./stubs";

/**
 * Tenant secrets: write-only. Sealed (AES-GCM) here in the Worker before they reach storage;
 * a sandbox only ever sees a placeholder, swapped for the value by the egress gateway.
 */
export const secrets = createApp();

const iso = (ms: number) => new Date(ms).toISOString();

const putSecret = createRoute({
  method: "put",
  path: "/v1/secrets/{name}",
  summary: "Store a secret (write-only)",
  description: "Creates or replaces a tenant secret. Its value can never be read back through the API or from a sandbox.",
  request: { params: SecretNameParam, body: { content: { "application/json": { schema: PutSecretBody } }, required: true } },
  responses: {
    201: json(SecretInfo, "Created"),
    200: json(SecretInfo, "Replaced"),
    ...COMMON_ERRORS,
    503: problem("Secrets are not configured on this deployment (no SECRETS_KEY)"),
  },
});

secrets.openapi(putSecret, async (c) => {
  const tenant = c.get("tenant");
  const { name } = c.req.valid("param");
  const sealed = await sealSecret(c.env, tenant, name, c.req.valid("json").value);
  const stored = await registryStub(c.env, tenant).putSecret(name, sealed, Date.now());
  const info = { name, createdAt: iso(stored.createdAt), updatedAt: iso(stored.updatedAt) };
  return stored.created ? c.json(info, 201, { Location: `/v1/secrets/${name}` }) : c.json(info, 200);
});

const listSecrets = createRoute({
  method: "get",
  path: "/v1/secrets",
  summary: "List secrets (names only)",
  responses: { 200: json(SecretList, "The tenant's secrets, by name"), ...COMMON_ERRORS },
});

secrets.openapi(listSecrets, async (c) => {
  const rows = await registryStub(c.env, c.get("tenant")).listSecrets();
  return c.json({ secrets: rows.map((r) => ({ name: r.name, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt) })) }, 200);
});

const deleteSecret = createRoute({
  method: "delete",
  path: "/v1/secrets/{name}",
  summary: "Delete a secret",
  description: "Sandboxes that reference it stop getting it injected at once (their requests go out with the placeholder removed).",
  request: { params: SecretNameParam },
  responses: { 204: { description: "Deleted" }, ...COMMON_ERRORS },
});

secrets.openapi(deleteSecret, async (c) => {
  const { name } = c.req.valid("param");
  if (!(await registryStub(c.env, c.get("tenant")).deleteSecret(name))) {
    throw new SandboxerError(ErrorCode.notFound, `No secret '${name}'.`);
  }
  return c.body(null, 204);
});
