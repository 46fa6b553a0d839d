import { ErrorCode, SandboxerError } from "../../src/errors";
import { EMPTY_CONTEXT_SHAPE, type ContextShape } from "../../src/providers/isolate/context";
import type { IsolateCellOutcome } from "../../src/providers/isolate/run";
import type { CodeContext } from "../../src/schemas/contexts";
import type { SnapshotContext } from "../../src/snapshots/store";

/** Contexts one sandbox may hold at once. */
export const MAX_CONTEXTS = 16;
/** Most a context may carry: its saved values' text plus its declarations' sources, in UTF-8 bytes. */
export const MAX_CONTEXT_BYTES = 4 * 1024 * 1024;
/**
 * Saved text is stored in rows of at most this many characters: a Durable Object's SQLite row
 * holds at most 2 MB, and a character is at most 3 bytes of UTF-8 (a lone surrogate included).
 */
const CHUNK_CHARS = 512 * 1024;

interface ContextRow {
  id: string;
  created_at: number;
  updated_at: number;
  cells: number;
  bytes: number;
  shape: string;
  [key: string]: SqlStorageValue;
}

/** What a cell of a context starts from. */
export interface StoredContext {
  shape: ContextShape;
  state: string;
}

const encoder = new TextEncoder();

/**
 * Code contexts of one sandbox, in its SQLite storage: each context's shape (binding names,
 * carried declaration sources, imports) and its saved values (the text the last successful
 * cell's isolate produced: stored and handed back, never evaluated by the host). Cleared when
 * the sandbox stops. Tables are created on first use, so sandboxes created before contexts
 * existed get them too.
 */
export class ContextStore {
  private ready = false;

  constructor(private readonly sql: SqlStorage) {}

  private init(): void {
    if (this.ready) return;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS contexts (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, cells INTEGER NOT NULL, bytes INTEGER NOT NULL, shape TEXT NOT NULL)",
    );
    this.sql.exec("CREATE TABLE IF NOT EXISTS context_chunks (id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (id, seq))");
    this.ready = true;
  }

  create(now: number): CodeContext {
    this.init();
    const count = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM contexts").one().n;
    if (count >= MAX_CONTEXTS) {
      throw new SandboxerError(ErrorCode.limitExceeded, `This sandbox already holds ${MAX_CONTEXTS} contexts; delete one (DELETE /v1/sandboxes/{id}/contexts/{contextId}) first.`, {
        limit: "contexts",
        max: MAX_CONTEXTS,
      });
    }
    const id = `ctx_${Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("")}`;
    this.sql.exec("INSERT INTO contexts (id, created_at, updated_at, cells, bytes, shape) VALUES (?, ?, ?, 0, 0, ?)", id, now, now, JSON.stringify(EMPTY_CONTEXT_SHAPE));
    return this.describe(this.row(id)!);
  }

  list(): CodeContext[] {
    this.init();
    return this.sql.exec<ContextRow>("SELECT * FROM contexts ORDER BY created_at, id").toArray().map((row) => this.describe(row));
  }

  /** The context a cell starts from; 404 naming how to make one when there is none. */
  load(id: string): StoredContext {
    this.init();
    const row = this.row(id);
    if (!row) throw missing(id);
    const chunks = this.sql.exec<{ data: string }>("SELECT data FROM context_chunks WHERE id = ? ORDER BY seq", id).toArray();
    return { shape: JSON.parse(row.shape) as ContextShape, state: chunks.length > 0 ? chunks.map((c) => c.data).join("") : "{}" };
  }

  /**
   * Keeps what a successful cell left, or refuses it (422) past MAX_CONTEXT_BYTES, leaving the
   * context as it was. A context deleted while its cell ran stays deleted.
   */
  save(id: string, outcome: IsolateCellOutcome, now: number): void {
    this.init();
    const shape = JSON.stringify(outcome.shape);
    const bytes =
      outcome.tooLargeChars !== undefined ? outcome.tooLargeChars : encoder.encode(outcome.state).length + encoder.encode(shape).length;
    if (bytes > MAX_CONTEXT_BYTES) {
      throw new SandboxerError(
        ErrorCode.limitExceeded,
        `The cell ran, but the context would carry ${outcome.tooLargeChars !== undefined ? "more than " : ""}${bytes} bytes; a context holds at most ${MAX_CONTEXT_BYTES}. It is left as it was before this cell: release large bindings (set them to null) or keep large data in files.`,
        { limit: "context_bytes", max: MAX_CONTEXT_BYTES },
      );
    }
    if (!this.row(id)) return;
    this.sql.exec("UPDATE contexts SET updated_at = ?, cells = cells + 1, bytes = ?, shape = ? WHERE id = ?", now, bytes, shape, id);
    this.sql.exec("DELETE FROM context_chunks WHERE id = ?", id);
    for (let seq = 0; seq * CHUNK_CHARS < outcome.state.length; seq++) {
      this.sql.exec("INSERT INTO context_chunks (id, seq, data) VALUES (?, ?, ?)", id, seq, outcome.state.slice(seq * CHUNK_CHARS, (seq + 1) * CHUNK_CHARS));
    }
  }

  delete(id: string): void {
    this.init();
    if (!this.row(id)) throw missing(id);
    this.sql.exec("DELETE FROM contexts WHERE id = ?", id);
    this.sql.exec("DELETE FROM context_chunks WHERE id = ?", id);
  }

  /** Every context with its saved text, for a snapshot. */
  exportAll(): SnapshotContext[] {
    this.init();
    return this.sql.exec<ContextRow>("SELECT * FROM contexts ORDER BY created_at, id").toArray().map((row) => ({
      id: row.id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      cells: row.cells,
      bytes: row.bytes,
      shape: row.shape,
      state: this.load(row.id).state,
    }));
  }

  /** Replaces every context with a snapshot's (same ids, so cells naming them keep working after a restore). */
  importAll(contexts: SnapshotContext[]): void {
    this.clear();
    this.init();
    for (const c of contexts) {
      this.sql.exec("INSERT INTO contexts (id, created_at, updated_at, cells, bytes, shape) VALUES (?, ?, ?, ?, ?, ?)", c.id, c.createdAt, c.updatedAt, c.cells, c.bytes, c.shape);
      for (let seq = 0; seq * CHUNK_CHARS < c.state.length; seq++) {
        this.sql.exec("INSERT INTO context_chunks (id, seq, data) VALUES (?, ?, ?)", c.id, seq, c.state.slice(seq * CHUNK_CHARS, (seq + 1) * CHUNK_CHARS));
      }
    }
  }

  /** Every context, gone (the sandbox stopped). */
  clear(): void {
    this.sql.exec("DROP TABLE IF EXISTS contexts");
    this.sql.exec("DROP TABLE IF EXISTS context_chunks");
    this.ready = false;
  }

  private row(id: string): ContextRow | undefined {
    return this.sql.exec<ContextRow>("SELECT * FROM contexts WHERE id = ?", id).toArray()[0];
  }

  private describe(row: ContextRow): CodeContext {
    const shape = JSON.parse(row.shape) as ContextShape;
    return {
      contextId: row.id,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
      cells: row.cells,
      bytes: row.bytes,
      bindings: [...shape.values.map((v) => v.name), ...shape.declarations.map((d) => d.name), ...shape.imports.flatMap((i) => i.names)],
    };
  }
}

function missing(id: string): SandboxerError {
  return new SandboxerError(ErrorCode.notFound, `No context '${id}' in this sandbox; create one with POST /v1/sandboxes/{id}/contexts.`);
}
