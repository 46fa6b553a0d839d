import type { AuditEntry, AuditPage } from "../../src/schemas/audit";

/** Most audit rows kept per sandbox. */
export const MAX_AUDIT_ROWS = 10_000;
/** Rows dropped at once when the log is full, so the (sorting) eviction runs rarely. */
const EVICTION_BATCH_ROWS = 500;
/** Failure rows remembered for aggregation (per Durable Object instance). */
const MAX_AGGREGATION_KEYS = 1000;

const READ_ACTIONS = ["files.read", "files.readBytes", "files.list", "state.get", "state.list"];

/** A refusal, or an allowed call that failed: cheap for sandbox code to produce in bulk. */
export function isFailure(entry: AuditEntry): boolean {
  return entry.decision === "denied" || (entry.detail?.startsWith("failed") ?? false);
}

/**
 * SQL rank of a row for eviction: failures go first, then reads, and only then what must
 * survive longest (allowed egress, writes, deletes), each group oldest first.
 */
const EVICTION_RANK = `CASE
  WHEN json_extract(doc, '$.decision') = 'denied' OR json_extract(doc, '$.detail') LIKE 'failed%' THEN 0
  WHEN json_extract(doc, '$.kind') = 'capability' AND json_extract(doc, '$.action') IN (${READ_ACTIONS.map((a) => `'${a}'`).join(", ")}) THEN 1
  ELSE 2 END`;

/**
 * The sandbox's audit log: every capability call and egress decision, in order.
 *
 * The audited code must not be able to erase it: a burst of cheap failing calls (a denied
 * capability, a refused host) is aggregated into one row with a `count` per identical failure,
 * and when the log is full failures and reads are evicted before allowed egress and writes.
 */
export class AuditLog {
  /** Identical failure → the seq of the row counting it. */
  private readonly failureRows = new Map<string, number>();
  private rowCount: number | undefined;

  constructor(private readonly sql: SqlStorage) {}

  init(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL)`);
  }

  append(entries: AuditEntry[]): void {
    for (const entry of entries) {
      if (isFailure(entry) && this.aggregate(entry)) continue;
      const [row] = this.sql.exec<{ seq: number }>("INSERT INTO audit (doc) VALUES (?) RETURNING seq", JSON.stringify(entry)).toArray();
      if (isFailure(entry) && row) {
        if (this.failureRows.size >= MAX_AGGREGATION_KEYS) this.failureRows.clear();
        this.failureRows.set(failureKey(entry), row.seq);
      }
      this.rowCount = this.count() + 1;
    }
    if (this.count() > MAX_AUDIT_ROWS) this.evict(this.count() - MAX_AUDIT_ROWS + EVICTION_BATCH_ROWS);
  }

  /** Counts a failure into the row of an identical earlier one; false if there is none. */
  private aggregate(entry: AuditEntry): boolean {
    const seq = this.failureRows.get(failureKey(entry));
    if (seq === undefined) return false;
    const updated = this.sql.exec(
      `UPDATE audit SET doc = json_set(doc, '$.count', coalesce(json_extract(doc, '$.count'), 1) + 1, '$.lastTs', ?) WHERE seq = ?`,
      entry.ts,
      seq,
    ).rowsWritten;
    return updated > 0;
  }

  private count(): number {
    this.rowCount ??= this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit").one().n;
    return this.rowCount;
  }

  private evict(rows: number): void {
    this.sql.exec(`DELETE FROM audit WHERE seq IN (SELECT seq FROM audit ORDER BY ${EVICTION_RANK}, seq LIMIT ?)`, rows);
    this.rowCount = undefined; // recounted on next use (eviction is rare)
  }

  /** Oldest first; the cursor is the last `seq` seen. */
  page(limit: number, after = 0): AuditPage {
    const rows = this.sql
      .exec<{ seq: number; doc: string }>("SELECT seq, doc FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", after, limit + 1)
      .toArray();
    const entries = rows.slice(0, limit).map((r) => ({ seq: r.seq, ...(JSON.parse(r.doc) as AuditEntry) }));
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  clear(): void {
    this.sql.exec("DELETE FROM audit");
    this.failureRows.clear();
    this.rowCount = 0;
  }
}

/** What makes two failures "the same" for aggregation: everything but the time. */
function failureKey(entry: AuditEntry): string {
  return JSON.stringify([entry.kind, entry.action, entry.decision, entry.detail, entry.host, entry.method, entry.status, entry.executionId]);
}
