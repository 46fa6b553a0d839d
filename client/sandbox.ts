import type { AuditPage } from "../src/schemas/audit";
import type { CommandRequest, CommandResult, ProcessInfo } from "../src/schemas/commands";
import type { CodeContext, ContextList } from "../src/schemas/contexts";
import type { ExecRequest, ExecResult, OutputLine } from "../src/schemas/exec";
import type { ExecutionPage } from "../src/schemas/executions";
import type { FileEntry } from "../src/schemas/files";
import type { PatchSandboxInput, SandboxRecord } from "../src/schemas/sandbox";
import type { CreateSnapshotBody, Snapshot } from "../src/schemas/snapshots";
import { SandboxerError } from "./errors.ts";
import type { Transport } from "./http.ts";
import { CommandCollector, ExecutionCollector, readServerSentEvents } from "./sse.ts";

export type { OutputLine };

/** Options of `Sandbox.exec` besides the code. */
export interface ExecOptions extends Omit<ExecRequest, "code"> {
  /** Each console.log/info/debug line, as the code writes it (the call then streams over SSE). */
  onStdout?: (text: string, line: OutputLine) => void;
  /** Each console.warn/error line, as the code writes it. */
  onStderr?: (text: string, line: OutputLine) => void;
  /** Cancels the request (the execution itself runs to its own limits). */
  signal?: AbortSignal;
}

/** A command: a shell line (run by `bash -lc`), or the request's fields (`cmd` or `argv`, `cwd`, `env`, `stdin`, `timeoutMs`). */
export type CommandSpec = string | Omit<CommandRequest, "background">;

/** Options of `commands.run` besides the command. */
export interface CommandRunOptions {
  /** Each chunk the command writes to stdout, as it writes it (the call then streams over SSE). */
  onStdout?: (text: string) => void;
  /** Each chunk the command writes to stderr, as it writes it. */
  onStderr?: (text: string) => void;
  /** Cancels the request (the command itself runs to its own limits). */
  signal?: AbortSignal;
}

const commandBody = (command: CommandSpec) => (typeof command === "string" ? { cmd: command } : command);

/** What `files.write` accepts. */
export type FileBody = string | Uint8Array | ArrayBuffer | Blob;

const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

/** One sandbox. `info` is its record as last seen; every method calls the service. */
export class Sandbox {
  readonly id: string;
  info: SandboxRecord;
  readonly #http: Transport;
  readonly #base: string;

  constructor(http: Transport, record: SandboxRecord) {
    this.#http = http;
    this.id = record.id;
    this.info = record;
    this.#base = `/v1/sandboxes/${encodeURIComponent(record.id)}`;
  }

  /** Takes a snapshot of the workspace, state, contexts and settings (kept `retentionSeconds`, 7 days by default; outlives the sandbox). */
  async snapshot(options: CreateSnapshotBody = {}): Promise<Snapshot> {
    return this.#http.json<Snapshot>("POST", `${this.#base}/snapshots`, { json: options });
  }

  /** Rolls this sandbox back to a snapshot, in place (its id, clocks and audit trail stay). */
  async restore(snapshotId: string): Promise<SandboxRecord> {
    return (this.info = await this.#http.json<SandboxRecord>("POST", `${this.#base}/restore`, { json: { snapshotId } }));
  }

  /** Keeps the sandbox's state and releases its runtime; the idle clock stops, the TTL runs. */
  async pause(): Promise<SandboxRecord> {
    return (this.info = await this.#http.json<SandboxRecord>("POST", `${this.#base}/pause`));
  }

  /** Brings a paused sandbox back with its files, state and contexts. */
  async resume(): Promise<SandboxRecord> {
    return (this.info = await this.#http.json<SandboxRecord>("POST", `${this.#base}/resume`));
  }

  /** Re-reads the record (not activity). */
  async refresh(): Promise<SandboxRecord> {
    return (this.info = await this.#http.json<SandboxRecord>("GET", this.#base));
  }

  /**
   * Runs a JS/TS snippet in a fresh isolate. With `onStdout`/`onStderr` the output arrives
   * as it is written (server-sent events); either way the whole result is returned. A
   * thrown error in the code is `status: "error"`, not an exception.
   */
  async exec(code: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { onStdout, onStderr, signal, ...rest } = options;
    const json = { code, ...rest };
    if (!onStdout && !onStderr) return this.#http.json<ExecResult>("POST", `${this.#base}/exec`, { json, signal });
    const response = await this.#http.request("POST", `${this.#base}/exec`, { json, signal, headers: { Accept: "text/event-stream" } });
    const collector = new ExecutionCollector();
    for await (const event of readServerSentEvents(response.body!, signal)) {
      const line = collector.add(event);
      if (line) (line.stream === "stdout" ? onStdout : onStderr)?.(line.message, line);
    }
    signal?.throwIfAborted();
    const result = collector.result();
    if (!result) throw new SandboxerError("internal", 500, "The execution's event stream ended without its result.");
    return result;
  }

  /** The workspace: binary-safe reads and writes, paths relative to its root. */
  readonly files = {
    /** A file's bytes. */
    read: async (path: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> =>
      new Uint8Array(await (await this.#http.request("GET", `${this.#base}/files/${encodePath(path)}`, options)).arrayBuffer()),
    /** A file's text (UTF-8). */
    readText: async (path: string, options: { signal?: AbortSignal } = {}): Promise<string> =>
      new TextDecoder().decode(await this.files.read(path, options)),
    /** Creates or replaces a file. */
    write: async (path: string, data: FileBody, options: { signal?: AbortSignal } = {}): Promise<FileEntry> =>
      this.#http.json<FileEntry>("PUT", `${this.#base}/files/${encodePath(path)}`, {
        body: data as BodyInit,
        headers: { "Content-Type": "application/octet-stream" },
        ...options,
      }),
    /** Files under an optional prefix, sorted by path. */
    list: async (prefix?: string): Promise<FileEntry[]> =>
      this.#http.json<FileEntry[]>("GET", `${this.#base}/files${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ""}`),
    /** Deletes a file. */
    delete: async (path: string): Promise<void> => {
      await this.#http.request("DELETE", `${this.#base}/files/${encodePath(path)}`);
    },
  };

  /**
   * Code contexts (js sandboxes): notebook cells. Pass a context's id as `exec(code, { context })`
   * and the top-level declarations of earlier cells are in scope in later ones.
   */
  readonly contexts = {
    /** A new, empty context. */
    create: async (): Promise<CodeContext> => this.#http.json<CodeContext>("POST", `${this.#base}/contexts`, { json: {} }),
    /** The sandbox's contexts, oldest first. */
    list: async (): Promise<CodeContext[]> => (await this.#http.json<ContextList>("GET", `${this.#base}/contexts`)).contexts,
    /** Deletes a context and what it saved. */
    delete: async (contextId: string): Promise<void> => {
      await this.#http.request("DELETE", `${this.#base}/contexts/${encodeURIComponent(contextId)}`);
    },
  };

  /** Shell commands (linux sandboxes: profile `linux` or `linux-net`). */
  readonly commands = {
    /**
     * Runs a command to completion. With `onStdout`/`onStderr` the output arrives as it is
     * written (server-sent events); either way the whole result is returned. A non-zero exit
     * is `exitCode`, not an exception.
     */
    run: async (command: CommandSpec, options: CommandRunOptions = {}): Promise<CommandResult> => {
      const { onStdout, onStderr, signal } = options;
      const json = commandBody(command);
      if (!onStdout && !onStderr) return this.#http.json<CommandResult>("POST", `${this.#base}/commands`, { json, signal });
      const response = await this.#http.request("POST", `${this.#base}/commands/stream`, { json, signal });
      const collector = new CommandCollector();
      for await (const event of readServerSentEvents(response.body!, signal)) {
        const chunk = collector.add(event);
        if (chunk) (chunk.stream === "stdout" ? onStdout : onStderr)?.(chunk.data);
      }
      signal?.throwIfAborted();
      const result = collector.result();
      if (result && "commandId" in result) return result;
      throw new SandboxerError("internal", 500, result?.error.message ?? "The command's event stream ended without its result.");
    },
  };

  /** Background processes (linux sandboxes): started now, watched and killed later. */
  readonly processes = {
    /** Starts a command in the background; answers at once with its process. */
    start: async (command: CommandSpec, options: { signal?: AbortSignal } = {}): Promise<ProcessInfo> =>
      this.#http.json<ProcessInfo>("POST", `${this.#base}/commands`, { json: { ...commandBody(command), background: true }, ...options }),
    /** Running and recently finished processes. */
    list: async (): Promise<ProcessInfo[]> => (await this.#http.json<{ processes: ProcessInfo[] }>("GET", `${this.#base}/processes`)).processes,
    /** One process, with the tails of its output. */
    get: async (pid: string): Promise<ProcessInfo> => this.#http.json<ProcessInfo>("GET", `${this.#base}/processes/${encodeURIComponent(pid)}`),
    /** Kills a process and everything it started; answers it as it ended. */
    kill: async (pid: string): Promise<ProcessInfo> => this.#http.json<ProcessInfo>("DELETE", `${this.#base}/processes/${encodeURIComponent(pid)}`),
  };

  /** Sets the remaining lifetime to `seconds` from now (capped by the profile). */
  async setTimeout(seconds: number): Promise<SandboxRecord> {
    return this.update({ ttlSeconds: seconds });
  }

  /** TTL, idle timeout, metadata (merge patch: null removes a key), grants to keep. */
  async update(patch: PatchSandboxInput, options: { ifMatch?: string } = {}): Promise<SandboxRecord> {
    const headers: Record<string, string> = options.ifMatch ? { "If-Match": options.ifMatch } : {};
    return (this.info = await this.#http.json<SandboxRecord>("PATCH", this.#base, { json: patch, headers, idempotent: Boolean(options.ifMatch) }));
  }

  /** Resets the idle clock. */
  async keepalive(): Promise<SandboxRecord> {
    return (this.info = await this.#http.json<SandboxRecord>("POST", `${this.#base}/keepalive`, { idempotent: true }));
  }

  /** Stops the sandbox and releases its files (its record stays readable for 24 h). */
  async kill(): Promise<void> {
    await this.#http.request("DELETE", this.#base);
  }

  /** The execution history, newest first. */
  async executions(query: { limit?: number; cursor?: string } = {}): Promise<ExecutionPage> {
    return this.#http.json<ExecutionPage>("GET", `${this.#base}/executions${search(query)}`);
  }

  /** Capability, host-tool and egress decisions, oldest first. */
  async audit(query: { limit?: number; cursor?: string } = {}): Promise<AuditPage> {
    return this.#http.json<AuditPage>("GET", `${this.#base}/audit${search(query)}`);
  }

  /** The `.d.ts` of the `env` this sandbox's code receives. */
  async types(): Promise<string> {
    return (await this.#http.request("GET", `${this.#base}/types`)).text();
  }
}

export function search(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}
