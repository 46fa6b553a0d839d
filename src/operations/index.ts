import { operationContext } from "./context";
import { bulkOperations } from "./bulk";
import { commandOperations } from "./commands";
import { contextOperations } from "./contexts";
import { execOperations } from "./exec";
import { fileOperations } from "./files";
import { inspectOperations } from "./inspect";
import { observeOperations } from "./observe";
import { onceOperations } from "./once";
import { profileOperations } from "./profiles";
import { sandboxOperations } from "./sandboxes";
import { secretOperations } from "./secrets";
import { snapshotOperations } from "./snapshots";

export type { OperationContext } from "./context";
export type { CreateOptions, CreateOutcome, UpdateOptions } from "./sandboxes";
export type { FileContent, FileData } from "./files";
export type { ExecInput, ExecOptions } from "./exec";
export type { CommandInput } from "./commands";
export type { RunOnceInput } from "./once";
export type { PutSecretOutcome } from "./secrets";
export { parseInput, validationError } from "./validate";

/**
 * Every operation of sand-boxer for one authenticated tenant. Doors (HTTP routes, the RPC
 * entrypoint, MCP, the dashboard) authenticate, parse their own format, call one of these
 * and render the answer; validation, limits, activity and audit all happen here or below.
 *
 * ```ts
 * const ops = operations(env, tenant);
 * const { sandbox } = await ops.create({ ttlSeconds: 600 });
 * const result = await ops.exec(sandbox.id, { code: "1 + 2" });
 * ```
 *
 * Failures are thrown as `SandboxerError` with a stable `code`. A missing tenant throws
 * `unauthorized`. Adding a group of operations is one file plus one line here.
 */
export function operations(env: Env, tenant: string) {
  const ctx = operationContext(env, tenant);
  return {
    ...sandboxOperations(ctx),
    ...execOperations(ctx),
    ...contextOperations(ctx),
    ...onceOperations(ctx),
    ...fileOperations(ctx),
    ...inspectOperations(ctx),
    ...secretOperations(ctx),
    ...profileOperations(ctx),
    ...observeOperations(ctx),
    ...bulkOperations(ctx),
    ...commandOperations(ctx),
    ...snapshotOperations(ctx),
  };
}

/** The operation set a door holds: `ReturnType<typeof operations>`. */
export type Operations = ReturnType<typeof operations>;
