import { normalizeCode, sanitizeToolName, type ExecuteOptions, type ExecuteResult, type Executor, type ResolvedProvider } from "@cloudflare/codemode";
import { SandboxerError } from "../errors";
import type { RpcExecRequest } from "../rpc/exec";
import type { ExecResult, LogEntry } from "../schemas/exec";
import type { CreateSandboxInput, SandboxRecord } from "../schemas/sandbox";

/**
 * What the executor needs of the `SandboxService` binding (a service binding with
 * `entrypoint = "SandboxService"` and `props = { tenant = "…" }`): `env.SANDBOXER`, typed as
 * `Service<SandboxService>`, fits. Loosely typed on purpose: comparing the binding's mapped
 * RPC types with precise signatures exceeds TypeScript's instantiation depth.
 */
export interface SandboxerBinding {
  create(input?: any): Promise<any>;
  exec(id: string, request: any): Promise<any>;
  destroy(id: string): Promise<unknown>;
}

/** The same three methods with the service's real signatures, as the executor calls them. */
interface SandboxServiceCalls {
  create(input?: CreateSandboxInput): Promise<SandboxRecord>;
  exec(id: string, request: RpcExecRequest): Promise<ExecResult>;
  destroy(id: string): Promise<unknown>;
}

/** Options of `SandboxerExecutor`. */
export interface SandboxerExecutorOptions {
  /** The service binding to sand-boxer's `SandboxService`; its props name the tenant. */
  sandboxer: SandboxerBinding;
  /**
   * Run every execution in this sandbox (its workspace files can be imported, and it must be
   * running). Without it, each `execute` gets a fresh sandbox that is deleted afterwards.
   */
  sandboxId?: string;
  /** How the fresh sandboxes are created: `profile`, `network`, `capabilities`, … (ignored with `sandboxId`). */
  sandbox?: CreateSandboxInput;
  /** CPU budget per execution in ms, at most the profile's (js: 1000). */
  cpuMs?: number;
  /** Wall-clock limit per execution in ms, at most the profile's (js: 30000). */
  timeoutMs?: number;
}

/**
 * Names the sandboxed code already has, or that the glue below needs: a provider or connector
 * by one of these names would hide them.
 */
const RESERVED_NAMES = new Set(["tools", "env", "input", "console", "globalThis", "Promise", "Error", "Object", "Array", "JSON", "setTimeout"]);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The control key codemode's connectors use to pause a run or fail a call. */
const CONNECTOR_CONTROL_KEY = "__codemode_control__";
const PAUSE_SENTINEL = "__CODEMODE_PAUSE__";

/** What a host tool answers the sandbox: codemode's dispatcher protocol, without the JSON step. */
type Dispatched = { result: unknown; error?: undefined } | { error: string; result?: undefined };

/**
 * A `@cloudflare/codemode` `Executor` that runs the model's code in a sand-boxer sandbox over
 * the typed RPC binding: with the profile's CPU budget (a `while (true) {}` ends as
 * `LimitExceeded`, which the stock `DynamicWorkerExecutor` cannot do), wall time, output and
 * subrequest limits, egress policy and audit. Each provider's functions are host tools of the
 * execution: `name.fn(args)` in the code is an RPC call back into this Worker, audited by the
 * sandbox and counted against its subrequest limit; credentials stay on this side.
 *
 * ```ts
 * const executor = new SandboxerExecutor({ sandboxer: env.SANDBOXER });
 * const codeTool = createCodeTool({ tools: myTools, executor });
 * ```
 *
 * Like every codemode executor it never throws: failures come back in `error`.
 */
export class SandboxerExecutor implements Executor {
  readonly #options: SandboxerExecutorOptions;

  constructor(options: SandboxerExecutorOptions) {
    this.#options = options;
  }

  async execute(
    code: string,
    providersOrFns: ResolvedProvider[] | Record<string, (...args: unknown[]) => Promise<unknown>>,
    options?: ExecuteOptions,
  ): Promise<ExecuteResult> {
    try {
      const providers = Array.isArray(providersOrFns) ? providersOrFns : [{ name: "codemode", fns: providersOrFns }];
      const connectors = options?.connectors ?? [];
      const connectorNames = new Set(connectors.map((c) => c.name));
      const invalid = checkNames([...providers.map((p) => p.name), ...connectors.map((c) => c.name)]);
      if (invalid) return { result: undefined, error: invalid };

      const tools: Record<string, (call: { tool: string; args: unknown[] }) => Promise<Dispatched>> = {};
      const glue: string[] = ["const __sandboxerHost = globalThis.tools;"];
      for (const provider of providers) {
        if (connectorNames.has(provider.name)) continue;
        const fns = new Map<string, (...args: unknown[]) => Promise<unknown>>();
        const originals = new Map<string, string>();
        for (const [name, fn] of Object.entries(provider.fns)) {
          const sanitized = sanitizeToolName(name);
          const existing = originals.get(sanitized);
          // As codemode's own executor does: two names that sanitize alike are an error, not a silent overwrite.
          if (existing !== undefined && existing !== name) {
            return { result: undefined, error: `Tool names "${existing}" and "${name}" both sanitize to "${sanitized}" in provider "${provider.name}"` };
          }
          originals.set(sanitized, name);
          fns.set(sanitized, fn);
        }
        tools[provider.name] = ({ tool, args }) => dispatch(() => {
          const fn = fns.get(tool);
          if (!fn) throw new Error(`Tool "${tool}" not found`);
          return fn(...(Array.isArray(args) ? args : [args]));
        });
        glue.push(namespace(provider.name, false));
      }
      for (const connector of connectors) {
        tools[connector.name] = ({ tool, args }) => dispatch(() => connector.binding.callTool(tool, args[0]));
        glue.push(namespace(connector.name, true));
      }
      for (const provider of providers) if (provider.prelude && !connectorNames.has(provider.name)) glue.push(provider.prelude);

      // As codemode's own executor does, the code is normalised to an async arrow function
      // (runCode already did; normalising twice is a no-op). Its awaited value is the snippet's
      // last expression, so it becomes the result.
      const snippet = `${glue.join("\n")}\nawait (${normalizeCode(code)})();`;
      return toExecuteResult(await this.#run({ code: snippet, tools, cpuMs: this.#options.cpuMs, timeoutMs: this.#options.timeoutMs }));
    } catch (error) {
      return { result: undefined, error: describeError(error) };
    }
  }

  /** In the configured sandbox, or in a fresh one deleted afterwards. */
  async #run(request: RpcExecRequest): Promise<ExecResult> {
    const { sandboxId } = this.#options;
    const sandboxer = this.#options.sandboxer as SandboxServiceCalls;
    if (sandboxId) return sandboxer.exec(sandboxId, request);
    const sandbox = await sandboxer.create(this.#options.sandbox ?? {});
    try {
      return await sandboxer.exec(sandbox.id, request);
    } finally {
      // If this fails the sandbox's own idle clock still stops it; the result stands.
      await sandboxer.destroy(sandbox.id).catch(() => undefined);
    }
  }
}

/** codemode's own naming rules, plus the names the sandbox already uses. */
function checkNames(names: string[]): string | undefined {
  const seen = new Set<string>();
  for (const name of names) {
    if (RESERVED_NAMES.has(name)) return `Provider name "${name}" is reserved`;
    if (!IDENTIFIER.test(name)) return `Provider name "${name}" is not a valid JavaScript identifier`;
    if (seen.has(name)) return `Duplicate provider name "${name}"`;
    seen.add(name);
  }
  return undefined;
}

/** A tool call's outcome as data, so the tool's own error message reaches the code unchanged. */
async function dispatch(call: () => unknown): Promise<Dispatched> {
  try {
    return { result: await call() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The namespace object the code calls (`name.tool(...)`), forwarding to the host tool `name`.
 * Connectors follow codemode's connector protocol: one argument, and a control value that
 * pauses the run or fails the call.
 */
function namespace(name: string, connector: boolean): string {
  const control = connector
    ? `if (v && typeof v === "object") { if (v.${CONNECTOR_CONTROL_KEY} === "pause") throw new Error("${PAUSE_SENTINEL}"); if (v.${CONNECTOR_CONTROL_KEY} === "error") throw new Error(String(v.message)); }`
    : "";
  return `const ${name} = new Proxy({}, { get: (target, tool) => {
  if (Object.prototype.hasOwnProperty.call(target, tool)) return target[tool];
  if (typeof tool !== "string") return undefined;
  return async (...args) => { const r = await __sandboxerHost.${name}({ tool, args }); if (r.error !== undefined) throw new Error(r.error); const v = r.result; ${control} return v; };
} });`;
}

/** sand-boxer's execution result in codemode's shape. */
function toExecuteResult(run: ExecResult): ExecuteResult {
  const logs = run.logs.map(logLine);
  if (run.status === "error") {
    const error = run.error ? `${run.error.name}: ${run.error.message}` : "The execution failed.";
    return { result: undefined, error, logs };
  }
  // A non-JSON value comes back rendered, with resultType naming it; undefined is undefined.
  const result = run.resultType === "undefined" ? undefined : run.result;
  return { result, logs };
}

/** codemode's log format: plain for log/info/debug, prefixed for warn and error. */
function logLine(entry: LogEntry): string {
  return entry.level === "warn" || entry.level === "error" ? `[${entry.level}] ${entry.message}` : entry.message;
}

/** A refusal by sand-boxer keeps its code (`sandbox_stopped: …`); anything else its message. */
function describeError(error: unknown): string {
  const ours = SandboxerError.fromRpc(error);
  if (ours) return `${ours.code}: ${ours.detail}`;
  return error instanceof Error ? error.message : String(error);
}
