import { z } from "zod";
import { ErrorCode, SandboxerError } from "../../errors";
import type { ExecError, ExecResult } from "../../schemas/exec";
import { compileModule, CompileError, type BudgetNames } from "./compile";
import { loadWorkspaceModules } from "./imports";
import { randomIdentifier } from "./instrument";
import { OutputCollector, type OutputEvent } from "./output";
import { budgetModuleSource } from "./runtime/budget";
import { consoleModuleSource } from "./runtime/console";
import { inspectModuleSource } from "./runtime/inspect";
import { mainModuleSource } from "./runtime/main";
import { describeIsolateFailure, mapError, SNIPPET_FILE, type ErrorContext } from "./stack";

/** The compatibility date dynamic isolates run with (the Worker's own). */
export const ISOLATE_COMPATIBILITY_DATE = "2026-11-01";
/** How long the host waits for an isolate stopped at the wall-clock limit to report back. */
export const STOP_REPLY_MS = 100;

export interface IsolateRunRequest {
  code: string;
  language: "js" | "ts";
  /** Visible to the snippet as `input`. */
  input?: unknown;
  limits: { cpuMs: number; wallMs: number; outputBytes: number; codeBytes: number; subRequests: number };
  /** Becomes the dynamic worker's env and the snippet's `env`: plain values and capability stubs. */
  env: Record<string, unknown>;
  /** Passed through explicitly: omitted, the isolate would inherit our network. Null blocks fetch and connect. */
  globalOutbound: Fetcher | null;
  /** A workspace file's text by normalised path, for relative imports; null if there is none. */
  readModule: (path: string) => Promise<string | null>;
  /** Each console line, while the code runs. */
  onOutput?: (event: OutputEvent) => void;
  /**
   * Skip the CPU-budget checks: the baseline benchmarks compare against. Nothing then stops a
   * runaway loop locally, where the runtime enforces no CPU limit.
   */
  uninstrumented?: boolean;
}

export type IsolateRunResult = Omit<ExecResult, "executionId">;

/** The main module's entrypoint (see runtime/main.ts). */
interface SnippetEntrypoint {
  run(input: unknown, sink: (batch: unknown) => void): Promise<unknown>;
  stop(): Promise<unknown>;
}

/** What `run` returns. Checked, because the isolate runs untrusted code that may have tampered with it. */
const IsolateReport = z.object({
  status: z.enum(["ok", "error"]),
  result: z.unknown().optional(),
  resultType: z.string().optional(),
  resultTruncated: z.boolean().optional(),
  error: z.object({ name: z.string(), message: z.string(), stack: z.string().optional(), limit: z.literal("cpu").optional() }).optional(),
  cpuUsedMs: z.number(),
});

const WALL = Symbol("wall");

/**
 * Runs one snippet in a fresh dynamic isolate (a new `load()`, never a shared id, so nothing
 * of one run is visible to another) and reports its result, output and errors with positions
 * in the user's own code. A code-size overrun is refused before loading, as a SandboxerError
 * (`limit_exceeded`); every other failure is a result with status "error".
 */
export async function runSnippet(loader: WorkerLoader, request: IsolateRunRequest): Promise<IsolateRunResult> {
  const started = Date.now();
  const { limits } = request;
  const snippetBytes = new TextEncoder().encode(request.code).length;
  if (snippetBytes > limits.codeBytes) {
    throw new SandboxerError(ErrorCode.limitExceeded, `The code is ${snippetBytes} bytes; the limit is ${limits.codeBytes}.`, {
      limit: "code",
      max: limits.codeBytes,
    });
  }

  // One random name per run: the check's identifier and the prefix of our module names.
  const reserved = randomIdentifier();
  const names = {
    budget: `/${reserved}_budget.js`,
    inspect: `/${reserved}_inspect.js`,
    console: `/${reserved}_console.js`,
    snippet: `/${reserved}_snippet.js`,
    main: `${reserved}_main.js`,
  };
  const budget: BudgetNames | null = request.uninstrumented ? null : { check: reserved, module: names.budget };
  let context: ErrorContext;
  let workspaceModules: Record<string, WorkerLoaderModule>;
  try {
    const snippet = compileModule(request.code, { kind: "snippet", language: request.language, budget });
    const workspace = await loadWorkspaceModules(
      snippet.imports,
      request.readModule,
      (source, language) => compileModule(source, { kind: "module", language, budget }),
      { codeBytes: limits.codeBytes, snippetBytes },
    );
    context = { reserved, snippetModule: names.snippet.slice(1), snippet, workspace: workspace.compiled };
    workspaceModules = workspace.modules;
  } catch (error) {
    if (error instanceof CompileError) return failed(started, limits.cpuMs, describeCompileError(error));
    throw error;
  }

  const output = new OutputCollector(limits.outputBytes, request.onOutput);
  const sources = [context.snippet.code, ...Object.values(workspaceModules).map((m) => m.js ?? "")];
  const worker = loader.load({
    compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
    compatibilityFlags: sources.some(usesNode) ? ["nodejs_compat"] : ["no_nodejs_compat", "no_nodejs_compat_v2"],
    mainModule: names.main,
    modules: {
      ...workspaceModules,
      [names.budget.slice(1)]: { js: budgetModuleSource(budget ? limits.cpuMs : Infinity) },
      [names.inspect.slice(1)]: { js: inspectModuleSource() },
      [names.console.slice(1)]: { js: consoleModuleSource(names, limits.outputBytes) },
      [names.snippet.slice(1)]: { js: context.snippet.code },
      [names.main]: { js: mainModuleSource(names, limits) },
    },
    env: request.env,
    // Explicit on purpose: an omitted globalOutbound inherits the parent's network.
    globalOutbound: request.globalOutbound,
    // Enforced on Cloudflare; locally the budget checks stand in for cpuMs.
    limits: { cpuMs: limits.cpuMs, subRequests: limits.subRequests },
  });
  const entrypoint = worker.getEntrypoint() as unknown as SnippetEntrypoint;
  try {
    const running = entrypoint.run(request.input, output.sink);
    const wall = after(limits.wallMs, WALL);
    let reply: unknown;
    try {
      reply = await Promise.race([running, wall.promise]);
    } finally {
      wall.cancel();
    }

    if (reply === WALL) {
      // The wall clock is enforced here, on the host. `stop` makes every later check in the
      // isolate throw, so code still running there ends at its next loop or call.
      running.catch(() => {});
      const usedMs = await stopIsolate(worker);
      const error: ExecError = { name: "LimitExceeded", message: `Wall-clock limit of ${limits.wallMs} ms exceeded.`, limit: "wall" };
      return finished(started, limits.cpuMs, usedMs, output, { status: "error", result: null, error });
    }

    const report = IsolateReport.safeParse(reply);
    if (!report.success) {
      const error: ExecError = { name: "InternalError", message: "The isolate returned a malformed report (did the code tamper with the runtime?)." };
      return finished(started, limits.cpuMs, 0, output, { status: "error", result: null, error });
    }
    const { status, result, resultType, resultTruncated, error, cpuUsedMs } = report.data;
    return finished(started, limits.cpuMs, cpuUsedMs, output, {
      status,
      result: status === "ok" ? (result ?? null) : null,
      ...(status === "ok" && resultType ? { resultType } : {}),
      ...(status === "ok" && resultTruncated ? { resultTruncated } : {}),
      ...(status === "error" ? { error: mapError(error ?? { name: "Error", message: "The code failed without an error." }, context) } : {}),
    });
  } catch (error) {
    // The isolate itself failed: a module threw while loading, or the runtime found it waiting
    // on something that can never settle.
    return finished(started, limits.cpuMs, 0, output, { status: "error", result: null, error: describeIsolateFailure(error, context) });
  } finally {
    disposeQuietly(entrypoint);
    disposeQuietly(worker);
  }
}

/**
 * Does this code need Node's APIs? Node compatibility is on by default from our compatibility
 * date and costs about 3 ms per isolate (measured: bench/RESULTS.md), so an isolate gets it only
 * when its code imports a `node:` module or names a Node global. A false positive costs only time.
 */
export function usesNode(source: string): boolean {
  return NODE_USE.test(source);
}

const NODE_USE = /["']node:|\b(?:Buffer|process|global|setImmediate|clearImmediate|require)\b/;

/** Asks the isolate to stop; its answer (CPU used) is awaited only briefly, as it may be stuck in a builtin. */
async function stopIsolate(worker: WorkerStub): Promise<number> {
  const stopper = worker.getEntrypoint() as unknown as SnippetEntrypoint;
  const patience = after(STOP_REPLY_MS, 0);
  try {
    const usedMs = await Promise.race([stopper.stop().catch(() => 0), patience.promise]);
    return typeof usedMs === "number" ? usedMs : 0;
  } finally {
    patience.cancel();
    disposeQuietly(stopper);
  }
}

/** A promise of `value` after `ms`, with a way to cancel the timer. */
function after<T>(ms: number, value: T): { promise: Promise<T>; cancel: () => void } {
  let timer: number | null = null;
  const promise = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(value), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

type Outcome = Pick<IsolateRunResult, "status" | "result" | "resultType" | "resultTruncated" | "error">;

function finished(started: number, budgetMs: number, usedMs: number, output: OutputCollector, outcome: Outcome): IsolateRunResult {
  return { ...outcome, ...output.close(), durationMs: Date.now() - started, cpu: { budgetMs, usedMs } };
}

function failed(started: number, budgetMs: number, error: ExecError): IsolateRunResult {
  return { status: "error", result: null, stdout: "", stderr: "", logs: [], error, durationMs: Date.now() - started, cpu: { budgetMs, usedMs: 0 } };
}

function describeCompileError(error: CompileError): ExecError {
  const file = error.file ?? SNIPPET_FILE;
  return {
    name: error.name,
    message: error.file ? `${error.file}: ${error.message}` : error.message,
    ...(error.line !== undefined ? { line: error.line, column: error.column, file } : error.file ? { file } : {}),
  };
}

/**
 * Releases a stub's native handle now. Left to garbage collection, it can be finalised after
 * the isolate's teardown has begun, which local workerd treats as a fatal error (codemode's
 * DynamicWorkerExecutor does the same). Disposal must never mask the result.
 */
function disposeQuietly(resource: unknown): void {
  const symbol = (Symbol as { dispose?: symbol }).dispose;
  if (!symbol || typeof resource !== "object" || resource === null) return;
  const dispose = (resource as Record<symbol, unknown>)[symbol];
  if (typeof dispose !== "function") return;
  try {
    dispose.call(resource);
  } catch {
    // Already released.
  }
}
