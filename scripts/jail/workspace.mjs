// A sandbox's /workspace as the files API sees it. Every file operation runs INSIDE the
// sandbox's own jail (a tiny shell command), so a path can only ever resolve within the jail's
// view: a symlink the code planted pointing at /etc/shadow or another sandbox resolves to the
// jail's own root, and is refused anyway because its real path leaves /workspace.
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { killJailed } from "./jail.mjs";

/** Exit codes of the file scripts below, mapped to the container server's error codes. */
const FILE_ERRORS = {
  90: { code: "FILE_NOT_FOUND", httpStatus: 404, message: "No such file in the workspace." },
  91: { code: "PERMISSION_DENIED", httpStatus: 403, message: "The path leaves /workspace (through a symlink); it cannot be used by the files API." },
  92: { code: "IS_DIRECTORY", httpStatus: 409, message: "The path is a directory, not a file." },
  93: { code: "NOT_DIRECTORY", httpStatus: 409, message: "A parent of the path is a file, not a directory." },
};

// "$P" is the absolute path; the shell resolves it with realpath inside the jail.
const INSIDE = 'case "$R" in /workspace/*) ;; *) exit 91;; esac';
const SCRIPTS = {
  read: `[ -e "$P" ] || exit 90; R=$(realpath -e -- "$P") || exit 90; ${INSIDE}; [ -d "$R" ] && exit 92; exec cat -- "$R"`,
  write: `D=$(dirname -- "$P"); [ -e "$D" ] && [ ! -d "$D" ] && exit 93; mkdir -p -- "$D" 2>/dev/null || exit 93; R=$(realpath -e -- "$D") || exit 93; R="$R/"; ${INSIDE}; [ -L "$P" ] && exit 91; [ -d "$P" ] && exit 92; exec cat > "$P"`,
  delete: `[ -e "$P" ] || [ -L "$P" ] || exit 90; R=$(realpath -m -- "$(dirname -- "$P")")/; ${INSIDE}; [ -d "$P" ] && [ ! -L "$P" ] && exit 92; exec rm -f -- "$P"`,
  list: `cd /workspace && exec find . -mindepth 1 \\( -type f -o -type l \\) -printf '%y\\t%s\\t%T@\\t%P\\0'`,
};

/**
 * Sum of the sizes of everything under `dir` (symlinks not followed), stopping early once
 * past `stopAbove`: a quota check never needs the exact figure beyond the quota.
 */
export function workspaceBytes(dir, stopAbove = Infinity) {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop();
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      try {
        const stat = lstatSync(path);
        total += stat.isDirectory() ? 4096 : stat.size;
        if (entry.isDirectory()) stack.push(path);
      } catch {
        // removed meanwhile
      }
      if (total > stopAbove) return total;
    }
  }
  return total;
}

/** Runs one file script in the jail; resolves with its exit code and output bytes. */
function fileOp(sandbox, op, path, stdin, outputCap) {
  return new Promise((resolve, reject) => {
    const child = sandbox.spawn({ command: SCRIPTS[op], env: { P: path }, cwd: "/workspace" });
    const chunks = [];
    let size = 0;
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      size += chunk.length;
      if (size > outputCap) killJailed(child);
      else chunks.push(chunk);
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? undefined);
    const timer = setTimeout(() => killJailed(child), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, data: Buffer.concat(chunks), stderr, oversize: size > outputCap });
    });
  });
}

function fail(info, path) {
  return Object.assign(new Error(info.message), { code: info.code, httpStatus: info.httpStatus, path });
}

function check(result, path) {
  if (result.code === 0) return;
  const known = FILE_ERRORS[result.code];
  if (known) throw fail(known, path);
  throw fail({ code: "FILESYSTEM_ERROR", httpStatus: 500, message: `The file operation failed: ${result.stderr.trim().slice(0, 300) || `exit ${result.code}`}` }, path);
}

/** The file's bytes. */
export async function readWorkspaceFile(sandbox, path) {
  const result = await fileOp(sandbox, "read", path, null, sandbox.limits.fileBytes);
  if (result.oversize) {
    throw fail({ code: "FILE_TOO_LARGE", httpStatus: 413, message: `The file is larger than ${sandbox.limits.fileBytes} bytes, the most the files API returns.` }, path);
  }
  check(result, path);
  return result.data;
}

/** Writes bytes (parents created), within the file-size and workspace quotas. */
export async function writeWorkspaceFile(sandbox, path, bytes) {
  const { fileBytes, storageBytes } = sandbox.limits;
  if (bytes.length > fileBytes) {
    throw fail({ code: "FILE_TOO_LARGE", httpStatus: 413, message: `The file is ${bytes.length} bytes; this sandbox allows at most ${fileBytes} bytes per file.` }, path);
  }
  const used = workspaceBytes(sandbox.workspaceDir, storageBytes);
  if (used + bytes.length > storageBytes) {
    throw fail({ code: "NO_SPACE", httpStatus: 422, message: `Writing this file would bring the workspace past its quota of ${storageBytes} bytes (${used} used).` }, path);
  }
  check(await fileOp(sandbox, "write", path, bytes, 0), path);
}

export async function deleteWorkspaceFile(sandbox, path) {
  check(await fileOp(sandbox, "delete", path, null, 0), path);
}

/** Regular files and symlinks under /workspace, as the container server's FileInfo. */
export async function listWorkspaceFiles(sandbox) {
  const result = await fileOp(sandbox, "list", "/workspace", null, 64 * 1024 * 1024);
  check(result, "/workspace");
  const files = [];
  for (const record of result.data.toString("utf8").split("\0")) {
    if (!record) continue;
    const [type, size, mtime, ...rest] = record.split("\t");
    const relativePath = rest.join("\t");
    files.push({
      name: relativePath.slice(relativePath.lastIndexOf("/") + 1),
      absolutePath: `/workspace/${relativePath}`,
      relativePath,
      type: type === "l" ? "symlink" : "file",
      size: Number(size),
      modifiedAt: new Date(Number(mtime) * 1000).toISOString(),
      mode: "",
      permissions: { readable: true, writable: true, executable: false },
    });
  }
  return files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
}
