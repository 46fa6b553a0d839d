import { createRoute } from "@hono/zod-openapi";
import { SandboxIdParam } from "../schemas/common";
import { SandboxRecord } from "../schemas/sandbox";
import { CreateSnapshotBody, ListSnapshotsQuery, RestoreBody, Snapshot, SnapshotIdParam, SnapshotList } from "../schemas/snapshots";
import { createApp, ops } from "./app";
import { BODY_ERRORS, COMMON_ERRORS, json, LIVE_ERRORS, problem, SANDBOX_ERRORS } from "./responses";

/** Snapshots of a sandbox, the tenant's snapshot list, and rolling a sandbox back to one. */
export const snapshots = createApp();

const stoppedError = { 410: problem("The sandbox is stopped") } as const;
const snapshotNotFound = { 404: problem("No such snapshot (or another tenant's, or expired)") } as const;

const createSnapshot = createRoute({
  operationId: "createSnapshot",
  method: "post",
  path: "/v1/sandboxes/{id}/snapshots",
  summary: "Take a snapshot of a sandbox",
  description:
    "Stores the workspace files (byte for byte), the `state` capability's data, the code contexts, and the sandbox's profile, env, network, capabilities, metadata and secret bindings (by name: secret values never leave the secret store). Kept `retentionSeconds` (7 days by default, at most 30), also after the sandbox ends. Seed new sandboxes from it with `POST /v1/sandboxes {fromSnapshot}`, or roll this one back with `POST /v1/sandboxes/{id}/restore`. The body may be empty.",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: CreateSnapshotBody } }, required: false },
  },
  responses: {
    201: json(Snapshot, "The snapshot"),
    ...LIVE_ERRORS,
    ...BODY_ERRORS,
    422: problem("The tenant's snapshots would pass its storageBytes quota"),
  },
});

snapshots.openapi(createSnapshot, async (c) => {
  const snapshot = await ops(c).createSnapshot(c.req.valid("param").id, c.req.valid("json") ?? {});
  return c.json(snapshot, 201, { Location: `/v1/snapshots/${snapshot.snapshotId}` });
});

const restoreSandbox = createRoute({
  operationId: "restoreSandbox",
  method: "post",
  path: "/v1/sandboxes/{id}/restore",
  summary: "Roll a sandbox back to a snapshot",
  description:
    "Replaces the workspace files, `state` data and code contexts with the snapshot's. The sandbox keeps its id, clocks, grants and audit log; the audit log records the restore. The snapshot must be of the same profile.",
  request: {
    params: SandboxIdParam,
    body: { content: { "application/json": { schema: RestoreBody } }, required: true },
  },
  responses: {
    200: json(SandboxRecord, "The sandbox, rolled back"),
    ...LIVE_ERRORS,
    404: problem("No such sandbox or snapshot (or another tenant's, or an expired snapshot)"),
    ...BODY_ERRORS,
    400: problem("Validation failed, or the snapshot was taken of another profile"),
    422: problem("The restored files would pass the tenant's storageBytes quota or the profile's limits"),
  },
});

snapshots.openapi(restoreSandbox, async (c) => {
  return c.json(await ops(c).restore(c.req.valid("param").id, c.req.valid("json")), 200);
});

const pauseSandbox = createRoute({
  operationId: "pauseSandbox",
  method: "post",
  path: "/v1/sandboxes/{id}/pause",
  summary: "Pause a sandbox",
  description:
    "Keeps its files, state and contexts (a snapshot kept with the sandbox, not in your list) and releases its runtime (a linux sandbox's processes and container stop). While paused the record says `paused: true`, the idle clock is stopped (`idleExpiresAt: null`) and the TTL keeps running; exec, commands, files and contexts answer 409 until `POST …/resume`.",
  request: { params: SandboxIdParam },
  responses: {
    200: json(SandboxRecord, "The paused sandbox"),
    ...SANDBOX_ERRORS,
    ...stoppedError,
    409: problem("Already paused"),
    412: problem("Executions or commands are running: pause once they have finished"),
  },
});

snapshots.openapi(pauseSandbox, async (c) => {
  return c.json(await ops(c).pause(c.req.valid("param").id), 200);
});

const resumeSandbox = createRoute({
  operationId: "resumeSandbox",
  method: "post",
  path: "/v1/sandboxes/{id}/resume",
  summary: "Resume a paused sandbox",
  description: "Brings it back with its files, state and contexts; the idle clock starts again from now. Resuming a running sandbox answers it as is.",
  request: { params: SandboxIdParam },
  responses: {
    200: json(SandboxRecord, "The running sandbox"),
    ...SANDBOX_ERRORS,
    ...stoppedError,
    409: problem("A resume of it is already under way"),
    422: problem("Its files would pass the tenant's storageBytes quota"),
  },
});

snapshots.openapi(resumeSandbox, async (c) => {
  return c.json(await ops(c).resume(c.req.valid("param").id), 200);
});

const listSnapshots = createRoute({
  operationId: "listSnapshots",
  method: "get",
  path: "/v1/snapshots",
  summary: "List your snapshots",
  request: { query: ListSnapshotsQuery },
  responses: { 200: json(SnapshotList, "A page of snapshots"), ...COMMON_ERRORS },
});

snapshots.openapi(listSnapshots, async (c) => {
  return c.json(await ops(c).listSnapshots(c.req.valid("query")), 200);
});

const getSnapshot = createRoute({
  operationId: "getSnapshot",
  method: "get",
  path: "/v1/snapshots/{snapshotId}",
  summary: "Describe a snapshot",
  request: { params: SnapshotIdParam },
  responses: { 200: json(Snapshot, "The snapshot"), ...COMMON_ERRORS, ...snapshotNotFound },
});

snapshots.openapi(getSnapshot, async (c) => {
  return c.json(await ops(c).getSnapshot(c.req.valid("param").snapshotId), 200);
});

const deleteSnapshot = createRoute({
  operationId: "deleteSnapshot",
  method: "delete",
  path: "/v1/snapshots/{snapshotId}",
  summary: "Delete a snapshot",
  request: { params: SnapshotIdParam },
  responses: { 204: { description: "Deleted" }, ...COMMON_ERRORS, ...snapshotNotFound },
});

snapshots.openapi(deleteSnapshot, async (c) => {
  await ops(c).deleteSnapshot(c.req.valid("param").snapshotId);
  return c.body(null, 204);
});
