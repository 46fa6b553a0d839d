import { z } from "@hono/zod-openapi";
import { CommandRequest } from "./commands";
import { ExecRequest } from "./exec";
import { FilesQuery } from "./files";
import { CreateSandboxBody, ListSandboxesInput, PatchSandboxBody } from "./sandbox";
import { CreateSnapshotBody, ListSnapshotsQuery, RestoreBody } from "./snapshots";

// The MCP tools' arguments. Each is built from the HTTP contract's own schema (the same
// fields, limits and messages), with descriptions written for a model choosing a tool.

const SandboxId = z.string().describe("The sandbox's id (`sbx_…`), as returned by create_sandbox or list_sandboxes.");

const WorkspacePath = z
  .string()
  .min(1)
  .max(1024)
  .describe("A path relative to the sandbox workspace root, e.g. `lib/math.ts` (no leading `/`, no `..`).");

/** `create_sandbox`: the create body's lifecycle, metadata, capability and network fields. */
export const CreateSandboxToolInput = CreateSandboxBody.pick({
  profile: true,
  ttlSeconds: true,
  idleTimeoutSeconds: true,
  metadata: true,
  capabilities: true,
  network: true,
  fromSnapshot: true,
}).extend({
  profile: CreateSandboxBody.shape.profile.describe(
    "The profile: `js` (default, no network) or `js-net` (egress to the hosts in `network.allow`) for JS/TS; `linux` (a Linux jail with bash and python3, no network) or `linux-net` for run_command and python/bash code.",
  ),
  ttlSeconds: CreateSandboxBody.shape.ttlSeconds.describe("Absolute lifetime in seconds (js: default 900, at most 86400)."),
  idleTimeoutSeconds: CreateSandboxBody.shape.idleTimeoutSeconds.describe("Stop after this many seconds without activity (js: default 300)."),
  metadata: CreateSandboxBody.shape.metadata.describe("String labels to find the sandbox again with list_sandboxes."),
  capabilities: CreateSandboxBody.shape.capabilities.describe(
    'Powers the code gets in `env`, e.g. `[{"name":"files"},{"name":"state"}]` for `env.files` (workspace) and `env.state` (key/value).',
  ),
  fromSnapshot: CreateSandboxBody.shape.fromSnapshot.describe(
    "Fork: a snapshot id (`snap_…`, from snapshot_sandbox or list_snapshots). The new sandbox starts with that snapshot's files, state, contexts, profile, network, capabilities and secret bindings; each call makes an independent copy. Give only ttlSeconds, idleTimeoutSeconds and metadata with it.",
  ),
});

/** `run_code`: an exec request, in a given sandbox or in a one-off one. */
export const RunCodeToolInput = ExecRequest.extend({
  sandboxId: SandboxId.optional().describe(
    "Run in this sandbox (its workspace files can be imported). Omit it to run once in a fresh sandbox that is deleted afterwards.",
  ),
  code: ExecRequest.shape.code.describe(
    "JavaScript or TypeScript. Top-level `await` works; the value of the last expression statement (or a top-level `return`) is the result. `console.log` goes to stdout, `console.error` to stderr. Import workspace files by relative path with their extension.",
  ),
  language: ExecRequest.shape.language.describe(
    "`js` (default) or `ts` in a V8 isolate; `python` or `bash` on a linux sandbox (give the `sandboxId` of one created with profile `linux`).",
  ),
});

/** `run_command`: one shell line on a linux sandbox, run to completion. */
export const RunCommandToolInput = z
  .object({
    sandboxId: SandboxId.describe("A linux sandbox (create_sandbox with profile `linux` or `linux-net`)."),
    cmd: CommandRequest.shape.cmd.unwrap().describe("A shell line, run by `bash -lc` in /workspace, e.g. `ls -la && python3 main.py`."),
    cwd: CommandRequest.shape.cwd.describe("Working directory: absolute, or relative to /workspace (the default)."),
    timeoutMs: CommandRequest.shape.timeoutMs.describe("Wall-clock limit in ms; at most the profile's."),
  })
  .strict();

/** `write_file`: text (or base64 bytes) into the workspace. */
export const WriteFileToolInput = z
  .object({
    sandboxId: SandboxId,
    path: WorkspacePath,
    content: z.string().describe("The file's content: text, or base64 when `encoding` is `base64`."),
    encoding: z.enum(["utf8", "base64"]).default("utf8").describe("How `content` is encoded: `utf8` (default) or `base64` for binary files."),
  })
  .strict();

/** `read_file`: one workspace file. */
export const ReadFileToolInput = z.object({ sandboxId: SandboxId, path: WorkspacePath }).strict();

/** `list_files`: the workspace, optionally under a prefix. */
export const ListFilesToolInput = z
  .object({ sandboxId: SandboxId, prefix: FilesQuery.shape.prefix.describe("Only paths starting with this, e.g. `src/`.") })
  .strict();

/** `set_timeout`: a new lifetime counted from now. */
export const SetTimeoutToolInput = z
  .object({
    sandboxId: SandboxId,
    ttlSeconds: PatchSandboxBody.shape.ttlSeconds.unwrap().describe("Seconds from now until the sandbox stops (may shorten or lengthen its life; capped by the profile)."),
  })
  .strict();

/** Tools that name one sandbox and nothing else (`stop_sandbox`, `get_types`). */
export const SandboxToolInput = z.object({ sandboxId: SandboxId }).strict();

const SnapshotIdArg = RestoreBody.shape.snapshotId.describe("A snapshot's id (`snap_…`), as returned by snapshot_sandbox or list_snapshots.");

/** `snapshot_sandbox`: a snapshot of one sandbox, optionally named. */
export const SnapshotSandboxToolInput = CreateSnapshotBody.extend({
  sandboxId: SandboxId,
  name: CreateSnapshotBody.shape.name.describe("A label to recognise it by in list_snapshots, e.g. `before-refactor` (default: its id)."),
}).strict();

/** `restore_sandbox`: roll one sandbox back to a snapshot. */
export const RestoreSandboxToolInput = RestoreBody.extend({ sandboxId: SandboxId, snapshotId: SnapshotIdArg }).strict();

/** `delete_snapshot`: one snapshot. */
export const SnapshotToolInput = z.object({ snapshotId: SnapshotIdArg }).strict();

/** `list_snapshots`: the tenant's snapshots a page at a time, or those of one sandbox. */
export const ListSnapshotsToolInput = ListSnapshotsQuery.extend({
  sandboxId: SandboxId.optional().describe("Only the snapshots taken of this sandbox (newest first, at most 100; paging does not apply)."),
  cursor: ListSnapshotsQuery.shape.cursor.describe("`nextCursor` from the previous page."),
}).strict();

/** `list_sandboxes`: the listing query. */
export const ListSandboxesToolInput = ListSandboxesInput.extend({
  state: ListSandboxesInput.shape.state.describe("`running` or `stopped` (stopped ones are kept for 24 h)."),
  metadata: ListSandboxesInput.shape.metadata.describe("Only sandboxes whose metadata has all of these key/values."),
  cursor: ListSandboxesInput.shape.cursor.describe("`nextCursor` from the previous page."),
}).strict();

export type CreateSandboxToolInput = z.infer<typeof CreateSandboxToolInput>;
export type RunCodeToolInput = z.infer<typeof RunCodeToolInput>;
export type RunCommandToolInput = z.infer<typeof RunCommandToolInput>;
export type WriteFileToolInput = z.infer<typeof WriteFileToolInput>;
