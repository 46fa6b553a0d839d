import { ErrorCode, SandboxerError } from "../../src/errors";

/** How long a sandbox reserved at create counts before its record arrives (a failed create frees it then). */
const RESERVATION_MS = 60_000;

/**
 * Per-tenant quota accounting, inside the tenant's RegistryDO (single-threaded, so two
 * concurrent creates cannot both take the last slot).
 *
 * - sandboxes alive: the index's running rows plus creates reserved but not yet recorded;
 * - executions in flight: leases held in memory, released when the execution ends and expiring
 *   on their own, so a lease lost with a crashed sandbox object cannot hold a slot for ever (and
 *   a restarted runtime starts from zero, as it runs nothing);
 * - storage: each running sandbox's workspace bytes, kept in the registry's storage.
 */
export class QuotaLedger {
  private readonly reservations = new Map<string, number>();
  private readonly leases = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS storage_usage (sandbox_id TEXT PRIMARY KEY, bytes INTEGER NOT NULL)");
  }

  /** Reserves a slot for a new sandbox, or throws quota_exceeded (429). */
  admitSandbox(id: string, max: number, now: number): void {
    for (const [reserved, until] of this.reservations) if (until < now) this.reservations.delete(reserved);
    const running = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sandboxes WHERE state = 'running'").one().n;
    const alive = running + this.reservations.size;
    if (alive >= max) {
      throw new SandboxerError(ErrorCode.quotaExceeded, `This tenant has ${alive} sandboxes running, its quota. Delete one (or let one expire) first.`, {
        quota: "sandboxesAlive",
        max,
        current: alive,
        retryAfterSeconds: 60,
      });
    }
    this.reservations.set(id, now + RESERVATION_MS);
  }

  /** The sandbox's record arrived (or it stopped): its reservation is no longer needed. */
  recorded(id: string, state: "running" | "stopped"): void {
    this.reservations.delete(id);
    if (state === "stopped") this.sql.exec("DELETE FROM storage_usage WHERE sandbox_id = ?", id);
  }

  /** Takes an execution slot until `release` or `ttlMs`, or throws quota_exceeded (429). */
  acquireExecution(executionId: string, max: number, ttlMs: number, now: number): void {
    for (const [id, until] of this.leases) if (until < now) this.leases.delete(id);
    if (this.leases.size >= max) {
      throw new SandboxerError(ErrorCode.quotaExceeded, `This tenant has ${this.leases.size} executions running or queued, its quota. Retry when some have finished.`, {
        quota: "executionsInFlight",
        max,
        current: this.leases.size,
        retryAfterSeconds: 1,
      });
    }
    this.leases.set(executionId, now + ttlMs);
  }

  releaseExecution(executionId: string): void {
    this.leases.delete(executionId);
  }

  /** Records that a sandbox's workspace will hold `bytes`, or throws limit_exceeded (422) if the tenant's total would pass `max`. */
  reserveStorage(sandboxId: string, bytes: number, max: number): void {
    const others = this.sql.exec<{ n: number | null }>("SELECT SUM(bytes) AS n FROM storage_usage WHERE sandbox_id != ?", sandboxId).one().n ?? 0;
    if (others + bytes > max) {
      throw new SandboxerError(
        ErrorCode.limitExceeded,
        `This write would bring the tenant's workspaces to ${others + bytes} bytes; its storage quota is ${max} bytes. Delete files or sandboxes first.`,
        { limit: "tenantStorageBytes", quota: "storageBytes", max, used: others },
      );
    }
    this.recordStorage(sandboxId, bytes);
  }

  /** Records a sandbox's workspace size after it shrank (a file deleted): no check, it only frees quota. */
  recordStorage(sandboxId: string, bytes: number): void {
    this.sql.exec("INSERT INTO storage_usage (sandbox_id, bytes) VALUES (?, ?) ON CONFLICT(sandbox_id) DO UPDATE SET bytes = excluded.bytes", sandboxId, bytes);
  }
}
