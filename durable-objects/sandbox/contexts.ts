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
/** Starts a saved text in records (src/providers/isolate/runtime/context.ts); anything else is the older single JSON object. */
const RECORDS_MARKER = "\u0001";

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

/** One binding's saved text, or `undefined` for "the text it was restored from" (only in what a cell hands back). */
type BindingRecord = [name: string, text: string | undefined];

const encoder = new TextEncoder();

/**
 * Code contexts of one sandbox, in its SQLite storage: each context's shape (binding names,
 * carried declaration sources, imports) and its saved values (the text the last successful
 * cell's isolate produced: stored and handed back, never evaluated by the host). Each binding's
 * text is a row of its own (chunked past CHUNK_CHARS), so a cell that changes one small binding
 * rewrites that row only, and one that changes nothing writes no value at all. Cleared when the
 * sandbox stops. Tables are created on first use, so sandboxes created before contexts existed
 * get them too; contexts saved as one text (before per-binding rows) are moved over then.
 */
export class ContextStore {
  private ready = false;
  /**
   * The saved text of the context used last, as `text` assembles it: a cell's megabyte is then
   * not read back from SQLite and joined again for the next cell. One context only, so a sandbox
   * with many large contexts holds at most one text in memory. Kept in step by every write.
   */
  private cached: { id: string; text: string } | undefined;

  constructor(private readonly sql: SqlStorage) {}

  private init(): void {
    if (this.ready) return;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS contexts (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, cells INTEGER NOT NULL, bytes INTEGER NOT NULL, shape TEXT NOT NULL)",
    );
    // Which bindings a context holds, in the order the isolate restores them (references between them depend on it).
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS context_bindings (id TEXT NOT NULL, name TEXT NOT NULL, pos INTEGER NOT NULL, chars INTEGER NOT NULL, bytes INTEGER NOT NULL, PRIMARY KEY (id, name))",
    );
    this.sql.exec("CREATE TABLE IF NOT EXISTS context_values (id TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (id, name, seq))");
    this.ready = true;
    this.moveSingleTexts();
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
    return { shape: JSON.parse(row.shape) as ContextShape, state: this.cachedText(id) };
  }

  /**
   * Keeps what a successful cell left, or refuses it (422) past MAX_CONTEXT_BYTES, leaving the
   * context as it was. Only the bindings whose text changed are written. A context deleted
   * while its cell ran stays deleted.
   */
  save(id: string, outcome: IsolateCellOutcome, now: number): void {
    this.init();
    const shape = JSON.stringify(outcome.shape);
    if (outcome.tooLargeChars !== undefined) throw tooLarge(outcome.tooLargeChars, true);
    if (!this.row(id)) return;
    const records = readRecords(outcome.state);
    const stored = new Map(this.sql.exec<{ name: string; chars: number; bytes: number }>("SELECT name, chars, bytes FROM context_bindings WHERE id = ?", id).toArray().map((b) => [b.name, b]));
    const sizes = records.map(([name, text]) => {
      if (text !== undefined) return { chars: text.length, bytes: encoder.encode(text).length };
      const kept = stored.get(name);
      if (!kept) throw new SandboxerError(ErrorCode.internal, "The isolate handed back a context binding as unchanged that this context does not hold.");
      return { chars: kept.chars, bytes: kept.bytes };
    });
    const bytes = sizes.reduce((n, size) => n + size.bytes, 0) + encoder.encode(shape).length;
    if (bytes > MAX_CONTEXT_BYTES) throw tooLarge(bytes, false);
    // The next text, if the one this cell started from is in memory (worked out before any write).
    const next = this.cached?.id === id ? resolveSavedText(this.cached.text, records) : undefined;
    this.cached = undefined;
    this.sql.exec("UPDATE contexts SET updated_at = ?, cells = cells + 1, bytes = ?, shape = ? WHERE id = ?", now, bytes, shape, id);
    const kept = new Set(records.filter(([, text]) => text === undefined).map(([name]) => name));
    for (const name of stored.keys()) if (!kept.has(name)) this.deleteBinding(id, name);
    for (const [pos, [name, text]] of records.entries()) {
      if (text === undefined) this.sql.exec("UPDATE context_bindings SET pos = ? WHERE id = ? AND name = ?", pos, id, name);
      else this.insertBinding(id, name, pos, text, sizes[pos]!.bytes);
    }
    if (next !== undefined) this.cached = { id, text: next };
  }

  delete(id: string): void {
    this.init();
    if (!this.row(id)) throw missing(id);
    if (this.cached?.id === id) this.cached = undefined;
    this.sql.exec("DELETE FROM contexts WHERE id = ?", id);
    this.sql.exec("DELETE FROM context_bindings WHERE id = ?", id);
    this.sql.exec("DELETE FROM context_values WHERE id = ?", id);
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
      state: this.text(row.id),
    }));
  }

  /** Replaces every context with a snapshot's (same ids, so cells naming them keep working after a restore). */
  importAll(contexts: SnapshotContext[]): void {
    this.clear();
    this.init();
    for (const c of contexts) {
      this.sql.exec("INSERT INTO contexts (id, created_at, updated_at, cells, bytes, shape) VALUES (?, ?, ?, ?, ?, ?)", c.id, c.createdAt, c.updatedAt, c.cells, c.bytes, c.shape);
      this.insertText(c.id, c.state);
    }
  }

  /** Every context, gone (the sandbox stopped). */
  clear(): void {
    this.cached = undefined;
    this.sql.exec("DROP TABLE IF EXISTS contexts");
    this.sql.exec("DROP TABLE IF EXISTS context_bindings");
    this.sql.exec("DROP TABLE IF EXISTS context_values");
    this.sql.exec("DROP TABLE IF EXISTS context_chunks");
    this.ready = false;
  }

  private cachedText(id: string): string {
    if (this.cached?.id !== id) this.cached = { id, text: this.text(id) };
    return this.cached.text;
  }

  /** The saved text of a context: its bindings' records, in order ("{}", the empty object, when it has none). */
  private text(id: string): string {
    const bindings = this.sql.exec<{ name: string; chars: number }>("SELECT name, chars FROM context_bindings WHERE id = ? ORDER BY pos", id).toArray();
    if (bindings.length === 0) return "{}";
    const parts = [RECORDS_MARKER];
    for (const { name, chars } of bindings) {
      parts.push(`${name.length},${chars}:`, name);
      for (const chunk of this.sql.exec<{ data: string }>("SELECT data FROM context_values WHERE id = ? AND name = ? ORDER BY seq", id, name)) parts.push(chunk.data);
    }
    return parts.join("");
  }

  /** Stores a whole saved text (a snapshot's, or one kept before per-binding rows) as rows. */
  private insertText(id: string, state: string): void {
    for (const [pos, [name, text]] of readRecords(state).entries()) {
      // A whole text has no "unchanged" records; one that claims some is not ours, and carries nothing.
      if (text !== undefined) this.insertBinding(id, name, pos, text, encoder.encode(text).length);
    }
  }

  private insertBinding(id: string, name: string, pos: number, text: string, bytes: number): void {
    this.deleteBinding(id, name);
    this.sql.exec("INSERT INTO context_bindings (id, name, pos, chars, bytes) VALUES (?, ?, ?, ?, ?)", id, name, pos, text.length, bytes);
    for (let seq = 0; seq * CHUNK_CHARS < text.length; seq++) {
      this.sql.exec("INSERT INTO context_values (id, name, seq, data) VALUES (?, ?, ?, ?)", id, name, seq, text.slice(seq * CHUNK_CHARS, (seq + 1) * CHUNK_CHARS));
    }
  }

  private deleteBinding(id: string, name: string): void {
    this.sql.exec("DELETE FROM context_bindings WHERE id = ? AND name = ?", id, name);
    this.sql.exec("DELETE FROM context_values WHERE id = ? AND name = ?", id, name);
  }

  /** Contexts saved as one text in `context_chunks` (before per-binding rows) become rows; the old table goes. */
  private moveSingleTexts(): void {
    if (this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'context_chunks'").toArray().length === 0) return;
    const ids = this.sql.exec<{ id: string }>("SELECT DISTINCT id FROM context_chunks").toArray();
    for (const { id } of ids) {
      const chunks = this.sql.exec<{ data: string }>("SELECT data FROM context_chunks WHERE id = ? ORDER BY seq", id).toArray();
      this.insertText(id, chunks.map((c) => c.data).join(""));
    }
    this.sql.exec("DROP TABLE context_chunks");
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

/**
 * The binding records of a saved text (src/providers/isolate/runtime/context.ts): records after
 * RECORDS_MARKER, or the older single JSON object split by its keys (its ids count on across
 * keys in order, as records' do, so each key's JSON is that binding's text). Untrusted text from
 * the isolate: read as data only; what cannot be read carries nothing (as the isolate would).
 */
export function readRecords(state: string): BindingRecord[] {
  if (!state.startsWith(RECORDS_MARKER)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(state);
    } catch {
      return [];
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return [];
    return Object.entries(parsed).map(([name, node]) => [name, JSON.stringify(node)]);
  }
  const records: BindingRecord[] = [];
  let at = RECORDS_MARKER.length;
  while (at < state.length) {
    const head = /^(\d+),(\d+|=):/.exec(state.slice(at, at + 32));
    if (!head) throw unreadable();
    const nameLength = Number(head[1]);
    const start = at + head[0].length;
    const name = state.slice(start, start + nameLength);
    if (head[2] === "=") {
      records.push([name, undefined]);
      at = start + nameLength;
    } else {
      const textLength = Number(head[2]);
      records.push([name, state.slice(start + nameLength, start + nameLength + textLength)]);
      at = start + nameLength + textLength;
    }
    if (at > state.length || name.length !== nameLength) throw unreadable();
  }
  return records;
}

/**
 * The whole saved text after a cell: its records, with each one marked unchanged taken from
 * `before` (the text the cell started from), as the host stores it. Throws when a record
 * marked unchanged is not in `before`.
 */
export function resolveSavedText(before: string, after: string | BindingRecord[]): string {
  const records = typeof after === "string" ? readRecords(after) : after;
  if (records.length === 0) return "{}";
  const previous = new Map(readRecords(before));
  const parts = [RECORDS_MARKER];
  for (const [name, text] of records) {
    const value = text ?? previous.get(name);
    if (value === undefined) throw unreadable();
    parts.push(`${name.length},${value.length}:`, name, value);
  }
  return parts.join("");
}

function unreadable(): SandboxerError {
  return new SandboxerError(ErrorCode.internal, "The isolate handed back context bindings this version cannot read.");
}

function tooLarge(bytes: number, atLeast: boolean): SandboxerError {
  return new SandboxerError(
    ErrorCode.limitExceeded,
    `The cell ran, but the context would carry ${atLeast ? "more than " : ""}${bytes} bytes; a context holds at most ${MAX_CONTEXT_BYTES}. It is left as it was before this cell: release large bindings (set them to null) or keep large data in files.`,
    { limit: "context_bytes", max: MAX_CONTEXT_BYTES },
  );
}

function missing(id: string): SandboxerError {
  return new SandboxerError(ErrorCode.notFound, `No context '${id}' in this sandbox; create one with POST /v1/sandboxes/{id}/contexts.`);
}
