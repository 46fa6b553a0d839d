import { ErrorCode, SandboxerError } from "../../src/errors";
import { newExecutionId, sha256Hex } from "../../src/ids";
import type { AuditEntry } from "../../src/schemas/audit";
import type { CodeOutputListener, CodeRun, SandboxProvider } from "../../src/providers/contract";
import type { ExecRequest, ExecResult } from "../../src/schemas/exec";
import type { ExecutionHistory, FinishedExecution } from "./executions";
import type { FairQueue } from "./queue";
import type { StoredSandbox } from "./record";
import { withoutPrelude } from "./host-tools";
import type { IsolateCellOutcome } from "../../src/providers/isolate/run";
import { MAX_CONTEXT_BYTES, type StoredContext } from "./contexts";

/** A context cell's link to its context: where it starts, and how what it leaves is kept. */
export interface CellBinding {
  stored: StoredContext;
  /** Keeps a successful cell's outcome; throws (422) when the context would be too large. */
  save: (outcome: IsolateCellOutcome) => void;
}

/** Executions waiting for a slot beyond this are refused with 429 rather than queued forever. */
export const MAX_QUEUED_EXECUTIONS = 64;

export type OutputListener = CodeOutputListener;

export interface ExecutionContext {
  /** Whatever runs this sandbox's code (src/providers). */
  provider: SandboxProvider;
  history: ExecutionHistory;
  queue: FairQueue;
  /** Whether the egress gateway refused any of this execution's requests for the subRequests limit. */
  subrequestsExceeded: (executionId: string) => boolean;
  /** Called when the run starts (after waiting its turn): a running execution is activity. */
  onStarted: (executionId: string) => void;
  /** Egress decisions a provider reports after the run (the linux egress proxy's). */
  onAudit: (entries: AuditEntry[], executionId: string) => void;
  /** Called in the same turn as the history row's completion (one storage commit for both). */
  onFinished: (executionId: string) => void;
  /** Takes one of the tenant's executionsInFlight slots (or throws quota_exceeded); returns its release. */
  acquireSlot: (executionId: string, ttlMs: number) => Promise<() => void>;
}

/** The profiles whose provider runs a language (for the 422 that names where to go). */
const PROFILES_FOR_LANGUAGE: Record<string, string> = { js: "js", ts: "js", python: "linux", bash: "linux" };

/** Refuses a language the sandbox's provider does not run, naming the profile that does. */
export function checkLanguage(s: StoredSandbox, provider: SandboxProvider, language: CodeRun["language"]): void {
  if (provider.capabilities.languages.includes(language)) return;
  const profile = PROFILES_FOR_LANGUAGE[language] ?? "linux";
  throw new SandboxerError(
    ErrorCode.limitExceeded,
    `Profile '${s.profile.name}' does not run language '${language}' (it runs ${provider.capabilities.languages.join(", ")}); create a sandbox with profile '${profile}' for it.`,
    { limit: "language", language, profile },
  );
}

/** Refuses code contexts on a provider without them, naming the profiles that have them. */
export function checkContexts(s: StoredSandbox, provider: SandboxProvider): void {
  if (provider.capabilities.contexts) return;
  throw new SandboxerError(
    ErrorCode.limitExceeded,
    `Profile '${s.profile.name}' has no code contexts yet (see the README: python contexts on linux sandboxes are not built); keep state in /workspace files, or use a js sandbox for contexts.`,
    { limit: "contexts", profiles: ["js", "js-net"] },
  );
}

/** Per-call limits may only tighten the profile's. */
export function effectiveLimits(s: StoredSandbox, request: ExecRequest): CodeRun["limits"] {
  const { limits } = s.profile;
  const tighter = (asked: number | undefined, max: number, name: string) => {
    if (asked === undefined) return max;
    if (asked > max) {
      throw new SandboxerError(ErrorCode.limitExceeded, `${name} is ${asked}; profile '${s.profile.name}' allows at most ${max}.`, {
        limit: name,
        max,
      });
    }
    return asked;
  };
  return {
    cpuMs: tighter(request.cpuMs, limits.cpuMs, "cpuMs"),
    wallMs: tighter(request.timeoutMs, limits.wallMs, "timeoutMs"),
    outputBytes: limits.outputBytes,
    codeBytes: limits.codeBytes,
    subRequests: limits.subRequests,
  };
}

/**
 * Checks what can be refused before anything runs (limits, queue depth), so the caller
 * can still answer with an HTTP error; then `run` executes it. A `prelude` (host tools) is
 * put in front of the code on its first line; error positions are given back in the user's code.
 */
export async function prepareExecution(ctx: ExecutionContext, s: StoredSandbox, request: ExecRequest, options: { prelude?: string; cell?: CellBinding } = {}) {
  const prelude = options.prelude ?? "";
  const limits = effectiveLimits(s, request);
  // The prelude is loaded with the code, so it counts (a few dozen bytes per host tool).
  const codeBytes = new TextEncoder().encode(prelude + request.code).length;
  if (codeBytes > limits.codeBytes) {
    throw new SandboxerError(ErrorCode.limitExceeded, `The code is ${codeBytes} bytes; this profile accepts at most ${limits.codeBytes}.`, {
      limit: "code",
      max: limits.codeBytes,
    });
  }
  if (ctx.queue.depth >= MAX_QUEUED_EXECUTIONS) {
    throw new SandboxerError(ErrorCode.rateLimited, `${ctx.queue.depth} executions are already waiting in this sandbox.`, {
      retryAfterSeconds: 1,
    });
  }
  const language = request.language ?? "js";
  checkLanguage(s, ctx.provider, language);
  const cell = options.cell;
  if (request.context !== undefined) checkContexts(s, ctx.provider);
  const executionId = newExecutionId();
  // Recorded now, in the caller's turn: the row and the activity write share a commit, and
  // that commit overlaps the registry's answer below instead of following it (about 1 ms).
  ctx.history.start(executionId, language, Date.now());
  let releaseSlot: () => void;
  try {
    // Held while queued and running; it expires by itself well after the wall-clock limit.
    releaseSlot = await ctx.acquireSlot(executionId, 2 * limits.wallMs + 60_000);
  } catch (error) {
    // Refused by the tenant's quota: nothing ran, so nothing stays in the history.
    ctx.history.discard(executionId);
    throw error;
  }
  const codeHash = sha256Hex(request.code);

  /** Completes the history row; if the outcome cannot be stored, the row still leaves `running`. */
  function complete(done: FinishedExecution): void {
    try {
      ctx.history.finish(executionId, done, Date.now());
    } catch {
      const error = { name: "InternalError", message: "The execution finished but its output could not be stored." };
      ctx.history.finish(executionId, { ...done, errorName: done.errorName ?? error.name, output: { result: null, stdout: "", stderr: "", error } }, Date.now());
    }
    ctx.onFinished(executionId);
  }

  async function run(onOutput?: OutputListener): Promise<ExecResult> {
    try {
      return await runAndRecord(onOutput);
    } finally {
      releaseSlot();
    }
  }

  async function runAndRecord(onOutput?: OutputListener): Promise<ExecResult> {
    const started = Date.now();
    let outcome: Awaited<ReturnType<SandboxProvider["runCode"]>>;
    try {
      outcome = await ctx.queue.run(() => {
        ctx.onStarted(executionId);
        const context = cell ? { shape: cell.stored.shape, state: cell.stored.state, maxChars: MAX_CONTEXT_BYTES } : undefined;
        return ctx.provider.runCode({ executionId, code: prelude + request.code, language, input: request.input, limits, onOutput, context });
      });
    } catch (error) {
      const internal = { name: "InternalError", message: "The execution could not be run; it has been logged." };
      complete({ codeHash: await codeHash, status: "error", errorName: internal.name, durationMs: Date.now() - started, output: { result: null, stdout: "", stderr: "", error: internal } });
      throw error;
    }
    const { audit, contextOutcome, ...rest } = outcome;
    if (audit && audit.length > 0) ctx.onAudit(audit, executionId);
    const result: ExecResult = { ...rest, executionId, durationMs: rest.durationMs ?? Date.now() - started };
    if (prelude) result.error = withoutPrelude(result.error, prelude.length);
    if (result.error === undefined) delete result.error;
    // The gateway refused requests past the limit (403s the code saw); the run itself failed on it.
    if (ctx.subrequestsExceeded(executionId) && result.error?.name !== "LimitExceeded") {
      result.status = "error";
      result.result = null;
      delete result.resultType;
      delete result.resultTruncated;
      result.error = { name: "LimitExceeded", message: `More than ${limits.subRequests} outbound requests in one execution.`, limit: "subrequests" };
    }
    // A failed cell leaves its context as it was; a successful one hands its bindings on.
    let refused: unknown;
    if (cell && result.status === "ok" && contextOutcome) {
      result.contextDropped = contextOutcome.dropped;
      try {
        cell.save(contextOutcome);
      } catch (error) {
        refused = error;
      }
    }
    complete({
      codeHash: await codeHash,
      status: result.status,
      errorName: result.error?.name,
      limit: result.error?.limit,
      durationMs: result.durationMs,
      cpuUsedMs: result.cpu.usedMs,
      output: { result: result.result, resultType: result.resultType, stdout: result.stdout, stderr: result.stderr, error: result.error },
    });
    if (refused) throw refused;
    return result;
  }

  return { executionId, run };
}
