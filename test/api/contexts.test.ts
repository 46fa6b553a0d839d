import { describe, expect, it } from "vitest";
import { api, createSandbox, problemOf, type Tenant } from "../helpers";

async function newContext(id: string, as: Tenant = "a"): Promise<string> {
  const res = await api("POST", `/v1/sandboxes/${id}/contexts`, { json: {}, as });
  expect(res.status).toBe(201);
  const body = await res.json<any>();
  expect(res.headers.get("Location")).toBe(`/v1/sandboxes/${id}/contexts/${body.contextId}`);
  return body.contextId;
}

async function cell(id: string, context: string, code: string, extra: Record<string, unknown> = {}) {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code, context, ...extra } });
  return { status: res.status, body: await res.json<any>() };
}

describe("code contexts", () => {
  it("a three-cell session: variables, a function calling an earlier cell's function, and a class", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    expect((await cell(id, context, "const prices = [3, 4]; function total(list) { return list.reduce((a, b) => a + b, 0) }")).body).toMatchObject({ status: "ok", contextDropped: [] });
    expect((await cell(id, context, "function withTax(list) { return total(list) * 2 } class Cart { constructor(items) { this.items = items } sum() { return withTax(this.items) } }")).body.status).toBe("ok");
    const third = await cell(id, context, "prices.push(5); new Cart(prices).sum()");
    expect(third.body).toMatchObject({ status: "ok", result: 24 });
    const listed = await (await api("GET", `/v1/sandboxes/${id}/contexts`)).json<any>();
    expect(listed.contexts).toEqual([expect.objectContaining({ contextId: context, cells: 3, bindings: ["prices", "total", "withTax", "Cart"] })]);
  });

  it("the README's session gives what the README shows", async () => {
    const { id } = await createSandbox();
    // As the README sends it: a POST without a body.
    const created = await api("POST", `/v1/sandboxes/${id}/contexts`);
    expect(created.status).toBe(201);
    const context = (await created.json<any>()).contextId;
    const first = await cell(id, context, "const prices = new Map([['tea', 3]]); function total(m) { let t = 0; for (const v of m.values()) t += v; return t }");
    expect(first.body).toMatchObject({ status: "ok", result: "undefined", resultType: "undefined", contextDropped: [] });
    const second = await cell(id, context, "prices.set('cake', 4); const pending = fetch; class Till { sum() { return total(prices) } }");
    expect(second.body).toMatchObject({
      status: "ok",
      contextDropped: [{ name: "pending", reason: "a function value (declare it with function, class or const f = () => … to carry its source)" }],
    });
    expect((await cell(id, context, "new Till().sum()")).body).toMatchObject({ status: "ok", result: 7 });
    const listed = await (await api("GET", `/v1/sandboxes/${id}/contexts`)).json<any>();
    expect(listed.contexts).toEqual([expect.objectContaining({ cells: 3, bindings: ["prices", "total", "Till"] })]);
  });

  it("Map, Set and a cycle are in scope in the next cell", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    await cell(id, context, "const seen = new Map([['a', 1]]); const tags = new Set([1, 2]); const loop = {}; loop.me = loop;");
    expect((await cell(id, context, "[seen.get('a'), tags.size, loop.me === loop, seen instanceof Map]")).body.result).toEqual([1, 2, true, true]);
  });

  it("a value that cannot be carried is dropped and named in contextDropped", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    const { body } = await cell(id, context, "const later = new Promise(() => {}); const fine = 1; fine");
    expect(body.status).toBe("ok");
    expect(body.contextDropped).toEqual([{ name: "later", reason: expect.stringContaining("promise") }]);
    expect((await cell(id, context, "typeof later")).body.result).toBe("undefined");
  });

  it("a failing cell leaves the context as it was before that cell", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    await cell(id, context, "let n = 1");
    const failed = await cell(id, context, "n = 100; let extra = 1; throw new Error('boom')");
    expect(failed.body).toMatchObject({ status: "error", error: { name: "Error", message: "boom" } });
    expect((await cell(id, context, "[n, typeof extra]")).body.result).toEqual([1, "undefined"]);
  });

  it("two contexts in one sandbox do not see each other", async () => {
    const { id } = await createSandbox();
    const [one, two] = [await newContext(id), await newContext(id)];
    await cell(id, one, "const secret = 'one'");
    expect((await cell(id, two, "typeof secret")).body.result).toBe("undefined");
    expect((await cell(id, one, "secret")).body.result).toBe("one");
    expect((await cell(id, two, "const secret = 'two'; secret")).body.result).toBe("two");
    expect((await cell(id, one, "secret")).body.result).toBe("one");
  });

  it("context state is gone after the sandbox stops", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    await cell(id, context, "const kept = 1");
    expect((await api("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
    expect((await problemOf(await api("GET", `/v1/sandboxes/${id}/contexts`))).status).toBe(410);
    expect((await cell(id, context, "kept")).status).toBe(410);
  });

  it("a context past its size limit is refused with a 422 and stays as it was", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    await cell(id, context, "const small = 'ok'");
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { context, code: "const huge = 'x'.repeat(5 * 1024 * 1024); huge.length", cpuMs: 1000 } });
    const { status, body } = await problemOf(res);
    expect(status).toBe(422);
    expect(body).toMatchObject({ code: "limit_exceeded", limit: "context_bytes" });
    expect(body.detail).toMatch(/left as it was/);
    expect((await cell(id, context, "[small, typeof huge]")).body.result).toEqual(["ok", "undefined"]);
  });

  it("an unknown context is a 404 that says how to make one, and a malformed id a 400", async () => {
    const { id } = await createSandbox();
    const missing = await problemOf(await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "1", context: "ctx_000000000000000000000000" } }));
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/POST \/v1\/sandboxes\/\{id\}\/contexts/);
    expect((await problemOf(await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "1", context: "nope" } }))).status).toBe(400);
  });

  it("a deleted context is gone, and another tenant cannot reach the sandbox's contexts", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    expect((await api("GET", `/v1/sandboxes/${id}/contexts`, { as: "b" })).status).toBe(404);
    expect((await api("DELETE", `/v1/sandboxes/${id}/contexts/${context}`, { as: "b" })).status).toBe(404);
    expect((await api("DELETE", `/v1/sandboxes/${id}/contexts/${context}`)).status).toBe(204);
    expect((await api("DELETE", `/v1/sandboxes/${id}/contexts/${context}`)).status).toBe(404);
    expect((await (await api("GET", `/v1/sandboxes/${id}/contexts`)).json<any>()).contexts).toEqual([]);
  });

  it("cells sent at once to one context run one after another, each from the last one's state", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    await cell(id, context, "let count = 0");
    await Promise.all(Array.from({ length: 5 }, () => cell(id, context, "count++")));
    expect((await cell(id, context, "count")).body.result).toBe(5);
  });

  it("streamed cells carry the context too, and the done event names what was dropped", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    const res = await api("POST", `/v1/sandboxes/${id}/exec/stream`, { json: { context, code: "const later = new Promise(() => {}); let x = 41" } });
    const text = await res.text();
    const done = JSON.parse(/event: done\ndata: (.*)\n/.exec(text)![1]!);
    expect(done).toMatchObject({ status: "ok", contextDropped: [{ name: "later" }] });
    expect((await cell(id, context, "x + 1")).body.result).toBe(42);
  });

  it("a streamed cell that would grow its context past the limit ends with an error event saying so", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    const res = await api("POST", `/v1/sandboxes/${id}/exec/stream`, { json: { context, code: "const huge = 'x'.repeat(5 * 1024 * 1024); 1" } });
    const text = await res.text();
    expect(text).toMatch(/event: error\ndata: .*left as it was/);
    expect((await cell(id, context, "typeof huge")).body.result).toBe("undefined");
  });

  it("a context holds at most 64 cells waiting or running; the next is a 429 to retry", async () => {
    const { id } = await createSandbox();
    const context = await newContext(id);
    const slow = cell(id, context, "await new Promise((r) => setTimeout(r, 1500)); 1");
    await new Promise((r) => setTimeout(r, 200));
    const statuses = (await Promise.all(Array.from({ length: 64 }, () => cell(id, context, "1")))).map((c) => c.status);
    expect((await slow).status).toBe(200);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(63);
  });
});
