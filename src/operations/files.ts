import { z } from "zod";
import { ErrorCode, SandboxerError } from "../errors";
import { FilesQuery, type FileEntry } from "../schemas/files";
import { normaliseWorkspacePath, normaliseWorkspacePrefix } from "../workspace/paths";
import { sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

/** A file's bytes and its entry. */
export interface FileContent {
  entry: FileEntry;
  data: Uint8Array;
}

/** What `writeFile` accepts: bytes, or text (stored as UTF-8). */
export type FileData = ArrayBuffer | ArrayBufferView | string;

/** A workspace path as any door hands it over (normalised by `normaliseWorkspacePath`). */
function workspacePath(path: unknown): string {
  return normaliseWorkspacePath(parseInput(z.string(), path, "path"));
}

function toArrayBuffer(data: FileData): ArrayBuffer {
  if (typeof data === "string") return new TextEncoder().encode(data).buffer as ArrayBuffer;
  if (data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
  throw new SandboxerError(ErrorCode.validationFailed, "File data must be a string, an ArrayBuffer or a typed array.", {
    errors: [{ path: "data", message: "string, ArrayBuffer or typed array" }],
  });
}

/**
 * The sandbox workspace. Paths are normalised here (no `..`, no leading `/`, no NUL,
 * at most 1024 bytes → `validation_failed`); sizes and quota are the profile's, checked
 * by the Durable Object. Every call is activity.
 */
export function fileOperations(ctx: OperationContext) {
  return {
    /** A file's bytes; `not_found` if there is none. */
    async readFile(id: string, path: string): Promise<FileContent> {
      return sandboxOf(ctx, id).getFile(workspacePath(path));
    },

    /** Creates or replaces a file. */
    async writeFile(id: string, path: string, data: FileData): Promise<FileEntry> {
      const normalised = workspacePath(path);
      return sandboxOf(ctx, id).putFile(normalised, toArrayBuffer(data));
    },

    /** Files under an optional prefix, sorted by path. */
    async listFiles(id: string, prefix?: string): Promise<FileEntry[]> {
      const query = parseInput(FilesQuery, { prefix }, "query");
      return sandboxOf(ctx, id).listFiles(normaliseWorkspacePrefix(query.prefix));
    },

    /** Deletes a file; `not_found` if there was none. */
    async deleteFile(id: string, path: string): Promise<void> {
      await sandboxOf(ctx, id).deleteFile(workspacePath(path));
    },
  };
}
