import { parseSSEStream, SandboxClient, type ExecEvent } from "@cloudflare/sandbox";
import { ErrorCode, SandboxerError } from "../../errors";
import type { AuditEntry } from "../../schemas/audit";
import type { ProcessInfo } from "../../schemas/commands";
import type { LimitName } from "../../schemas/exec";
import type { FileEntry } from "../../schemas/files";
import type { IsolationLevel, SandboxProviderName } from "../../schemas/sandbox";
import type { CodeOutcome, CodeRun, CommandOutcome, CommandRun, OutputListener, ProviderCapabilities, ProviderFiles, SandboxProvider } from "../contract";
import { fromBase64, toBase64 } from "./base64";
import { quoteArgv, shellQuote } from "./shell";

/** Where a linux sandbox's workspace is, on both backends. */
export const WORKSPACE_ROOT = "/workspace";
/**
 * The container server's session for our calls. Each command still runs in a fresh `bash -lc`
 * (see withStdin), so nothing leaks between commands through the session's shell state.
 */
const SESSION_ID = "sandboxer";
/**
 * How long a request waits for a container that answers 503 (still starting). The SDK's
 * default is two minutes; a sandbox request should fail sooner and say so.
 */
const CONTAINER_START_RETRY_MS = 30_000;
/** Code up to this size runs from the environment; larger code from a file. */
const MAX_INLINE_CODE_BYTES = 64 * 1024;
/** Where `exec` puts the code it runs through an interpreter (removed afterwards). */
const EXEC_DIR = ".sandboxer/exec";

/** Limits the jail host enforces, sent with every request (the SandboxDO is their source of truth). */
export interface JailLimits {
  cpuMs: number;
  wallMs: number;
  processWallMs: number;
  memoryMb: number;
  processes: number;
  outputBytes: number;
  storageBytes: number;
  fileBytes: number;
}

/** How to reach the sandbox's Linux runtime: the local jail host or its Cloudflare container. */
export type LinuxBackend =
  | { kind: "linux-jail"; url: string; secret: string; sandboxKey: string; limits: JailLimits; network: { allow: unknown[]; profileAllow: unknown[] } | null }
  | { kind: "cloudflare-container"; stub: DurableObjectStub & { containerFetch(url: string, init: RequestInit, port?: number): Promise<Response>; destroy(): Promise<void> } };

/** What the container server answers on /api/execute (plus the jail host's limit fields). */
interface ExecuteResponse {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs?: number;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  limit?: LimitName;
  audit?: AuditEntry[];
}

interface ContainerProcess {
  id: string;
  command: string;
  status: string;
  startTime: string;
  endTime?: string;
  exitCode?: number;
  limit?: LimitName;
}

/**
 * Profiles `linux` and `linux-net`: a Debian userland with bash, python3, node and git. One
 * client path for both backends: `SandboxClient` from @cloudflare/sandbox speaks the
 * container server's HTTP routes, to the container (deployed, through the container Durable
 * Object's `containerFetch`) or to the local jail host (plain fetch with a per-start secret).
 */
export class LinuxProvider implements SandboxProvider {
  readonly name: SandboxProviderName;
  readonly isolationLevel: IsolationLevel;
  readonly capabilities: ProviderCapabilities = { commands: true, languages: ["python", "bash"], streaming: true, network: true, contexts: false, snapshots: false };
  readonly files: ProviderFiles;
  private readonly client: SandboxClient;

  constructor(
    private readonly backend: LinuxBackend,
    private readonly outputBytes: number,
  ) {
    this.name = backend.kind;
    this.isolationLevel = backend.kind === "linux-jail" ? "linux-namespaces" : "container-vm";
    // retryTimeoutMs 0: the SDK would retry a 503 for two minutes (container cold start); a jail
    // that cannot start answers 503 at once and the client must hear it at once.
    this.client =
      backend.kind === "linux-jail"
        ? new SandboxClient({
            baseUrl: backend.url,
            retryTimeoutMs: 0,
            defaultHeaders: {
              Authorization: `Bearer ${backend.secret}`,
              "X-Sandboxer-Sandbox": backend.sandboxKey,
              "X-Sandboxer-Limits": JSON.stringify(backend.limits),
              ...(backend.network ? { "X-Sandboxer-Network": JSON.stringify(backend.network) } : {}),
            },
          })
        : new SandboxClient({ stub: backend.stub, port: 3000, retryTimeoutMs: CONTAINER_START_RETRY_MS });
    this.files = this.linuxFiles();
  }

  /**
   * Locally: the jail host creates the workspace, or answers 503 naming what the machine lacks
   * (bubblewrap, user namespaces). Deployed: the container is started (its server answers
   * /api/ping), so a create that returns means the sandbox can run commands.
   */
  async prepare(): Promise<void> {
    if (this.backend.kind !== "linux-jail") {
      await call(() => this.client.utils.ping());
      return;
    }
    const backend = this.backend;
    await call(async () => {
      const response = await fetch(`${backend.url}/api/sandboxer/prepare`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${backend.secret}`,
          "X-Sandboxer-Sandbox": backend.sandboxKey,
          "X-Sandboxer-Limits": JSON.stringify(backend.limits),
          ...(backend.network ? { "X-Sandboxer-Network": JSON.stringify(backend.network) } : {}),
        },
      });
      const body = (await response.json().catch(() => ({}))) as ClientError;
      if (!response.ok) throw body.code ? body : { message: `HTTP ${response.status}`, httpStatus: response.status };
    });
  }

  async runCommand(run: CommandRun, onOutput?: OutputListener): Promise<CommandOutcome> {
    const options = { timeoutMs: run.timeoutMs, env: { ...run.env }, ...(run.cwd ? { cwd: resolveCwd(run.cwd) } : {}) };
    const command = withStdin(run.command, run.stdin, options.env);
    const response = await call<ExecuteResponse>(async () => {
      if (!onOutput) return (await this.client.commands.execute(command, SESSION_ID, options)) as unknown as ExecuteResponse;
      const stream = await this.client.commands.executeStream(command, SESSION_ID, options);
      // A `complete` event without its result (it is optional in the SDK's ExecEvent) still
      // answers with the output the stream carried.
      const streamed = { stdout: "", stderr: "" };
      for await (const event of parseSSEStream<ExecEvent & { result?: ExecuteResponse }>(stream)) {
        if ((event.type === "stdout" || event.type === "stderr") && event.data) {
          streamed[event.type] += event.data;
          onOutput({ stream: event.type, data: event.data });
        }
        if (event.type === "complete") return event.result ?? ({ exitCode: event.exitCode ?? 1, ...streamed } as ExecuteResponse);
        if (event.type === "error") throw new SandboxerError(ErrorCode.runtimeUnavailable, `The command stream failed: ${event.error ?? "unknown error"}.`, { retryAfterSeconds: 1 });
      }
      throw new SandboxerError(ErrorCode.runtimeUnavailable, "The command stream ended without a result.", { retryAfterSeconds: 1 });
    });
    const stdout = cap(response.stdout, this.outputBytes);
    const stderr = cap(response.stderr, this.outputBytes);
    return {
      exitCode: response.exitCode,
      stdout: stdout.text,
      stderr: stderr.text,
      durationMs: response.durationMs ?? 0,
      ...(response.stdoutTruncated || stdout.truncated ? { stdoutTruncated: true } : {}),
      ...(response.stderrTruncated || stderr.truncated ? { stderrTruncated: true } : {}),
      ...(response.limit ? { limit: response.limit } : {}),
      audit: response.audit ?? [],
    };
  }

  /** python/bash code: written to the workspace, run by the interpreter, removed. */
  async runCode(run: CodeRun): Promise<CodeOutcome> {
    if (run.language !== "python" && run.language !== "bash") {
      throw new SandboxerError(ErrorCode.limitExceeded, `Linux sandboxes run exec with language 'python' or 'bash'; for '${run.language}' create a sandbox with profile 'js'.`, {
        limit: "language",
        profiles: ["js", "js-net"],
      });
    }
    const interpreter = run.language === "python" ? "python3" : "bash";
    const env: Record<string, string> = {};
    if (run.input !== undefined) env.SANDBOXER_INPUT = JSON.stringify(run.input);
    const codeBytes = new TextEncoder().encode(run.code);
    // Small code travels in the environment (one jail); larger code than an environment string
    // may hold (128 KiB on Linux) is written to the workspace first and removed afterwards.
    const file = codeBytes.byteLength > MAX_INLINE_CODE_BYTES || run.code.includes("\0") ? `${EXEC_DIR}/${run.executionId}.${run.language === "python" ? "py" : "sh"}` : null;
    let command: string;
    if (file) {
      await this.files.write(file, codeBytes.buffer as ArrayBuffer, Date.now());
      command = `${interpreter} ${shellQuote(`${WORKSPACE_ROOT}/${file}`)}`;
    } else {
      env.SANDBOXER_CODE = run.code;
      command = `${interpreter} -c "$SANDBOXER_CODE"`;
    }
    const started = Date.now();
    try {
      const outcome = await this.runCommand(
        { command, env, timeoutMs: run.limits.wallMs },
        run.onOutput
          ? (event) => run.onOutput!({ stream: event.stream, level: event.stream === "stdout" ? "log" : "error", message: event.data, ts: new Date().toISOString() })
          : undefined,
      );
      const failed = outcome.exitCode !== 0 || outcome.limit !== undefined;
      return {
        status: failed ? "error" : "ok",
        result: null,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        ...(outcome.stdoutTruncated ? { stdoutTruncated: true } : {}),
        ...(outcome.stderrTruncated ? { stderrTruncated: true } : {}),
        logs: [],
        exitCode: outcome.exitCode,
        ...(outcome.limit
          ? { error: { name: "LimitExceeded", message: `The ${interpreter} process was stopped by the ${outcome.limit} limit.`, limit: outcome.limit } }
          : failed
            ? { error: { name: "NonZeroExit", message: `${interpreter} exited with code ${outcome.exitCode}.` } }
            : {}),
        durationMs: outcome.durationMs || Date.now() - started,
        cpu: { budgetMs: run.limits.cpuMs, usedMs: 0 },
        audit: outcome.audit,
      };
    } finally {
      if (file) await this.files.delete(file).catch(() => false);
    }
  }

  async startProcess(run: CommandRun): Promise<ProcessInfo> {
    const env = { ...run.env };
    const command = withStdin(run.command, run.stdin, env);
    const started = await call(() => this.client.processes.startProcess(command, SESSION_ID, { env, timeoutMs: run.timeoutMs, ...(run.cwd ? { cwd: resolveCwd(run.cwd) } : {}) }));
    return { pid: started.processId, command: run.command, status: "running", startedAt: started.timestamp };
  }

  async listProcesses(): Promise<ProcessInfo[]> {
    const { processes } = await call(() => this.client.processes.listProcesses());
    return processes.map((p) => toProcessInfo(p as ContainerProcess));
  }

  async getProcess(pid: string): Promise<ProcessInfo | undefined> {
    const found = await optional(() => this.client.processes.getProcess(pid));
    if (!found) return undefined;
    const logs = await optional(() => this.client.processes.getProcessLogs(pid));
    return {
      ...toProcessInfo(found.process as ContainerProcess),
      stdoutTail: logs?.stdout ?? "",
      stderrTail: logs?.stderr ?? "",
    };
  }

  async killProcess(pid: string): Promise<ProcessInfo | undefined> {
    const killed = await optional(() => this.client.processes.killProcess(pid));
    if (!killed) return undefined;
    return (await this.getProcess(pid)) ?? { pid, command: "", status: "killed", startedAt: new Date().toISOString() };
  }

  /** Kills every process and releases the runtime: the jail's workspace, or the whole container. */
  async stop(): Promise<void> {
    if (this.backend.kind === "cloudflare-container") {
      await this.backend.stub.destroy();
      return;
    }
    const response = await fetch(`${this.backend.url}/api/sandboxer/destroy`, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.backend.secret}`, "X-Sandboxer-Sandbox": this.backend.sandboxKey },
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`jail host refused to destroy the sandbox (${response.status})`);
  }

  private linuxFiles(): ProviderFiles {
    const absolute = (path: string) => `${WORKSPACE_ROOT}/${path}`;
    return {
      read: async (path) => {
        const file = await optional(() => this.client.files.readFile(absolute(path), SESSION_ID, { encoding: "base64" }));
        if (!file) return undefined;
        const data = file.encoding === "base64" ? fromBase64(file.content) : new TextEncoder().encode(file.content);
        return { entry: { path, size: data.byteLength, updatedAt: file.timestamp }, data };
      },
      write: async (path, data, now) => {
        await call(() => this.client.files.writeFile(absolute(path), toBase64(new Uint8Array(data)), SESSION_ID, { encoding: "base64" }));
        return { path, size: data.byteLength, updatedAt: new Date(now).toISOString() };
      },
      delete: async (path) => (await optional(() => this.client.files.deleteFile(absolute(path), SESSION_ID))) !== undefined,
      list: async (prefix) => {
        const listing = await call(() => this.client.files.listFiles(WORKSPACE_ROOT, SESSION_ID, { recursive: true }));
        const entries: FileEntry[] = [];
        for (const file of listing.files) {
          const path = file.absolutePath.startsWith(`${WORKSPACE_ROOT}/`) ? file.absolutePath.slice(WORKSPACE_ROOT.length + 1) : file.relativePath;
          if (file.type === "directory" || !path.startsWith(prefix) || path.startsWith(".sandboxer/")) continue;
          entries.push({ path, size: file.size, updatedAt: new Date(file.modifiedAt).toISOString(), ...(file.type === "symlink" ? { symlink: true as const } : {}) });
        }
        return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      },
    };
  }
}

/** The commands API's argv, as one bash command line that runs exactly those words. */
export function commandLine(request: { cmd?: string; argv?: string[] }): string {
  return request.cmd ?? quoteArgv(request.argv ?? []);
}

/**
 * The line sent to the runtime. The user's command runs as `bash -lc` (as the API documents,
 * and as the local jail runs it) from an environment variable, so no wrapping of ours has to
 * parse it; stdin travels base64-encoded in the environment too (the container server's
 * execute route has no stdin field). Without stdin the command reads an empty input, never
 * the server's.
 */
function withStdin(command: string, stdin: string | undefined, env: Record<string, string>): string {
  env.SANDBOXER_CMD = command;
  if (stdin === undefined || stdin === "") return 'bash -lc "$SANDBOXER_CMD" 0</dev/null';
  env.SANDBOXER_STDIN_B64 = toBase64(new TextEncoder().encode(stdin));
  return 'bash -lc "$SANDBOXER_CMD" 0< <(printf %s "$SANDBOXER_STDIN_B64" | base64 -d)';
}

function resolveCwd(cwd: string): string {
  return cwd.startsWith("/") ? cwd : `${WORKSPACE_ROOT}/${cwd}`;
}

function cap(text: string, bytes: number): { text: string; truncated: boolean } {
  const encoded = new TextEncoder().encode(text);
  if (encoded.byteLength <= bytes) return { text, truncated: false };
  return { text: new TextDecoder().decode(encoded.subarray(0, bytes)).replace(/\uFFFD$/, ""), truncated: true };
}

function toProcessInfo(p: ContainerProcess): ProcessInfo {
  const status = p.status === "completed" || p.status === "failed" || p.status === "killed" ? p.status : p.status === "error" ? "failed" : "running";
  return {
    pid: p.id,
    command: p.command,
    status,
    startedAt: new Date(p.startTime).toISOString(),
    ...(p.endTime ? { endedAt: new Date(p.endTime).toISOString() } : {}),
    ...(p.exitCode !== undefined && p.exitCode !== null ? { exitCode: p.exitCode } : {}),
    ...(p.limit ? { limit: p.limit } : {}),
  };
}

/** Shape of the errors @cloudflare/sandbox's clients throw (SandboxError and subclasses). */
interface ClientError {
  code?: string;
  httpStatus?: number;
  message: string;
}

/** Calls the runtime; its failures become our errors (a client mistake is never a 500). */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toSandboxerError(error);
  }
}

/** Like `call`, but "not found" is undefined. */
async function optional<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    const mapped = toSandboxerError(error);
    if (mapped.code === ErrorCode.notFound) return undefined;
    throw mapped;
  }
}

function toSandboxerError(error: unknown): SandboxerError {
  if (error instanceof SandboxerError) return error;
  const e = (error ?? {}) as ClientError;
  const message = typeof e.message === "string" ? e.message : String(error);
  switch (e.code) {
    case "FILE_NOT_FOUND":
    case "PROCESS_NOT_FOUND":
      return new SandboxerError(ErrorCode.notFound, message);
    case "PERMISSION_DENIED":
    case "IS_DIRECTORY":
    case "NOT_DIRECTORY":
    case "INVALID_PATH":
      return new SandboxerError(ErrorCode.validationFailed, message, { errors: [{ path: "path", message }] });
    case "FILE_TOO_LARGE":
      return new SandboxerError(ErrorCode.payloadTooLarge, message, { limit: "file_bytes" });
    case "NO_SPACE":
      return new SandboxerError(ErrorCode.limitExceeded, message, { limit: "storage_bytes" });
    case "PROCESS_EXISTS":
      return new SandboxerError(ErrorCode.preconditionFailed, message);
    case "JAIL_UNAVAILABLE":
      return new SandboxerError(ErrorCode.runtimeUnavailable, message, { retryAfterSeconds: 60 });
  }
  // Other refusals by status: whatever the runtime refused is the request's problem, said as such.
  if (e.httpStatus === 400 || e.httpStatus === 409) return new SandboxerError(ErrorCode.validationFailed, message, { errors: [{ path: "body", message }] });
  if (e.httpStatus === 404) return new SandboxerError(ErrorCode.notFound, message);
  if (e.httpStatus === 413) return new SandboxerError(ErrorCode.payloadTooLarge, message);
  if (e.httpStatus === 503 || e.httpStatus === undefined) {
    return new SandboxerError(
      ErrorCode.runtimeUnavailable,
      `The sandbox's Linux runtime did not answer (${message}). Locally it is the jail host that \`npm start\` runs; retry in a moment.`,
      { retryAfterSeconds: 2 },
    );
  }
  return new SandboxerError(ErrorCode.internal, `The sandbox's Linux runtime failed: ${message}`);
}
