import { z } from "zod";
import { ErrorCode, SandboxerError } from "../../errors";
import type { ExecError, ExecResult } from "../../schemas/exec";
import { compileCached, type CompiledForRun } from "./cache";
import { compileModule, CompileError } from "./compile";
import type { ContextShape } from "./context";
import { contextModuleSource } from "./runtime/context";
import { loadWorkspaceModules } from "./imports";
import { randomIdentifier } from "./instrument";
import { OutputCollector, truncateUtf8, type OutputEvent } from "./output";
import { budgetModuleSource } from "./runtime/budget";
import { primordialsModuleSource } from "./runtime/primordials";
import { consoleModuleSource } from "./runtime/console";
import { inspectModuleSource, MAX_ERROR_TEXT_BYTES } from "./runtime/inspect";
import { mainModuleSource } from "./runtime/main";
import { guardsModuleSource, type RunGuidance } from "./runtime/guards";
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
  /** What to tell code that reaches for a capability or network it was not given. */
  guidance?: RunGuidance;
  /**
   * Skip the CPU-budget checks: the baseline benchmarks compare against. Nothing then stops a
   * runaway loop locally, where the runtime enforces no CPU limit.
   */
  uninstrumented?: boolean;
  /** A context cell: what earlier cells left (shape from the host, values as the text the last isolate saved). */
  context?: IsolateCellContext;
}

/** What a context cell starts from. */
export interface IsolateCellContext {
  shape: ContextShape;
  /** The saved values' text ("{}" for a new context). */
  state: string;
  /** Longest saved text (in characters) the isolate may hand back. */
  maxChars: number;
}

/** What a context cell leaves, when it succeeded: the new shape and values, and the bindings dropped. */
export interface IsolateCellOutcome {
  shape: ContextShape;
  state: string;
  dropped: { name: string; reason: string }[];
  /** Set instead of a usable state when the saved text was longer than allowed. */
  tooLargeChars?: number;
}

export type IsolateRunResult = Omit<ExecResult, "executionId"> & { contextOutcome?: IsolateCellOutcome };

/** The main module's entrypoint (see runtime/main.ts). Both answer a JSON string (a report) or a refusal. */
interface SnippetEntrypoint {
  run(input: unknown, sink: (batch: unknown) => void, token: string, state?: string): Promise<unknown>;
  stop(token: string): Promise<unknown>;
}

/**
 * What `run` (and `stop`) answer, once parsed with the host's own JSON. Checked, because the
 * isolate runs untrusted code: nothing in it is taken on trust beyond its shape, and the CPU
 * figure is bounded by what the host measured.
 */
const IsolateReport = z.object({
  status: z.enum(["ok", "error"]),
  /** The result's JSON text, rendered once in the isolate. */
  json: z.string().optional(),
  resultType: z.string().max(200).optional(),
  resultTruncated: z.boolean().optional(),
  error: z
    .object({ name: z.string(), message: z.string(), stack: z.string().optional(), limit: z.literal("cpu").optional() })
    .optional(),
  cpuUsedMs: z.number().finite().nonnegative(),
  /** Wall time from the run's start to its answer, as the isolate's clock read it. */
  runMs: z.number().finite().nonnegative().optional(),
  /** Console lines not streamed before the run ended. */
  output: z.array(z.unknown()).optional(),
  /** A context cell's saved bindings (runtime/context.ts): untrusted text, stored and handed back, never evaluated here. */
  context: z
    .object({
      json: z.string().optional(),
      tooLarge: z.number().optional(),
      saved: z.array(z.string().max(1000)),
      dropped: z.array(z.object({ name: z.string().max(1000), reason: z.string().max(MAX_ERROR_TEXT_BYTES) })),
    })
    .optional(),
});
type IsolateReport = z.infer<typeof IsolateReport>;

const WALL = Symbol("wall");
const encoder = new TextEncoder();

/**
 * Runs one snippet in a fresh dynamic isolate (a new `load()`, never a shared id, so nothing
 * of one run is visible to another) and reports its result, output and errors with positions
 * in the user's own code. A code-size overrun is refused before loading, as a SandboxerError
 * (`limit_exceeded`); every other failure is a result with status "error".
 *
 * CPU: compiling (TS stripping, parsing, instrumenting; cached by content) is measured here and
 * counted in `cpu.usedMs` and against the budget (the isolate gets what is left); `cpu.compileMs`
 * shows it on its own.
 */
export async function runSnippet(loader: WorkerLoader, request: IsolateRunRequest): Promise<IsolateRunResult> {
  const started = Date.now();
  const { limits } = request;
  const snippetBytes = encoder.encode(request.code).length;
  if (snippetBytes > limits.codeBytes) {
    throw new SandboxerError(ErrorCode.limitExceeded, `The code is ${snippetBytes} bytes; the limit is ${limits.codeBytes}.`, {
      limit: "code",
      max: limits.codeBytes,
    });
  }

  // One random name per run: the prefix of our module names, so user code cannot import them.
  const reserved = randomIdentifier();
  const names = {
    primordials: `/${reserved}_primordials.js`,
    budget: `/${reserved}_budget.js`,
    inspect: `/${reserved}_inspect.js`,
    console: `/${reserved}_console.js`,
    guards: `/${reserved}_guards.js`,
    // A plain run has no context module: every module's source is parsed, imported or not.
    context: request.context ? `/${reserved}_context.js` : undefined,
    snippet: `/${reserved}_snippet.js`,
    main: `${reserved}_main.js`,
  };
  const instrumented = !request.uninstrumented;
  let context: ErrorContext;
  let workspaceModules: Record<string, WorkerLoaderModule>;
  let snippetCode: string;
  let compileMs: number;
  let snippetShape: ContextShape | undefined;
  try {
    const snippet = request.context ? compileCell(request.code, request.language, instrumented, request.context.shape) : compileCached(request.code, "snippet", request.language, instrumented);
    const workspace = await loadWorkspaceModules(
      snippet.module.imports,
      request.readModule,
      (source, language) => {
        const compiled = compileCached(source, "module", language, instrumented);
        return { module: compiled.module, code: compiled.link(names.budget), compileMs: compiled.compileMs };
      },
      { codeBytes: limits.codeBytes, snippetBytes },
    );
    snippetCode = snippet.link(names.budget);
    snippetShape = snippet.module.context;
    compileMs = snippet.compileMs + workspace.compileMs;
    context = { reserved, snippetModule: names.snippet.slice(1), snippet: snippet.module, workspace: workspace.compiled };
    workspaceModules = workspace.modules;
  } catch (error) {
    if (error instanceof CompileError) return failed(started, limits.cpuMs, describeCompileError(error));
    throw error;
  }
  if (instrumented && compileMs >= limits.cpuMs) {
    const error: ExecError = { name: "LimitExceeded", message: `Compiling the code and its modules took ${compileMs} ms of the ${limits.cpuMs} ms CPU budget.`, limit: "cpu" };
    return { ...failed(started, limits.cpuMs, error), cpu: { budgetMs: limits.cpuMs, usedMs: compileMs, compileMs } };
  }
  // What compiling cost comes out of the budget the isolate gets.
  const isolateBudgetMs = limits.cpuMs - (instrumented ? compileMs : 0);

  const output = new OutputCollector(limits.outputBytes, request.onOutput);
  const sources = [snippetCode, ...Object.values(workspaceModules).map((m) => m.js ?? "")];
  const worker = loader.load({
    compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
    compatibilityFlags: sources.some(usesNode) ? ["nodejs_compat"] : ["no_nodejs_compat", "no_nodejs_compat_v2"],
    mainModule: names.main,
    modules: {
      ...workspaceModules,
      [names.primordials.slice(1)]: { js: primordialsModuleSource() },
      [names.budget.slice(1)]: { js: budgetModuleSource(instrumented ? isolateBudgetMs : Infinity, names.primordials) },
      [names.inspect.slice(1)]: { js: inspectModuleSource(names.primordials) },
      [names.console.slice(1)]: { js: consoleModuleSource(names, limits.outputBytes) },
      [names.guards.slice(1)]: { js: guardsModuleSource(names.primordials, request.guidance ?? {}) },
      ...(names.context ? { [names.context.slice(1)]: { js: contextModuleSource(names.primordials) } } : {}),
      [names.snippet.slice(1)]: { js: snippetCode },
      [names.main]: { js: mainModuleSource(names, { ...limits, contextChars: request.context?.maxChars }) },
    },
    env: request.env,
    // Explicit on purpose: an omitted globalOutbound inherits the parent's network.
    globalOutbound: request.globalOutbound,
    // Enforced on Cloudflare; locally the budget checks stand in for cpuMs.
    limits: { cpuMs: limits.cpuMs, subRequests: limits.subRequests },
  });
  const entrypoint = worker.getEntrypoint() as unknown as SnippetEntrypoint;
  // Only the host and the isolate's main module know it: `stop` obeys no one else.
  const token = randomIdentifier();
  const cpu = (usedMs: number) => ({ budgetMs: limits.cpuMs, usedMs: usedMs + compileMs, compileMs });
  // Workspace modules are parsed and their top-level code run while the isolate loads, before
  // the run starts and with the isolate's clock frozen: the host's own measure covers them.
  const loadsModules = Object.keys(workspaceModules).length > 0;
  const runStarted = Date.now();
  try {
    const running = entrypoint.run(request.input, output.sink, token, request.context?.state);
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
      const stopped = await stopIsolate(worker, token);
      if (stopped) output.sink(stopped.output);
      const { usedMs } = reconcileCpu({ status: "error", cpuUsedMs: stopped?.cpuUsedMs ?? 0, runMs: stopped?.runMs }, Date.now() - runStarted, isolateBudgetMs, loadsModules);
      const error: ExecError = { name: "LimitExceeded", message: `Wall-clock limit of ${limits.wallMs} ms exceeded.`, limit: "wall" };
      return finished(started, cpu(usedMs), output, { status: "error", result: null, error });
    }

    const report = parseReport(reply);
    if (!report) {
      const error: ExecError = { name: "InternalError", message: "The isolate returned a malformed report (did the code tamper with the runtime?)." };
      return finished(started, cpu(0), output, { status: "error", result: null, error });
    }
    output.sink(report.output);
    const { usedMs, overBudget } = reconcileCpu(report, Date.now() - runStarted, instrumented ? isolateBudgetMs : Infinity, loadsModules);
    if (overBudget) {
      const error: ExecError = { name: "LimitExceeded", message: `CPU budget of ${limits.cpuMs} ms exceeded.`, limit: "cpu" };
      return finished(started, cpu(usedMs), output, { status: "error", result: null, error });
    }
    if (report.status === "error") {
      const error = mapError(report.error ?? { name: "Error", message: "The code failed without an error." }, context);
      return finished(started, cpu(usedMs), output, { status: "error", result: null, error });
    }
    const result = checkedResult(report, limits.outputBytes);
    if (!result) {
      const error: ExecError = { name: "InternalError", message: "The isolate returned a malformed result (did the code tamper with the runtime?)." };
      return finished(started, cpu(usedMs), output, { status: "error", result: null, error });
    }
    const done = finished(started, cpu(usedMs), output, { status: "ok", ...result });
    if (request.context) {
      const shape = snippetShape!;
      const saved = report.context;
      if (!saved) {
        const error: ExecError = { name: "InternalError", message: "The isolate did not hand back the context's bindings (did the code tamper with the runtime?)." };
        return { ...done, status: "error", result: null, error };
      }
      // Only names the host itself found in the code are kept: the isolate's list is filtered, never trusted.
      const kept = new Set(saved.saved);
      const next = { ...shape, values: shape.values.filter((v) => kept.has(v.name)) };
      done.contextOutcome = { shape: next, state: saved.json ?? "{}", dropped: saved.dropped, ...(saved.json === undefined ? { tooLargeChars: saved.tooLarge ?? request.context.maxChars + 1 } : {}) };
    }
    return done;
  } catch (error) {
    // The isolate itself failed: a module threw while loading, or the runtime found it waiting
    // on something that can never settle.
    return finished(started, cpu(0), output, { status: "error", result: null, error: describeIsolateFailure(error, context) });
  } finally {
    disposeQuietly(entrypoint);
    disposeQuietly(worker);
  }
}

/**
 * A context cell, compiled each time rather than cached: its prelude and capture depend on the
 * context's shape. Its reserved names are fresh, so no cell can name another's.
 */
function compileCell(code: string, language: "js" | "ts", instrumented: boolean, carried: ContextShape): CompiledForRun {
  const started = Date.now();
  const placeholder = `/${randomIdentifier()}_budget.js`;
  const names = { state: randomIdentifier(), save: randomIdentifier(), capture: randomIdentifier() };
  const module = compileModule(code, { kind: "snippet", language, budget: instrumented ? { check: randomIdentifier(), module: placeholder } : null, context: { carried, names } });
  return { module, compileMs: Date.now() - started, link: (budgetModule) => module.code.replace(placeholder, budgetModule) };
}

/**
 * The host's reading of the CPU an isolate claims: never more than the wall time the host
 * measured the run take (the isolate cannot have computed longer than it ran), and an `ok`
 * that claims more than the budget the isolate was given is over budget, whatever the status
 * says (Infinity: uninstrumented, no budget).
 *
 * With workspace modules (`loadsModules`), the measured time the run itself does not account
 * for (`runMs`: its start to its answer) went to loading the isolate, their parsing and
 * top-level code included, which the isolate cannot time: it is added to the CPU used (so the
 * isolate's own startup, a few milliseconds, is charged too), within the measured time. It is
 * reported, not held against the budget: while modules load, the budget counts checks instead.
 */
export function reconcileCpu(
  claim: Pick<IsolateReport, "status" | "cpuUsedMs" | "runMs">,
  measuredMs: number,
  isolateBudgetMs: number,
  loadsModules = false,
): { usedMs: number; overBudget: boolean } {
  const loadMs = loadsModules && claim.runMs !== undefined ? Math.max(0, measuredMs - claim.runMs) : 0;
  return { usedMs: Math.max(0, Math.min(claim.cpuUsedMs + loadMs, measuredMs)), overBudget: claim.status === "ok" && claim.cpuUsedMs > isolateBudgetMs };
}

/** The isolate's answer, parsed by the host's JSON and checked; null if it is not a report. */
function parseReport(reply: unknown): IsolateReport | null {
  if (typeof reply !== "string") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply);
  } catch {
    return null;
  }
  const report = IsolateReport.safeParse(parsed);
  if (!report.success) return null;
  const { error } = report.data;
  // Bounded in the isolate already; bounded again here, as everything it says.
  if (error) {
    error.name = truncateUtf8(error.name, MAX_ERROR_TEXT_BYTES);
    error.message = truncateUtf8(error.message, MAX_ERROR_TEXT_BYTES);
    if (error.stack !== undefined) error.stack = truncateUtf8(error.stack, MAX_ERROR_TEXT_BYTES);
  }
  return report.data;
}

/**
 * The result from its JSON text, with the size limit applied again here: a string longer than
 * outputBytes is cut, any other value whose JSON is longer becomes its cut JSON text (resultType
 * "json"), and either way resultTruncated is set.
 */
export function checkedResult(report: Pick<IsolateReport, "json" | "resultType" | "resultTruncated">, outputBytes: number): Pick<IsolateRunResult, "result" | "resultType" | "resultTruncated"> | null {
  let result: unknown = null;
  if (report.json !== undefined) {
    try {
      result = JSON.parse(report.json);
    } catch {
      return null;
    }
  }
  let resultType = report.resultType;
  let resultTruncated = report.resultTruncated === true;
  if (typeof result === "string") {
    const cut = truncateUtf8(result, outputBytes);
    if (cut !== result) [result, resultTruncated] = [cut, true];
  } else if (report.json !== undefined && encoder.encode(report.json).length > outputBytes) {
    [result, resultType, resultTruncated] = [truncateUtf8(report.json, outputBytes), "json", true];
  }
  return { result, ...(resultType ? { resultType } : {}), ...(resultTruncated ? { resultTruncated } : {}) };
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

/**
 * Asks the isolate to stop; its answer (CPU used, output not yet sent) is awaited only briefly,
 * as it may be stuck in a builtin. Null when it did not answer with a report.
 */
async function stopIsolate(worker: WorkerStub, token: string): Promise<IsolateReport | null> {
  const stopper = worker.getEntrypoint() as unknown as SnippetEntrypoint;
  const patience = after(STOP_REPLY_MS, null);
  try {
    return parseReport(await Promise.race([stopper.stop(token).catch(() => null), patience.promise]));
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

function finished(started: number, cpu: IsolateRunResult["cpu"], output: OutputCollector, outcome: Outcome): IsolateRunResult {
  return { ...outcome, ...output.close(), durationMs: Date.now() - started, cpu };
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
