import { createRoute } from "@hono/zod-openapi";
import { PutSecretBody, SecretInfo, SecretList, SecretNameParam } from "../schemas/secrets";
import { createApp, ops } from "./app";
import { BODY_ERRORS, COMMON_ERRORS, json, problem } from "./responses";

/** Tenant secrets over HTTP (write-only; see src/operations/secrets.ts). */
export const secrets = createApp();

const putSecret = createRoute({
  operationId: "putSecret",
  method: "put",
  path: "/v1/secrets/{name}",
  summary: "Store a secret (write-only)",
  description: "Creates or replaces a tenant secret. Its value can never be read back through the API or from a sandbox.",
  request: { params: SecretNameParam, body: { content: { "application/json": { schema: PutSecretBody } }, required: true } },
  responses: {
    201: json(SecretInfo, "Created"),
    200: json(SecretInfo, "Replaced"),
    ...COMMON_ERRORS,
    ...BODY_ERRORS,
    503: problem("Secrets are not configured on this deployment (no SECRETS_KEY), or the runtime is restarting"),
  },
});

secrets.openapi(putSecret, async (c) => {
  const { secret, created } = await ops(c).putSecret(c.req.valid("param").name, c.req.valid("json"));
  return created ? c.json(secret, 201, { Location: `/v1/secrets/${secret.name}` }) : c.json(secret, 200);
});

const listSecrets = createRoute({
  operationId: "listSecrets",
  method: "get",
  path: "/v1/secrets",
  summary: "List secrets (names only)",
  responses: { 200: json(SecretList, "The tenant's secrets, by name"), ...COMMON_ERRORS },
});

secrets.openapi(listSecrets, async (c) => {
  return c.json(await ops(c).listSecrets(), 200);
});

const deleteSecret = createRoute({
  operationId: "deleteSecret",
  method: "delete",
  path: "/v1/secrets/{name}",
  summary: "Delete a secret",
  description: "Sandboxes that reference it stop getting it injected at once (their requests go out with the placeholder removed).",
  request: { params: SecretNameParam },
  responses: { 204: { description: "Deleted" }, ...COMMON_ERRORS, 404: problem("No such secret") },
});

secrets.openapi(deleteSecret, async (c) => {
  await ops(c).deleteSecret(c.req.valid("param").name);
  return c.body(null, 204);
});
