import { registryStub } from "../../src/api/stubs";
import { quotasFor } from "../../src/quotas";

/**
 * The callers' side of the tenant quotas kept by the RegistryDO (quotas.ts): each reads the
 * tenant's limits from `TENANT_QUOTAS` and asks the tenant's registry, which refuses with a
 * problem naming the quota. One function per call site, so a door (HTTP, RPC, MCP) or the
 * sandbox object adds one line.
 */

/** Before creating sandbox `id`: throws quota_exceeded (sandboxesAlive) if the tenant is at its quota. */
export async function admitSandbox(env: Env, tenant: string, id: string): Promise<void> {
  await registryStub(env, tenant).admitSandbox(id, quotasFor(env, tenant).sandboxesAlive);
}

/**
 * Before an execution is queued: takes one of the tenant's `executionsInFlight` slots (or throws
 * quota_exceeded) and returns its release. The lease expires by itself after `ttlMs`.
 */
export async function acquireExecutionSlot(env: Env, tenant: string, executionId: string, ttlMs: number): Promise<() => void> {
  const registry = registryStub(env, tenant);
  await registry.acquireExecution(executionId, quotasFor(env, tenant).executionsInFlight, ttlMs);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    void registry.releaseExecution(executionId).catch(() => undefined);
  };
}

/** After a delete brought sandbox `sandboxId`'s workspace down to `bytes`: the rest goes back to the tenant's storage quota. */
export async function recordStorage(env: Env, tenant: string, sandboxId: string, bytes: number): Promise<void> {
  await registryStub(env, tenant).recordStorage(sandboxId, bytes);
}

/** Before a workspace write that brings sandbox `sandboxId` to `bytes`: throws limit_exceeded (storageBytes) past the tenant's quota. */
export async function reserveStorage(env: Env, tenant: string, sandboxId: string, bytes: number): Promise<void> {
  await registryStub(env, tenant).reserveStorage(sandboxId, bytes, quotasFor(env, tenant).storageBytes);
}
