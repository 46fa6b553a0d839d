import { z } from "@hono/zod-openapi";

/** Shape of a snapshot id: `snap_` and 24 lowercase hex digits. */
export const SNAPSHOT_ID_PATTERN = /^snap_[0-9a-f]{24}$/;

export const SnapshotId = z
  .string()
  .regex(SNAPSHOT_ID_PATTERN, "a snapshot id looks like snap_ and 24 hex digits")
  .openapi({ example: "snap_0123456789abcdef01234567" });

/** How long a snapshot is kept: its own retention, chosen when it is taken. */
export const SNAPSHOT_RETENTION = { defaultSeconds: 7 * 86_400, minSeconds: 3_600, maxSeconds: 30 * 86_400 } as const;

export const CreateSnapshotBody = z
  .object({
    name: z.string().min(1).max(128).optional().describe("A label of your choosing; default: the snapshot's id"),
    retentionSeconds: z
      .number()
      .int()
      .min(SNAPSHOT_RETENTION.minSeconds)
      .max(SNAPSHOT_RETENTION.maxSeconds)
      .optional()
      .describe("How long the snapshot is kept, from now: 1 hour to 30 days; default 7 days. It outlives its sandbox."),
  })
  .strict()
  .openapi("CreateSnapshotBody");

export const Snapshot = z
  .object({
    snapshotId: SnapshotId,
    name: z.string(),
    size: z.number().int().describe("Bytes stored (files, state, contexts and the record), counted against the tenant's storageBytes quota"),
    createdAt: z.string().datetime(),
    expiresAt: z.string().datetime().describe("When it is deleted (`retentionSeconds` after creation, 7 days by default); it outlives its sandbox"),
    sourceSandboxId: z.string(),
    profile: z.string(),
    skippedSymlinks: z
      .array(z.string())
      .optional()
      .describe(
        "In the answer that creates it: symbolic links in a linux sandbox's /workspace that the snapshot left out (a snapshot never follows a link; copies have the other files). Also in the audit entry.",
      ),
  })
  .openapi("Snapshot");

export const SnapshotList = z.object({ snapshots: z.array(Snapshot), nextCursor: z.string().nullable() }).openapi("SnapshotList");

export const ListSnapshotsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(1024).optional(),
});

export const SnapshotIdParam = z.object({
  snapshotId: SnapshotId.openapi({ param: { name: "snapshotId", in: "path" } }),
});

export const RestoreBody = z.object({ snapshotId: SnapshotId }).strict().openapi("RestoreSandbox");

export type CreateSnapshotBody = z.input<typeof CreateSnapshotBody>;
export type Snapshot = z.infer<typeof Snapshot>;
export type SnapshotList = z.infer<typeof SnapshotList>;
export type ListSnapshotsInput = z.input<typeof ListSnapshotsQuery>;
export type RestoreBody = z.input<typeof RestoreBody>;
