import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { operations } from "../../src/operations";
import { createSandbox, TENANT_NAMES } from "../helpers";

const ops = () => operations(env, TENANT_NAMES.a);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("operations for watchers and bulk actions", () => {
  it("searches by id prefix and by 'expiring within', counting the idle clock too", async () => {
    const soon = await createSandbox({ ttlSeconds: 60, idleTimeoutSeconds: 3600 });
    const idleSoon = await createSandbox({ ttlSeconds: 3600, idleTimeoutSeconds: 90 });
    const later = await createSandbox({ ttlSeconds: 3600, idleTimeoutSeconds: 3600 });
    const expiring = (await ops().search({ expiringWithinSeconds: 120, limit: 100 })).sandboxes.map((s) => s.id);
    expect(expiring).toContain(soon.id);
    expect(expiring).toContain(idleSoon.id);
    expect(expiring).not.toContain(later.id);
    expect((await ops().search({ idPrefix: later.id.slice(0, 18) })).sandboxes.map((s) => s.id)).toEqual([later.id]);
  });

  it("searches paused sandboxes apart: paused ones are still in state running", async () => {
    const metadata = { group: `paused-${Date.now()}` };
    const paused = await createSandbox({ metadata });
    const running = await createSandbox({ metadata });
    await ops().pause(paused.id);
    const ids = async (input: Parameters<ReturnType<typeof ops>["search"]>[0]) => (await ops().search({ metadata, ...input })).sandboxes.map((s) => s.id).sort();
    expect(await ids({ paused: true })).toEqual([paused.id]);
    expect(await ids({ paused: false })).toEqual([running.id]);
    expect(await ids({ state: "running" })).toEqual([paused.id, running.id].sort());
    await ops().resume(paused.id);
    expect(await ids({ paused: true })).toEqual([]);
  });

  it("lists the snapshots of one sandbox, newest first, without touching its clocks, and none of another tenant's", async () => {
    const { id } = await createSandbox();
    const { id: sibling } = await createSandbox();
    const first = await ops().createSnapshot(id, { name: "first" });
    await sleep(5);
    const second = await ops().createSnapshot(id, { name: "second" });
    await ops().createSnapshot(sibling, { name: "other" });
    const before = await ops().get(id);
    expect(await ops().sandboxSnapshots(id)).toEqual([second, first]);
    expect(await ops().get(id)).toMatchObject({ lastActiveAt: before.lastActiveAt, etag: before.etag });
    expect(await operations(env, TENANT_NAMES.b).sandboxSnapshots(id)).toEqual([]);
    await ops().destroy(id);
    expect((await ops().sandboxSnapshots(id)).map((s) => s.name)).toEqual(["second", "first"]);
    await expect(ops().sandboxSnapshots("not-an-id")).rejects.toMatchObject({ code: "not_found" });
  });

  it("refuses a malformed search with validation_failed naming the field", async () => {
    await expect(ops().search({ idPrefix: "sbx_%" })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(ops().search({ expiringWithinSeconds: -1 })).rejects.toMatchObject({ code: "validation_failed" });
  });

  it("lists files without touching the idle clock, where listFiles does", async () => {
    const { id } = await createSandbox();
    await ops().writeFile(id, "a.txt", "x");
    const before = await ops().get(id);
    await sleep(20);
    expect((await ops().peekFiles(id)).map((f) => f.path)).toEqual(["a.txt"]);
    expect(await ops().get(id)).toMatchObject({ lastActiveAt: before.lastActiveAt, etag: before.etag });
    await ops().listFiles(id);
    expect((await ops().get(id)).lastActiveAt).not.toBe(before.lastActiveAt);
  });

  it("gives a stopped sandbox an empty file list, and another tenant's sandbox not_found", async () => {
    const { id } = await createSandbox();
    await ops().writeFile(id, "a.txt", "x");
    await ops().destroy(id);
    expect(await ops().peekFiles(id)).toEqual([]);
    await expect(operations(env, TENANT_NAMES.b).peekFiles(id)).rejects.toMatchObject({ code: "not_found" });
  });

  it("stops and updates many sandboxes, reporting each failure without stopping the others", async () => {
    const a = await createSandbox();
    const b = await createSandbox();
    const theirs = await createSandbox({}, "b");
    const updated = await ops().updateMany([a.id, b.id, theirs.id], { ttlSeconds: 7200 });
    expect(updated).toEqual([
      { id: a.id, ok: true },
      { id: b.id, ok: true },
      { id: theirs.id, ok: false, error: { code: "not_found", detail: "No such sandbox." } },
    ]);
    expect(Date.parse((await ops().get(a.id)).expiresAt)).toBeGreaterThan(Date.now() + 7000_000);
    const stopped = await ops().stopMany([a.id, a.id]);
    expect(stopped).toEqual([{ id: a.id, ok: true }]);
    expect(await ops().get(a.id)).toMatchObject({ state: "stopped", endReason: "deleted" });
    expect((await ops().get(b.id)).state).toBe("running");
    expect((await operations(env, TENANT_NAMES.b).get(theirs.id)).state).toBe("running");
    await expect(ops().stopMany([])).rejects.toMatchObject({ code: "validation_failed" });
  });
});
