import type { RegistryDO } from "../../durable-objects/registry";
import type { SandboxDO } from "../../durable-objects/sandbox";
import { ErrorCode, SandboxerError } from "../errors";
import { SANDBOX_ID_PATTERN } from "../schemas/common";

/**
 * The RPC surfaces the API calls. Typed as the classes' own method signatures rather
 * than `DurableObjectStub<...>`: the stub's mapped RPC types make TypeScript's
 * instantiation of the typed OpenAPI responses explode, and every value we pass is a
 * plain JSON-like object or an ArrayBuffer, which RPC carries as is.
 */
export type SandboxRpc = Pick<
  SandboxDO,
  "create" | "describe" | "update" | "keepalive" | "destroy" | "putFile" | "getFile" | "deleteFile" | "listFiles"
>;
export type RegistryRpc = Pick<RegistryDO, "list" | "claimIdempotencyKey" | "releaseIdempotencyKey">;

/**
 * The SandboxDO for `id` within `tenant`. The object's name includes the tenant, so an
 * id from another tenant names a different (empty) object and answers 404.
 */
export function sandboxStub(env: Env, tenant: string, id: string): SandboxRpc {
  if (!SANDBOX_ID_PATTERN.test(id)) throw new SandboxerError(ErrorCode.notFound, "No such sandbox.");
  return env.SANDBOX.get(env.SANDBOX.idFromName(`${tenant}:${id}`)) as unknown as SandboxRpc;
}

export function registryStub(env: Env, tenant: string): RegistryRpc {
  return env.REGISTRY.get(env.REGISTRY.idFromName(tenant)) as unknown as RegistryRpc;
}
