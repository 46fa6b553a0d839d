import { ErrorCode, SandboxerError } from "../errors";

/** Longest workspace path, in UTF-8 bytes, and longest single segment. */
export const MAX_PATH_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;

const encoder = new TextEncoder();

/**
 * Normalises a workspace path (relative to the workspace root) and rejects anything that
 * could name a place outside it: `..` segments, absolute paths, backslashes, NUL and other
 * control characters, over-long paths. `.` and empty segments are dropped, so
 * `a//b/./c` becomes `a/b/c`. The same rules apply to the HTTP files API, the files
 * capability and module imports.
 */
export function normaliseWorkspacePath(raw: string): string {
  const reject = (why: string): never => {
    throw new SandboxerError(ErrorCode.validationFailed, `Invalid workspace path: ${why}`, {
      errors: [{ path: "path", message: why }],
    });
  };
  if (raw.length === 0) reject("the path is empty");
  if (raw.startsWith("/")) reject("absolute paths are not allowed; paths are relative to the workspace root");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) reject("control characters (including NUL) are not allowed");
  if (raw.includes("\\")) reject("backslashes are not allowed; use '/'");
  const segments: string[] = [];
  for (const segment of raw.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") reject("'..' segments are not allowed");
    if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) reject(`a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
    segments.push(segment);
  }
  if (segments.length === 0) reject("the path names no file");
  const path = segments.join("/");
  if (encoder.encode(path).length > MAX_PATH_BYTES) reject(`the path is longer than ${MAX_PATH_BYTES} bytes`);
  return path;
}

/** Normalises a `?prefix=` filter: same rules, but empty means "everything". */
export function normaliseWorkspacePrefix(raw: string | undefined): string {
  if (raw === undefined || raw === "" || raw === "/") return "";
  const trailingSlash = raw.endsWith("/");
  const path = normaliseWorkspacePath(raw);
  return trailingSlash ? `${path}/` : path;
}
