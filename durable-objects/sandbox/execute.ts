import { ErrorCode, SandboxerError } from "../../src/errors";
import { newExecutionId, sha256Hex } from "../../src/ids";
import { runSnippet, type IsolateRunRequest } from "../../src/providers/isolate";
import type { ExecRequest, ExecResult } from "../../src/schemas/exec";
import type { ExecutionHistory } from "./executions";
import type { FairQueue } from "./queue";
import type { StoredSandbox } from "./record";
import type { Workspace } from "./workspace";

/** Executions waiting for a slot beyond this are refused with 429 rather than queued forever. */
export const MAX_QUEUED_EXECUTIONS = 64;

export type OutputListener = IsolateRunRequest["onOutput"];

export interface ExecutionContext {
  loader: WorkerLoader;
  history: ExecutionHistory;
  queue: FairQueue;
  workspace: Workspace;
  /** What the snippet's `env` holds for one execution: plain values and capability stubs. */
  env: (executionId: string) => Record<string, unknown>;
  /** The isolate's network: the egress gateway bound to this execution, or null (none). */
  globalOutbound: (executionId: string) => Fetcher | null;
  /** Whether the egress gateway refused any of this execution's requests for the subRequests limit. */
  subrequestsExceeded: (executionId: string) => boolean;
  /** Called in the same turn as the history row's completion (one storage commit for both). */
  onFinished: (executionId: string) => void;
  /** Takes one of the tenant's executionsInFlight slots (or throws quota_exceeded); returns its release. */
  acquireSlot: (executionId: string, ttlMs: number) => Promise<() => void>;
}

/** Per-call limits may only tighten the profile's. */
export function effectiveLimits(s: StoredSandbox, request: ExecRequest): IsolateRunRequest["limits"] {
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
 * can still answer with an HTTP error; then `run` executes it.
 */
export async function prepareExecution(ctx: ExecutionContext, s: StoredSandbox, request: ExecRequest) {
  const limits = effectiveLimits(s, request);
  const codeBytes = new TextEncoder().encode(request.code).length;
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
  const executionId = newExecutionId();
  const language = request.language ?? "js";
  // Held while queued and running; it expires by itself well after the wall-clock limit.
  const releaseSlot = await ctx.acquireSlot(executionId, 2 * limits.wallMs + 60_000);

  // Recorded now, in the caller's turn: the row and the activity write share a commit.
  ctx.history.start(executionId, language, Date.now());
  const codeHash = sha256Hex(request.code);

  async function run(onOutput?: OutputListener): Promise<ExecResult> {
    try {
      return await runAndRecord(onOutput);
    } finally {
      releaseSlot();
    }
  }

  async function runAndRecord(onOutput?: OutputListener): Promise<ExecResult> {
    const started = Date.now();
    let outcome: Awaited<ReturnType<typeof runSnippet>>;
    try {
      outcome = await ctx.queue.run(() =>
      runSnippet(ctx.loader, {
        code: request.code,
        language,
        input: request.input,
        limits,
        env: ctx.env(executionId),
        globalOutbound: ctx.globalOutbound(executionId),
        readModule: async (path) => {
          const file = ctx.workspace.read(path);
          return file ? new TextDecoder().decode(file.data) : null;
        },
        onOutput,
      }),
      );
    } catch (error) {
      const internal = { name: "InternalError", message: "The execution could not be run; it has been logged." };
      ctx.history.finish(
        executionId,
        { codeHash: await codeHash, status: "error", errorName: internal.name, durationMs: Date.now() - started, output: { result: null, stdout: "", stderr: "", error: internal } },
        Date.now(),
      );
      ctx.onFinished(executionId);
      throw error;
    }
    const result: ExecResult = { ...outcome, executionId, durationMs: outcome.durationMs ?? Date.now() - started };
    // The gateway refused requests past the limit (403s the code saw); the run itself failed on it.
    if (ctx.subrequestsExceeded(executionId) && result.error?.name !== "LimitExceeded") {
      result.status = "error";
      result.result = null;
      delete result.resultType;
      delete result.resultTruncated;
      result.error = { name: "LimitExceeded", message: `More than ${limits.subRequests} outbound requests in one execution.`, limit: "subrequests" };
    }
    const hash = await codeHash;
    ctx.history.finish(
      executionId,
      {
        codeHash: hash,
        status: result.status,
        errorName: result.error?.name,
        limit: result.error?.limit,
        durationMs: result.durationMs,
        cpuUsedMs: result.cpu.usedMs,
        output: { result: result.result, resultType: result.resultType, stdout: result.stdout, stderr: result.stderr, error: result.error },
      },
      Date.now(),
    );
    ctx.onFinished(executionId);
    return result;
  }

  return { executionId, run };
}
