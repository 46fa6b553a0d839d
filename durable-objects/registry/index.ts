import { DurableObject } from "cloudflare:workers";
import { ErrorCode, SandboxerError, settle, type Settled } from "../../src/errors";
import type { SandboxRecord } from "../../src/schemas/sandbox";
import type { SealedSecret } from "../../src/secrets/crypto";
import { QuotaLedger } from "./quotas";

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface ListQuery {
  state?: "running" | "stopped";
  metadata: Record<string, string>;
  limit: number;
  cursor?: string;
  /** Only ids starting with this (search by id). */
  idPrefix?: string;
  /** Only running sandboxes whose earlier clock (TTL or idle) runs out at or before this ISO time. */
  deadlineBefore?: string;
  /** Only paused sandboxes (`true`) or only those not paused (`false`); a paused one's state is still `running`. */
  paused?: boolean;
}

export type IdempotencyClaim = { outcome: "new" } | { outcome: "replay"; sandboxId: string } | { outcome: "conflict" };

/**
 * The per-tenant index of sandboxes, so listing never fans out to every SandboxDO.
 * SandboxDO pushes its record here on every state or metadata change (including
 * expiry by alarm) and removes it when the tombstone is purged. Also remembers
 * Idempotency-Keys for create.
 */
export class RegistryDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly quotas: QuotaLedger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS sandboxes (
      id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS sandboxes_by_created ON sandboxes (created_at DESC, id DESC)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    this.sql.exec(`CREATE TABLE IF NOT EXISTS idempotency (
      key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, sandbox_id TEXT NOT NULL, created_at INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS secrets (
      name TEXT PRIMARY KEY, iv TEXT NOT NULL, ciphertext TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    this.quotas = new QuotaLedger(this.sql);
  }

  /** Reserves a slot for a sandbox about to be created (quota `sandboxesAlive`). */
  admitSandbox(id: string, max: number): Promise<Settled<void>> {
    return settle(() => this.quotas.admitSandbox(id, max, Date.now()));
  }

  /** Takes an execution slot (quota `executionsInFlight`) until released or `ttlMs` passes. */
  acquireExecution(executionId: string, max: number, ttlMs: number): Promise<Settled<void>> {
    return settle(() => this.quotas.acquireExecution(executionId, max, ttlMs, Date.now()));
  }

  releaseExecution(executionId: string): void {
    this.quotas.releaseExecution(executionId);
  }

  /** Records a sandbox's workspace size before a write that brings it there (quota `storageBytes`). */
  reserveStorage(sandboxId: string, bytes: number, max: number): Promise<Settled<void>> {
    return settle(() => this.quotas.reserveStorage(sandboxId, bytes, max));
  }

  /** Records a sandbox's workspace size after it shrank, giving the bytes back to the tenant's quota. */
  recordStorage(sandboxId: string, bytes: number): void {
    this.quotas.recordStorage(sandboxId, bytes);
  }

  /** Stores (or replaces) a sealed secret; true if it is new. Sealing happens in the Worker, never here. */
  putSecret(name: string, sealed: SealedSecret, now: number): { created: boolean; createdAt: number; updatedAt: number } {
    const existing = this.sql.exec<{ created_at: number }>("SELECT created_at FROM secrets WHERE name = ?", name).toArray()[0];
    this.sql.exec(
      `INSERT INTO secrets (name, iv, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET iv = excluded.iv, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
      name,
      sealed.iv,
      sealed.ciphertext,
      now,
      now,
    );
    return { created: !existing, createdAt: existing?.created_at ?? now, updatedAt: now };
  }

  /** Names and dates only: values are write-only. */
  listSecrets(): { name: string; createdAt: number; updatedAt: number }[] {
    return this.sql
      .exec<{ name: string; created_at: number; updated_at: number }>("SELECT name, created_at, updated_at FROM secrets ORDER BY name")
      .toArray()
      .map((r) => ({ name: r.name, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  deleteSecret(name: string): boolean {
    return this.sql.exec("DELETE FROM secrets WHERE name = ? RETURNING name", name).toArray().length > 0;
  }

  /** Which of `names` do not exist. */
  missingSecrets(names: string[]): string[] {
    const have = new Set(this.sql.exec<{ name: string }>("SELECT name FROM secrets").toArray().map((r) => r.name));
    return names.filter((n) => !have.has(n));
  }

  /** A sealed secret, for the egress gateway to open; null if it was deleted. */
  sealedSecret(name: string): SealedSecret | null {
    const row = this.sql.exec<{ iv: string; ciphertext: string }>("SELECT iv, ciphertext FROM secrets WHERE name = ?", name).toArray()[0];
    return row ? { iv: row.iv, ciphertext: row.ciphertext } : null;
  }

  /**
   * Records a sandbox's latest state. Updates may arrive out of order (activity updates
   * are not awaited), so an older `version` never overwrites a newer one.
   */
  upsert(record: SandboxRecord, version: number): void {
    this.countIndexWrite();
    this.sql.exec(
      `INSERT INTO sandboxes (id, state, created_at, version, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET state = excluded.state, version = excluded.version, doc = excluded.doc
       WHERE excluded.version > sandboxes.version`,
      record.id,
      record.state,
      record.createdAt,
      version,
      JSON.stringify(record),
    );
    this.quotas.recorded(record.id, record.state);
  }

  remove(id: string): void {
    this.countIndexWrite();
    this.sql.exec("DELETE FROM sandboxes WHERE id = ?", id);
  }

  /**
   * How many index updates (upserts and removals) this tenant's registry has taken: the bench
   * reports it per 1,000 executions, since this one object per tenant is what busy sandboxes share.
   */
  indexWrites(): number {
    return this.sql.exec<{ value: number }>("SELECT value FROM counters WHERE name = 'index_writes'").toArray()[0]?.value ?? 0;
  }

  private countIndexWrite(): void {
    this.sql.exec("INSERT INTO counters (name, value) VALUES ('index_writes', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1");
  }

  /** Newest first; `nextCursor` is opaque and null on the last page. */
  list(query: ListQuery): Promise<Settled<{ sandboxes: SandboxRecord[]; nextCursor: string | null }>> {
    return settle(() => this.page(query));
  }

  private page(query: ListQuery): { sandboxes: SandboxRecord[]; nextCursor: string | null } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.state) {
      where.push("state = ?");
      params.push(query.state);
    }
    for (const [key, value] of Object.entries(query.metadata)) {
      where.push("EXISTS (SELECT 1 FROM json_each(doc, '$.metadata') WHERE json_each.key = ? AND json_each.value = ?)");
      params.push(key, value);
    }
    if (query.idPrefix) {
      // A range scan instead of LIKE, so `%` and `_` are not wildcards.
      where.push("id >= ? AND id < ?");
      params.push(query.idPrefix, `${query.idPrefix}\uffff`);
    }
    if (query.deadlineBefore) {
      // ISO 8601 UTC strings of one format compare in time order.
      where.push(
        "state = 'running' AND min(json_extract(doc, '$.expiresAt'), coalesce(json_extract(doc, '$.idleExpiresAt'), json_extract(doc, '$.expiresAt'))) <= ?",
      );
      params.push(query.deadlineBefore);
    }
    if (query.paused !== undefined) {
      // The record carries `paused: true` only while paused (and only while running).
      where.push(`json_extract(doc, '$.paused') IS ${query.paused ? "1" : "NULL"}`);
    }
    if (query.cursor) {
      const [createdAt, id] = decodeCursor(query.cursor);
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      params.push(createdAt, createdAt, id);
    }
    const rows = this.sql
      .exec<{ doc: string }>(
        `SELECT doc FROM sandboxes ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
        ...params,
        query.limit + 1,
      )
      .toArray();
    const sandboxes = rows.slice(0, query.limit).map((r) => JSON.parse(r.doc) as SandboxRecord);
    const last = sandboxes.at(-1);
    return { sandboxes, nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /**
   * Claims `key` for a create whose body hashes to `bodyHash`. Single-threaded within
   * the Durable Object, so two concurrent creates with one key cannot both win.
   */
  claimIdempotencyKey(key: string, bodyHash: string, sandboxId: string): IdempotencyClaim {
    const now = Date.now();
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_TTL_MS);
    const row = this.sql
      .exec<{ body_hash: string; sandbox_id: string }>("SELECT body_hash, sandbox_id FROM idempotency WHERE key = ?", key)
      .toArray()[0];
    if (row) return row.body_hash === bodyHash ? { outcome: "replay", sandboxId: row.sandbox_id } : { outcome: "conflict" };
    this.sql.exec("INSERT INTO idempotency (key, body_hash, sandbox_id, created_at) VALUES (?, ?, ?, ?)", key, bodyHash, sandboxId, now);
    return { outcome: "new" };
  }

  /** Forgets a claim whose create failed, so a retry with the same key can succeed. */
  releaseIdempotencyKey(key: string, sandboxId: string): void {
    this.sql.exec("DELETE FROM idempotency WHERE key = ? AND sandbox_id = ?", key, sandboxId);
  }
}

function encodeCursor(createdAt: string, id: string): string {
  return btoa(JSON.stringify([createdAt, id])).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const padded = cursor.replace(/-/g, "+").replace(/_/g, "/");
    const value: unknown = JSON.parse(atob(padded + "=".repeat((4 - (padded.length % 4)) % 4)));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "string")) return value as [string, string];
  } catch {
    // fall through to the validation error
  }
  throw new SandboxerError(ErrorCode.validationFailed, "The cursor is not one this API returned.", {
    errors: [{ path: "cursor", message: "invalid cursor" }],
  });
}
