import { DurableObject } from "cloudflare:workers";
import { ErrorCode, SandboxerError, settle, type Settled } from "../../src/errors";
import type { FileEntry } from "../../src/schemas/files";
import type { PatchSandboxBody, SandboxRecord } from "../../src/schemas/sandbox";
import { applyPatch } from "./lifecycle";
import { dueReason, etagOf, nextWake, toRecord, type StoredSandbox } from "./record";
import { Workspace } from "./workspace";
import { AuditLog } from "./audit";
import type { AuditEntry, AuditPage } from "../../src/schemas/audit";
import type { ExecRequest, ExecResult } from "../../src/schemas/exec";
import type { ExecutionPage } from "../../src/schemas/executions";
import { prepareExecution, type ExecutionContext } from "./execute";
import { ExecutionHistory } from "./executions";
import { FairQueue } from "./queue";
import { sseStream } from "./sse";
import { invokeCapability, projectedWriteBytes } from "./capabilities";
import { acquireExecutionSlot, reserveStorage } from "../registry/admit";
import { StateStore } from "./state-store";
import { SubrequestCounter } from "./subrequests";
import { orphanError, parseRestarts } from "./orphans";
import { sandboxDeclarations } from "../../src/capabilities/declarations";
import { CAPABILITIES, type CapabilityCall, type CapabilityProps } from "../../src/capabilities/definitions";
import type { NetworkRule } from "../../src/schemas/profile";
import type { SecretBinding } from "../../src/schemas/sandbox";

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
  private readonly queue = new FairQueue(MAX_CONCURRENT_EXECUTIONS);
  private readonly subrequests = new SubrequestCounter();
  /** The stored record, read once per instance; `null` means "none stored". */
  private cached: StoredSandbox | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.workspace = new Workspace(this.sql, () => this.require().profile.limits);
    this.audit = new AuditLog(this.sql);
    this.history = new ExecutionHistory(this.sql);
    this.state = new StateStore(this.sql);
    // Deliberately no writes here: constructing the object (any request, an alarm, an
    // eviction and reload) must never extend a clock, and probing random ids must not
    // leave storage behind. Tables are created by `create`.
  }

  /** Stores a sandbox planned by `planCreate` and arms its clocks. */
  async create(initial: StoredSandbox): Promise<Settled<SandboxRecord>> {
    return settle(async () => {
      if (this.load()) throw new SandboxerError(ErrorCode.internal, "Sandbox id collision.");
      this.sql.exec("CREATE TABLE IF NOT EXISTS sandbox (id TEXT PRIMARY KEY, doc TEXT NOT NULL)");
      this.workspace.init();
      this.audit.init();
      this.history.init();
      this.state.init();
      this.save(initial);
      await this.ctx.storage.setAlarm(nextWake(initial));
      await this.syncRegistry(initial);
      return toRecord(initial);
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
      await reserveStorage(this.env, s.tenant, s.id, this.workspace.projectedUsage(path, data.byteLength));
      const entry = this.workspace.write(path, data, s.lastActiveAt);
      this.syncRegistryLater(s);
      return entry;
    });
  }

  async getFile(path: string): Promise<Settled<{ entry: FileEntry; data: Uint8Array }>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      this.syncRegistryLater(s);
      const file = this.workspace.read(path);
      if (!file) throw new SandboxerError(ErrorCode.notFound, `No file '${path}' in this sandbox's workspace.`);
      return file;
    });
  }

  async deleteFile(path: string): Promise<Settled<void>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      this.syncRegistryLater(s);
      if (!this.workspace.delete(path)) throw new SandboxerError(ErrorCode.notFound, `No file '${path}' in this sandbox's workspace.`);
    });
  }

  async listFiles(prefix: string): Promise<Settled<FileEntry[]>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      this.syncRegistryLater(s);
      return this.workspace.list(prefix);
    });
  }

  /** Runs a snippet and answers with its whole result. Counts as activity (before and after). */
  async exec(request: ExecRequest): Promise<Settled<ExecResult>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      const { run } = await prepareExecution(this.executionContext(s), s, request);
      return run();
    });
  }

  /**
   * Runs a snippet and streams server-sent events: `stdout`/`stderr` while it runs, then
   * `result` or `error`, then `done` with the whole result. Anything refused before the
   * code runs (stopped sandbox, limits, queue full) is thrown, so it is still an HTTP error.
   */
  async execStream(request: ExecRequest): Promise<Settled<ReadableStream<Uint8Array>>> {
    return settle(async () => {
      const s = this.touch(await this.running());
      const { executionId, run } = await prepareExecution(this.executionContext(s), s, request);
      const sse = sseStream();
      const finished = (async () => {
        try {
          const result = await run((event) => void sse.send(event.stream, event));
          if (result.status === "ok") await sse.send("result", { result: result.result, resultType: result.resultType });
          else await sse.send("error", result.error);
          await sse.send("done", result);
        } catch {
          await sse.send("error", { name: "InternalError", message: "The execution could not be run; it has been logged." });
          await sse.send("done", { executionId, status: "error" });
        } finally {
          await sse.close();
        }
      })();
      this.ctx.waitUntil(finished);
      return sse.stream;
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

  /** The `.d.ts` describing exactly the `env` this sandbox's code receives. */
  async typeDeclarations(): Promise<Settled<string>> {
    return settle(async () => {
      const s = await this.current();
      return sandboxDeclarations(Object.keys(s.env), s.capabilities, Object.keys(s.secrets ?? {}));
    });
  }

  /** A call from a capability entrypoint (src/capabilities), made by code running in this sandbox. */
  async invokeCapability(call: CapabilityCall, executionId: string): Promise<Settled<unknown>> {
    return settle(async () => {
      const s = await this.running();
      const projected = projectedWriteBytes(this.workspace, s, call);
      if (projected !== null) await reserveStorage(this.env, s.tenant, s.id, projected);
      return invokeCapability({ workspace: this.workspace, state: this.state, audit: this.audit, subrequests: this.subrequests }, s, call, executionId);
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
        const due = dueReason(s, now);
        if (due) await this.stop(s, due.reason, due.at);
      } else if (now >= nextWake(s)) {
        await this.purge(s);
      }
    } finally {
      const s = this.load();
      if (s) await this.ctx.storage.setAlarm(nextWake(s));
    }
  }

  // -- internals -------------------------------------------------------------

  private executionContext(s: StoredSandbox): ExecutionContext {
    return {
      loader: this.env.LOADER,
      history: this.history,
      queue: this.queue,
      workspace: this.workspace,
      env: (executionId) => this.isolateEnv(s, executionId),
      // Never omitted (that would inherit our network): the gateway, or nothing at all.
      globalOutbound: (executionId) =>
        s.capabilities.some((g) => g.name === "fetch")
          ? this.ctx.exports.EgressGateway({ props: { tenant: s.tenant, sandboxId: s.id, executionId } satisfies CapabilityProps })
          : null,
      subrequestsExceeded: (executionId) => this.subrequests.exceeded(executionId, s.profile.limits.subRequests),
      acquireSlot: (executionId, ttlMs) => acquireExecutionSlot(this.env, s.tenant, executionId, ttlMs),
      onFinished: (executionId) => {
        this.subrequests.forget(executionId);
        this.afterExecution();
      },
    };
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
    return env;
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
    const due = dueReason(s, Date.now());
    if (!due) return s;
    return this.stop(s, due.reason, due.at);
  }

  private async running(): Promise<StoredSandbox> {
    const s = await this.current();
    if (s.state !== "running") {
      throw new SandboxerError(ErrorCode.sandboxStopped, `Sandbox ${s.id} is stopped (${s.endReason}).`, {
        reason: s.endReason,
        endedAt: s.endedAt === undefined ? undefined : new Date(s.endedAt).toISOString(),
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
    this.save(stopped);
    await this.ctx.storage.setAlarm(nextWake(stopped));
    await this.syncRegistry(stopped);
    return stopped;
  }

  /** End of the tombstone: forget the sandbox entirely (deleteAll also removes the alarm). */
  private async purge(s: StoredSandbox): Promise<void> {
    await this.registry(s.tenant).remove(s.id);
    await this.ctx.storage.deleteAll();
    this.cached = null;
  }

  private registry(tenant: string) {
    return this.env.REGISTRY.get(this.env.REGISTRY.idFromName(tenant));
  }

  private async syncRegistry(s: StoredSandbox): Promise<void> {
    await this.registry(s.tenant).upsert(toRecord(s), s.version);
  }

  /**
   * Activity only moves `lastActiveAt`, which listing does not filter on: the index
   * update need not hold up the request. A failed update is corrected by the next one.
   */
  private syncRegistryLater(s: StoredSandbox): void {
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
