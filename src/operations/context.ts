import { registryStub, sandboxStub, type RegistryRpc, type SandboxRpc } from "../api/stubs";
import { ErrorCode, SandboxerError } from "../errors";

/**
 * Who is asking, already authenticated by the door (an API key, binding props, a dashboard
 * session), and the Worker's bindings. Every operation is scoped to `tenant`.
 */
export interface OperationContext {
  env: Env;
  tenant: string;
}

/** A context for `tenant`; a missing or empty tenant is refused, whatever the door. */
export function operationContext(env: Env, tenant: unknown): OperationContext {
  if (typeof tenant !== "string" || tenant.length === 0) {
    throw new SandboxerError(ErrorCode.unauthorized, "No tenant: authenticate first (an API key, or a service binding with props.tenant).");
  }
  return { env, tenant };
}

/** The tenant's SandboxDO for `id` (another tenant's id, or a malformed one, answers not_found). */
export function sandboxOf(ctx: OperationContext, id: string): SandboxRpc {
  return sandboxStub(ctx.env, ctx.tenant, id);
}

/** The tenant's registry (listing, idempotency keys, secrets). */
export function registryOf(ctx: OperationContext): RegistryRpc {
  return registryStub(ctx.env, ctx.tenant);
}
