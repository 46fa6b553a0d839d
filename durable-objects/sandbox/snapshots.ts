import { ErrorCode, SandboxerError } from "../../src/errors";
import type { ProviderFiles, WorkspaceFile } from "../../src/providers/contract";
import type { Snapshot } from "../../src/schemas/snapshots";
import { decodeSnapshot, encodeSnapshot, type Archive, type SnapshotContent } from "../../src/snapshots/store";
import type { ContextStore } from "./contexts";
import type { StoredSandbox } from "./record";
import type { StateStore } from "./state-store";

/** What capturing or applying a snapshot touches in a sandbox. */
export interface SnapshotParts {
  /** The provider's files: the isolate workspace, or a linux sandbox's /workspace through its files API. */
  files: ProviderFiles;
  state: StateStore;
  contexts: ContextStore;
}

/** A sandbox's archive, and the symlinks it left out (paths in the workspace). */
export interface CapturedSnapshot {
  archive: Archive;
  skippedSymlinks: string[];
}

/**
 * The archive of a sandbox as it is now: every workspace file byte for byte, the `state` rows,
 * the contexts, and what a copy is created with (secret bindings by name; values never leave
 * the secret store, and placeholders are made anew for each copy). Symlinks (linux sandboxes)
 * are left out and named: one may point anywhere, and reading it would copy what it points at.
 */
export async function captureSnapshot(parts: SnapshotParts, s: StoredSandbox): Promise<CapturedSnapshot> {
  const { files: all, skippedSymlinks } = parts.files.readAll ? { files: await parts.files.readAll(), skippedSymlinks: [] } : await readEach(parts.files);
  const files = all.map((f) => ({ path: f.path, size: f.data.byteLength }));
  const bodies = all.map((f) => f.data);
  const content: SnapshotContent = {
    format: 1,
    sandbox: {
      profile: s.profile.name,
      metadata: s.metadata,
      env: s.env,
      network: s.network,
      capabilities: s.capabilities,
      secrets: Object.fromEntries(Object.entries(s.secrets ?? {}).map(([name, { placeholder: _, ...binding }]) => [name, binding])),
    },
    files,
    state: parts.state.entries(),
    contexts: parts.contexts.exportAll(),
  };
  return { archive: encodeSnapshot(content, bodies), skippedSymlinks };
}

/** Every regular file, listed and read one by one (providers without `readAll`); symlinks are not read. */
async function readEach(files: ProviderFiles): Promise<{ files: WorkspaceFile[]; skippedSymlinks: string[] }> {
  const all: WorkspaceFile[] = [];
  const skippedSymlinks: string[] = [];
  for (const entry of await files.list("")) {
    if (entry.symlink) {
      skippedSymlinks.push(entry.path);
      continue;
    }
    const file = await files.read(entry.path);
    // A file deleted between the listing and the read is simply not in the snapshot.
    if (file) all.push({ path: entry.path, data: file.data });
  }
  return { files: all, skippedSymlinks };
}

/** An audit entry's note on the symlinks a snapshot left out (the first few by name). */
export function skippedSymlinksNote(paths: string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const SHOWN = 20;
  const named = paths.slice(0, SHOWN).join(", ") + (paths.length > SHOWN ? `, and ${paths.length - SHOWN} more` : "");
  return `left out ${paths.length} symbolic link${paths.length === 1 ? "" : "s"}: ${named}`;
}

/** Refuses a snapshot taken of another profile, whose runtime could not run what it holds. */
export function checkSnapshotProfile(info: Snapshot, s: StoredSandbox): void {
  if (info.profile !== s.profile.name) {
    throw new SandboxerError(
      ErrorCode.validationFailed,
      `Snapshot ${info.snapshotId} was taken of a '${info.profile}' sandbox; this one runs profile '${s.profile.name}'. Create a new sandbox from it instead (POST /v1/sandboxes with fromSnapshot).`,
      { errors: [{ path: "snapshotId", message: `a snapshot of profile '${info.profile}'` }] },
    );
  }
}

/**
 * Puts a snapshot's files, state and contexts in place of the sandbox's own (the record, its
 * clocks and audit log are untouched).
 */
export async function applySnapshot(parts: SnapshotParts, archive: Uint8Array, now: number): Promise<void> {
  const { content, bodies } = decodeSnapshot(archive);
  if (parts.files.replaceAll) {
    // The bodies go in as views into the archive: no per-file copy, no per-file round trip.
    await parts.files.replaceAll(
      content.files.map((file, i) => ({ path: file.path, data: bodies[i]! })),
      now,
    );
  } else {
    for (const entry of await parts.files.list("")) await parts.files.delete(entry.path);
    for (const [i, file] of content.files.entries()) {
      // A copy, not a view: RPC takes the whole underlying buffer otherwise.
      await parts.files.write(file.path, bodies[i]!.slice().buffer, now);
    }
  }
  parts.state.replace(content.state);
  parts.contexts.importAll(content.contexts);
}

/** The bytes a snapshot's files take in the workspace, for the tenant's storage quota. */
export function snapshotFileBytes(archive: Uint8Array): number {
  return decodeSnapshot(archive).content.files.reduce((n, f) => n + f.size, 0);
}
