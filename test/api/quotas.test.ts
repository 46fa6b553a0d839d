import { describe, expect, it } from "vitest";
import { api, createSandbox, problemOf } from "../helpers";

// tenant-q's quotas (vitest.config.ts): 3 sandboxes alive, 2 executions in flight, 1000 bytes of files.

describe("per-tenant quotas", () => {
  it("sandboxes alive: the one past the quota is a 429 naming it; deleting one frees the slot; other tenants are unaffected", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createSandbox({}, "q")).id);
    const res = await api("POST", "/v1/sandboxes", { as: "q", json: {} });
    const { status, contentType, body } = await problemOf(res);
    expect(status).toBe(429);
    expect(contentType).toBe("application/problem+json");
    expect(body).toMatchObject({ code: "quota_exceeded", quota: "sandboxesAlive", max: 3, current: 3 });
    expect(body.detail).toMatch(/Delete one/);
    expect(res.headers.get("retry-after")).toBe("60");
    expect((await api("POST", "/v1/sandboxes", { as: "a", json: {} })).status).toBe(201);

    expect((await api("DELETE", `/v1/sandboxes/${ids[0]}`, { as: "q" })).status).toBe(204);
    const again = await createSandbox({}, "q");
    ids[0] = again.id;

    // Storage: 1000 bytes over all the tenant's workspaces, by HTTP and through the files capability.
    expect((await api("PUT", `/v1/sandboxes/${ids[1]}/files/a.bin`, { as: "q", body: "x".repeat(600) })).status).toBe(201);
    const over = await problemOf(await api("PUT", `/v1/sandboxes/${ids[2]}/files/b.bin`, { as: "q", body: "y".repeat(600) }));
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ code: "limit_exceeded", quota: "storageBytes", max: 1000, used: 600 });
    // Replacing a file counts its new size, not both.
    expect((await api("PUT", `/v1/sandboxes/${ids[1]}/files/a.bin`, { as: "q", body: "x".repeat(900) })).status).toBe(201);
    // Stopping a sandbox frees its storage.
    expect((await api("DELETE", `/v1/sandboxes/${ids[1]}`, { as: "q" })).status).toBe(204);
    expect((await api("PUT", `/v1/sandboxes/${ids[2]}/files/b.bin`, { as: "q", body: "y".repeat(600) })).status).toBe(201);
    for (const id of [ids[0], ids[2]]) await api("DELETE", `/v1/sandboxes/${id}`, { as: "q" });
  }, 30_000);

  it("storage: deleting a file gives its bytes back to the tenant's quota, by HTTP and through the files capability", async () => {
    // Two sandboxes: a write recounts its own sandbox's workspace, so only another sandbox's
    // write shows whether the deleted bytes still count.
    const one = (await createSandbox({}, "q")).id;
    const two = (await createSandbox({ capabilities: [{ name: "files" }] }, "q")).id;
    const put = (id: string, path: string, bytes: number) => api("PUT", `/v1/sandboxes/${id}/files/${path}`, { as: "q", body: "x".repeat(bytes) });
    expect((await put(one, "a.bin", 900)).status).toBe(201);
    expect((await put(two, "b.bin", 900)).status).toBe(422);
    expect((await api("DELETE", `/v1/sandboxes/${one}/files/a.bin`, { as: "q" })).status).toBe(204);
    expect((await put(two, "b.bin", 900)).status).toBe(201);
    // The same through the capability: the code deletes what was written, and the other sandbox can write as much.
    const out = await (await api("POST", `/v1/sandboxes/${two}/exec`, { as: "q", json: { code: `await env.files.delete("b.bin"); 'gone'` } })).json<any>();
    expect(out).toMatchObject({ status: "ok", result: "gone" });
    expect((await put(one, "a.bin", 900)).status).toBe(201);
    for (const id of [one, two]) await api("DELETE", `/v1/sandboxes/${id}`, { as: "q" });
  }, 30_000);

  it("executions in flight: past the quota a 429 names it; the slots come back when executions end", async () => {
    const ids = [(await createSandbox({ capabilities: [{ name: "files" }] }, "q")).id, (await createSandbox({}, "q")).id];
    const slow = "await new Promise((r) => setTimeout(r, 1500)); 'done'";
    const results = await Promise.all([
      api("POST", `/v1/sandboxes/${ids[0]}/exec`, { as: "q", json: { code: slow } }),
      api("POST", `/v1/sandboxes/${ids[1]}/exec`, { as: "q", json: { code: slow } }),
      new Promise((r) => setTimeout(r, 300)).then(() => api("POST", `/v1/sandboxes/${ids[1]}/exec`, { as: "q", json: { code: slow } })),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
    const { body } = await problemOf(results[2]!);
    expect(body).toMatchObject({ code: "quota_exceeded", quota: "executionsInFlight", max: 2 });
    expect(results[2]!.headers.get("retry-after")).toBe("1");
    // Refused before it ran: no history row for it.
    const history = await (await api("GET", `/v1/sandboxes/${ids[1]}/executions`, { as: "q" })).json<any>();
    expect(history.executions).toHaveLength(1);
    expect((await api("POST", `/v1/sandboxes/${ids[1]}/exec`, { as: "q", json: { code: "1 + 1" } })).status).toBe(200);

    // The capability path counts against the storage quota too.
    const out = await (await api("POST", `/v1/sandboxes/${ids[0]}/exec`, { as: "q", json: { code: `await env.files.write("big.bin", "z".repeat(2000))` } })).json<any>();
    expect(out.status).toBe("error");
    expect(out.error.message).toMatch(/^limit_exceeded: .*storage quota is 1000 bytes/);
    for (const id of ids) await api("DELETE", `/v1/sandboxes/${id}`, { as: "q" });
  }, 30_000);
});
