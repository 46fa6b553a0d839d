import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dueReason, type StoredSandbox } from "../../durable-objects/sandbox/record";
import { pausedSandboxKey } from "../../src/snapshots/store";
import { api, createSandbox, problemOf, TENANT_NAMES, type Tenant } from "../helpers";

/** Every byte value, then a pseudo-random tail: anything a text round trip would mangle. */
function binaryFixture(): Uint8Array {
  const bytes = new Uint8Array(70_000);
  for (let i = 0; i < 256; i++) bytes[i] = i;
  let x = 12345;
  for (let i = 256; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return bytes;
}

async function put(id: string, path: string, body: BodyInit, as: Tenant = "a") {
  const res = await api("PUT", `/v1/sandboxes/${id}/files/${path}`, { body, as });
  expect(res.status).toBe(201);
}

async function read(id: string, path: string, as: Tenant = "a") {
  return api("GET", `/v1/sandboxes/${id}/files/${path}`, { as });
}

async function snapshot(id: string, json: Record<string, unknown> = {}, as: Tenant = "a") {
  const res = await api("POST", `/v1/sandboxes/${id}/snapshots`, { json, as });
  expect(res.status).toBe(201);
  return res.json<any>();
}

async function exec(id: string, code: string, extra: Record<string, unknown> = {}) {
  return (await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code, ...extra } })).json<any>();
}

const CAPS = { capabilities: [{ name: "files" }, { name: "state" }] };

describe("snapshots, restore and fork", () => {
  it("a snapshot keeps its own retention: retentionSeconds from 1 hour to 30 days, 7 days by default", async () => {
    const { id } = await createSandbox();
    const day = await snapshot(id, { retentionSeconds: 86_400 });
    expect(Date.parse(day.expiresAt) - Date.parse(day.createdAt)).toBe(86_400_000);
    expect(await (await api("GET", `/v1/snapshots/${day.snapshotId}`)).json()).toMatchObject({ expiresAt: day.expiresAt });
    for (const retentionSeconds of [60, 31 * 86_400, 1.5]) {
      const res = await api("POST", `/v1/sandboxes/${id}/snapshots`, { json: { retentionSeconds } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "validation_failed", errors: [{ path: "body.retentionSeconds" }] });
    }
  });

  it("a snapshot is described, listed, and restores binary files byte for byte after they were broken", async () => {
    const { id } = await createSandbox(CAPS);
    const bytes = binaryFixture();
    await put(id, "data/blob.bin", bytes);
    await put(id, "notes.txt", "keep me");
    const snap = await snapshot(id, { name: "before" });
    expect(snap).toMatchObject({ snapshotId: expect.stringMatching(/^snap_[0-9a-f]{24}$/), name: "before", sourceSandboxId: id, profile: "js" });
    expect(snap.size).toBeGreaterThan(bytes.length);
    expect(Date.parse(snap.expiresAt) - Date.parse(snap.createdAt)).toBe(7 * 24 * 3600 * 1000);
    expect(await (await api("GET", `/v1/snapshots/${snap.snapshotId}`)).json()).toEqual(snap);
    const listed = await (await api("GET", "/v1/snapshots?limit=100")).json<any>();
    expect(listed.snapshots).toContainEqual(snap);

    await put(id, "data/blob.bin", "broken");
    await put(id, "extra.txt", "added after");
    expect((await api("DELETE", `/v1/sandboxes/${id}/files/notes.txt`)).status).toBe(204);

    const restored = await api("POST", `/v1/sandboxes/${id}/restore`, { json: { snapshotId: snap.snapshotId } });
    expect(restored.status).toBe(200);
    expect((await restored.json<any>()).id).toBe(id);
    expect(new Uint8Array(await (await read(id, "data/blob.bin")).arrayBuffer())).toEqual(bytes);
    expect(await (await read(id, "notes.txt")).text()).toBe("keep me");
    expect((await read(id, "extra.txt")).status).toBe(404);
    const audit = await (await api("GET", `/v1/sandboxes/${id}/audit`)).json<any>();
    expect(audit.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "lifecycle", action: "snapshot", detail: snap.snapshotId }),
        expect.objectContaining({ kind: "lifecycle", action: "restore", detail: snap.snapshotId }),
      ]),
    );
  });

  it("the state capability's data and the contexts are restored", async () => {
    const { id } = await createSandbox(CAPS);
    const context = (await (await api("POST", `/v1/sandboxes/${id}/contexts`)).json<any>()).contextId;
    expect((await exec(id, "const seen = new Map([['a', 1]]); function twice(n) { return n * 2 }", { context })).status).toBe("ok");
    expect((await exec(id, "await env.state.put('count', 1)")).status).toBe("ok");
    const snap = await snapshot(id);

    expect((await exec(id, "seen.set('a', 99); const other = 5", { context })).status).toBe("ok");
    expect((await exec(id, "await env.state.put('count', 2); await env.state.put('junk', true)")).status).toBe("ok");
    expect((await api("POST", `/v1/sandboxes/${id}/restore`, { json: { snapshotId: snap.snapshotId } })).status).toBe(200);

    expect((await exec(id, "[seen.get('a'), twice(21), typeof other]", { context })).result).toEqual([1, 42, "undefined"]);
    expect((await exec(id, "[await env.state.get('count'), (await env.state.get('junk')) === undefined]")).result).toEqual([1, true]);
  });

  it("N creates from one snapshot give N independent copies with the source's settings", async () => {
    const source = await createSandbox({ ...CAPS, env: { MODE: "eval" }, metadata: { team: "ml" } });
    await put(source.id, "seed.txt", "prepared");
    const snap = await snapshot(source.id);
    const copies = [];
    for (let i = 0; i < 3; i++) {
      const res = await api("POST", "/v1/sandboxes", { json: { fromSnapshot: snap.snapshotId, metadata: { copy: String(i) } } });
      expect(res.status).toBe(201);
      copies.push(await res.json<any>());
    }
    expect(new Set(copies.map((c) => c.id)).size).toBe(3);
    for (const [i, copy] of copies.entries()) {
      expect(copy).toMatchObject({ profile: "js", metadata: { team: "ml", copy: String(i) }, capabilities: CAPS.capabilities });
      expect(await (await read(copy.id, "seed.txt")).text()).toBe("prepared");
    }
    await put(copies[0].id, "seed.txt", "changed in copy 0");
    expect((await exec(copies[0].id, "env.MODE")).result).toBe("eval");
    expect(await (await read(copies[1].id, "seed.txt")).text()).toBe("prepared");
    expect(await (await read(copies[2].id, "seed.txt")).text()).toBe("prepared");
    expect(await (await read(source.id, "seed.txt")).text()).toBe("prepared");
  });

  it("a snapshot outlives its sandbox: a copy is made after the source was deleted", async () => {
    const { id } = await createSandbox(CAPS);
    await put(id, "kept.bin", binaryFixture());
    const snap = await snapshot(id);
    expect((await api("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
    const copy = await (await api("POST", "/v1/sandboxes", { json: { fromSnapshot: snap.snapshotId } })).json<any>();
    expect(new Uint8Array(await (await read(copy.id, "kept.bin")).arrayBuffer())).toEqual(binaryFixture());
  });

  it("another tenant's snapshot is a 404 everywhere and never seeds its sandboxes", async () => {
    const { id } = await createSandbox(CAPS);
    const snap = await snapshot(id);
    for (const [method, path] of [
      ["GET", `/v1/snapshots/${snap.snapshotId}`],
      ["DELETE", `/v1/snapshots/${snap.snapshotId}`],
    ] as const) {
      const { status, body } = await problemOf(await api(method, path, { as: "b" }));
      expect(status).toBe(404);
      expect(body.detail).toMatch(/No snapshot/);
    }
    const fork = await problemOf(await api("POST", "/v1/sandboxes", { json: { fromSnapshot: snap.snapshotId }, as: "b" }));
    expect(fork.status).toBe(404);
    const theirs = await createSandbox(CAPS, "b");
    const restore = await problemOf(await api("POST", `/v1/sandboxes/${theirs.id}/restore`, { json: { snapshotId: snap.snapshotId }, as: "b" }));
    expect(restore.status).toBe(404);
    expect((await api("GET", "/v1/snapshots", { as: "b" }).then((r) => r.json<any>())).snapshots.map((s: any) => s.snapshotId)).not.toContain(snap.snapshotId);
    // Still there for its owner.
    expect((await api("GET", `/v1/snapshots/${snap.snapshotId}`)).status).toBe(200);
  });

  it("a snapshot past the tenant's storage quota is refused with a 422 that says what to do", async () => {
    // tenant-q may hold 1000 bytes (vitest.config.ts).
    const { id } = await createSandbox({}, "q");
    await put(id, "big.txt", "x".repeat(900), "q");
    const { status, body } = await problemOf(await api("POST", `/v1/sandboxes/${id}/snapshots`, { json: {}, as: "q" }));
    expect(status).toBe(422);
    expect(body).toMatchObject({ code: "limit_exceeded", quota: "storageBytes", max: 1000 });
    expect(body.detail).toMatch(/Delete snapshots/);
    expect((await api("GET", "/v1/snapshots", { as: "q" }).then((r) => r.json<any>())).snapshots).toEqual([]);
    await api("DELETE", `/v1/sandboxes/${id}`, { as: "q" });
  });

  it("deleting a snapshot makes it a 404; bad ids and bodies are clear 400s", async () => {
    const { id } = await createSandbox();
    const snap = await snapshot(id);
    expect((await api("DELETE", `/v1/snapshots/${snap.snapshotId}`)).status).toBe(204);
    expect((await api("GET", `/v1/snapshots/${snap.snapshotId}`)).status).toBe(404);
    expect((await api("POST", "/v1/sandboxes", { json: { fromSnapshot: snap.snapshotId } })).status).toBe(404);
    expect((await api("GET", "/v1/snapshots/nope")).status).toBe(400);
    const restore = await problemOf(await api("POST", `/v1/sandboxes/${id}/restore`, { json: {} }));
    expect(restore.status).toBe(400);
    const mixed = await problemOf(await api("POST", "/v1/sandboxes", { json: { fromSnapshot: snap.snapshotId, profile: "js" } }));
    expect(mixed.status).toBe(400);
    expect(mixed.body.detail).toMatch(/profile comes from the snapshot/);
  });

  it("a paused sandbox answers 409 'resume it first', and resume brings back its files, state and contexts", async () => {
    const { id, expiresAt } = await createSandbox(CAPS);
    await put(id, "data.bin", binaryFixture());
    const context = (await (await api("POST", `/v1/sandboxes/${id}/contexts`)).json<any>()).contextId;
    expect((await exec(id, "const kept = new Set([1, 2]); await env.state.put('k', 'v')", { context })).status).toBe("ok");

    const paused = await api("POST", `/v1/sandboxes/${id}/pause`);
    expect(paused.status).toBe(200);
    const record = await paused.json<any>();
    expect(record).toMatchObject({ state: "running", paused: true, pausedAt: expect.any(String), idleExpiresAt: null, expiresAt });
    expect(await (await api("GET", `/v1/sandboxes/${id}`)).json()).toMatchObject({ paused: true });
    for (const [method, path, json] of [
      ["POST", `/v1/sandboxes/${id}/exec`, { code: "1" }],
      ["POST", `/v1/sandboxes/${id}/commands`, { cmd: "ls" }],
      ["GET", `/v1/sandboxes/${id}/files/data.bin`, undefined],
      ["POST", `/v1/sandboxes/${id}/pause`, undefined],
    ] as const) {
      const { status, body } = await problemOf(await api(method, path, { json }));
      expect(status, `${method} ${path}`).toBe(409);
      expect(body).toMatchObject({ code: "sandbox_paused" });
      expect(body.detail).toMatch(/resume it first/);
    }
    // Kept with the sandbox, not among the tenant's snapshots.
    expect(await env.SNAPSHOTS.head(pausedSandboxKey(TENANT_NAMES.a, id))).not.toBeNull();
    expect((await (await api("GET", "/v1/snapshots?limit=100")).json<any>()).snapshots.map((x: any) => x.sourceSandboxId)).not.toContain(id);

    const resumed = await api("POST", `/v1/sandboxes/${id}/resume`);
    expect(resumed.status).toBe(200);
    const back = await resumed.json<any>();
    expect(back.paused).toBeUndefined();
    expect(back.idleExpiresAt).not.toBeNull();
    expect(new Uint8Array(await (await read(id, "data.bin")).arrayBuffer())).toEqual(binaryFixture());
    expect((await exec(id, "[kept.has(2), await env.state.get('k')]", { context })).result).toEqual([true, "v"]);
    expect(await env.SNAPSHOTS.head(pausedSandboxKey(TENANT_NAMES.a, id))).toBeNull();
    const audit = await (await api("GET", `/v1/sandboxes/${id}/audit`)).json<any>();
    expect(audit.entries.filter((e: any) => e.kind === "lifecycle").map((e: any) => e.action)).toEqual(["pause", "resume"]);
  });

  it("while paused the idle clock is stopped and the TTL keeps running", () => {
    const base: StoredSandbox = {
      id: "sbx_x",
      tenant: "t",
      profile: {} as StoredSandbox["profile"],
      state: "running",
      createdAt: 0,
      lastActiveAt: 0,
      expiresAt: 100_000,
      idleTimeoutSeconds: 10,
      metadata: {},
      network: { allow: [] },
      capabilities: [],
      env: {},
      version: 1,
    };
    expect(dueReason(base, 50_000)?.reason).toBe("idle_timeout");
    expect(dueReason({ ...base, pausedAt: 1_000 }, 50_000)).toBeUndefined();
    expect(dueReason({ ...base, pausedAt: 1_000 }, 100_000)?.reason).toBe("ttl_expired");
  });

  it("deleting a paused sandbox releases its kept state", async () => {
    const { id } = await createSandbox(CAPS);
    await put(id, "a.txt", "a");
    expect((await api("POST", `/v1/sandboxes/${id}/pause`)).status).toBe(200);
    expect((await api("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
    expect(await env.SNAPSHOTS.head(pausedSandboxKey(TENANT_NAMES.a, id))).toBeNull();
    expect((await problemOf(await api("POST", `/v1/sandboxes/${id}/resume`))).status).toBe(410);
  });

  it("a linux sandbox's /workspace is snapshotted through its files API and seeds a copy, nested paths and bytes intact", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    await put(id, "app/nested/blob.bin", binaryFixture());
    await put(id, "main.py", "print(1)");
    const snap = await snapshot(id);
    expect(snap.profile).toBe("linux");
    const copy = await api("POST", "/v1/sandboxes", { json: { fromSnapshot: snap.snapshotId } });
    expect(copy.status).toBe(201);
    const copyId = (await copy.json<any>()).id;
    expect(new Uint8Array(await (await read(copyId, "app/nested/blob.bin")).arrayBuffer())).toEqual(binaryFixture());
    expect(await (await read(copyId, "main.py")).text()).toBe("print(1)");
    // Another profile's snapshot cannot be restored in place.
    const js = await createSandbox();
    const { status, body } = await problemOf(await api("POST", `/v1/sandboxes/${js.id}/restore`, { json: { snapshotId: snap.snapshotId } }));
    expect(status).toBe(400);
    expect(body.detail).toMatch(/Create a new sandbox from it instead/);
  }, 30_000);
});
