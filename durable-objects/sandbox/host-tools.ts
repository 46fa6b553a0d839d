import type { HostTool, HostTools } from "../../src/capabilities/tools";
import { ErrorCode, SandboxerError } from "../../src/errors";
import type { ExecError } from "../../src/schemas/exec";
import type { AuditLog } from "./audit";

/** An RPC stub's lifetime methods (absent on a plain function, e.g. in a same-isolate call). */
type Stub = HostTool & { dup?: () => HostTool };

/** `Symbol.dispose`, which the es2024 lib does not declare but the runtime has. */
const DISPOSE = (Symbol as { dispose?: symbol }).dispose;

/**
 * The host tools of the executions running in one SandboxDO, by execution id. The caller's
 * stubs are `dup()`ed on arrival (the originals die when the RPC call that brought them
 * returns, which for a streamed exec is before the code runs) and disposed when the
 * execution finishes, so the caller's Worker is not kept alive by us.
 */
export class HostToolRegistry {
  private readonly held = new Map<string, Map<string, Stub>>();

  hold(executionId: string, tools: HostTools | undefined): void {
    if (!tools) return;
    const stubs = new Map<string, Stub>();
    for (const [name, fn] of Object.entries(tools) as [string, Stub][]) stubs.set(name, typeof fn.dup === "function" ? (fn.dup() as Stub) : fn);
    this.held.set(executionId, stubs);
  }

  has(executionId: string): boolean {
    return this.held.has(executionId);
  }

  release(executionId: string): void {
    const stubs = this.held.get(executionId);
    this.held.delete(executionId);
    for (const stub of stubs?.values() ?? []) {
      const dispose = DISPOSE && (stub as unknown as Record<symbol, unknown>)[DISPOSE];
      if (typeof dispose !== "function") continue;
      try {
        dispose.call(stub);
      } catch {
        // Already disposed or the caller is gone: nothing left to release.
      }
    }
  }

  /**
   * One call from the isolate: refused past the execution's subrequest limit (`countCall`
   * answers whether it is within), audited either way, and forwarded to the caller. The
   * caller's own failure reaches the snippet as `upstream_failed` with its message.
   */
  async invoke(
    executionId: string,
    name: string,
    args: unknown,
    host: { audit: AuditLog; countCall: () => number | null },
  ): Promise<unknown> {
    const audit = (decision: "allowed" | "denied", detail?: string) =>
      host.audit.append([
        { ts: new Date().toISOString(), kind: "capability", action: `tools.${name}`, decision, executionId, ...(detail ? { detail } : {}) },
      ]);
    const stub = this.held.get(executionId)?.get(name);
    if (!stub) {
      audit("denied", "no such tool");
      throw new SandboxerError(ErrorCode.capabilityDenied, `This execution has no host tool '${name}'.`);
    }
    const overLimit = host.countCall();
    if (overLimit !== null) {
      audit("denied", "subrequest limit");
      throw new SandboxerError(ErrorCode.limitExceeded, `More than ${overLimit} subrequests (requests and tool calls) in one execution.`, {
        limit: "subrequests",
        max: overLimit,
      });
    }
    try {
      const value = await stub(args);
      audit("allowed");
      return value;
    } catch (error) {
      audit("allowed", "failed");
      const message = error instanceof Error ? error.message : String(error);
      throw new SandboxerError(ErrorCode.upstreamFailed, `Host tool '${name}' failed: ${message}`);
    }
  }
}

/**
 * Gives line 1's columns back after a prelude of `length` characters was put in front of the
 * snippet: in the error's position and in its stack's snippet frames.
 */
export function withoutPrelude(error: ExecError | undefined, length: number): ExecError | undefined {
  if (!error || length === 0) return error;
  const inSnippet = error.file === undefined || error.file === "<snippet>";
  const fixed = { ...error };
  if (inSnippet && fixed.line === 1 && fixed.column !== undefined) fixed.column = Math.max(1, fixed.column - length);
  if (fixed.stack) fixed.stack = fixed.stack.replace(/<snippet>:1:(\d+)/g, (_, column: string) => `<snippet>:1:${Math.max(1, Number(column) - length)}`);
  return fixed;
}
