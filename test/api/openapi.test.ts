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
        "GET /v1/sandboxes/{id}/executions",
        "POST /v1/sandboxes/{id}/commands",
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

  it("the docs page is HTML that names every route", async () => {
    const res = await api("GET", "/docs", { as: null });
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("/v1/sandboxes/{id}/keepalive");
    expect(html).toContain("/v1/sandboxes/{id}/files/{path}");
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
