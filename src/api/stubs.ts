import type { RegistryDO } from "../../durable-objects/registry";
import type { SandboxDO } from "../../durable-objects/sandbox";
import { ErrorCode, SandboxerError, unsettle, type Settled } from "../errors";
import { SANDBOX_ID_PATTERN } from "../schemas/common";

/** A Durable Object's RPC surface as callers see it: `Settled<T>` results unwrapped, errors thrown. */
type Unwrapped<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<Settled<infer R>>
    ? (...args: A) => Promise<R>
    : T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<Awaited<R>>
      : never;
};

/**
 * Typed as the classes' own method signatures rather than `DurableObjectStub<...>`: the
 * stub's mapped RPC types make TypeScript's instantiation of the typed OpenAPI responses
 * explode, and every value we pass is a plain JSON-like object, a stream or bytes.
 */
export type SandboxRpc = Unwrapped<
  Pick<
    SandboxDO,
    | "create"
    | "describe"
    | "update"
    | "keepalive"
    | "destroy"
    | "putFile"
    | "getFile"
    | "deleteFile"
    | "listFiles"
    | "peekFiles"
    | "exec"
    | "runOnce"
    | "execStream"
    | "createContext"
    | "listContexts"
    | "deleteContext"
    | "snapshot"
    | "restore"
    | "pause"
    | "resume"
    | "listExecutions"
    | "listAudit"
    | "recordAudit"
    | "typeDeclarations"
    | "invokeCapability"
    | "invokeTool"
    | "egressGrant"
    | "runCommand"
    | "runCommandStream"
    | "startProcess"
    | "listProcesses"
    | "getProcess"
    | "killProcess"
  >
>;
export type RegistryRpc = Unwrapped<
  Pick<
    RegistryDO,
    | "list"
    | "claimIdempotencyKey"
    | "releaseIdempotencyKey"
    | "putSecret"
    | "listSecrets"
    | "deleteSecret"
    | "missingSecrets"
    | "sealedSecret"
    | "admitSandbox"
    | "acquireExecution"
    | "releaseExecution"
    | "reserveStorage"
    | "recordStorage"
  >
>;

/** Wraps a stub so each call's `Settled` result is unwrapped (plain results pass through). */
function unwrapping<T>(stub: object): T {
  return new Proxy(stub, {
    get(target, method) {
      return async (...args: unknown[]) => {
        // Called through the stub itself: an RPC method stub has no real `apply`.
        const result = await (target as Record<PropertyKey, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
        return isSettled(result) ? unsettle(result) : result;
      };
    },
  }) as T;
}

function isSettled(value: unknown): value is Settled<unknown> {
  return typeof value === "object" && value !== null && "ok" in value && typeof (value as { ok: unknown }).ok === "boolean";
}

/**
 * The SandboxDO for `id` within `tenant`. The object's name includes the tenant, so an
 * id from another tenant names a different (empty) object and answers 404.
 */
export function sandboxStub(env: Env, tenant: string, id: string): SandboxRpc {
  if (!SANDBOX_ID_PATTERN.test(id)) throw new SandboxerError(ErrorCode.notFound, "No such sandbox.");
  return unwrapping<SandboxRpc>(env.SANDBOX.get(env.SANDBOX.idFromName(`${tenant}:${id}`)));
}

export function registryStub(env: Env, tenant: string): RegistryRpc {
  return unwrapping<RegistryRpc>(env.REGISTRY.get(env.REGISTRY.idFromName(tenant)));
}
