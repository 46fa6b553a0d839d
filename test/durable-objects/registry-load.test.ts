import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { operations } from "../../src/operations";
import { api, createSandbox, sandboxObject, TENANT_NAMES } from "../helpers";

// The tenant's registry is one Durable Object shared by all its sandboxes: activity must not
// write to it once per execution (durable-objects/sandbox: REGISTRY_ACTIVITY_SYNC_MS).

const registry = () => env.REGISTRY.get(env.REGISTRY.idFromName(TENANT_NAMES.a));
const ops = () => operations(env, TENANT_NAMES.a);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function listed(id: string) {
  const page = (await (await api("GET", "/v1/sandboxes?limit=100")).json()) as { sandboxes: { id: string; lastActiveAt: string; state: string }[] };
  return page.sandboxes.find((s) => s.id === id);
}

describe("the registry under load", () => {
  it("costs one write per lifecycle change, not one per execution or file operation", async () => {
    const before = await registry().indexWrites();
    const { id } = await createSandbox();
    for (let i = 0; i < 20; i++) await ops().exec(id, { code: `${i} + 1` });
    await ops().writeFile(id, "a.txt", "x");
    await ops().readFile(id, "a.txt");
    await ops().destroy(id);
    // create + stop: two writes; the 22 activities in between added none.
    expect((await registry().indexWrites()) - before).toBe(2);
    expect(await listed(id)).toMatchObject({ state: "stopped" });
  });

  it("a one-shot execution writes nothing to the registry", async () => {
    const before = await registry().indexWrites();
    expect((await api("POST", "/v1/exec", { json: { code: "1" } })).status).toBe(200);
    expect(await registry().indexWrites()).toBe(before);
  });

  it("the sandbox's alarm brings the listing's activity clock up to date", async () => {
    const { id } = await createSandbox();
    await sleep(5); // so the exec's activity time differs from the create's
    await ops().exec(id, { code: "1" });
    const exact = await ops().get(id);
    expect((await listed(id))?.lastActiveAt).not.toBe(exact.lastActiveAt);
    await runDurableObjectAlarm(sandboxObject(id));
    expect((await listed(id))?.lastActiveAt).toBe(exact.lastActiveAt);
  });

  it("'expiring within' answers from each sandbox's true idle clock, not the registry's older copy", async () => {
    const { id } = await createSandbox({ ttlSeconds: 3600, idleTimeoutSeconds: 90 });
    await sleep(1100);
    await ops().exec(id, { code: "1" });
    // The registry still has the idle clock of the create (now + 89 s); activity moved it to now + 90 s.
    expect((await ops().search({ expiringWithinSeconds: 89, limit: 100 })).sandboxes.map((s) => s.id)).not.toContain(id);
    const found = (await ops().search({ expiringWithinSeconds: 91, limit: 100 })).sandboxes.find((s) => s.id === id);
    expect(found?.idleExpiresAt).toBe((await ops().get(id)).idleExpiresAt);
  });
});
