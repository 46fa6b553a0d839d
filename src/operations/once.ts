import { planCreate } from "../../durable-objects/sandbox/lifecycle";
import { hostToolNames } from "../capabilities/tools";
import { ErrorCode, SandboxerError } from "../errors";
import { newSandboxId } from "../ids";
import { chooseProvider } from "../providers";
import { RunOnceRequest, type RunOnceResult } from "../schemas/once";
import { normaliseWorkspacePath } from "../workspace/paths";
import { sandboxOf, type OperationContext } from "./context";
import type { ExecOptions } from "./exec";
import { parseInput } from "./validate";

/** A workspace path from `files`, refused with the field it came from. */
function filePath(raw: string): string {
  try {
    return normaliseWorkspacePath(raw);
  } catch (error) {
    if (!(error instanceof SandboxerError)) throw error;
    throw new SandboxerError(ErrorCode.validationFailed, `${error.detail} (in files, key ${JSON.stringify(raw)}).`, {
      errors: [{ path: `body.files.${raw}`, message: error.detail }],
    });
  }
}

/** What `runOnce` takes: an exec request plus `profile`, `files` and `network`. */
export type RunOnceInput = RunOnceRequest;

/**
 * One-shot execution. Where its state lives: in the ephemeral sandbox's own Durable Object
 * (record, audit log, history row), stopped before the answer and purged 24 h later like any
 * tombstone; the tenant's registry is never written, so a one-shot costs no listing update.
 */
export function onceOperations(ctx: OperationContext) {
  return {
    /**
     * Runs a snippet in an ephemeral sandbox of `profile` (its limits, network policy and
     * audit apply) and answers with the result and the sandbox's id. One call into one
     * Durable Object: no create or delete round trips, no registry writes. Refusals before
     * anything runs (unknown profile, a limit above the profile's, a bad path) throw.
     */
    async runOnce(input: RunOnceInput, options: ExecOptions = {}): Promise<RunOnceResult> {
      const { profile, files, network, ...request } = parseInput(RunOnceRequest, input, "body");
      const encoder = new TextEncoder();
      // Normalised (and refused with validation_failed) before anything is stored.
      const workspace = Object.entries(files ?? {}).map(([path, text]) => ({
        path: filePath(path),
        data: encoder.encode(text).buffer as ArrayBuffer,
      }));
      const id = newSandboxId();
      const initial = planCreate({ profile, network }, ctx.tenant, id, Date.now());
      initial.provider = chooseProvider(ctx.env, initial.profile);
      const tools = hostToolNames(options.tools) ? options.tools : undefined;
      const result = await sandboxOf(ctx, id).runOnce(initial, workspace, request, tools);
      return { ...result, sandboxId: id };
    },
  };
}
