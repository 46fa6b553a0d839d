import { WorkerEntrypoint } from "cloudflare:workers";
import { operations, type CreateOptions, type RunOnceInput, type FileContent, type FileData, type Operations, type PutSecretOutcome, type UpdateOptions } from "../operations";
import type { AuditPage, AuditQuery } from "../schemas/audit";
import type { ExecResult } from "../schemas/exec";
import type { CodeContext } from "../schemas/contexts";
import type { RunOnceResult } from "../schemas/once";
import type { HostTools } from "../capabilities/tools";
import type { CreateSnapshotBody, ListSnapshotsInput, RestoreBody, Snapshot, SnapshotList } from "../schemas/snapshots";
import type { ExecutionPage, ExecutionsQuery } from "../schemas/executions";
import type { FileEntry } from "../schemas/files";
import type { ProfileList } from "../schemas/profile";
import type { CreateSandboxInput, ListSandboxesInput, PatchSandboxInput, SandboxList, SandboxRecord } from "../schemas/sandbox";
import type { PutSecretInput, SecretList } from "../schemas/secrets";
import type { CommandResult, ProcessInfo } from "../schemas/commands";
import { commandOverRpc, startOverRpc, type RpcCommandRequest } from "./commands";
import { rpcCall } from "./errors";
import { execOverRpc, execStreamOverRpc, type RpcExecRequest } from "./exec";
import { SandboxHandle } from "./handle";

/**
 * The binding's props, set by whoever deploys the calling Worker (so trusted):
 * `services = [{ binding = "SANDBOXER", service = "sand-boxer", entrypoint = "SandboxService", props = { tenant = "acme" } }]`.
 */
export interface SandboxServiceProps {
  tenant: string;
}

/**
 * sand-boxer for other Workers, over a service binding: every operation of the HTTP API as a
 * typed method, for the tenant named in the binding's props (a binding without one is
 * refused with `unauthorized`). Same validation, limits, errors, activity and audit as HTTP:
 * each method is one call into `src/operations`. Errors are thrown as Errors whose message
 * encodes the code: `SandboxerError.fromRpc(error)` gives back `code`, `status`, `detail`, `extra`.
 */
export class SandboxService extends WorkerEntrypoint<Env, SandboxServiceProps> {
  /** The binding's tenant's operations; refused (`unauthorized`) without a tenant. */
  #ops(): Operations {
    return operations(this.env, (this.ctx.props as Partial<SandboxServiceProps> | undefined)?.tenant as string);
  }

  /** Creates a sandbox; `idempotencyKey` makes a retry return the same one. */
  create(options: CreateSandboxInput = {}, createOptions: CreateOptions = {}): Promise<SandboxRecord> {
    return rpcCall(async () => (await this.#ops().create(options, createOptions)).sandbox);
  }
  /** The record (a stopped sandbox keeps answering for 24 h with its `endReason`). Not activity. */
  get(id: string): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops().get(id));
  }
  /** A page of the tenant's sandboxes, newest first. */
  list(query: ListSandboxesInput = {}): Promise<SandboxList> {
    return rpcCall(() => this.#ops().list(query));
  }
  /** TTL from now, idle timeout, metadata merge patch, grants to keep; `ifMatch` for optimistic concurrency. */
  update(id: string, patch: PatchSandboxInput, options: UpdateOptions = {}): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops().update(id, patch, options));
  }
  /** Resets the idle clock. */
  keepalive(id: string): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops().keepalive(id));
  }
  /** Stops the sandbox (reason `deleted`) and releases its files. */
  destroy(id: string): Promise<void> {
    return rpcCall(() => this.#ops().destroy(id));
  }
  /**
   * Runs a snippet; with `onStdout`/`onStderr` the lines reach the caller as they are written;
   * with `tools`, the snippet can call the caller's functions as `tools.<name>(args)`.
   */
  exec(id: string, request: RpcExecRequest): Promise<ExecResult> {
    return rpcCall(() => execOverRpc(this.#ops(), id, request));
  }
  /**
   * Runs a snippet once in an ephemeral sandbox (`POST /v1/exec`): `profile`, `files` and
   * `network` besides the exec fields; `tools` as for `exec`. The result carries `sandboxId`.
   */
  runOnce(request: RunOnceInput & { tools?: HostTools }): Promise<RunOnceResult> {
    return rpcCall(() => {
      const { tools, ...body } = request ?? ({} as RunOnceInput);
      return this.#ops().runOnce(body, { tools });
    });
  }
  /** Runs a snippet and returns the events of the SSE route as a byte stream (`readServerSentEvents`). */
  execStream(id: string, request: RpcExecRequest): Promise<ReadableStream<Uint8Array>> {
    return rpcCall(() => execStreamOverRpc(this.#ops(), id, request));
  }
  /**
   * Runs a shell command (`cmd` by `bash -lc`, or `argv` as is) on a linux sandbox to
   * completion; with `onStdout`/`onStderr` its output reaches the caller as it is written.
   * A non-zero exit is a result (`exitCode`), not an error.
   */
  runCommand(id: string, request: RpcCommandRequest): Promise<CommandResult> {
    return rpcCall(() => commandOverRpc(this.#ops(), id, request));
  }
  /** Starts a command in the background (linux sandboxes); answers at once with its process. */
  startProcess(id: string, request: RpcCommandRequest): Promise<ProcessInfo> {
    return rpcCall(() => startOverRpc(this.#ops(), id, request));
  }
  /** Running and recently finished background processes. */
  listProcesses(id: string): Promise<ProcessInfo[]> {
    return rpcCall(() => this.#ops().listProcesses(id));
  }
  /** A background process with the tails of its output. */
  getProcess(id: string, pid: string): Promise<ProcessInfo> {
    return rpcCall(() => this.#ops().getProcess(id, pid));
  }
  /** Kills a background process and everything it started. Activity. */
  killProcess(id: string, pid: string): Promise<ProcessInfo> {
    return rpcCall(() => this.#ops().killProcess(id, pid));
  }
  /** A new code context; run cells in it with `exec(id, { code, context: contextId })`. Activity. */
  createContext(id: string): Promise<CodeContext> {
    return rpcCall(() => this.#ops().createContext(id));
  }
  /** The sandbox's code contexts, oldest first. */
  listContexts(id: string): Promise<CodeContext[]> {
    return rpcCall(() => this.#ops().listContexts(id));
  }
  /** Forgets a code context. */
  deleteContext(id: string, contextId: string): Promise<void> {
    return rpcCall(() => this.#ops().deleteContext(id, contextId));
  }
  /** Stores a snapshot of the sandbox (files, state, contexts, settings) for `retentionSeconds` (7 days by default); fork it with `create({ fromSnapshot })`. Activity. */
  createSnapshot(id: string, body: CreateSnapshotBody = {}): Promise<Snapshot> {
    return rpcCall(() => this.#ops().createSnapshot(id, body));
  }
  /** Rolls the sandbox back to a snapshot in place (id, clocks and audit log stay). */
  restore(id: string, body: RestoreBody): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops().restore(id, body));
  }
  /** Keeps the sandbox's state and releases its runtime; exec answers 409 until `resume`. */
  pause(id: string): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops().pause(id));
  }
  /** Brings a paused sandbox back with its files, state and contexts. */
  resume(id: string): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops().resume(id));
  }
  /** A page of the tenant's snapshots. */
  listSnapshots(query: ListSnapshotsInput = {}): Promise<SnapshotList> {
    return rpcCall(() => this.#ops().listSnapshots(query));
  }
  /** A snapshot's description (`not_found` for another tenant's or an expired one). */
  getSnapshot(snapshotId: string): Promise<Snapshot> {
    return rpcCall(() => this.#ops().getSnapshot(snapshotId));
  }
  /** Deletes a snapshot. */
  deleteSnapshot(snapshotId: string): Promise<void> {
    return rpcCall(() => this.#ops().deleteSnapshot(snapshotId));
  }
  /** A workspace file: `{ entry, data }` (bytes). Activity. */
  readFile(id: string, path: string): Promise<FileContent> {
    return rpcCall(() => this.#ops().readFile(id, path));
  }
  /** Creates or replaces a workspace file (text is stored as UTF-8). Activity. */
  writeFile(id: string, path: string, data: FileData): Promise<FileEntry> {
    return rpcCall(() => this.#ops().writeFile(id, path, data));
  }
  /** Workspace files under an optional prefix, sorted by path. Activity. */
  listFiles(id: string, prefix?: string): Promise<FileEntry[]> {
    return rpcCall(() => this.#ops().listFiles(id, prefix));
  }
  /** Deletes a workspace file (`not_found` if there is none). Activity. */
  deleteFile(id: string, path: string): Promise<void> {
    return rpcCall(() => this.#ops().deleteFile(id, path));
  }
  /** The execution history, newest first. */
  executions(id: string, query: ExecutionsQuery = {}): Promise<ExecutionPage> {
    return rpcCall(() => this.#ops().executions(id, query));
  }
  /** Capability, host-tool and egress decisions, oldest first. */
  audit(id: string, query: AuditQuery = {}): Promise<AuditPage> {
    return rpcCall(() => this.#ops().audit(id, query));
  }
  /** The `.d.ts` of the sandbox's `env` (and of `tools`, for the host-tool names given). */
  types(id: string, options: { tools?: string[] } = {}): Promise<string> {
    return rpcCall(() => this.#ops().types(id, options));
  }
  /** Creates or replaces a tenant secret (write-only). */
  putSecret(name: string, input: PutSecretInput): Promise<PutSecretOutcome> {
    return rpcCall(() => this.#ops().putSecret(name, input));
  }
  /** Secret names and dates, never values. */
  listSecrets(): Promise<SecretList> {
    return rpcCall(() => this.#ops().listSecrets());
  }
  /** Deletes a tenant secret. */
  deleteSecret(name: string): Promise<void> {
    return rpcCall(() => this.#ops().deleteSecret(name));
  }
  /** Every profile sandboxes can be created from. */
  profiles(): Promise<ProfileList> {
    return rpcCall(() => this.#ops().profiles());
  }
  /** A handle bound to one sandbox (`not_found` if the tenant has none by that id). */
  sandbox(id: string): Promise<SandboxHandle> {
    return rpcCall(async () => {
      const ops = this.#ops();
      await ops.get(id);
      return new SandboxHandle(ops, id);
    });
  }
}
