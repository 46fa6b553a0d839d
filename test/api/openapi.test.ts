import { describe, expect, it } from "vitest";
import { api } from "../helpers";

describe("OpenAPI and docs", () => {
  it("the OpenAPI document parses and lists every route", async () => {
    const res = await api("GET", "/v1/openapi.json", { as: null });
    const doc = await res.json<any>();
    expect(doc.openapi).toBe("3.1.0");
    const routes = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        "POST /v1/exec",
        "POST /v1/sandboxes",
        "GET /v1/sandboxes",
        "GET /v1/sandboxes/{id}",
        "PATCH /v1/sandboxes/{id}",
        "DELETE /v1/sandboxes/{id}",
        "POST /v1/sandboxes/{id}/keepalive",
        "GET /v1/sandboxes/{id}/files",
        "PUT /v1/sandboxes/{id}/files/{path}",
        "GET /v1/sandboxes/{id}/files/{path}",
        "DELETE /v1/sandboxes/{id}/files/{path}",
        "GET /v1/profiles",
        "POST /v1/sandboxes/{id}/exec",
        "POST /v1/sandboxes/{id}/exec/stream",
        "GET /v1/sandboxes/{id}/executions",
        "POST /v1/sandboxes/{id}/contexts",
        "GET /v1/sandboxes/{id}/contexts",
        "DELETE /v1/sandboxes/{id}/contexts/{contextId}",
        "POST /v1/sandboxes/{id}/snapshots",
        "POST /v1/sandboxes/{id}/restore",
        "POST /v1/sandboxes/{id}/pause",
        "POST /v1/sandboxes/{id}/resume",
        "GET /v1/snapshots",
        "GET /v1/snapshots/{snapshotId}",
        "DELETE /v1/snapshots/{snapshotId}",
        "POST /v1/sandboxes/{id}/commands",
        "POST /v1/sandboxes/{id}/commands/stream",
        "GET /v1/sandboxes/{id}/processes",
        "GET /v1/sandboxes/{id}/processes/{pid}",
        "DELETE /v1/sandboxes/{id}/processes/{pid}",
        "GET /v1/sandboxes/{id}/audit",
        "GET /v1/sandboxes/{id}/types",
        "PUT /v1/secrets/{name}",
        "GET /v1/secrets",
        "DELETE /v1/secrets/{name}",
      ].sort(),
    );
    expect(doc.components.schemas.Sandbox.properties).toHaveProperty("expiresAt");
    expect(doc.components.schemas.Sandbox.properties).toHaveProperty("provider");
    expect(doc.components.schemas.Sandbox.properties).toHaveProperty("isolationLevel");
    expect(doc.components.schemas.CommandRequest).toBeDefined();
    expect(doc.components.schemas.Problem).toBeDefined();
  });

  it("every operation has a unique operationId, and the document names this service in servers", async () => {
    const doc = await (await api("GET", "/v1/openapi.json", { as: null })).json<any>();
    const ids = Object.values(doc.paths).flatMap((item: any) => Object.values(item).map((op: any) => op.operationId));
    expect(ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.servers).toEqual([{ url: "http://sandboxer.test", description: "This service" }]);
  });

  it("declares JSON only on exec, and the event stream on its own operation", async () => {
    const doc = await (await api("GET", "/v1/openapi.json", { as: null })).json<any>();
    expect(Object.keys(doc.paths["/v1/sandboxes/{id}/exec"].post.responses["200"].content)).toEqual(["application/json"]);
    expect(Object.keys(doc.paths["/v1/sandboxes/{id}/exec/stream"].post.responses["200"].content)).toEqual(["text/event-stream"]);
  });

  it("declares JSON only on commands, and the event stream on runCommandStream, with the body errors", async () => {
    const doc = await (await api("GET", "/v1/openapi.json", { as: null })).json<any>();
    const run = doc.paths["/v1/sandboxes/{id}/commands"].post;
    const stream = doc.paths["/v1/sandboxes/{id}/commands/stream"].post;
    expect(Object.keys(run.responses["200"].content)).toEqual(["application/json"]);
    expect(Object.keys(stream.responses["200"].content)).toEqual(["text/event-stream"]);
    expect(stream.operationId).toBe("runCommandStream");
    for (const op of [run, stream]) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "404", "410", "413", "415", "422", "503"]));
  });

  it("declares the metadata filter, 503 on every operation, and 404 only where there is a sandbox or secret", async () => {
    const doc = await (await api("GET", "/v1/openapi.json", { as: null })).json<any>();
    const list = doc.paths["/v1/sandboxes"].get;
    expect(list.parameters.find((p: any) => p.name === "metadata")).toMatchObject({ in: "query", style: "deepObject", explode: true });
    expect(list.responses["404"]).toBeUndefined();
    // create's only 404: a `fromSnapshot` that names no snapshot of the tenant.
    expect(doc.paths["/v1/sandboxes"].post.responses["404"].description).toContain("fromSnapshot");
    expect(doc.paths["/v1/profiles"].get.responses["404"]).toBeUndefined();
    expect(doc.paths["/v1/sandboxes/{id}"].get.responses["404"]).toBeDefined();
    for (const item of Object.values(doc.paths) as any[]) for (const op of Object.values(item) as any[]) expect(op.responses["503"]).toBeDefined();
    expect(doc.paths["/v1/sandboxes/{id}/files/{path}"].put.responses["415"]).toBeDefined();
  });

  it("declares 409 sandbox_paused and 410 on every operation that needs the sandbox running, and only there", async () => {
    const doc = await (await api("GET", "/v1/openapi.json", { as: null })).json<any>();
    const live = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
      Object.entries(item)
        .filter(([, op]: [string, any]) => op.responses["409"]?.description.includes("resume it first"))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(live.sort()).toEqual(
      [
        "PATCH /v1/sandboxes/{id}",
        "POST /v1/sandboxes/{id}/keepalive",
        "GET /v1/sandboxes/{id}/files",
        "PUT /v1/sandboxes/{id}/files/{path}",
        "GET /v1/sandboxes/{id}/files/{path}",
        "DELETE /v1/sandboxes/{id}/files/{path}",
        "POST /v1/sandboxes/{id}/exec",
        "POST /v1/sandboxes/{id}/exec/stream",
        "POST /v1/sandboxes/{id}/contexts",
        "GET /v1/sandboxes/{id}/contexts",
        "DELETE /v1/sandboxes/{id}/contexts/{contextId}",
        "POST /v1/sandboxes/{id}/snapshots",
        "POST /v1/sandboxes/{id}/restore",
        "POST /v1/sandboxes/{id}/commands",
        "POST /v1/sandboxes/{id}/commands/stream",
        "GET /v1/sandboxes/{id}/processes",
        "GET /v1/sandboxes/{id}/processes/{pid}",
        "DELETE /v1/sandboxes/{id}/processes/{pid}",
      ].sort(),
    );
  });

  it("the docs page renders the document with a renderer served by this Worker, not a CDN", async () => {
    const res = await api("GET", "/docs", { as: null });
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain('src="/docs/scalar.js"');
    expect(html).toContain('"url":"/v1/openapi.json"');
    // Nothing on the page points off this origin.
    expect(html).not.toMatch(/(src|href)="https?:/);
    const script = await api("GET", "/docs/scalar.js", { as: null });
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("text/javascript");
    expect((await script.text()).length).toBeGreaterThan(100_000);
    const etag = script.headers.get("etag")!;
    expect((await api("GET", "/docs/scalar.js", { as: null, headers: { "If-None-Match": etag } })).status).toBe(304);
  });

  it("the root page points to the reference, the dashboard and the document", async () => {
    const res = await api("GET", "/", { as: null });
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const link of ['href="/docs"', 'href="/dashboard"', 'href="/v1/openapi.json"']) expect(html).toContain(link);
  });
});

describe("GET /v1/profiles", () => {
  it("lists the js profile with its limits and ttl", async () => {
    const { profiles } = await (await api("GET", "/v1/profiles")).json<any>();
    const js = profiles.find((p: any) => p.name === "js");
    expect(js).toMatchObject({
      version: "1.0.0",
      provider: "isolate",
      isolation_level: "v8-isolate",
      persistence: "ephemeral",
      network: { default: "deny", allow: [] },
      ttl: { default: 900, max: 86400, idleDefault: 300 },
    });
    expect(js.limits.storageBytes).toBe(100 * 1024 * 1024);
  });

  it("lists js-net, whose egress is bounded by each sandbox's allowlist", async () => {
    const { profiles } = await (await api("GET", "/v1/profiles")).json<any>();
    const net = profiles.find((p: any) => p.name === "js-net");
    expect(net).toMatchObject({ network: { default: "deny", allow: [{ host: "*" }] } });
    expect(net.capabilities).toContain("fetch");
  });
});
