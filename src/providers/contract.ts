import type { AuditEntry } from "../schemas/audit";
import type { CommandResult, ProcessInfo } from "../schemas/commands";
import type { ExecResult } from "../schemas/exec";
import type { FileEntry } from "../schemas/files";
import type { IsolationLevel, SandboxProviderName } from "../schemas/sandbox";
import type { OutputEvent } from "./isolate";
import type { IsolateCellContext, IsolateCellOutcome } from "./isolate/run";

/**
 * The provider contract: what the SandboxDO asks of whatever runs a sandbox's code. The
 * DO owns the record, the clocks, history and audit; a provider owns nothing that outlives
 * the DO's decision to stop (`stop` must leave nothing running and nothing stored).
 */

/** What a provider can do; the DO refuses what it cannot with a 422 naming a profile that can. */
export interface ProviderCapabilities {
  /** Shell commands and background processes (the commands API). */
  commands: boolean;
  /** `exec` languages it runs. */
  languages: readonly ("js" | "ts" | "python" | "bash")[];
  /** Output events while code runs. */
  streaming: boolean;
  /** Outbound network through the egress policy (when the profile allows it). */
  network: boolean;
  /** Code contexts (`exec` with `context`): cells that see earlier cells' declarations. */
  contexts: boolean;
  /** Snapshots of the whole runtime (not yet: the workspace is the state). */
  snapshots: boolean;
}

/** Live output from a running command. */
export type OutputListener = (event: { stream: "stdout" | "stderr"; data: string }) => void;

/** Live output from `exec`: one event per console line or output chunk (the isolate's shape). */
export type CodeOutputListener = (event: OutputEvent) => void;

export interface CommandRun {
  /** A bash command line (argv has already been quoted into one). */
  command: string;
  cwd?: string;
  env: Record<string, string>;
  stdin?: string;
  timeoutMs: number;
}

/** A command's outcome before the DO gives it an id, plus egress audit entries it caused. */
export type CommandOutcome = Omit<CommandResult, "commandId"> & { audit: AuditEntry[] };

export interface CodeRun {
  /** The history id: capabilities and the egress gateway are bound to it. */
  executionId: string;
  code: string;
  language: "js" | "ts" | "python" | "bash";
  input?: unknown;
  limits: { cpuMs: number; wallMs: number; outputBytes: number; codeBytes: number; subRequests: number };
  onOutput?: CodeOutputListener;
  /** A context cell: what earlier cells left (providers with `capabilities.contexts` only). */
  context?: IsolateCellContext;
}

/** `contextOutcome`: what a successful context cell leaves for the next one. */
export type CodeOutcome = Omit<ExecResult, "executionId"> & { audit?: AuditEntry[]; contextOutcome?: IsolateCellOutcome };

/** Files of the sandbox, by normalised workspace path (`dir/file.txt`). */
export interface ProviderFiles {
  read(path: string): Promise<{ entry: FileEntry; data: Uint8Array } | undefined>;
  write(path: string, data: ArrayBuffer, now: number): Promise<FileEntry>;
  /** False when there was no such file. */
  delete(path: string): Promise<boolean>;
  list(prefix: string): Promise<FileEntry[]>;
  /**
   * Replaces every file with `files` in one step (restore, fork, resume). Optional: without it,
   * callers delete and write file by file. Bodies may be views into a larger buffer.
   */
  replaceAll?(files: WorkspaceFile[], now: number): Promise<void>;
  /** Every file with its bytes, in path order, at one instant (a snapshot). Optional: without it, callers list and read file by file. */
  readAll?(): Promise<WorkspaceFile[]>;
}

/** A file's path and bytes, for `ProviderFiles.replaceAll` and `readAll`. */
export interface WorkspaceFile {
  path: string;
  data: Uint8Array;
}

export interface SandboxProvider {
  readonly name: SandboxProviderName;
  readonly isolationLevel: IsolationLevel;
  readonly capabilities: ProviderCapabilities;
  readonly files: ProviderFiles;
  /** Makes the runtime ready for a new sandbox, or throws 503 saying what is missing. */
  prepare(): Promise<void>;
  runCode(run: CodeRun): Promise<CodeOutcome>;
  /** Runs a command to completion (`onOutput` streams it). Providers without commands throw. */
  runCommand(run: CommandRun, onOutput?: OutputListener): Promise<CommandOutcome>;
  startProcess(run: CommandRun): Promise<ProcessInfo>;
  listProcesses(): Promise<ProcessInfo[]>;
  /** The process with its output tail, or undefined. */
  getProcess(pid: string): Promise<ProcessInfo | undefined>;
  /** Kills the process and everything it started; undefined when there is no such process. */
  killProcess(pid: string): Promise<ProcessInfo | undefined>;
  /** Kills everything and releases the runtime and its files. Idempotent. */
  stop(): Promise<void>;
}
