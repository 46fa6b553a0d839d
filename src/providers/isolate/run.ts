import { randomBase32 } from "../../ids";
import type { ExecError, ExecResult } from "../../schemas/exec";
import { compileModule, CompileError, type BudgetNames, type CompiledModule } from "./compile";
import { budgetModuleSource, mainModuleSource } from "./runtime";
import { resolveImport } from "./imports";

/** The compatibility date dynamic isolates run with (the Worker's own). */
export const ISOLATE_COMPATIBILITY_DATE = "2026-11-01";

export interface IsolateRunRequest {
  code: string;
  language: "js" | "ts";
  input?: unknown;
  limits: { cpuMs: number; wallMs: number; outputBytes: number; codeBytes: number; subRequests: number };
  /** Becomes the dynamic worker's env and the snippet's `env`: plain values and capability stubs. */
  env: Record<string, unknown>;
  /** Passed through explicitly: omitted, the isolate would inherit our network. */
  globalOutbound: Fetcher | null;
  /** A workspace file's text by normalised path, for relative imports; null if absent. */
  readModule: (path: string) => Promise<string | null>;
  /** Each console line, while the code runs. */
  onOutput?: (event: OutputEvent) => void;
  /** Skip the CPU-budget instrumentation (benchmarks only: nothing then stops a runaway loop locally). */
  uninstrumented?: boolean;
}

export interface OutputEvent {
  stream: "stdout" | "stderr";
  level: string;
  message: string;
  ts: string;
}

export type IsolateRunResult = Omit<ExecResult, "executionId">;

/** What the isolate's `run` returns (see runtime.ts). */
interface RawRun {
  status: "ok" | "error";
  result: unknown;
  resultType?: string;
  resultTruncated?: boolean;
  error?: ExecError;
  stdout: string;
  stderr: string;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  logs: ExecResult["logs"];
  cpuUsedMs: number;
}

/** The name errors use for the snippet itself. */
export const SNIPPET_FILE = "<snippet>";
const MAX_MODULES = 256;
const MAX_STACK_FRAMES = 20;

/**
 * Runs one snippet in a fresh dynamic isolate (a new `load()`, never a shared id, so
 * nothing of one run is visible to another) and reports its result, output and errors
 * with positions in the user's own code.
 */
export async function runSnippet(loader: WorkerLoader, request: IsolateRunRequest): Promise<IsolateRunResult> {
  const started = Date.now();
  const salt = randomBase32(16);
  const budget: BudgetNames | null = request.uninstrumented
    ? null
    : { check: `__sbx_c_${salt}`, pause: `__sbx_p_${salt}`, resume: `__sbx_r_${salt}`, module: `/__sbx_budget_${salt}.js` };
  const snippetModule = `/__sbx_snippet_${salt}.js`;
  const mainModule = `__sbx_main_${salt}.js`;

  const compiled = new Map<string, CompiledModule>();
  let modules: Record<string, WorkerLoaderModule>;
  try {
    const snippet = compileModule(request.code, { kind: "snippet", language: request.language, budget });
    compiled.set(SNIPPET_FILE, snippet);
    modules = {
      [mainModule]: { js: mainModuleSource(budget?.module ?? `/__sbx_budget_${salt}.js`, snippetModule) },
      [`__sbx_budget_${salt}.js`]: { js: budgetModuleSource() },
      [snippetModule.slice(1)]: { js: snippet.code },
      ...(await loadWorkspaceModules(snippet, request, budget, compiled)),
    };
  } catch (error) {
    if (error instanceof CompileError) return failure(started, request, compileErrorOf(error));
    throw error;
  }

  const worker = loader.load({
    compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
    mainModule,
    modules,
    env: request.env,
    // Explicit on purpose: an omitted globalOutbound inherits the parent's network.
    globalOutbound: request.globalOutbound,
    limits: { cpuMs: request.limits.cpuMs, subRequests: request.limits.subRequests },
  });
  const entrypoint = worker.getEntrypoint() as unknown as {
    run(input: unknown, sink: ((event: OutputEvent) => void) | undefined, cpuMs: number, outputBytes: number): Promise<RawRun>;
  };

  // The wall clock is enforced here, on the host side, not inside the sandbox.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wall = new Promise<"wall">((resolve) => {
    timer = setTimeout(() => resolve("wall"), request.limits.wallMs);
  });
  let raw: RawRun | "wall";
  try {
    raw = await Promise.race([
      entrypoint.run(request.input ?? null, request.onOutput, request.limits.cpuMs, request.limits.outputBytes),
      wall,
    ]);
  } catch (error) {
    // The isolate itself failed: the runtime found it waiting on something that can
    // never settle, a module threw while loading, or the input could not be serialised.
    return failure(started, request, mapError(describe(error), compiled));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  if (raw === "wall") {
    return failure(started, request, {
      name: "LimitExceeded",
      message: `Wall-clock limit of ${request.limits.wallMs} ms exceeded.`,
      limit: "wall",
    });
  }
  return {
    status: raw.status,
    result: raw.result ?? null,
    ...(raw.resultType ? { resultType: raw.resultType } : {}),
    ...(raw.resultTruncated ? { resultTruncated: true } : {}),
    stdout: raw.stdout,
    stderr: raw.stderr,
    ...(raw.stdoutTruncated ? { stdoutTruncated: true } : {}),
    ...(raw.stderrTruncated ? { stderrTruncated: true } : {}),
    logs: raw.logs,
    ...(raw.error ? { error: mapError(raw.error, compiled) } : {}),
    durationMs: Date.now() - started,
    cpu: { budgetMs: request.limits.cpuMs, usedMs: raw.cpuUsedMs },
  };
}

/** Compiles every workspace module the snippet imports, transitively. */
async function loadWorkspaceModules(
  snippet: CompiledModule,
  request: IsolateRunRequest,
  budget: BudgetNames | null,
  compiled: Map<string, CompiledModule>,
): Promise<Record<string, WorkerLoaderModule>> {
  const modules: Record<string, WorkerLoaderModule> = {};
  const queue: { from: string; imports: string[] }[] = [{ from: "", imports: snippet.imports }];
  while (queue.length > 0) {
    const { from, imports } = queue.shift()!;
    for (const specifier of imports) {
      const path = resolveImport(from, specifier);
      if (path === null || path in modules) continue;
      if (Object.keys(modules).length >= MAX_MODULES) throw new CompileError("ImportError", `A snippet may load at most ${MAX_MODULES} workspace modules.`);
      const text = await request.readModule(path);
      if (text === null) {
        throw new CompileError("ImportError", `Cannot find module '${specifier}' imported from ${from || SNIPPET_FILE}: there is no workspace file '${path}'.`);
      }
      if (path.endsWith(".json")) {
        try {
          modules[path] = { json: JSON.parse(text) };
        } catch (error) {
          throw new CompileError("SyntaxError", `${path}: ${(error as Error).message}`);
        }
        continue;
      }
      const language = path.endsWith(".ts") || path.endsWith(".mts") ? "ts" : "js";
      let module: CompiledModule;
      try {
        module = compileModule(text, { kind: "module", language, budget });
      } catch (error) {
        if (error instanceof CompileError) throw new CompileError(error.name as "SyntaxError", `${path}: ${error.message}`, error.line, error.column);
        throw error;
      }
      compiled.set(path, module);
      modules[path] = { js: module.code };
      queue.push({ from: path, imports: module.imports });
    }
  }
  return modules;
}

function failure(started: number, request: IsolateRunRequest, error: ExecError): IsolateRunResult {
  return {
    status: "error",
    result: null,
    stdout: "",
    stderr: "",
    logs: [],
    error,
    durationMs: Date.now() - started,
    cpu: { budgetMs: request.limits.cpuMs, usedMs: 0 },
  };
}

function compileErrorOf(error: CompileError): ExecError {
  return {
    name: error.name,
    message: error.message,
    ...(error.line !== undefined ? { line: error.line, column: error.column, file: SNIPPET_FILE } : {}),
  };
}

function describe(error: unknown): ExecError {
  if (error instanceof Error && /never generate a response|hung/.test(error.message)) {
    return { name: "Hang", message: "The code is waiting for something that can never happen (a promise nothing will settle, with no timer or I/O pending)." };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack ?? "" };
  return { name: "Error", message: String(error) };
}

const FRAME = /^(\s*at (?:.*? \()?)(.+?):(\d+):(\d+)(\)?)$/;

/**
 * Keeps only stack frames in the user's own modules, with positions mapped back to the
 * user's source and our random module names replaced by `<snippet>` or the workspace
 * path; the first such frame gives `line` and `column`.
 */
export function mapError(error: ExecError, compiled: Map<string, CompiledModule>): ExecError {
  const fileOf = (moduleName: string): string | undefined => {
    const name = moduleName.replace(/^\/+/, "");
    if (/^__sbx_snippet_[a-z2-7]+\.js$/.test(name)) return SNIPPET_FILE;
    if (name.startsWith("__sbx_")) return undefined;
    return compiled.has(name) ? name : undefined;
  };
  const stackLines = (error.stack ?? "").split("\n");
  const frames: string[] = [];
  let position: { line: number; column: number; file: string } | undefined;
  for (const line of stackLines.slice(1)) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const file = fileOf(match[2]!);
    if (!file) continue;
    const original = compiled.get(file)!.originalPosition(Number(match[3]), Number(match[4]));
    position ??= { ...original, file };
    if (frames.length < MAX_STACK_FRAMES) frames.push(`${match[1]}${file}:${original.line}:${original.column}${match[5]}`.replace(/__sbx_[a-z]_[a-z2-7]+/g, "<budget>"));
  }
  const header = `${error.name}: ${error.message}`;
  return {
    name: error.name,
    message: error.message,
    stack: [header, ...frames].join("\n"),
    ...(position ? { line: position.line, column: position.column, file: position.file } : {}),
    ...(error.limit ? { limit: error.limit } : {}),
  };
}
