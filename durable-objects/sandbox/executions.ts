import type { ExecutionPage, ExecutionSummary } from "../../src/schemas/executions";
import type { OrphanError } from "./orphans";

/** How long an execution's outputs are kept after it finishes. */
export const OUTPUT_RETENTION_MS = 60 * 60 * 1000;
/** Most history rows kept per sandbox; the oldest are dropped first. */
export const MAX_HISTORY_ROWS = 10_000;

export interface FinishedExecution {
  codeHash: string;
  status: "ok" | "error";
  errorName?: string;
  limit?: string;
  durationMs: number;
  cpuUsedMs?: number;
  output: NonNullable<ExecutionSummary["output"]>;
}

type Row = {
  seq: number;
  id: string;
  code_hash: string;
  language: ExecutionSummary["language"];
  status: "running" | "ok" | "error";
  error_name: string | null;
  limit_name: string | null;
  started_at: number;
  finished_at: number | null;
  duration_ms: number | null;
  cpu_used_ms: number | null;
  output: string | null;
};

/** The sandbox's execution history, in its SQLite storage. */
export class ExecutionHistory {
  constructor(private readonly sql: SqlStorage) {}

  init(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS executions (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, code_hash TEXT NOT NULL,
      language TEXT NOT NULL, status TEXT NOT NULL, error_name TEXT, limit_name TEXT,
      started_at INTEGER NOT NULL, finished_at INTEGER, duration_ms REAL, cpu_used_ms REAL, output TEXT)`);
  }

  /** Called in the same turn as the activity write, so both land in one storage commit. */
  start(id: string, language: ExecutionSummary["language"], now: number): void {
    this.sql.exec("INSERT INTO executions (id, code_hash, language, status, started_at) VALUES (?, '', ?, 'running', ?)", id, language, now);
    this.sql.exec("DELETE FROM executions WHERE seq <= (SELECT MAX(seq) FROM executions) - ?", MAX_HISTORY_ROWS);
  }

  /** Forgets an execution refused before it ran (see prepareExecution). */
  discard(id: string): void {
    this.sql.exec("DELETE FROM executions WHERE id = ? AND status = 'running'", id);
  }

  /** How many executions are running now. */
  runningCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM executions WHERE status = 'running'").one().n;
  }

  /**
   * Whether this execution is still running. Capability and egress calls carry their execution's
   * id: once it has finished (or is unknown), they are refused, so nothing a run left behind can
   * act after it.
   */
  isRunning(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM executions WHERE id = ? AND status = 'running'", id).toArray().length > 0;
  }

  finish(id: string, done: FinishedExecution, now: number): void {
    this.sql.exec(
      `UPDATE executions SET code_hash = ?, status = ?, error_name = ?, limit_name = ?, finished_at = ?, duration_ms = ?, cpu_used_ms = ?, output = ?
       WHERE id = ?`,
      done.codeHash,
      done.status,
      done.errorName ?? null,
      done.limit ?? null,
      now,
      done.durationMs,
      done.cpuUsedMs ?? null,
      JSON.stringify(done.output),
      id,
    );
  }

  /**
   * Executions still marked running when a new instance of the object loads were cut off by
   * a runtime restart; `errorFor` says what to record for each (see orphans.ts).
   */
  failOrphans(now: number, errorFor: (startedAt: number) => OrphanError): number {
    const orphans = this.sql.exec<{ id: string; started_at: number }>("SELECT id, started_at FROM executions WHERE status = 'running'").toArray();
    for (const orphan of orphans) {
      const error = errorFor(orphan.started_at);
      this.sql.exec(
        `UPDATE executions SET status = 'error', error_name = ?, limit_name = ?, finished_at = ?, duration_ms = ? - started_at, output = ? WHERE id = ?`,
        error.name,
        error.limit ?? null,
        now,
        now,
        JSON.stringify({ result: null, stdout: "", stderr: "", error }),
        orphan.id,
      );
    }
    return orphans.length;
  }

  /** Newest first; the cursor is the last `seq` seen. */
  page(limit: number, before: number | undefined, now: number): ExecutionPage {
    const rows = this.sql
      .exec<Row>(
        `SELECT * FROM executions ${before === undefined ? "" : "WHERE seq < ?"} ORDER BY seq DESC LIMIT ?`,
        ...(before === undefined ? [] : [before]),
        limit + 1,
      )
      .toArray();
    const executions = rows.slice(0, limit).map((row) => toSummary(row, now));
    const last = rows[limit - 1];
    return { executions, nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  clear(): void {
    this.sql.exec("DELETE FROM executions");
  }
}

function toSummary(row: Row, now: number): ExecutionSummary {
  const outputFresh = row.output !== null && row.finished_at !== null && now - row.finished_at < OUTPUT_RETENTION_MS;
  return {
    executionId: row.id,
    codeHash: row.code_hash,
    language: row.language,
    status: row.status,
    ...(row.error_name ? { errorName: row.error_name } : {}),
    ...(row.limit_name ? { limit: row.limit_name } : {}),
    startedAt: new Date(row.started_at).toISOString(),
    ...(row.finished_at !== null ? { finishedAt: new Date(row.finished_at).toISOString() } : {}),
    ...(row.duration_ms !== null ? { durationMs: row.duration_ms } : {}),
    ...(row.cpu_used_ms !== null ? { cpuUsedMs: row.cpu_used_ms } : {}),
    ...(outputFresh ? { output: JSON.parse(row.output as string) } : {}),
  };
}
