import { describe, expect, it } from "vitest";
import { api, createSandbox, problemOf } from "../helpers";

describe("auth", () => {
  it("refuses a request without a key, with a wrong key and with a malformed header", async () => {
    const cases: Record<string, string>[] = [{}, { Authorization: "Bearer wrong" }, { Authorization: "Basic abc" }];
    for (const headers of cases) {
      const { status, contentType, body } = await problemOf(await api("GET", "/v1/sandboxes", { as: null, headers }));
      expect(status).toBe(401);
      expect(contentType).toBe("application/problem+json");
      expect(body).toMatchObject({ code: "unauthorized", type: "https://sand-boxer.dev/errors/unauthorized", status: 401 });
    }
  });

  it("leaves /healthz, /v1/openapi.json and /docs public", async () => {
    expect(await (await api("GET", "/healthz", { as: null })).json()).toEqual({ ok: true, version: "0.1.0" });
    expect((await api("GET", "/v1/openapi.json", { as: null })).status).toBe(200);
    expect((await api("GET", "/docs", { as: null })).status).toBe(200);
  });
});

describe("tenant isolation", () => {
  it("tenant B cannot see, read, patch, keep alive, write files to, delete or list tenant A's sandbox", async () => {
    const sandbox = await createSandbox({ metadata: { secret: "a-only" } }, "a");
    await api("PUT", `/v1/sandboxes/${sandbox.id}/files/notes.txt`, { body: "A's data" });
    const attempts: [string, string, Record<string, unknown>][] = [
      ["GET", `/v1/sandboxes/${sandbox.id}`, {}],
      ["PATCH", `/v1/sandboxes/${sandbox.id}`, { json: { ttlSeconds: 1 } }],
      ["POST", `/v1/sandboxes/${sandbox.id}/keepalive`, {}],
      ["GET", `/v1/sandboxes/${sandbox.id}/files`, {}],
      ["GET", `/v1/sandboxes/${sandbox.id}/files/notes.txt`, {}],
      ["PUT", `/v1/sandboxes/${sandbox.id}/files/notes.txt`, { body: "B was here" }],
      ["DELETE", `/v1/sandboxes/${sandbox.id}/files/notes.txt`, {}],
      ["DELETE", `/v1/sandboxes/${sandbox.id}`, {}],
    ];
    for (const [method, path, options] of attempts) {
      const { status, body } = await problemOf(await api(method, path, { ...options, as: "b" }));
      expect(status, `${method} ${path}`).toBe(404);
      expect(body.code).toBe("not_found");
    }
    const listed = await (await api("GET", "/v1/sandboxes?metadata.secret=a-only", { as: "b" })).json<any>();
    expect(listed.sandboxes).toEqual([]);

    const mine = await (await api("GET", `/v1/sandboxes/${sandbox.id}`, { as: "a" })).json<any>();
    expect(mine).toMatchObject({ state: "running", metadata: { secret: "a-only" } });
    expect(await (await api("GET", `/v1/sandboxes/${sandbox.id}/files/notes.txt`)).text()).toBe("A's data");
  });
});
