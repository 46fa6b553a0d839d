import { RpcTarget } from "cloudflare:workers";
import type { FileContent, FileData, Operations, UpdateOptions } from "../operations";
import type { AuditPage, AuditQuery } from "../schemas/audit";
import type { ExecResult } from "../schemas/exec";
import type { CodeContext } from "../schemas/contexts";
import type { CreateSnapshotBody, RestoreBody, Snapshot } from "../schemas/snapshots";
import type { ExecutionPage, ExecutionsQuery } from "../schemas/executions";
import type { FileEntry } from "../schemas/files";
import type { PatchSandboxInput, SandboxRecord } from "../schemas/sandbox";
import type { CommandResult, ProcessInfo } from "../schemas/commands";
import { commandOverRpc, startOverRpc, type RpcCommandRequest } from "./commands";
import { rpcCall } from "./errors";
import { execOverRpc, execStreamOverRpc, type RpcExecRequest } from "./exec";

/**
 * One sandbox, as `SandboxService.sandbox(id)` hands it out: the same methods as the service,
 * bound to this sandbox (and to the binding's tenant). Callers hold it with
 * `using sbx = await env.SANDBOXER.sandbox(id)`, which releases it at the end of the block.
 */
export class SandboxHandle extends RpcTarget {
  readonly #ops: Operations;
  readonly #id: string;

  constructor(ops: Operations, id: string) {
    super();
    this.#ops = ops;
    this.#id = id;
  }

  /** The sandbox id. */
  get id(): string {
    return this.#id;
  }

  /** The record (not activity). */
  get(): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops.get(this.#id));
  }
  update(patch: PatchSandboxInput, options: UpdateOptions = {}): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops.update(this.#id, patch, options));
  }
  keepalive(): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops.keepalive(this.#id));
  }
  destroy(): Promise<void> {
    return rpcCall(() => this.#ops.destroy(this.#id));
  }
  exec(request: RpcExecRequest): Promise<ExecResult> {
    return rpcCall(() => execOverRpc(this.#ops, this.#id, request));
  }
  execStream(request: RpcExecRequest): Promise<ReadableStream<Uint8Array>> {
    return rpcCall(() => execStreamOverRpc(this.#ops, this.#id, request));
  }
  runCommand(request: RpcCommandRequest): Promise<CommandResult> {
    return rpcCall(() => commandOverRpc(this.#ops, this.#id, request));
  }
  startProcess(request: RpcCommandRequest): Promise<ProcessInfo> {
    return rpcCall(() => startOverRpc(this.#ops, this.#id, request));
  }
  listProcesses(): Promise<ProcessInfo[]> {
    return rpcCall(() => this.#ops.listProcesses(this.#id));
  }
  getProcess(pid: string): Promise<ProcessInfo> {
    return rpcCall(() => this.#ops.getProcess(this.#id, pid));
  }
  killProcess(pid: string): Promise<ProcessInfo> {
    return rpcCall(() => this.#ops.killProcess(this.#id, pid));
  }
  createContext(): Promise<CodeContext> {
    return rpcCall(() => this.#ops.createContext(this.#id));
  }
  listContexts(): Promise<CodeContext[]> {
    return rpcCall(() => this.#ops.listContexts(this.#id));
  }
  deleteContext(contextId: string): Promise<void> {
    return rpcCall(() => this.#ops.deleteContext(this.#id, contextId));
  }
  createSnapshot(body: CreateSnapshotBody = {}): Promise<Snapshot> {
    return rpcCall(() => this.#ops.createSnapshot(this.#id, body));
  }
  restore(body: RestoreBody): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops.restore(this.#id, body));
  }
  pause(): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops.pause(this.#id));
  }
  resume(): Promise<SandboxRecord> {
    return rpcCall(() => this.#ops.resume(this.#id));
  }
  readFile(path: string): Promise<FileContent> {
    return rpcCall(() => this.#ops.readFile(this.#id, path));
  }
  writeFile(path: string, data: FileData): Promise<FileEntry> {
    return rpcCall(() => this.#ops.writeFile(this.#id, path, data));
  }
  listFiles(prefix?: string): Promise<FileEntry[]> {
    return rpcCall(() => this.#ops.listFiles(this.#id, prefix));
  }
  deleteFile(path: string): Promise<void> {
    return rpcCall(() => this.#ops.deleteFile(this.#id, path));
  }
  executions(query: ExecutionsQuery = {}): Promise<ExecutionPage> {
    return rpcCall(() => this.#ops.executions(this.#id, query));
  }
  audit(query: AuditQuery = {}): Promise<AuditPage> {
    return rpcCall(() => this.#ops.audit(this.#id, query));
  }
  types(options: { tools?: string[] } = {}): Promise<string> {
    return rpcCall(() => this.#ops.types(this.#id, options));
  }
}
