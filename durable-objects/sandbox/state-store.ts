import { ErrorCode, SandboxerError } from "../../src/errors";

export const MAX_STATE_VALUE_BYTES = 128 * 1024;
export const MAX_STATE_KEY_CHARS = 512;
export const MAX_STATE_KEYS = 10_000;

/** The `state` capability's key-value store, in the sandbox's SQLite storage. Values are JSON. */
export class StateStore {
  constructor(private readonly sql: SqlStorage) {}

  init(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  get(key: string): unknown {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM kv WHERE key = ?", checkKey(key)).toArray()[0];
    return row ? JSON.parse(row.value) : undefined;
  }

  put(key: string, value: unknown): void {
    checkKey(key);
    const json = JSON.stringify(value);
    if (json === undefined) throw invalid("value", "the value must be JSON-serialisable");
    const bytes = new TextEncoder().encode(json).length;
    if (bytes > MAX_STATE_VALUE_BYTES) {
      throw new SandboxerError(ErrorCode.limitExceeded, `The value is ${bytes} bytes as JSON; at most ${MAX_STATE_VALUE_BYTES} are allowed.`, {
        limit: "state_value_bytes",
        max: MAX_STATE_VALUE_BYTES,
      });
    }
    const exists = this.sql.exec("SELECT 1 FROM kv WHERE key = ?", key).toArray().length > 0;
    if (!exists && this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM kv").one().n >= MAX_STATE_KEYS) {
      throw new SandboxerError(ErrorCode.limitExceeded, `The store already holds ${MAX_STATE_KEYS} keys.`, { limit: "state_keys", max: MAX_STATE_KEYS });
    }
    this.sql.exec("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", key, json);
  }

  delete(key: string): boolean {
    return this.sql.exec("DELETE FROM kv WHERE key = ?", checkKey(key)).rowsWritten > 0;
  }

  list(prefix = ""): string[] {
    const rows = prefix
      ? this.sql.exec<{ key: string }>("SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key", prefix, `${prefix}\uffff`)
      : this.sql.exec<{ key: string }>("SELECT key FROM kv ORDER BY key");
    return rows.toArray().map((r) => r.key);
  }

  /** Every row as stored (key, JSON text), for a snapshot. */
  entries(): [string, string][] {
    return this.sql.exec<{ key: string; value: string }>("SELECT key, value FROM kv ORDER BY key").toArray().map((r) => [r.key, r.value]);
  }

  /** Replaces every row with a snapshot's. */
  replace(entries: [string, string][]): void {
    this.clear();
    for (const [key, value] of entries) this.sql.exec("INSERT INTO kv (key, value) VALUES (?, ?)", key, value);
  }

  clear(): void {
    this.sql.exec("DELETE FROM kv");
  }
}

function invalid(path: string, message: string): SandboxerError {
  return new SandboxerError(ErrorCode.validationFailed, message, { errors: [{ path, message }] });
}

function checkKey(key: unknown): string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_STATE_KEY_CHARS) {
    throw invalid("key", `keys are non-empty strings of at most ${MAX_STATE_KEY_CHARS} characters`);
  }
  return key;
}
