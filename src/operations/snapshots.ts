import { ErrorCode, SandboxerError } from "../errors";
import type { CreateSandboxBody, SandboxRecord } from "../schemas/sandbox";
import { CreateSnapshotBody, ListSnapshotsQuery, RestoreBody, SnapshotId, type ListSnapshotsInput, type Snapshot, type SnapshotList } from "../schemas/snapshots";
import { SnapshotStore } from "../snapshots/store";
import { sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

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
    /** Stores a snapshot of the sandbox's files, state, contexts and settings (7 days). Activity. */
    async createSnapshot(id: string, body: CreateSnapshotBody = {}): Promise<Snapshot> {
      const { name } = parseInput(CreateSnapshotBody, body ?? {}, "body");
      return sandboxOf(ctx, id).snapshot(name);
    },

    /** The tenant's snapshots, a page at a time (`nextCursor`). */
    async listSnapshots(input: ListSnapshotsInput = {}): Promise<SnapshotList> {
      const { limit, cursor } = parseInput(ListSnapshotsQuery, input ?? {}, "query");
      return snapshotsOf(ctx).list(limit, cursor, Date.now());
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
