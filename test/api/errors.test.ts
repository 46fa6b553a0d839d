import { describe, expect, it } from "vitest";
import { api, createSandbox, problemOf } from "../helpers";

describe("problem+json for every client mistake", () => {
  it("an unknown route answers 404", async () => {
    const { status, contentType, body } = await problemOf(await api("GET", "/v1/nothing-here"));
    expect(status).toBe(404);
    expect(contentType).toBe("application/problem+json");
    expect(body).toMatchObject({ code: "not_found", title: "Not found", status: 404 });
    expect(typeof body.detail).toBe("string");
  });

  it("a wrong method answers 405 with Allow", async () => {
    const res = await api("PUT", "/v1/sandboxes");
    const { status, body } = await problemOf(res);
    expect(status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
    expect(body.code).toBe("method_not_allowed");
  });

  it("malformed JSON answers 400", async () => {
    const { status, body } = await problemOf(
      await api("POST", "/v1/sandboxes", { body: "{not json", headers: { "Content-Type": "application/json" } }),
    );
    expect(status).toBe(400);
    expect(body.code).toBe("validation_failed");
  });

  it("a non-JSON content type answers 415", async () => {
    const { status, body } = await problemOf(
      await api("POST", "/v1/sandboxes", { body: "profile=js", headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
    );
    expect(status).toBe(415);
    expect(body.code).toBe("unsupported_media_type");
  });

  it("a JSON body that is not an object answers 400", async () => {
    expect((await api("POST", "/v1/sandboxes", { json: [1, 2] })).status).toBe(400);
    expect((await api("POST", "/v1/sandboxes", { json: null })).status).toBe(400);
  });

  it("an oversized body answers 413 before it is read", async () => {
    const { status, body } = await problemOf(
      await api("POST", "/v1/sandboxes", {
        body: JSON.stringify({ metadata: { a: "x".repeat(11 * 1024 * 1024) } }),
        headers: { "Content-Type": "application/json" },
      }),
    );
    expect(status).toBe(413);
    expect(body.code).toBe("payload_too_large");
  });

  it("bad list queries answer 400: limit out of range, bad state, a forged cursor", async () => {
    for (const query of ["limit=0", "limit=101", "limit=abc", "state=zombie", "cursor=not-a-cursor"]) {
      const { status, body } = await problemOf(await api("GET", `/v1/sandboxes?${query}`));
      expect(status, query).toBe(400);
      expect(body.code).toBe("validation_failed");
    }
  });

  it("no error body carries a stack trace", async () => {
    const { id } = await createSandbox();
    const responses = await Promise.all([
      api("PATCH", `/v1/sandboxes/${id}`, { json: { ttlSeconds: "soon" } }),
      api("GET", `/v1/sandboxes/${id}/files/missing`),
      api("PUT", `/v1/sandboxes/${id}/files/..%2Fx`, { body: "x" }),
    ]);
    for (const res of responses) {
      const text = await res.text();
      expect(text).not.toMatch(/\bat \S+ \(|\.ts:\d+|sandboxer-error:/);
    }
  });
});

describe("requests a newcomer gets slightly wrong", () => {
  it("an unknown query parameter is a 400 naming it and the ones the route takes", async () => {
    const { status, body } = await problemOf(await api("GET", "/v1/sandboxes?lmit=5"));
    expect(status).toBe(400);
    expect(body.code).toBe("validation_failed");
    expect(body.detail).toContain("'lmit'");
    expect(body.detail).toContain("limit");
    expect(body.errors).toEqual([{ path: "query.lmit", message: "unknown query parameter" }]);
  });

  it("a route without query parameters refuses any", async () => {
    const sandbox = await createSandbox();
    const { status, body } = await problemOf(await api("GET", `/v1/sandboxes/${sandbox.id}?verbose=1`));
    expect(status).toBe(400);
    expect(body.detail).toContain("takes no query parameters");
  });

  it("a trailing slash reaches the same route", async () => {
    const sandbox = await createSandbox();
    expect((await api("GET", "/v1/sandboxes/")).status).toBe(200);
    expect((await api("GET", `/v1/sandboxes/${sandbox.id}/`)).status).toBe(200);
    expect((await api("POST", `/v1/sandboxes/${sandbox.id}/keepalive/`)).status).toBe(200);
  });

  it("the metadata filter also takes the deepObject form", async () => {
    const run = crypto.randomUUID();
    await createSandbox({ metadata: { run } });
    const page = await (await api("GET", `/v1/sandboxes?metadata[run]=${run}`)).json<any>();
    expect(page.sandboxes).toHaveLength(1);
  });

  it("a multipart upload is refused with 415 saying how to send the bytes", async () => {
    const sandbox = await createSandbox();
    const form = new FormData();
    form.set("file", new Blob(["hello"]), "a.txt");
    const { status, body } = await problemOf(await api("PUT", `/v1/sandboxes/${sandbox.id}/files/a.txt`, { body: form }));
    expect(status).toBe(415);
    expect(body.detail).toContain("--data-binary");
    expect((await api("GET", `/v1/sandboxes/${sandbox.id}/files/a.txt`)).status).toBe(404);
  });
});
