import { describe, expect, it } from "vitest";
import { api, createSandbox, problemOf } from "../helpers";

describe("POST /v1/sandboxes/:id/exec", () => {
  it("runs 1+2", async () => {
    const { id } = await createSandbox();
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "1+2" } });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ status: "ok", result: 3, stdout: "", stderr: "", logs: [], cpu: { budgetMs: 1000 } });
    expect(body.executionId).toMatch(/^exe_/);
    expect(typeof body.durationMs).toBe("number");
  });

  it("a thrown error is status error with HTTP 200", async () => {
    const { id } = await createSandbox();
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "throw new TypeError('nope')" } });
    expect(res.status).toBe(200);
    expect((await res.json<any>()).error).toMatchObject({ name: "TypeError", message: "nope", line: 1 });
  });

  it("while(true){} is stopped by the CPU budget and the next exec answers at once", async () => {
    const { id } = await createSandbox();
    const stopped = await (await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "while(true){}", cpuMs: 50 } })).json<any>();
    expect(stopped.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
    const next = await (await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "1+2" } })).json<any>();
    expect(next.result).toBe(3);
  });

  it("imports workspace files written through the files API", async () => {
    const { id } = await createSandbox();
    await api("PUT", `/v1/sandboxes/${id}/files/lib/math.ts`, { body: "export const add = (a: number, b: number): number => a + b;" });
    const out = await (await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "import { add } from './lib/math.ts';\nadd(40, 2)" } })).json<any>();
    expect(out).toMatchObject({ status: "ok", result: 42 });
  });

  it("refuses per-call limits above the profile's with 422", async () => {
    const { id } = await createSandbox();
    const { status, body } = await problemOf(await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "1", cpuMs: 10_000_000 } }));
    expect(status).toBe(422);
    expect(body).toMatchObject({ code: "limit_exceeded", limit: "cpuMs" });
  });

  it("refuses code over the size limit with 422 and a missing code with 400", async () => {
    const { id } = await createSandbox();
    const big = await problemOf(await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: `"${"x".repeat(1024 * 1024)}"` } }));
    expect(big.status).toBe(422);
    expect(big.body.limit).toBe("code");
    const missing = await problemOf(await api("POST", `/v1/sandboxes/${id}/exec`, { json: {} }));
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].path).toBe("body.code");
  });

  it("exec on a stopped sandbox answers 410 with the reason", async () => {
    const { id } = await createSandbox();
    await api("DELETE", `/v1/sandboxes/${id}`);
    const { status, body } = await problemOf(await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "1" } }));
    expect(status).toBe(410);
    expect(body.reason).toBe("deleted");
  });

  it("exec on another tenant's sandbox answers 404", async () => {
    const { id } = await createSandbox({}, "a");
    const { status } = await problemOf(await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "1" }, as: "b" }));
    expect(status).toBe(404);
    expect(await (await api("GET", `/v1/sandboxes/${id}/executions`, { as: "b" })).json<any>()).toMatchObject({ code: "not_found" });
  });

  it("exec is activity: the idle clock moves", async () => {
    const created = await createSandbox();
    await new Promise((r) => setTimeout(r, 5));
    await api("POST", `/v1/sandboxes/${created.id}/exec`, { json: { code: "1" } });
    const record = await (await api("GET", `/v1/sandboxes/${created.id}`)).json<any>();
    expect(Date.parse(record.lastActiveAt)).toBeGreaterThan(Date.parse(created.lastActiveAt));
  });

  it("concurrent execs on one sandbox all complete, none lost or duplicated", async () => {
    const { id } = await createSandbox();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: `await new Promise((r) => setTimeout(r, 20)); ${i}` } }).then((r) => r.json<any>()),
      ),
    );
    expect(results.map((r) => r.result)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(new Set(results.map((r) => r.executionId)).size).toBe(12);
  });
});

describe("streaming", () => {
  it("delivers stdout while the code runs, then result and done", async () => {
    const { id } = await createSandbox();
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, {
      json: { code: "console.log('first'); await new Promise((r) => setTimeout(r, 300)); console.error('second'); 42" },
      headers: { Accept: "text/event-stream" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: { event: string; data: any; at: number }[] = [];
    const started = Date.now();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)![1]!;
        const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!);
        events.push({ event, data, at: Date.now() - started });
      }
    }
    expect(events.map((e) => e.event)).toEqual(["stdout", "stderr", "result", "done"]);
    expect(events[0]!.data.message).toBe("first");
    // The first line arrived before the 300 ms wait ended.
    expect(events[1]!.at - events[0]!.at).toBeGreaterThanOrEqual(200);
    expect(events[2]!.data).toEqual({ result: 42 });
    // `done` is a summary: the output and the value were sent once already.
    expect(events[3]!.data).toMatchObject({ status: "ok", executionId: expect.stringMatching(/^exe_/), cpu: { budgetMs: 1000 } });
    expect(events[3]!.data).not.toHaveProperty("stdout");
    expect(events[3]!.data).not.toHaveProperty("result");
  });

  it("a megabyte of stdout is sent once, not again in done", async () => {
    const { id } = await createSandbox();
    const res = await api("POST", `/v1/sandboxes/${id}/exec/stream`, { json: { code: "for (let i = 0; i < 2000; i++) console.log('x'.repeat(600)); 1" } });
    const text = await res.text();
    const stdoutBytes = 1 << 20;
    expect(text.length).toBeLessThan(stdoutBytes * 1.5);
    const done = JSON.parse(/event: done\ndata: (.*)/.exec(text)![1]!);
    expect(done).toMatchObject({ status: "ok", stdoutTruncated: true });
    expect(text).toContain('"cut":true');
  });

  it("streams an error event for a failing snippet", async () => {
    const { id } = await createSandbox();
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "null.x" }, headers: { Accept: "text/event-stream" } });
    const text = await res.text();
    expect(text).toMatch(/event: error\ndata: \{"name":"TypeError"/);
    expect(text.trim().endsWith("}")).toBe(true);
    expect(text).toContain("event: done");
  });

  it("errors before the code runs are still problem+json", async () => {
    const { id } = await createSandbox();
    await api("DELETE", `/v1/sandboxes/${id}`);
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "1" }, headers: { Accept: "text/event-stream" } });
    expect(res.status).toBe(410);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("GET /v1/sandboxes/:id/executions", () => {
  it("records each exec with code hash, status, duration, cpu and outputs, newest first, paged", async () => {
    const { id } = await createSandbox();
    for (const code of ["1", "console.log('two'); 2", "throw new Error('three')"]) {
      await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code } });
    }
    const page = await (await api("GET", `/v1/sandboxes/${id}/executions?limit=2`)).json<any>();
    expect(page.executions).toHaveLength(2);
    expect(page.executions[0]).toMatchObject({ status: "error", errorName: "Error", language: "js" });
    expect(page.executions[1]).toMatchObject({ status: "ok", output: { result: 2, stdout: "two\n" } });
    expect(page.executions[1].codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof page.executions[1].durationMs).toBe("number");
    const rest = await (await api("GET", `/v1/sandboxes/${id}/executions?limit=2&cursor=${page.nextCursor}`)).json<any>();
    expect(rest.executions.map((e: any) => e.output.result)).toEqual([1]);
    expect(rest.nextCursor).toBeNull();
  });
});
