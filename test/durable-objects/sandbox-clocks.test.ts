import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, createSandbox, problemOf, sandboxObject } from "../helpers";

/** Moves the clock that both the test and the Durable Objects read (they share an isolate). */
function advanceClock(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

afterEach(() => {
  vi.useRealTimers();
});

async function alarmOf(id: string): Promise<number | null> {
  return runInDurableObject(sandboxObject(id), (_instance, state) => state.storage.getAlarm());
}

describe("TTL and idle clocks", () => {
  it("arms one alarm at the earlier of the two clocks", async () => {
    const created = await createSandbox({ ttlSeconds: 600, idleTimeoutSeconds: 60 });
    expect(await alarmOf(created.id)).toBe(Date.parse(created.idleExpiresAt!));
    const longIdle = await createSandbox({ ttlSeconds: 60, idleTimeoutSeconds: 600 });
    expect(await alarmOf(longIdle.id)).toBe(Date.parse(longIdle.expiresAt));
  });

  it("expires a sandbox at its absolute TTL through the alarm, with reason ttl_expired", async () => {
    const created = await createSandbox({ ttlSeconds: 60, idleTimeoutSeconds: 600 });
    advanceClock(61_000);
    expect(await runDurableObjectAlarm(sandboxObject(created.id))).toBe(true);
    vi.useRealTimers();
    const record = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(record).toMatchObject({ state: "stopped", endReason: "ttl_expired", endedAt: created.expiresAt });
  });

  it("expires an idle sandbox through the alarm, with reason idle_timeout", async () => {
    const created = await createSandbox({ ttlSeconds: 600, idleTimeoutSeconds: 30 });
    advanceClock(31_000);
    await runDurableObjectAlarm(sandboxObject(created.id));
    vi.useRealTimers();
    const record = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(record).toMatchObject({ state: "stopped", endReason: "idle_timeout" });
  });

  it("idleTimeoutSeconds null switches the idle clock off; the TTL still ends the sandbox", async () => {
    const created = await createSandbox({ ttlSeconds: 86_400, idleTimeoutSeconds: null });
    expect(created).toMatchObject({ idleTimeoutSeconds: null, idleExpiresAt: null });
    expect(await alarmOf(created.id)).toBe(Date.parse(created.expiresAt));
    advanceClock(6 * 60 * 60 * 1000);
    await runDurableObjectAlarm(sandboxObject(created.id));
    expect((await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>()).state).toBe("running");
    advanceClock(18 * 60 * 60 * 1000);
    await runDurableObjectAlarm(sandboxObject(created.id));
    vi.useRealTimers();
    expect(await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>()).toMatchObject({ state: "stopped", endReason: "ttl_expired" });
  });

  it("PATCH can switch the idle clock off and on again", async () => {
    const created = await createSandbox({ ttlSeconds: 600, idleTimeoutSeconds: 30 });
    const off = await (await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { idleTimeoutSeconds: null } })).json<any>();
    expect(off).toMatchObject({ idleTimeoutSeconds: null, idleExpiresAt: null });
    expect(await alarmOf(created.id)).toBe(Date.parse(off.expiresAt));
    const on = await (await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { idleTimeoutSeconds: 45 } })).json<any>();
    expect(on.idleTimeoutSeconds).toBe(45);
    expect(await alarmOf(created.id)).toBe(Date.parse(on.idleExpiresAt));
  });

  it("an alarm that fires before anything is due changes nothing and re-arms", async () => {
    const created = await createSandbox({ ttlSeconds: 600, idleTimeoutSeconds: 30 });
    // Activity moves the idle clock later without moving the alarm.
    advanceClock(20_000);
    await api("POST", `/v1/sandboxes/${created.id}/keepalive`);
    advanceClock(11_000);
    await runDurableObjectAlarm(sandboxObject(created.id));
    const record = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(record.state).toBe("running");
    expect(await alarmOf(created.id)).toBe(Date.parse(record.idleExpiresAt));
  });

  it("the alarm is idempotent: running it twice stops once", async () => {
    const created = await createSandbox({ ttlSeconds: 60 });
    advanceClock(61_000);
    await runDurableObjectAlarm(sandboxObject(created.id));
    const once = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    await runInDurableObject(sandboxObject(created.id), (instance) => instance.alarm());
    const twice = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(twice).toEqual(once);
  });

  it("shortening the TTL moves the alarm earlier and it fires then", async () => {
    const created = await createSandbox({ ttlSeconds: 3600, idleTimeoutSeconds: 3600 });
    const patched = await (await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { ttlSeconds: 5 } })).json<any>();
    expect(await alarmOf(created.id)).toBe(Date.parse(patched.expiresAt));
    advanceClock(6_000);
    await runDurableObjectAlarm(sandboxObject(created.id));
    const record = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(record).toMatchObject({ state: "stopped", endReason: "ttl_expired" });
  });

  it("a request after a missed alarm still sees the sandbox as expired", async () => {
    const created = await createSandbox({ ttlSeconds: 60 });
    advanceClock(61_000);
    const { status, body } = await problemOf(await api("POST", `/v1/sandboxes/${created.id}/keepalive`));
    expect(status).toBe(410);
    expect(body.reason).toBe("ttl_expired");
  });

  it("constructing the object again never extends the TTL", async () => {
    const created = await createSandbox({ ttlSeconds: 60 });
    await expect(runInDurableObject(sandboxObject(created.id), (_instance, state) => state.abort("reload"))).rejects.toThrow();
    const record = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(record.expiresAt).toBe(created.expiresAt);
    expect(await alarmOf(created.id)).toBe(Date.parse(created.expiresAt));
  }, 10_000);
});

describe("tombstone", () => {
  it("a stopped sandbox answers with its reason for 24 h, then 404 with its storage gone", async () => {
    const created = await createSandbox();
    await api("PUT", `/v1/sandboxes/${created.id}/files/a.txt`, { body: "hello" });
    await api("DELETE", `/v1/sandboxes/${created.id}`);
    const stopped = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(await alarmOf(created.id)).toBe(Date.parse(stopped.endedAt) + 24 * 3600 * 1000);

    advanceClock(23 * 3600 * 1000);
    await runDurableObjectAlarm(sandboxObject(created.id));
    expect((await api("GET", `/v1/sandboxes/${created.id}`)).status).toBe(200);

    advanceClock(2 * 3600 * 1000);
    await runDurableObjectAlarm(sandboxObject(created.id));
    expect((await api("GET", `/v1/sandboxes/${created.id}`)).status).toBe(404);
    const leftover = await runInDurableObject(sandboxObject(created.id), async (_instance, state) => ({
      alarm: await state.storage.getAlarm(),
      tables: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray(),
    }));
    expect(leftover).toEqual({ alarm: null, tables: [] });
    const listed = await (await api("GET", "/v1/sandboxes?limit=100")).json<any>();
    expect(listed.sandboxes.map((s: any) => s.id)).not.toContain(created.id);
  });

  it("stopping releases the workspace files", async () => {
    const created = await createSandbox();
    await api("PUT", `/v1/sandboxes/${created.id}/files/a.txt`, { body: "hello" });
    await api("DELETE", `/v1/sandboxes/${created.id}`);
    const rows = await runInDurableObject(sandboxObject(created.id), (_i, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM file_chunks").one().n,
    );
    expect(rows).toBe(0);
  });
});
