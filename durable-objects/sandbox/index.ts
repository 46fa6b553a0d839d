import { DurableObject } from "cloudflare:workers";
import { ErrorCode, SandboxerError, settle, type Settled } from "../../src/errors";
import { runGuidance } from "../../src/capabilities/guidance";
import type { FileEntry } from "../../src/schemas/files";
import type { PatchSandboxBody, SandboxRecord } from "../../src/schemas/sandbox";
import { applyPatch } from "./lifecycle";
import { dueReason, etagOf, nextWake, RELEASE_RETRY_MS, toRecord, type StoredSandbox } from "./record";
import { Workspace } from "./workspace";
import { AuditLog } from "./audit";
import type { AuditEntry, AuditPage } from "../../src/schemas/audit";
import type { ExecRequest, ExecResult } from "../../src/schemas/exec";
import type { ExecutionPage } from "../../src/schemas/executions";
import { checkContexts, MAX_QUEUED_EXECUTIONS, prepareExecution, type ExecutionContext } from "./execute";
import { prepareCommand, startBackground, checkCommands } from "./commands";
import { providerFor, type SandboxProvider } from "../../src/providers";
import type { CommandRequest, CommandResult, ProcessInfo } from "../../src/schemas/commands";
import { ExecutionHistory } from "./executions";
import { FairQueue } from "./queue";
import { sseStream } from "./sse";
import { HostToolRegistry } from "./host-tools";
import { hostToolNames, toolsPrelude, TOOLS_ENV_KEY, type HostTools } from "../../src/capabilities/tools";
import { invokeCapability, projectedWriteBytes } from "./capabilities";
import { acquireExecutionSlot, recordStorage, reserveStorage } from "../registry/admit";
import { StateStore } from "./state-store";
import { SubrequestCounter } from "./subrequests";
import { orphanError, parseRestarts } from "./orphans";
import { ContextStore } from "./contexts";
import type { CodeContext } from "../../src/schemas/contexts";
import { sandboxDeclarations } from "../../src/capabilities/declarations";
import { CAPABILITIES, type CapabilityCall, type CapabilityProps } from "../../src/capabilities/definitions";
import type { NetworkRule } from "../../src/schemas/profile";
import type { SecretBinding } from "../../src/schemas/sandbox";
import type { Snapshot } from "../../src/schemas/snapshots";
import { archiveBody, newSnapshotId, pausedSandboxKey, SNAPSHOT_RETENTION_MS, SnapshotStore } from "../../src/snapshots/store";
import { quotasFor } from "../../src/quotas";
import { applySnapshot, captureSnapshot, checkSnapshotProfile, skippedSymlinksNote, snapshotFileBytes, type SnapshotParts } from "./snapshots";

/** The egress gateway's view of a sandbox (see `egressGrant`). */
export interface EgressGrant {
  granted: boolean;
  /** The per-execution request limit when this request is past it, else null. */
  overLimit: number | null;
  allow: NetworkRule[];
  profileAllow: NetworkRule[];
  secrets: (SecretBinding & { placeholder: string })[];
}

/**
 * Executions running at once per sandbox. Cloudflare allows at most 10 dynamic workers
 * in flight per Durable Object; the rest wait in FIFO order.
 */
export const MAX_CONCURRENT_EXECUTIONS = 4;
/**
 * At most one registry update per sandbox in this long for activity alone (lifecycle changes
 * are always pushed at once). The registry's copy of `lastActiveAt` and `idleExpiresAt` may
 * lag by up to this much; "expiring within" searches re-check their candidates here.
 */
export const REGISTRY_ACTIVITY_SYNC_MS = 60_000;
/** How soon the alarm looks again at an idle clock that a running command holds. */
const IDLE_RECHECK_MS = 1000;
import type { EndReason } from "../../src/schemas/sandbox";

/**
 * One sandbox: its record and state machine (running → stopped), both TTL clocks,
 * its workspace files. Addressed by `idFromName("<tenant>:<id>")`, so an id from
 * another tenant reaches an empty object and answers 404.
 *
 * Clocks: one alarm, set to the earlier of `expiresAt` and `idleExpiresAt` while
 * running, and to the purge time (end + 24 h) once stopped. Activity moves the idle
 * clock later without touching the alarm: an early alarm finds nothing due and
 * re-arms, which keeps the hot path to one row write.
 */
export class SandboxDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly workspace: Workspace;
  private readonly audit: AuditLog;
  private readonly history: ExecutionHistory;
  private readonly state: StateStore;
  private readonly contexts: ContextStore;
  /** The last cell queued in each context: cells of one context run one after another. */
  private readonly contextTurns = new Map<string, Promise<void>>();
  /** Cells waiting or running per context, bounded like the execution queue. */
  private readonly contextCells = new Map<string, number>();
  private readonly queue = new FairQueue(MAX_CONCURRENT_EXECUTIONS);
  /** Host tools of running executions (the RPC caller's function stubs). */
  private readonly hostTools = new HostToolRegistry();
  /** Outbound requests, capability and host-tool calls made so far by each running execution. */
  private readonly subrequests = new SubrequestCounter();
  /**
   * Commands and linux executions running now. While any runs, the idle clock does not stop
   * the sandbox (a running command is activity); the TTL still does, and kills them.
   */
  private activeRuns = 0;
  /** When this instance last pushed the record to the registry, and which version. */
  private registrySync = { at: 0, version: -1 };
  /** A resume is under way (its files are being put back): a second one waits its turn. */
  private resuming = false;
  /** The stored record, read once per instance; `null` means "none stored". */
  private cached: StoredSandbox | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.workspace = new Workspace(this.sql, () => this.require().profile.limits);
    this.audit = new AuditLog(this.sql);
    this.history = new ExecutionHistory(this.sql);
    this.state = new StateStore(this.sql);
    this.contexts = new ContextStore(this.sql);
    // Deliberately no writes here: constructing the object (any request, an alarm, an
    // eviction and reload) must never extend a clock, and probing random ids must not
    // leave storage behind. Tables are created by `create`.
  }

  /** Stores a sandbox planned by `planCreate` and arms its clocks. */
  async create(initial: StoredSandbox): Promise<Settled<SandboxRecord>> {
    return settle(async () => {
      if (this.load()) throw new SandboxerError(ErrorCode.internal, "Sandbox id collision.");
      // Before anything is stored: a runtime that cannot start makes the create a 503.
      await this.provider(initial).prepare();
      await this.store(initial);
      await this.syncRegistry(initial);
      return toRecord(initial);
    });
  }

  /**
   * A one-shot execution (`POST /v1/exec`), in one call: stores the planned sandbox, writes
   * `files`, runs `request` and stops the sandbox before answering. Nothing else can address
   * it while it runs (its id is new and told to no one); it never enters the tenant's
   * registry. Its audit and history stay here, readable by id, until the tombstone is purged.
   */
  async runOnce(
    initial: StoredSandbox,
    files: { path: string; data: ArrayBuffer }[],
    request: ExecRequest,
    tools?: HostTools,
  ): Promise<Settled<ExecResult>> {
    return settle(async () => {
      if (this.load()) throw new SandboxerError(ErrorCode.internal, "Sandbox id collision.");
      const s: StoredSandbox = { ...initial, ephemeral: true };
      await this.provider(s).prepare();
      // Stored with its alarm like any sandbox: if the runtime dies mid-run, the clocks still stop and purge it.
      await this.store(s);
      try {
        const provider = this.provider(s);
        for (const file of files) await provider.files.write(file.path, file.data, s.createdAt);
        const { run } = await this.startExecution(request, tools);
        return await run();
      } finally {
        const last = this.load();
        if (last?.state === "running") await this.stop(last, "deleted", Date.now());
      }
    });
  }

  /** The record (plain GET: not activity). */
  async describe(): Promise<Settled<SandboxRecord>> {
    return settle(async () => {
      return toRecord(await this.current());
    });
  }

  async update(patch: PatchSandboxBody, ifMatch?: string): Promise<Settled<SandboxRecord>> {
    return settle(async () => {
      const s = await this.running();
      if (ifMatch !== undefined && !etagMatches(ifMatch, etagOf(s))) {
        throw new SandboxerError(ErrorCode.preconditionFailed, `If-Match ${ifMatch} does not match the current ETag ${etagOf(s)}.`, {
          etag: etagOf(s),
        });
      }
      const next = applyPatch(s, patch, Date.now());
      this.save(next);
      await this.ctx.storage.setAlarm(nextWake(next));
      await this.syncRegistry(next);
      return toRecord(next);
    });
  }

  /** Resets the idle clock. */
  async keepalive(): Promise<Settled<SandboxRecord>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      await this.syncRegistry(s);
      return toRecord(s);
    });
  }

  /** Stops the sandbox (reason `deleted`) and releases its files. Deleting a stopped sandbox is a no-op. */
  async destroy(): Promise<Settled<void>> {
    return settle(async () => {
      const s = await this.current();
      if (s.state === "running") await this.stop(s, "deleted", Date.now());
    });
  }

  async putFile(path: string, data: ArrayBuffer): Promise<Settled<FileEntry>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      const provider = this.provider(s);
      // The tenant's storage quota counts the isolate workspace (kept here); a linux workspace is bounded by its own disk limit.
      if ((s.provider ?? "isolate") === "isolate") await reserveStorage(this.env, s.tenant, s.id, this.workspace.projectedUsage(path, data.byteLength));
      const entry = await provider.files.write(path, data, s.lastActiveAt);
      this.syncRegistryLater(s);
      return entry;
    });
  }

  async getFile(path: string): Promise<Settled<{ entry: FileEntry; data: Uint8Array }>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      this.syncRegistryLater(s);
      const file = await this.provider(s).files.read(path);
      if (!file) throw new SandboxerError(ErrorCode.notFound, `No file '${path}' in this sandbox's workspace.`);
      return file;
    });
  }

  async deleteFile(path: string): Promise<Settled<void>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      this.syncRegistryLater(s);
      if (!(await this.provider(s).files.delete(path))) throw new SandboxerError(ErrorCode.notFound, `No file '${path}' in this sandbox's workspace.`);
      if ((s.provider ?? "isolate") === "isolate") await recordStorage(this.env, s.tenant, s.id, this.workspace.usage().used);
    });
  }

  async listFiles(prefix: string): Promise<Settled<FileEntry[]>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      this.syncRegistryLater(s);
      return this.provider(s).files.list(prefix);
    });
  }

  /**
   * The workspace listing for someone watching (the dashboard): unlike `listFiles`, not
   * activity, so looking never keeps a sandbox alive. A stopped sandbox has no files.
   */
  async peekFiles(prefix: string): Promise<Settled<FileEntry[]>> {
    return settle(async () => {
      const s = await this.current();
      return s.state === "running" ? this.provider(s).files.list(prefix) : [];
    });
  }

  /**
   * Runs a snippet and answers with its whole result. Counts as activity (before and after).
   * `tools`: the RPC caller's host tools, callable from the snippet as `tools.<name>(args)`.
   */
  async exec(request: ExecRequest, tools?: HostTools): Promise<Settled<ExecResult>> {
    return settle(async () => {
      const release = await this.contextTurn(request.context);
      try {
        const { run } = await this.startExecution(request, tools);
        return await run();
      } finally {
        release();
      }
    });
  }

  /** A new, empty code context (see durable-objects/sandbox/contexts.ts). Activity. */
  async createContext(): Promise<Settled<CodeContext>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      this.syncRegistryLater(s);
      checkContexts(s, this.provider(s));
      return this.contexts.create(Date.now());
    });
  }

  async listContexts(): Promise<Settled<CodeContext[]>> {
    return settle(async () => {
      await this.running();
      return this.contexts.list();
    });
  }

  async deleteContext(contextId: string): Promise<Settled<void>> {
    return settle(async () => {
      await this.running();
      this.contexts.delete(contextId);
    });
  }

  /**
   * Takes a snapshot (workspace files, state, contexts, the record's settings) and stores it in
   * R2 under the tenant. Refused (422) when the tenant's snapshots would pass its storageBytes
   * quota. Activity; recorded in the audit log.
   */
  async snapshot(name: string | undefined, retentionSeconds?: number): Promise<Settled<Snapshot>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      this.syncRegistryLater(s);
      const { archive, skippedSymlinks } = await captureSnapshot(this.snapshotParts(s), s);
      const now = Date.now();
      const store = new SnapshotStore(this.env.SNAPSHOTS, s.tenant);
      const max = quotasFor(this.env, s.tenant).storageBytes;
      const used = await store.usage(now);
      if (used + archive.byteLength > max) {
        throw new SandboxerError(
          ErrorCode.limitExceeded,
          `This snapshot is ${archive.byteLength} bytes and the tenant's snapshots already hold ${used}; together they may hold at most ${max} bytes (the storageBytes quota). Delete snapshots (DELETE /v1/snapshots/{snapshotId}) or files first.`,
          { limit: "snapshotBytes", quota: "storageBytes", max, used, size: archive.byteLength },
        );
      }
      const snapshotId = newSnapshotId();
      const info: Snapshot = {
        snapshotId,
        name: name ?? snapshotId,
        size: archive.byteLength,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + (retentionSeconds === undefined ? SNAPSHOT_RETENTION_MS : retentionSeconds * 1000)).toISOString(),
        sourceSandboxId: s.id,
        profile: s.profile.name,
        ...(skippedSymlinks.length > 0 ? { skippedSymlinks } : {}),
      };
      await store.put(info, archive);
      const note = skippedSymlinksNote(skippedSymlinks);
      this.audit.append([{ ts: info.createdAt, kind: "lifecycle", action: "snapshot", decision: "allowed", bytes: info.size, detail: note ? `${snapshotId}; ${note}` : snapshotId }]);
      return info;
    });
  }

  /**
   * Replaces the workspace files, state and contexts with a snapshot's (the tenant's own: the
   * key is under its prefix). Id, clocks and audit log stay; the restore is audited. A new
   * sandbox seeded from a snapshot (a fork) comes through here too. Activity.
   */
  async restore(snapshotId: string): Promise<Settled<SandboxRecord>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      const now = Date.now();
      const { info, archive } = await new SnapshotStore(this.env.SNAPSHOTS, s.tenant).read(snapshotId, now);
      checkSnapshotProfile(info, s);
      if ((s.provider ?? "isolate") === "isolate") await reserveStorage(this.env, s.tenant, s.id, snapshotFileBytes(archive));
      await applySnapshot(this.snapshotParts(s), archive, now);
      this.audit.append([{ ts: new Date(now).toISOString(), kind: "lifecycle", action: "restore", decision: "allowed", bytes: info.size, detail: snapshotId }]);
      await this.syncRegistry(s);
      return toRecord(s);
    });
  }

  /**
   * Pauses: keeps the files, state and contexts as a snapshot with the sandbox (in R2, not in
   * the tenant's list) and releases the runtime (a linux sandbox's processes and container).
   * While paused, the idle clock is stopped and the TTL keeps running; exec, commands, files
   * and contexts answer 409 until `resume`. Refused while executions or commands run.
   */
  async pause(): Promise<Settled<SandboxRecord>> {
    return settle(async () => {
      const s = await this.running();
      const busy = this.history.runningCount() + this.activeRuns;
      if (busy > 0) {
        throw new SandboxerError(ErrorCode.preconditionFailed, `${busy} executions or commands are running in sandbox ${s.id}; pause it once they have finished.`);
      }
      const now = Date.now();
      // Saved first: from here on every request that would change the workspace gets 409.
      const paused: StoredSandbox = { ...s, pausedAt: now, version: s.version + 1 };
      this.save(paused);
      try {
        const { archive, skippedSymlinks } = await captureSnapshot(this.snapshotParts(s), s);
        await this.env.SNAPSHOTS.put(pausedSandboxKey(s.tenant, s.id), archiveBody(archive));
        const note = skippedSymlinksNote(skippedSymlinks);
        this.audit.append([{ ts: new Date(now).toISOString(), kind: "lifecycle", action: "pause", decision: "allowed", bytes: archive.byteLength, ...(note ? { detail: note } : {}) }]);
      } catch (error) {
        // Nothing was released yet: the sandbox goes on running as it was.
        this.save({ ...s, version: paused.version + 1 });
        throw error;
      }
      this.workspace.clear();
      this.state.clear();
      this.contexts.clear();
      try {
        await this.provider(s).stop();
      } catch (error) {
        console.error(`sandbox ${s.id}: releasing its runtime on pause failed`, error);
      }
      await this.ctx.storage.setAlarm(nextWake(paused));
      await this.syncRegistry(paused);
      return toRecord(paused);
    });
  }

  /** Brings a paused sandbox back with its files, state and contexts; the idle clock restarts. A running one is answered as is. */
  async resume(): Promise<Settled<SandboxRecord>> {
    return settle(async () => {
      const s = await this.current();
      if (s.state !== "running") await this.running();
      if (s.pausedAt === undefined) return toRecord(s);
      if (this.resuming) throw new SandboxerError(ErrorCode.sandboxPaused, `Sandbox ${s.id} is being resumed; retry in a moment.`, { retryAfterSeconds: 1 });
      this.resuming = true;
      try {
        const key = pausedSandboxKey(s.tenant, s.id);
        const object = await this.env.SNAPSHOTS.get(key);
        if (!object) throw new SandboxerError(ErrorCode.internal, `The paused state of sandbox ${s.id} is missing.`);
        const archive = new Uint8Array(await object.arrayBuffer());
        await this.provider(s).prepare();
        if ((s.provider ?? "isolate") === "isolate") await reserveStorage(this.env, s.tenant, s.id, snapshotFileBytes(archive));
        const now = Date.now();
        await applySnapshot(this.snapshotParts(s), archive, now);
        const { pausedAt: _, ...rest } = this.require();
        const resumed: StoredSandbox = { ...rest, lastActiveAt: now, version: rest.version + 1 };
        this.save(resumed);
        this.audit.append([{ ts: new Date(now).toISOString(), kind: "lifecycle", action: "resume", decision: "allowed" }]);
        await this.ctx.storage.setAlarm(nextWake(resumed));
        await this.syncRegistry(resumed);
        await this.env.SNAPSHOTS.delete(key).catch(() => undefined);
        return toRecord(resumed);
      } finally {
        this.resuming = false;
      }
    });
  }

  /**
   * Runs a snippet and streams server-sent events: `stdout`/`stderr` while it runs, then
   * `result` or `error`, then `done` with the rest of the result (a summary: nothing sent twice). Anything refused before the
   * code runs (stopped sandbox, limits, queue full) is thrown, so it is still an HTTP error.
   */
  async execStream(request: ExecRequest, tools?: HostTools): Promise<Settled<ReadableStream<Uint8Array>>> {
    return settle(async () => {
      const release = await this.contextTurn(request.context);
      let prepared: Awaited<ReturnType<SandboxDO["startExecution"]>>;
      try {
        prepared = await this.startExecution(request, tools);
      } catch (error) {
        release();
        throw error;
      }
      const { executionId, run } = prepared;
      const sse = sseStream();
      const finished = (async () => {
        try {
          const result = await run((event) => void sse.send(event.stream, event));
          if (result.status === "ok") await sse.send("result", { result: result.result, resultType: result.resultType });
          else await sse.send("error", result.error);
          const { stdout: _stdout, stderr: _stderr, logs: _logs, result: _result, error: _error, ...summary } = result;
          await sse.send("done", summary);
        } catch (error) {
          // A refusal after the run (a context grown past its limit) says what to do; anything else is ours.
          const message = error instanceof SandboxerError ? error.detail : "The execution could not be run; it has been logged.";
          await sse.send("error", { name: error instanceof SandboxerError ? "LimitExceeded" : "InternalError", message });
          await sse.send("done", { executionId, status: "error" });
        } finally {
          release();
          await sse.close();
        }
      })();
      this.ctx.waitUntil(finished);
      return sse.stream;
    });
  }

  /** A host-tool call from the ToolsCapability entrypoint, made by code of a running execution. */
  async invokeTool(executionId: string, name: string, args: unknown): Promise<Settled<unknown>> {
    return settle(async () => {
      const s = await this.running();
      return this.hostTools.invoke(executionId, name, args, {
        audit: this.audit,
        countCall: () => (this.subrequests.take(executionId, s.profile.limits.subRequests) ? s.profile.limits.subRequests : null),
      });
    });
  }

  /** Runs a command to completion (linux profiles). Activity before, during and after. */
  async runCommand(request: CommandRequest): Promise<Settled<CommandResult>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      const { run } = prepareCommand(this.executionContext(s), s, request);
      return run();
    });
  }

  /**
   * Runs a command and streams server-sent events: `stdout`/`stderr` chunks as they are
   * produced, then `exit` with the whole result. Refusals before it runs are HTTP errors.
   */
  async runCommandStream(request: CommandRequest): Promise<Settled<ReadableStream<Uint8Array>>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      const { commandId, run } = prepareCommand(this.executionContext(s), s, request);
      const sse = sseStream();
      const finished = (async () => {
        try {
          const result = await run((event) => void sse.send(event.stream, { data: event.data }));
          await sse.send("exit", result);
        } catch (error) {
          const message = error instanceof SandboxerError ? error.detail : "The command could not be run; it has been logged.";
          await sse.send("error", { commandId, name: "InternalError", message });
        } finally {
          await sse.close();
        }
      })();
      this.ctx.waitUntil(finished);
      return sse.stream;
    });
  }

  /** Starts a background process and answers with its id at once. */
  async startProcess(request: CommandRequest): Promise<Settled<ProcessInfo>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      return startBackground(this.executionContext(s), s, request);
    });
  }

  async listProcesses(): Promise<Settled<ProcessInfo[]>> {
    return settle(async () => {
      const s = await this.running();
      const ctx = this.executionContext(s);
      checkCommands(ctx, s);
      return ctx.provider.listProcesses();
    });
  }

  async getProcess(pid: string): Promise<Settled<ProcessInfo>> {
    return settle(async () => {
      const s = await this.running();
      const ctx = this.executionContext(s);
      checkCommands(ctx, s);
      const found = await ctx.provider.getProcess(pid);
      if (!found) throw new SandboxerError(ErrorCode.notFound, `No process '${pid}' in this sandbox.`);
      return found;
    });
  }

  /** Kills a background process and everything it started. Activity. */
  async killProcess(pid: string): Promise<Settled<ProcessInfo>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      const ctx = this.executionContext(s);
      checkCommands(ctx, s);
      const killed = await ctx.provider.killProcess(pid);
      if (!killed) throw new SandboxerError(ErrorCode.notFound, `No process '${pid}' in this sandbox.`);
      return killed;
    });
  }

  async listExecutions(limit: number, cursor?: string): Promise<Settled<ExecutionPage>> {
    return settle(async () => {
      this.require();
      const before = cursor === undefined ? undefined : Number(cursor);
      if (before !== undefined && (!Number.isSafeInteger(before) || before < 0)) {
        throw new SandboxerError(ErrorCode.validationFailed, "The cursor is not one this API returned.", {
          errors: [{ path: "cursor", message: "invalid cursor" }],
        });
      }
      return this.history.page(limit, before, Date.now());
    });
  }

  /** The `.d.ts` describing exactly the `env` this sandbox's code receives (and `tools`, when host tools are named). */
  async typeDeclarations(toolNames?: string[]): Promise<Settled<string>> {
    return settle(async () => {
      const s = await this.current();
      return sandboxDeclarations(Object.keys(s.env), s.capabilities, Object.keys(s.secrets ?? {}), toolNames);
    });
  }

  /** A call from a capability entrypoint (src/capabilities), made by code running in this sandbox. */
  async invokeCapability(call: CapabilityCall, executionId: string): Promise<Settled<unknown>> {
    return settle(async () => {
      const s = await this.running();
      this.requireRunningExecution(executionId);
      const projected = projectedWriteBytes(this.workspace, s, call);
      if (projected !== null) await reserveStorage(this.env, s.tenant, s.id, projected);
      const value = invokeCapability({ workspace: this.workspace, state: this.state, audit: this.audit, subrequests: this.subrequests }, s, call, executionId);
      if (call.capability === "files" && call.method === "delete" && value === true) await recordStorage(this.env, s.tenant, s.id, this.workspace.usage().used);
      return value;
    });
  }

  /**
   * What the egress gateway needs for one request, read at call time so a PATCH revoking
   * `fetch` applies to the very next request: the rules, and the secret bindings (names and
   * placeholders; the values live sealed in the tenant registry).
   */
  async egressGrant(executionId: string): Promise<Settled<EgressGrant>> {
    return settle(async () => {
      const s = await this.running();
      this.requireRunningExecution(executionId);
      const over = this.subrequests.take(executionId, s.profile.limits.subRequests);
      return {
        granted: s.capabilities.some((g) => g.name === "fetch"),
        overLimit: over ? s.profile.limits.subRequests : null,
        allow: s.network.allow,
        profileAllow: s.profile.network.allow,
        secrets: Object.values(s.secrets ?? {}),
      };
    });
  }

  /** Appends audit entries (capabilities and the egress gateway call this). Kept after stop, until purge. */
  async recordAudit(entries: AuditEntry[]): Promise<Settled<void>> {
    return settle(async () => {
      this.require();
      this.audit.append(entries);
    });
  }

  async listAudit(limit: number, cursor?: string): Promise<Settled<AuditPage>> {
    return settle(async () => {
      this.require();
      const after = cursor === undefined ? 0 : Number(cursor);
      if (!Number.isSafeInteger(after) || after < 0) {
        throw new SandboxerError(ErrorCode.validationFailed, "The cursor is not one this API returned.", {
          errors: [{ path: "cursor", message: "invalid cursor" }],
        });
      }
      return this.audit.page(limit, after);
    });
  }

  /**
   * Both clocks and the tombstone purge. Idempotent: it acts only on what is due at
   * the time it runs, so an early, repeated or retried alarm is harmless. Re-armed in
   * `finally` so a failure (e.g. the registry unreachable) never leaves the sandbox
   * without a clock; the throw also makes the runtime retry the alarm.
   */
  override async alarm(): Promise<void> {
    try {
      const s = this.load();
      if (!s) return;
      const now = Date.now();
      if (s.state === "running") {
        const due = this.dueNow(s, now);
        if (due) await this.stop(s, due.reason, due.at);
        // An early alarm (activity moved the idle clock): bring the registry's copy up to date,
        // once per idle period rather than once per execution.
        else if (this.registrySync.version !== s.version) await this.syncRegistry(s);
      } else {
        if (s.releaseRetryAt !== undefined && now >= s.releaseRetryAt) {
          const { releaseRetryAt: _, ...released } = s;
          this.save((await this.release(s)) ? released : { ...s, releaseRetryAt: now + RELEASE_RETRY_MS });
        }
        const current = this.load()!;
        if (now >= nextWake({ ...current, releaseRetryAt: undefined })) await this.purge(current);
      }
    } finally {
      const s = this.load();
      if (s) {
        // An idle clock held by a running command is looked at again shortly, not at once.
        const wake = nextWake(s);
        await this.ctx.storage.setAlarm(s.state === "running" && wake <= Date.now() ? Date.now() + IDLE_RECHECK_MS : wake);
      }
    }
  }

  // -- internals -------------------------------------------------------------

  /** Activity, the checks before anything runs, and the host tools held for the execution. */
  private async startExecution(request: ExecRequest, tools: HostTools | undefined) {
    const s = this.touch(await this.running());
    const names = hostToolNames(tools);
    const contextId = request.context;
    const cell = contextId
      ? { stored: this.contexts.load(contextId), save: (outcome: Parameters<ContextStore["save"]>[1]) => this.contexts.save(contextId, outcome, Date.now()) }
      : undefined;
    const prepared = await prepareExecution(this.executionContext(s), s, request, { prelude: names ? toolsPrelude(names) : "", cell });
    this.hostTools.hold(prepared.executionId, tools);
    return prepared;
  }

  /**
   * Waits for the cells queued before this one in the same context (each starts from what the
   * previous one left); answers the function that lets the next one go. No context: no wait.
   */
  private async contextTurn(contextId: string | undefined): Promise<() => void> {
    if (contextId === undefined) return () => {};
    const queued = this.contextCells.get(contextId) ?? 0;
    if (queued >= MAX_QUEUED_EXECUTIONS) {
      throw new SandboxerError(ErrorCode.rateLimited, `${queued} cells are already waiting in context ${contextId}; its cells run one at a time.`, {
        retryAfterSeconds: 1,
      });
    }
    this.contextCells.set(contextId, queued + 1);
    const before = this.contextTurns.get(contextId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.contextTurns.set(contextId, tail);
    await before;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.contextTurns.get(contextId) === tail) this.contextTurns.delete(contextId);
      const left = (this.contextCells.get(contextId) ?? 1) - 1;
      if (left > 0) this.contextCells.set(contextId, left);
      else this.contextCells.delete(contextId);
    };
  }

  /** Creates the tables and stores a new sandbox with its alarm. */
  private async store(initial: StoredSandbox): Promise<void> {
    this.sql.exec("CREATE TABLE IF NOT EXISTS sandbox (id TEXT PRIMARY KEY, doc TEXT NOT NULL)");
    this.workspace.init();
    this.audit.init();
    this.history.init();
    this.state.init();
    this.save(initial);
    await this.ctx.storage.setAlarm(nextWake(initial));
  }

  /** The provider serving this sandbox (src/providers): built per call, it holds no state. */
  private provider(s: StoredSandbox): SandboxProvider {
    const fetchGranted = s.capabilities.some((g) => g.name === "fetch");
    return providerFor(
      this.env,
      {
        provider: s.provider ?? "isolate",
        profile: s.profile,
        key: this.ctx.id.toString(),
        network: fetchGranted ? { allow: s.network.allow, profileAllow: s.profile.network.allow } : null,
      },
      {
        loader: this.env.LOADER,
        files: this.workspace.asProviderFiles(),
        env: (executionId) => this.isolateEnv(s, executionId),
        guidance: () => runGuidance(s),
        // Never omitted (that would inherit our network): the gateway, or nothing at all.
        globalOutbound: (executionId) =>
          fetchGranted ? this.ctx.exports.EgressGateway({ props: { tenant: s.tenant, sandboxId: s.id, executionId } satisfies CapabilityProps }) : null,
      },
    );
  }

  private snapshotParts(s: StoredSandbox): SnapshotParts {
    return { files: this.provider(s).files, state: this.state, contexts: this.contexts };
  }

  private executionContext(s: StoredSandbox): ExecutionContext {
    // Isolate executions keep their old clock semantics; linux runs hold the idle clock.
    const holdsIdle = (s.provider ?? "isolate") !== "isolate";
    const held = new Set<string>();
    return {
      provider: this.provider(s),
      history: this.history,
      queue: this.queue,
      subrequestsExceeded: (executionId) => this.subrequests.exceeded(executionId, s.profile.limits.subRequests),
      acquireSlot: (executionId, ttlMs) => acquireExecutionSlot(this.env, s.tenant, executionId, ttlMs),
      onStarted: (executionId) => {
        if (!holdsIdle) return;
        held.add(executionId);
        this.activeRuns++;
      },
      onAudit: (entries, executionId) => this.audit.append(entries.map((entry) => ({ ...entry, executionId }))),
      onFinished: (executionId) => {
        this.subrequests.forget(executionId);
        this.hostTools.release(executionId);
        if (held.delete(executionId)) this.activeRuns--;
        this.afterExecution();
      },
    };
  }

  /** Which clock has run out; the idle clock waits while a command runs (it is activity). */
  private dueNow(s: StoredSandbox, now: number) {
    const due = dueReason(s, now);
    if (due?.reason === "idle_timeout" && this.activeRuns > 0) return undefined;
    return due;
  }

  /**
   * The snippet's `env`: the sandbox's plain values plus one RPC stub per granted
   * capability, bound to this sandbox by trusted props.
   */
  private isolateEnv(s: StoredSandbox, executionId: string): Record<string, unknown> {
    const env: Record<string, unknown> = { ...s.env };
    for (const [name, binding] of Object.entries(s.secrets ?? {})) env[name] = binding.placeholder;
    const props: CapabilityProps = { tenant: s.tenant, sandboxId: s.id, executionId };
    for (const grant of s.capabilities) {
      const entrypoint = CAPABILITIES[grant.name]?.entrypoint;
      if (entrypoint) env[grant.name] = this.ctx.exports[entrypoint]({ props });
    }
    if (this.hostTools.has(executionId)) env[TOOLS_ENV_KEY] = this.ctx.exports.ToolsCapability({ props });
    return env;
  }

  /** Calls on behalf of an execution that has finished are refused: nothing of a run outlives it. */
  private requireRunningExecution(executionId: string): void {
    if (!this.history.isRunning(executionId)) {
      throw new SandboxerError(ErrorCode.capabilityDenied, `Execution ${executionId || "(none)"} has ended; what it left running can no longer act.`, {
        reason: "execution_ended",
      });
    }
  }

  /** The idle clock counts from the end of an execution, not its start. */
  private afterExecution(): void {
    const s = this.load();
    if (s?.state === "running") this.syncRegistryLater(this.touch(s));
  }

  private load(): StoredSandbox | null {
    if (this.cached === undefined) {
      const exists = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sandbox'").toArray().length > 0;
      const row = exists ? this.sql.exec<{ doc: string }>("SELECT doc FROM sandbox LIMIT 1").toArray()[0] : undefined;
      this.cached = row ? (JSON.parse(row.doc) as StoredSandbox) : null;
      // A fresh instance runs nothing yet: executions still marked running were cut off.
      const restarts = parseRestarts(this.env.SANDBOXER_RESTARTS);
      if (this.cached) this.history.failOrphans(Date.now(), (startedAt) => orphanError(restarts, `${this.cached!.tenant}:${this.cached!.id}`, startedAt));
    }
    return this.cached;
  }

  private require(): StoredSandbox {
    const s = this.load();
    if (!s) throw notFound();
    return s;
  }

  private save(s: StoredSandbox): void {
    this.sql.exec("INSERT OR REPLACE INTO sandbox (id, doc) VALUES (?, ?)", s.id, JSON.stringify(s));
    this.cached = s;
  }

  /**
   * The record, with any clock that ran out applied first: if the runtime was down
   * when the alarm fell due, a request that arrives before the retried alarm still
   * sees the truth.
   */
  private async current(): Promise<StoredSandbox> {
    const s = this.require();
    const due = this.dueNow(s, Date.now());
    if (!due) return s;
    return this.stop(s, due.reason, due.at);
  }

  private async running(): Promise<StoredSandbox> {
    const s = await this.current();
    if (s.state !== "running") {
      throw new SandboxerError(ErrorCode.sandboxStopped, `Sandbox ${s.id} is stopped (${s.endReason}) and cannot run again: create a new one with POST /v1/sandboxes.`, {
        reason: s.endReason,
        endedAt: s.endedAt === undefined ? undefined : new Date(s.endedAt).toISOString(),
      });
    }
    if (s.pausedAt !== undefined) {
      throw new SandboxerError(ErrorCode.sandboxPaused, `Sandbox ${s.id} is paused: resume it first with POST /v1/sandboxes/${s.id}/resume.`, {
        pausedAt: new Date(s.pausedAt).toISOString(),
      });
    }
    return s;
  }

  /** Records activity: moves the idle clock (the alarm re-arms itself if it fires early). */
  private touch(s: StoredSandbox): StoredSandbox {
    const next = { ...s, lastActiveAt: Date.now(), version: s.version + 1 };
    this.save(next);
    return next;
  }

  private async stop(s: StoredSandbox, reason: EndReason, at: number): Promise<StoredSandbox> {
    const stopped: StoredSandbox = { ...s, state: "stopped", endedAt: at, endReason: reason, env: {}, version: s.version + 1 };
    this.workspace.clear();
    this.state.clear();
    this.contexts.clear();
    // Saved first, so a request arriving while the runtime is released already gets 410 and
    // cannot start anything new in it. Then every process is killed and the runtime released
    // before the caller hears back. A runtime that cannot be reached must not keep the sandbox
    // alive: the release is tried again by the alarm until the purge (and meanwhile the jail
    // host kills what is left in its cgroups when it restarts, a container is bounded by its
    // sleepAfter).
    this.save(stopped);
    if (s.pausedAt !== undefined) await this.env.SNAPSHOTS.delete(pausedSandboxKey(s.tenant, s.id)).catch(() => undefined);
    const final = (await this.release(stopped)) ? stopped : { ...stopped, releaseRetryAt: Date.now() + RELEASE_RETRY_MS };
    if (final !== stopped) this.save(final);
    await this.ctx.storage.setAlarm(nextWake(final));
    await this.syncRegistry(final);
    return final;
  }

  /** Kills everything left in a stopped sandbox's runtime and releases it; false if that failed. */
  private async release(s: StoredSandbox): Promise<boolean> {
    try {
      await this.provider(s).stop();
      return true;
    } catch (error) {
      console.error(`sandbox ${s.id}: releasing its runtime failed; trying again later`, error);
      return false;
    }
  }

  /** End of the tombstone: forget the sandbox entirely (deleteAll also removes the alarm). */
  private async purge(s: StoredSandbox): Promise<void> {
    if (!s.ephemeral) await this.registry(s.tenant).remove(s.id);
    await this.ctx.storage.deleteAll();
    this.cached = null;
  }

  private registry(tenant: string) {
    return this.env.REGISTRY.get(this.env.REGISTRY.idFromName(tenant));
  }

  private async syncRegistry(s: StoredSandbox): Promise<void> {
    if (s.ephemeral) return;
    this.registrySync = { at: Date.now(), version: s.version };
    await this.registry(s.tenant).upsert(toRecord(s), s.version);
  }

  /**
   * Activity only moves `lastActiveAt` (and with it `idleExpiresAt`): the index update need
   * not hold up the request, and is coalesced to one per `REGISTRY_ACTIVITY_SYNC_MS`, so a
   * tenant's registry writes grow with lifecycle changes, not executions (one Durable Object
   * per tenant would otherwise be the hot spot). The alarm catches up what was skipped;
   * a failed update is corrected by the next one.
   */
  private syncRegistryLater(s: StoredSandbox): void {
    if (Date.now() - this.registrySync.at < REGISTRY_ACTIVITY_SYNC_MS) return;
    this.ctx.waitUntil(this.syncRegistry(s).catch(() => undefined));
  }
}

function notFound(): SandboxerError {
  return new SandboxerError(ErrorCode.notFound, "No such sandbox.");
}

/** `If-Match` may be `*` or a comma-separated list of entity tags. */
function etagMatches(header: string, etag: string): boolean {
  const candidates = header.split(",").map((t) => t.trim().replace(/^W\//, ""));
  return candidates.includes("*") || candidates.includes(etag);
}
