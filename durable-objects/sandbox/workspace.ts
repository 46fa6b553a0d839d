import { ErrorCode, SandboxerError } from "../../src/errors";
import type { FileEntry } from "../../src/schemas/files";
import type { ProviderFiles, WorkspaceFile } from "../../src/providers/contract";

/**
 * Durable Object SQLite caps a single value at 2 MB, so file bodies are stored in
 * chunks of this size.
 */
const CHUNK_BYTES = 1024 * 1024;

const FILES_COLUMNS = "path TEXT PRIMARY KEY, size INTEGER NOT NULL, updated_at INTEGER NOT NULL";
const CHUNKS_COLUMNS = "path TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (path, idx)";

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

  /** The replacement under way, if any (see replaceAll). */
  private replacing: Promise<void> = Promise.resolve();

  /** Creates the tables; called once, when the sandbox is created. */
  init(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS files (${FILES_COLUMNS})`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS file_chunks (${CHUNKS_COLUMNS})`);
  }

  /** Empty staging tables for replaceAll (any left by a replacement cut short are dropped). */
  private createStagingTables(): void {
    this.sql.exec("DROP TABLE IF EXISTS files_next");
    this.sql.exec("DROP TABLE IF EXISTS file_chunks_next");
    this.sql.exec(`CREATE TABLE files_next (${FILES_COLUMNS})`);
    this.sql.exec(`CREATE TABLE file_chunks_next (${CHUNKS_COLUMNS})`);
  }

  write(path: string, data: ArrayBuffer, now: number): FileEntry {
    const { storageBytes, fileBytes, maxFiles } = this.limits();
    checkFileBytes(data.byteLength, fileBytes);
    const existing = this.sql.exec<{ size: number }>("SELECT size FROM files WHERE path = ?", path).toArray()[0];
    const { used, count } = this.usage();
    if (!existing) checkFileCount(count + 1, maxFiles, `The workspace already holds ${count} files, the most this profile allows.`);
    checkStorageBytes(used - (existing?.size ?? 0) + data.byteLength, storageBytes, used, "Writing this file");
    this.sql.exec("DELETE FROM file_chunks WHERE path = ?", path);
    this.insert(path, new Uint8Array(data), now);
    return { path, size: data.byteLength, updatedAt: new Date(now).toISOString() };
  }

  /**
   * Replaces every file with `files` (restore, fork, resume), all or nothing. The limits are
   * checked for the whole set first. The new files are written into staging tables a run at a
   * time, yielding to the event loop after each run: locally every sandbox shares one event
   * loop with the runtime's health probe, and ten forks writing 10 MiB each in one stretch
   * apiece held it long enough for the supervisor to restart the runtime. The staging tables
   * then take the place of the live ones in one synchronous step, so a reader never sees half
   * a restore, and a runtime that dies midway leaves the workspace as it was.
   */
  async replaceAll(files: WorkspaceFile[], now: number): Promise<void> {
    const { storageBytes, fileBytes, maxFiles } = this.limits();
    let total = 0;
    for (const file of files) {
      checkFileBytes(file.data.byteLength, fileBytes);
      total += file.data.byteLength;
    }
    checkFileCount(files.length, maxFiles, `These are ${files.length} files; this profile allows at most ${maxFiles} in a workspace.`);
    checkStorageBytes(total, storageBytes, this.usage().used, `These ${files.length} files`);
    // One replacement at a time: they share the staging tables.
    const previous = this.replacing;
    let done!: () => void;
    this.replacing = new Promise((resolve) => (done = resolve));
    await previous;
    try {
      this.createStagingTables();
      this.sql.exec(
        "INSERT INTO files_next (path, size, updated_at) SELECT value ->> 0, value ->> 1, ? FROM json_each(?)",
        now,
        JSON.stringify(files.map((f) => [f.path, f.data.byteLength])),
      );
      for (const run of contiguousRuns(files)) {
        this.insertStagedRun(run);
        await scheduler.wait(0);
      }
      this.sql.exec("DROP TABLE files");
      this.sql.exec("DROP TABLE file_chunks");
      this.sql.exec("ALTER TABLE files_next RENAME TO files");
      this.sql.exec("ALTER TABLE file_chunks_next RENAME TO file_chunks");
    } finally {
      done();
    }
  }

  /**
   * Writes one run of `contiguousRuns` into the staging chunks table. Files whose bytes lie next to each other
   * in one buffer (a snapshot archive) go in with one statement that binds their bytes once and
   * lets SQLite cut each file's row out of them, instead of one statement per file.
   */
  private insertStagedRun(run: WorkspaceFile[]): void {
    if (run.length === 1) {
      this.insertChunks(run[0]!.path, run[0]!.data, "file_chunks_next");
      return;
    }
    const first = run[0]!.data;
    const last = run[run.length - 1]!.data;
    const bytes = new Uint8Array(first.buffer, first.byteOffset, last.byteOffset + last.byteLength - first.byteOffset);
    // [path, offset into bytes, length]: each file is one chunk (idx 0), an empty one an empty blob.
    const rows = run.map((f) => [f.path, f.data.byteOffset - first.byteOffset, f.data.byteLength]);
    this.sql.exec(
      `INSERT INTO file_chunks_next (path, idx, data)
       SELECT value ->> 0, 0, CASE WHEN value ->> 2 = 0 THEN x'' ELSE substr(?, (value ->> 1) + 1, value ->> 2) END FROM json_each(?)`,
      bytes,
      JSON.stringify(rows),
    );
  }

  /** Writes a file's rows; its old chunks must be gone already. */
  private insert(path: string, data: Uint8Array, now: number): void {
    this.insertChunks(path, data);
    this.sql.exec(
      "INSERT INTO files (path, size, updated_at) VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE SET size = excluded.size, updated_at = excluded.updated_at",
      path,
      data.byteLength,
      now,
    );
  }

  private insertChunks(path: string, data: Uint8Array, table: "file_chunks" | "file_chunks_next" = "file_chunks"): void {
    for (let offset = 0, idx = 0; offset < data.byteLength || idx === 0; offset += CHUNK_BYTES, idx++) {
      // A view, not a copy: SQLite binds exactly the view's bytes.
      this.sql.exec(`INSERT INTO ${table} (path, idx, data) VALUES (?, ?, ?)`, path, idx, data.subarray(offset, offset + CHUNK_BYTES));
    }
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

  /**
   * Every file with its bytes, in path order, read with one query (a snapshot). The bodies are
   * views into one buffer. Synchronous on purpose: one consistent view of the workspace.
   */
  readAll(): WorkspaceFile[] {
    const entries = this.sql.exec<{ path: string; size: number }>("SELECT path, size FROM files ORDER BY path").toArray();
    const bytes = new Uint8Array(entries.reduce((n, e) => n + e.size, 0));
    const offsets = new Map<string, number>();
    const files: WorkspaceFile[] = [];
    let offset = 0;
    for (const entry of entries) {
      offsets.set(entry.path, offset);
      files.push({ path: entry.path, data: bytes.subarray(offset, offset + entry.size) });
      offset += entry.size;
    }
    for (const chunk of this.sql.exec<{ path: string; idx: number; data: ArrayBuffer }>("SELECT path, idx, data FROM file_chunks")) {
      const start = offsets.get(chunk.path);
      if (start !== undefined) bytes.set(new Uint8Array(chunk.data), start + chunk.idx * CHUNK_BYTES);
    }
    return files;
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
      replaceAll: (files, now) => this.replaceAll(files, now),
      readAll: async () => this.readAll(),
    };
  }

  clear(): void {
    this.sql.exec("DELETE FROM files");
    this.sql.exec("DELETE FROM file_chunks");
    // Left by a replacement cut short (see replaceAll).
    this.sql.exec("DROP TABLE IF EXISTS files_next");
    this.sql.exec("DROP TABLE IF EXISTS file_chunks_next");
  }
}

function checkFileBytes(bytes: number, fileBytes: number): void {
  if (bytes > fileBytes) {
    throw new SandboxerError(ErrorCode.payloadTooLarge, `The file is ${bytes} bytes; this sandbox's profile allows at most ${fileBytes} bytes per file.`, {
      limit: "file_bytes",
      max: fileBytes,
    });
  }
}

/** `detail` says what would pass the limit (one more file, or a whole set). */
function checkFileCount(count: number, maxFiles: number, detail: string): void {
  if (count > maxFiles) throw new SandboxerError(ErrorCode.limitExceeded, detail, { limit: "max_files", max: maxFiles });
}

function checkStorageBytes(after: number, storageBytes: number, used: number, what: string): void {
  if (after > storageBytes) {
    throw new SandboxerError(ErrorCode.limitExceeded, `${what} would bring the workspace to ${after} bytes; the quota is ${storageBytes} bytes.`, {
      limit: "storage_bytes",
      max: storageBytes,
      used,
    });
  }
}

/**
 * `files` cut into runs that replaceAll writes with one statement each: files of at most
 * CHUNK_BYTES (one chunk row) whose bytes follow each other in one buffer, up to CHUNK_BYTES
 * of bytes per run (one bound value stays under SQLite's value limit). A larger file is a run of its own.
 */
function contiguousRuns(files: WorkspaceFile[]): WorkspaceFile[][] {
  const runs: WorkspaceFile[][] = [];
  let run: WorkspaceFile[] = [];
  let runStart = 0;
  for (const file of files) {
    const previous = run[run.length - 1]?.data;
    const fits =
      previous !== undefined &&
      file.data.byteLength <= CHUNK_BYTES &&
      file.data.buffer === previous.buffer &&
      file.data.byteOffset === previous.byteOffset + previous.byteLength &&
      file.data.byteOffset + file.data.byteLength - runStart <= CHUNK_BYTES;
    if (!fits) {
      if (run.length > 0) runs.push(run);
      run = [];
      runStart = file.data.byteOffset;
    }
    run.push(file);
    if (file.data.byteLength > CHUNK_BYTES) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
