import { ErrorCode, SandboxerError } from "../../src/errors";
import type { FileEntry } from "../../src/schemas/files";
import type { ProviderFiles } from "../../src/providers/contract";

/**
 * Durable Object SQLite caps a single value at 2 MB, so file bodies are stored in
 * chunks of this size.
 */
const CHUNK_BYTES = 1024 * 1024;

export interface WorkspaceLimits {
  storageBytes: number;
  fileBytes: number;
  maxFiles: number;
}

/** The sandbox's files, kept in its own SQLite storage. Paths arrive already normalised. */
export class Workspace {
  constructor(
    private readonly sql: SqlStorage,
    private readonly limits: () => WorkspaceLimits,
  ) {}

  /** Creates the tables; called once, when the sandbox is created. */
  init(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS files (
      path TEXT PRIMARY KEY, size INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS file_chunks (
      path TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (path, idx))`);
  }

  write(path: string, data: ArrayBuffer, now: number): FileEntry {
    const { storageBytes, fileBytes, maxFiles } = this.limits();
    if (data.byteLength > fileBytes) {
      throw new SandboxerError(
        ErrorCode.payloadTooLarge,
        `The file is ${data.byteLength} bytes; this sandbox's profile allows at most ${fileBytes} bytes per file.`,
        { limit: "file_bytes", max: fileBytes },
      );
    }
    const existing = this.sql.exec<{ size: number }>("SELECT size FROM files WHERE path = ?", path).toArray()[0];
    const { used, count } = this.usage();
    if (!existing && count >= maxFiles) {
      throw new SandboxerError(ErrorCode.limitExceeded, `The workspace already holds ${count} files, the most this profile allows.`, {
        limit: "max_files",
        max: maxFiles,
      });
    }
    const after = used - (existing?.size ?? 0) + data.byteLength;
    if (after > storageBytes) {
      throw new SandboxerError(
        ErrorCode.limitExceeded,
        `Writing this file would bring the workspace to ${after} bytes; the quota is ${storageBytes} bytes.`,
        { limit: "storage_bytes", max: storageBytes, used },
      );
    }
    this.sql.exec("DELETE FROM file_chunks WHERE path = ?", path);
    for (let offset = 0, idx = 0; offset < data.byteLength || idx === 0; offset += CHUNK_BYTES, idx++) {
      this.sql.exec("INSERT INTO file_chunks (path, idx, data) VALUES (?, ?, ?)", path, idx, data.slice(offset, offset + CHUNK_BYTES));
    }
    this.sql.exec(
      "INSERT INTO files (path, size, updated_at) VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE SET size = excluded.size, updated_at = excluded.updated_at",
      path,
      data.byteLength,
      now,
    );
    return { path, size: data.byteLength, updatedAt: new Date(now).toISOString() };
  }

  /** The file's bytes, or undefined when there is no such file. */
  read(path: string): { entry: FileEntry; data: Uint8Array } | undefined {
    const row = this.sql.exec<{ size: number; updated_at: number }>("SELECT size, updated_at FROM files WHERE path = ?", path).toArray()[0];
    if (!row) return undefined;
    const data = new Uint8Array(row.size);
    let offset = 0;
    for (const chunk of this.sql.exec<{ data: ArrayBuffer }>("SELECT data FROM file_chunks WHERE path = ? ORDER BY idx", path)) {
      data.set(new Uint8Array(chunk.data), offset);
      offset += chunk.data.byteLength;
    }
    return { entry: { path, size: row.size, updatedAt: new Date(row.updated_at).toISOString() }, data };
  }

  /** Deletes the file; false when there was none. */
  delete(path: string): boolean {
    const deleted = this.sql.exec("DELETE FROM files WHERE path = ?", path).rowsWritten > 0;
    this.sql.exec("DELETE FROM file_chunks WHERE path = ?", path);
    return deleted;
  }

  list(prefix: string): FileEntry[] {
    // A range scan instead of LIKE, so `%` and `_` in a prefix are not wildcards.
    const rows = prefix
      ? this.sql.exec<{ path: string; size: number; updated_at: number }>(
          "SELECT path, size, updated_at FROM files WHERE path >= ? AND path < ? ORDER BY path",
          prefix,
          `${prefix}\uffff`,
        )
      : this.sql.exec<{ path: string; size: number; updated_at: number }>("SELECT path, size, updated_at FROM files ORDER BY path");
    return rows.toArray().map((r) => ({ path: r.path, size: r.size, updatedAt: new Date(r.updated_at).toISOString() }));
  }

  /** Workspace bytes after writing `bytes` to `path` (replacing any file there). */
  projectedUsage(path: string, bytes: number): number {
    const existing = this.sql.exec<{ size: number }>("SELECT size FROM files WHERE path = ?", path).toArray()[0];
    return this.usage().used - (existing?.size ?? 0) + bytes;
  }

  usage(): { used: number; count: number } {
    const row = this.sql.exec<{ used: number | null; count: number }>("SELECT SUM(size) AS used, COUNT(*) AS count FROM files").one();
    return { used: row.used ?? 0, count: row.count };
  }

  /** The workspace as a provider's files (the isolate provider's are these). */
  asProviderFiles(): ProviderFiles {
    return {
      read: async (path) => this.read(path),
      write: async (path, data, now) => this.write(path, data, now),
      delete: async (path) => this.delete(path),
      list: async (prefix) => this.list(prefix),
    };
  }

  clear(): void {
    this.sql.exec("DELETE FROM files");
    this.sql.exec("DELETE FROM file_chunks");
  }
}
