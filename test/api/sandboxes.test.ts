import { describe, expect, it } from "vitest";
import { api, createSandbox, problemOf } from "../helpers";

describe("POST /v1/sandboxes", () => {
  it("creates a running sandbox with the js profile's defaults", async () => {
    const before = Date.now();
    const res = await api("POST", "/v1/sandboxes", { json: { metadata: { owner: "agent-1" } } });
    expect(res.status).toBe(201);
    const record = await res.json<any>();
    expect(record.id).toMatch(/^sbx_[a-z2-7]{26}$/);
    expect(res.headers.get("location")).toBe(`/v1/sandboxes/${record.id}`);
    expect(res.headers.get("etag")).toBe(record.etag);
    expect(record).toMatchObject({ tenant: "tenant-a", profile: "js", state: "running", idleTimeoutSeconds: 300, metadata: { owner: "agent-1" } });
    const ttlMs = Date.parse(record.expiresAt) - Date.parse(record.createdAt);
    expect(ttlMs).toBe(900_000);
    expect(Date.parse(record.createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(record.idleExpiresAt) - Date.parse(record.lastActiveAt)).toBe(300_000);
  });

  it("accepts an empty body (no Content-Type) and applies defaults", async () => {
    const res = await api("POST", "/v1/sandboxes");
    expect(res.status).toBe(201);
  });

  it("gives every sandbox a distinct id", async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => createSandbox().then((r) => r.id)));
    expect(new Set(ids).size).toBe(5);
  });

  it("refuses an unknown profile with 400 naming the known ones", async () => {
    const { status, body } = await problemOf(await api("POST", "/v1/sandboxes", { json: { profile: "python-gpu" } }));
    expect(status).toBe(400);
    expect(body.code).toBe("validation_failed");
    expect(body.detail).toContain("Known profiles: js");
    expect(body.errors).toEqual([{ path: "profile", message: expect.stringContaining("js") }]);
  });

  it("lists every invalid field with its path", async () => {
    const { status, contentType, body } = await problemOf(
      await api("POST", "/v1/sandboxes", { json: { ttlSeconds: -1, metadata: { k: 5 }, bogus: true } }),
    );
    expect(status).toBe(400);
    expect(contentType).toBe("application/problem+json");
    const paths = body.errors.map((e: any) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["body.ttlSeconds", "body.metadata.k"]));
    expect(body.errors.some((e: any) => e.message.includes("bogus"))).toBe(true);
  });

  it("refuses a TTL beyond the profile's maximum with 422", async () => {
    const { status, body } = await problemOf(await api("POST", "/v1/sandboxes", { json: { ttlSeconds: 86_401 } }));
    expect(status).toBe(422);
    expect(body).toMatchObject({ code: "limit_exceeded", limit: "ttlSeconds", max: 86_400 });
  });

  it("validates metadata sizes: 65 keys, a 65-char key and a 513-char value are refused", async () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    for (const metadata of [many, { ["k".repeat(65)]: "v" }, { k: "v".repeat(513) }]) {
      const res = await api("POST", "/v1/sandboxes", { json: { metadata } });
      expect(res.status).toBe(400);
    }
  });

  it("refuses a capability the profile does not allow", async () => {
    const { status, body } = await problemOf(await api("POST", "/v1/sandboxes", { json: { capabilities: [{ name: "shell" }] } }));
    expect(status).toBe(400);
    expect(body.errors[0].path).toBe("capabilities.0.name");
  });

  it("refuses network access on a profile without egress", async () => {
    const res = await api("POST", "/v1/sandboxes", { json: { network: { allow: [{ host: "api.github.com" }] } } });
    expect(res.status).toBe(422);
  });
});

describe("Idempotency-Key", () => {
  it("returns the same sandbox for the same key and body", async () => {
    const headers = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
    const first = await api("POST", "/v1/sandboxes", { json: { metadata: { a: "1" } }, headers });
    const second = await api("POST", "/v1/sandboxes", { json: { metadata: { a: "1" } }, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect((await second.json<any>()).id).toBe((await first.json<any>()).id);
  });

  it("refuses the same key with a different body with 422", async () => {
    const headers = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
    await api("POST", "/v1/sandboxes", { json: { metadata: { a: "1" } }, headers });
    const { status, body } = await problemOf(await api("POST", "/v1/sandboxes", { json: { metadata: { a: "2" } }, headers }));
    expect(status).toBe(422);
    expect(body.code).toBe("idempotency_conflict");
  });

  it("keeps keys per tenant", async () => {
    const headers = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
    const a = await api("POST", "/v1/sandboxes", { json: {}, headers, as: "a" });
    const b = await api("POST", "/v1/sandboxes", { json: {}, headers, as: "b" });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect((await a.json<any>()).id).not.toBe((await b.json<any>()).id);
  });

  it("does not burn the key on an invalid body", async () => {
    const headers = { "Idempotency-Key": `k-${crypto.randomUUID()}` };
    expect((await api("POST", "/v1/sandboxes", { json: { ttlSeconds: 0 }, headers })).status).toBe(400);
    expect((await api("POST", "/v1/sandboxes", { json: {}, headers })).status).toBe(201);
  });
});

describe("GET /v1/sandboxes/:id", () => {
  it("returns the record with its ETag", async () => {
    const created = await createSandbox();
    const res = await api("GET", `/v1/sandboxes/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe(created.etag);
    expect(await res.json()).toEqual(created);
  });

  it("answers 404 for an unknown id and for a malformed one", async () => {
    for (const id of ["sbx_aaaaaaaaaaaaaaaaaaaaaaaaaa", "nope", "sbx_%00"]) {
      const { status, body } = await problemOf(await api("GET", `/v1/sandboxes/${id}`));
      expect(status).toBe(404);
      expect(body.code).toBe("not_found");
    }
  });

  it("is not activity: the idle clock does not move", async () => {
    const created = await createSandbox();
    await new Promise((r) => setTimeout(r, 5));
    const again = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(again.lastActiveAt).toBe(created.lastActiveAt);
  });
});

describe("PATCH /v1/sandboxes/:id", () => {
  it("shortens the TTL, counted from now", async () => {
    const created = await createSandbox({ ttlSeconds: 3600 });
    const before = Date.now();
    const res = await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { ttlSeconds: 60 } });
    expect(res.status).toBe(200);
    const record = await res.json<any>();
    expect(Date.parse(record.expiresAt)).toBeGreaterThanOrEqual(before + 60_000);
    expect(Date.parse(record.expiresAt)).toBeLessThan(Date.parse(created.expiresAt));
  });

  it("lengthens the TTL up to the profile's cap from creation, and no further", async () => {
    const created = await createSandbox({ ttlSeconds: 60 });
    expect((await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { ttlSeconds: 7200 } })).status).toBe(200);
    const { status, body } = await problemOf(await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { ttlSeconds: 86_400 } }));
    expect(status).toBe(422);
    expect(body.limit).toBe("ttlSeconds");
  });

  it("merges metadata (null removes a key)", async () => {
    const created = await createSandbox({ metadata: { keep: "1", drop: "2" } });
    const res = await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { metadata: { drop: null, add: "3" } } });
    expect((await res.json<any>()).metadata).toEqual({ keep: "1", add: "3" });
  });

  it("honours If-Match: the current ETag succeeds, a stale one gets 412", async () => {
    const created = await createSandbox();
    const ok = await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { metadata: { x: "1" } }, headers: { "If-Match": created.etag } });
    expect(ok.status).toBe(200);
    const { status, body } = await problemOf(
      await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { metadata: { x: "2" } }, headers: { "If-Match": created.etag } }),
    );
    expect(status).toBe(412);
    expect(body.code).toBe("precondition_failed");
    expect(body.etag).toBe(ok.headers.get("etag"));
    const current = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(current.metadata).toEqual({ x: "1" });
  });

  it("refuses unknown fields and a non-JSON body", async () => {
    const created = await createSandbox();
    expect((await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { state: "stopped" } })).status).toBe(400);
    const res = await api("PATCH", `/v1/sandboxes/${created.id}`, { body: "ttlSeconds=5", headers: { "Content-Type": "text/plain" } });
    expect(res.status).toBe(415);
    expect((await res.json<any>()).code).toBe("unsupported_media_type");
  });
});

describe("keepalive and DELETE", () => {
  it("keepalive resets the idle clock", async () => {
    const created = await createSandbox();
    await new Promise((r) => setTimeout(r, 5));
    const record = await (await api("POST", `/v1/sandboxes/${created.id}/keepalive`)).json<any>();
    expect(Date.parse(record.lastActiveAt)).toBeGreaterThan(Date.parse(created.lastActiveAt));
    expect(Date.parse(record.idleExpiresAt)).toBe(Date.parse(record.lastActiveAt) + 300_000);
  });

  it("DELETE stops the sandbox: it answers with reason deleted, and refuses changes with 410", async () => {
    const created = await createSandbox();
    const del = await api("DELETE", `/v1/sandboxes/${created.id}`);
    expect(del.status).toBe(204);
    const record = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(record).toMatchObject({ state: "stopped", endReason: "deleted" });
    expect(record.endedAt).toBeDefined();
    const { status, body } = await problemOf(await api("POST", `/v1/sandboxes/${created.id}/keepalive`));
    expect(status).toBe(410);
    expect(body).toMatchObject({ code: "sandbox_stopped", reason: "deleted" });
    expect((await api("PATCH", `/v1/sandboxes/${created.id}`, { json: { ttlSeconds: 5 } })).status).toBe(410);
    expect((await api("DELETE", `/v1/sandboxes/${created.id}`)).status).toBe(204);
  });
});
