import { ErrorCode, SandboxerError } from "../errors";
import type { CreateSandboxBody, SandboxRecord } from "../schemas/sandbox";
import { SANDBOX_ID_PATTERN } from "../schemas/common";
import { CreateSnapshotBody, ListSnapshotsQuery, RestoreBody, SnapshotId, type ListSnapshotsInput, type Snapshot, type SnapshotList } from "../schemas/snapshots";
import { SnapshotStore } from "../snapshots/store";
import { sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

/** At most this many snapshots of one sandbox are returned by `sandboxSnapshots` (the newest). */
export const MAX_SANDBOX_SNAPSHOTS = 100;

/** Objects per R2 listing page while looking for one sandbox's snapshots (R2's maximum). */
const SNAPSHOT_SCAN_PAGE = 1000;

/** The fields of a create body that a snapshot decides when the sandbox is seeded from it. */
const FROM_SNAPSHOT_FIELDS = ["profile", "env", "network", "capabilities", "secrets"] as const;

/** The tenant's snapshot store (keys under its own prefix: another tenant's id is a 404). */
export function snapshotsOf(ctx: OperationContext): SnapshotStore {
  return new SnapshotStore(ctx.env.SNAPSHOTS, ctx.tenant);
}

/**
 * The create body of a sandbox seeded from `body.fromSnapshot`: the snapshot's profile, env,
 * network, capabilities and secret bindings (by name: the copy gets new placeholders and the
 * values are looked up in this tenant's secret store), with the caller's clocks and metadata.
 */
export async function forkBody(ctx: OperationContext, body: CreateSandboxBody & { fromSnapshot: string }): Promise<CreateSandboxBody> {
  const given = FROM_SNAPSHOT_FIELDS.filter((field) => body[field] !== undefined);
  if (given.length > 0) {
    throw new SandboxerError(
      ErrorCode.validationFailed,
      `${given.join(", ")} come${given.length === 1 ? "s" : ""} from the snapshot when fromSnapshot is given; leave ${given.length === 1 ? "it" : "them"} out (ttlSeconds, idleTimeoutSeconds and metadata may be given).`,
      { errors: given.map((field) => ({ path: field, message: "comes from the snapshot" })) },
    );
  }
  const seed = (await snapshotsOf(ctx).readContent(body.fromSnapshot, Date.now())).sandbox;
  return {
    ...body,
    profile: seed.profile,
    env: seed.env,
    network: seed.network,
    capabilities: seed.capabilities,
    secrets: seed.secrets,
    metadata: { ...seed.metadata, ...body.metadata },
  };
}

/** Snapshots: take one of a sandbox, list and delete them, roll a sandbox back to one, pause and resume. Forks are `create({ fromSnapshot })`. */
export function snapshotOperations(ctx: OperationContext) {
  return {
    /** Stores a snapshot of the sandbox's files, state, contexts and settings (`retentionSeconds`, 7 days by default). Activity. */
    async createSnapshot(id: string, body: CreateSnapshotBody = {}): Promise<Snapshot> {
      const { name, retentionSeconds } = parseInput(CreateSnapshotBody, body ?? {}, "body");
      return sandboxOf(ctx, id).snapshot(name, retentionSeconds);
    },

    /** The tenant's snapshots, a page at a time (`nextCursor`). */
    async listSnapshots(input: ListSnapshotsInput = {}): Promise<SnapshotList> {
      const { limit, cursor } = parseInput(ListSnapshotsQuery, input ?? {}, "query");
      return snapshotsOf(ctx).list(limit, cursor, Date.now());
    },

    /**
     * The snapshots taken of one sandbox, newest first (at most `MAX_SANDBOX_SNAPSHOTS`). They
     * outlive it, so a stopped sandbox still has them. Only the tenant's own snapshots are
     * searched: another tenant's sandbox id simply has none. Not activity.
     */
    async sandboxSnapshots(id: string): Promise<Snapshot[]> {
      if (typeof id !== "string" || !SANDBOX_ID_PATTERN.test(id)) throw new SandboxerError(ErrorCode.notFound, "No such sandbox.");
      const store = snapshotsOf(ctx);
      const now = Date.now();
      const found: Snapshot[] = [];
      let cursor: string | undefined;
      // The store's index is the R2 listing in id order (ids are random): the whole listing is
      // read, in pages, and filtered by source.
      do {
        const page = await store.list(SNAPSHOT_SCAN_PAGE, cursor, now);
        for (const snapshot of page.snapshots) if (snapshot.sourceSandboxId === id) found.push(snapshot);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      found.sort((x, y) => (x.createdAt < y.createdAt ? 1 : x.createdAt > y.createdAt ? -1 : 0));
      return found.slice(0, MAX_SANDBOX_SNAPSHOTS);
    },

    async getSnapshot(snapshotId: string): Promise<Snapshot> {
      return snapshotsOf(ctx).describe(parseInput(SnapshotId, snapshotId, "path.snapshotId"), Date.now());
    },

    async deleteSnapshot(snapshotId: string): Promise<void> {
      await snapshotsOf(ctx).delete(parseInput(SnapshotId, snapshotId, "path.snapshotId"), Date.now());
    },

    /** Keeps the sandbox's state as a snapshot and releases its runtime; the idle clock stops, the TTL runs on. */
    async pause(id: string): Promise<SandboxRecord> {
      return sandboxOf(ctx, id).pause();
    },

    /** Brings a paused sandbox back with its files, state and contexts (a running one is answered as is). */
    async resume(id: string): Promise<SandboxRecord> {
      return sandboxOf(ctx, id).resume();
    },

    /** Rolls the sandbox back to a snapshot in place: files, state and contexts; id, clocks and audit log stay. */
    async restore(id: string, body: RestoreBody): Promise<SandboxRecord> {
      const { snapshotId } = parseInput(RestoreBody, body, "body");
      return sandboxOf(ctx, id).restore(snapshotId);
    },
  };
}
