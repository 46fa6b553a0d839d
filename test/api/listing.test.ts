import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, createSandbox, sandboxObject } from "../helpers";

afterEach(() => vi.useRealTimers());

describe("GET /v1/sandboxes", () => {
  it("filters by metadata and pages with a cursor, newest first, without repeats", async () => {
    const run = crypto.randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createSandbox({ metadata: { run, n: String(i) } })).id);
    await createSandbox({ metadata: { run: "other" } });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `metadata.run=${run}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page: any = await (await api("GET", `/v1/sandboxes?${query}`)).json();
      expect(page.sandboxes.length).toBeLessThanOrEqual(2);
      seen.push(...page.sandboxes.map((s: any) => s.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it("combines metadata filters (all must match)", async () => {
    const run = crypto.randomUUID();
    const match = await createSandbox({ metadata: { run, team: "x" } });
    await createSandbox({ metadata: { run, team: "y" } });
    const page = await (await api("GET", `/v1/sandboxes?metadata.run=${run}&metadata.team=x`)).json<any>();
    expect(page.sandboxes.map((s: any) => s.id)).toEqual([match.id]);
  });

  it("stays correct when a sandbox expires by alarm: it moves from running to stopped", async () => {
    const run = crypto.randomUUID();
    const sandbox = await createSandbox({ ttlSeconds: 60, metadata: { run } });
    const running = await (await api("GET", `/v1/sandboxes?state=running&metadata.run=${run}`)).json<any>();
    expect(running.sandboxes.map((s: any) => s.id)).toEqual([sandbox.id]);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    await runDurableObjectAlarm(sandboxObject(sandbox.id));

    const stillRunning = await (await api("GET", `/v1/sandboxes?state=running&metadata.run=${run}`)).json<any>();
    expect(stillRunning.sandboxes).toEqual([]);
    const stopped = await (await api("GET", `/v1/sandboxes?state=stopped&metadata.run=${run}`)).json<any>();
    expect(stopped.sandboxes).toMatchObject([{ id: sandbox.id, state: "stopped", endReason: "ttl_expired" }]);
  });

  it("shows metadata changes", async () => {
    const run = crypto.randomUUID();
    const sandbox = await createSandbox({ metadata: { run } });
    await api("PATCH", `/v1/sandboxes/${sandbox.id}`, { json: { metadata: { stage: "done" } } });
    const page = await (await api("GET", `/v1/sandboxes?metadata.run=${run}&metadata.stage=done`)).json<any>();
    expect(page.sandboxes.map((s: any) => s.id)).toEqual([sandbox.id]);
  });
});
