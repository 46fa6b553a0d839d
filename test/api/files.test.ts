import { describe, expect, it } from "vitest";
import { api, createSandbox, problemOf } from "../helpers";

describe("workspace files", () => {
  it("writes, reads, lists and deletes a file", async () => {
    const { id } = await createSandbox();
    const put = await api("PUT", `/v1/sandboxes/${id}/files/src/main.ts`, { body: "export const x = 1;\n" });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ path: "src/main.ts", size: 20 });

    const get = await api("GET", `/v1/sandboxes/${id}/files/src/main.ts`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe("export const x = 1;\n");

    await api("PUT", `/v1/sandboxes/${id}/files/README.md`, { body: "hi" });
    const all = await (await api("GET", `/v1/sandboxes/${id}/files`)).json<any[]>();
    expect(all.map((f) => f.path)).toEqual(["README.md", "src/main.ts"]);
    const src = await (await api("GET", `/v1/sandboxes/${id}/files?prefix=src/`)).json<any[]>();
    expect(src.map((f) => f.path)).toEqual(["src/main.ts"]);

    expect((await api("DELETE", `/v1/sandboxes/${id}/files/src/main.ts`)).status).toBe(204);
    expect((await api("GET", `/v1/sandboxes/${id}/files/src/main.ts`)).status).toBe(404);
    expect((await api("DELETE", `/v1/sandboxes/${id}/files/src/main.ts`)).status).toBe(404);
  });

  it("round-trips binary content and a file larger than one storage chunk", async () => {
    const { id } = await createSandbox();
    const bytes = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 256);
    expect((await api("PUT", `/v1/sandboxes/${id}/files/blob.bin`, { body: bytes })).status).toBe(201);
    const back = new Uint8Array(await (await api("GET", `/v1/sandboxes/${id}/files/blob.bin`)).arrayBuffer());
    expect(back.length).toBe(bytes.length);
    expect(back.every((b, i) => b === bytes[i])).toBe(true);
  });

  it("overwrites a file in place and writes empty files", async () => {
    const { id } = await createSandbox();
    await api("PUT", `/v1/sandboxes/${id}/files/a.txt`, { body: "first version" });
    await api("PUT", `/v1/sandboxes/${id}/files/a.txt`, { body: "v2" });
    expect(await (await api("GET", `/v1/sandboxes/${id}/files/a.txt`)).text()).toBe("v2");
    await api("PUT", `/v1/sandboxes/${id}/files/empty`, { body: "" });
    expect(await (await api("GET", `/v1/sandboxes/${id}/files/empty`)).text()).toBe("");
  });

  it("normalises paths: a//b/./c is a/b/c", async () => {
    const { id } = await createSandbox();
    const put = await api("PUT", `/v1/sandboxes/${id}/files/a//b/./c`, { body: "x" });
    expect((await put.json<any>()).path).toBe("a/b/c");
  });

  it("refuses path traversal and malformed paths with 400", async () => {
    const { id } = await createSandbox();
    for (const path of ["..%2F..%2Fetc%2Fpasswd", "a/..%2F..%2Fx", "%2Fetc%2Fpasswd", "a%00b", "a%5C..%5Cb", "%E0%A4%A", `${"x".repeat(256)}`, `${"abcdefgh/".repeat(120)}z`]) {
      const { status, body } = await problemOf(await api("PUT", `/v1/sandboxes/${id}/files/${path}`, { body: "x" }));
      expect(status, path).toBe(400);
      expect(body.code).toBe("validation_failed");
    }
    expect(await (await api("GET", `/v1/sandboxes/${id}/files`)).json()).toEqual([]);
  });

  it("a dot-dot in the URL itself never reaches another route's data", async () => {
    const { id } = await createSandbox();
    // The URL parser resolves the dots first; what is left is not a file route.
    const res = await api("GET", `/v1/sandboxes/${id}/files/../../sbx_other/files/x`);
    expect([400, 404]).toContain(res.status);
  });

  it("refuses a file over the per-file limit with 413 and over the body limit with 413", async () => {
    const { id } = await createSandbox();
    const { status, body } = await problemOf(
      await api("PUT", `/v1/sandboxes/${id}/files/big.bin`, { body: new Uint8Array(10 * 1024 * 1024 + 1) }),
    );
    expect(status).toBe(413);
    expect(body.code).toBe("payload_too_large");
  });

  it("enforces the workspace quota with 422 and loses nothing", async () => {
    const { id } = await createSandbox();
    const nineMiB = new Uint8Array(9 * 1024 * 1024);
    for (let i = 0; i < 11; i++) {
      expect((await api("PUT", `/v1/sandboxes/${id}/files/f${i}`, { body: nineMiB })).status).toBe(201);
    }
    const { status, body } = await problemOf(await api("PUT", `/v1/sandboxes/${id}/files/f11`, { body: nineMiB }));
    expect(status).toBe(422);
    expect(body).toMatchObject({ code: "limit_exceeded", limit: "storage_bytes" });
    const list = await (await api("GET", `/v1/sandboxes/${id}/files`)).json<any[]>();
    expect(list).toHaveLength(11);
  }, 30_000);

  it("file reads and writes are activity: the idle clock moves", async () => {
    const created = await createSandbox();
    await new Promise((r) => setTimeout(r, 5));
    await api("PUT", `/v1/sandboxes/${created.id}/files/a`, { body: "x" });
    const record = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(Date.parse(record.lastActiveAt)).toBeGreaterThan(Date.parse(created.lastActiveAt));
  });

  it("a stopped sandbox's files answer 410", async () => {
    const { id } = await createSandbox();
    await api("DELETE", `/v1/sandboxes/${id}`);
    const { status, body } = await problemOf(await api("GET", `/v1/sandboxes/${id}/files/a`));
    expect(status).toBe(410);
    expect(body.reason).toBe("deleted");
  });
});
