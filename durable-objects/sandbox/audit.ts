import type { AuditEntry, AuditPage } from "../../src/schemas/audit";

/** Most audit rows kept per sandbox; older ones are dropped first. */
export const MAX_AUDIT_ROWS = 10_000;

/** The sandbox's audit log: every capability call and egress decision, in order. */
export class AuditLog {
  constructor(private readonly sql: SqlStorage) {}

  init(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL)`);
  }

  append(entries: AuditEntry[]): void {
    for (const entry of entries) this.sql.exec("INSERT INTO audit (doc) VALUES (?)", JSON.stringify(entry));
    this.sql.exec("DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?", MAX_AUDIT_ROWS);
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
  }
}
