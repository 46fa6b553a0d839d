import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sandboxer, SandboxerError, type Sandbox } from "sand-boxer/client";
import { KEY, startService, type Service } from "./service";

// The TypeScript client (client/), in Node, against the supervised service (`npm start`).

let service: Service;
let sbx: Sandboxer;

beforeAll(async () => {
  service = await startService();
  sbx = new Sandboxer({ baseUrl: service.url, apiKey: KEY });
});
afterAll(async () => {
  if (process.env.SANDBOXER_DEBUG) console.log(service?.stderr());
  await service?.stop();
});

async function failure(promise: Promise<unknown>): Promise<SandboxerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SandboxerError);
  return error as SandboxerError;
}

describe("Sandboxer client", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await sbx.sandboxes.create({ ttlSeconds: 600, metadata: { suite: "client" } });
  });

  it("creates and gets a sandbox with the server's record", async () => {
    expect(sandbox.info).toMatchObject({ tenant: "local", state: "running", metadata: { suite: "client" } });
    const again = await sbx.sandboxes.get(sandbox.id);
    expect(again.info.id).toBe(sandbox.id);
  });

  it("run executes once in an ephemeral sandbox, with files, and the sandbox is stopped afterwards", async () => {
    const result = await sbx.run('import { n } from "./n.ts"; n + 1', { language: "ts", files: { "n.ts": "export const n: number = 41;" } });
    expect(result).toMatchObject({ status: "ok", result: 42, sandboxId: expect.stringMatching(/^sbx_/) });
    expect((await sbx.sandboxes.get(result.sandboxId)).info).toMatchObject({ state: "stopped", endReason: "deleted" });
    expect(await failure(sbx.run("1", { profile: "nope" }))).toMatchObject({ code: "validation_failed", status: 400 });
  });

  it("exec streams stdout and stderr lines to the callbacks while the code runs, then returns the result", async () => {
    const seen: [string, string, number][] = [];
    const started = Date.now();
    const result = await sandbox.exec("console.log('a'); await new Promise((r) => setTimeout(r, 400)); console.error('b'); 6 * 7", {
      onStdout: (text) => seen.push(["stdout", text, Date.now() - started]),
      onStderr: (text) => seen.push(["stderr", text, Date.now() - started]),
    });
    expect(seen.map(([stream, text]) => [stream, text])).toEqual([
      ["stdout", "a"],
      ["stderr", "b"],
    ]);
    // The first line arrived before the code finished sleeping: it was streamed, not batched.
    expect(seen[1]![2] - seen[0]![2]).toBeGreaterThanOrEqual(300);
    expect(result).toMatchObject({ status: "ok", result: 42, stdout: "a\n", stderr: "b\n" });
  });

  it("exec without callbacks answers with JSON, and a thrown error is a result, not an exception", async () => {
    const result = await sandbox.exec("throw new RangeError('no')");
    expect(result).toMatchObject({ status: "error", error: { name: "RangeError", message: "no", line: 1 } });
  });

  it("an aborted exec rejects with the abort reason", async () => {
    const controller = new AbortController();
    const pending = sandbox.exec("await new Promise((r) => setTimeout(r, 2000)); 1", { onStdout: () => undefined, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop waiting")), 200);
    await expect(pending).rejects.toThrow("stop waiting");
  });

  it("files are binary safe both ways", async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const entry = await sandbox.files.write("bin/all-bytes.bin", bytes);
    expect(entry).toMatchObject({ path: "bin/all-bytes.bin", size: 256 });
    expect([...(await sandbox.files.read("bin/all-bytes.bin"))]).toEqual([...bytes]);
    await sandbox.files.write("dir with space/ünï.txt", "héllo");
    expect(await sandbox.files.readText("dir with space/ünï.txt")).toBe("héllo");
    expect((await sandbox.files.list("bin/")).map((f) => f.path)).toEqual(["bin/all-bytes.bin"]);
    await sandbox.files.delete("bin/all-bytes.bin");
    expect((await failure(sandbox.files.read("bin/all-bytes.bin"))).code).toBe("not_found");
  });

  it("setTimeout moves the end of life, keepalive moves the idle clock", async () => {
    const before = sandbox.info.expiresAt;
    const record = await sandbox.setTimeout(120);
    expect(Date.parse(record.expiresAt)).toBeLessThan(Date.parse(before));
    expect(Date.parse(record.expiresAt) - Date.now()).toBeLessThanOrEqual(120_000);
    const idleBefore = Date.parse(record.idleExpiresAt);
    await new Promise((r) => setTimeout(r, 20));
    expect(Date.parse((await sandbox.keepalive()).idleExpiresAt)).toBeGreaterThan(idleBefore);
  });

  it("list iterates every page", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await sbx.sandboxes.create({ metadata: { suite: "paging" } })).id);
    const listed: string[] = [];
    const query = { metadata: { suite: "paging" }, limit: 2 };
    let pages = 0;
    for await (const page of sbx.sandboxes.list(query).pages()) {
      pages++;
      expect(page.sandboxes.length).toBeLessThanOrEqual(2);
    }
    for await (const record of sbx.sandboxes.list(query)) listed.push(record.id);
    expect(pages).toBe(3);
    expect(new Set(listed)).toEqual(ids);
  });

  it("errors are typed: code, status, detail and the problem's extra members", async () => {
    const missing = await failure(sbx.sandboxes.get("sbx_aaaaaaaaaaaaaaaaaaaaaaaaaa"));
    expect(missing).toMatchObject({ code: "not_found", status: 404 });
    const invalid = await failure(sbx.sandboxes.create({ ttlSeconds: -1 }));
    expect(invalid.code).toBe("validation_failed");
    expect(invalid.extra.errors).toEqual([expect.objectContaining({ path: "body.ttlSeconds" })]);
    const tooLong = await failure(sbx.sandboxes.create({ ttlSeconds: 10_000_000 }));
    expect(tooLong).toMatchObject({ code: "limit_exceeded", status: 422 });
    const badKey = await failure(new Sandboxer({ baseUrl: service.url, apiKey: "wrong" }).profiles());
    expect(badKey).toMatchObject({ code: "unauthorized", status: 401 });
  });

  it("snapshot, restore, fork, pause and resume round-trip a workspace", async () => {
    const source = await sbx.sandboxes.create({ ttlSeconds: 600 });
    await source.files.write("data.bin", new Uint8Array([0, 1, 254, 255]));
    const snapshot = await source.snapshot({ name: "before" });
    expect(snapshot).toMatchObject({ name: "before", snapshotId: expect.any(String) });
    expect((await sbx.snapshots.get(snapshot.snapshotId)).snapshotId).toBe(snapshot.snapshotId);
    expect((await sbx.snapshots.list()).snapshots.map((s) => s.snapshotId)).toContain(snapshot.snapshotId);
    await source.files.write("data.bin", "broken");
    await source.restore(snapshot.snapshotId);
    expect([...(await source.files.read("data.bin"))]).toEqual([0, 1, 254, 255]);
    const fork = await sbx.sandboxes.create({ fromSnapshot: snapshot.snapshotId });
    expect(fork.id).not.toBe(source.id);
    expect([...(await fork.files.read("data.bin"))]).toEqual([0, 1, 254, 255]);
    expect((await source.pause()).paused).toBe(true);
    expect(await failure(source.exec("1"))).toMatchObject({ code: "sandbox_paused", status: 409 });
    await source.resume();
    expect((await source.exec("1 + 1")).result).toBe(2);
    await sbx.snapshots.delete(snapshot.snapshotId);
    expect(await failure(sbx.snapshots.get(snapshot.snapshotId))).toMatchObject({ code: "not_found", status: 404 });
    await fork.kill();
    await source.kill();
  });

  it("contexts carry a cell's declarations into the next exec; list and delete them", async () => {
    const box = await sbx.sandboxes.create();
    const { contextId } = await box.contexts.create();
    await box.exec("const greeting = 'hi'; function shout(s) { return s.toUpperCase() + '!' }", { context: contextId });
    expect((await box.exec("shout(greeting)", { context: contextId })).result).toBe("HI!");
    expect(await box.contexts.list()).toEqual([expect.objectContaining({ contextId, cells: 2 })]);
    // Another cell outside the context does not see them.
    expect((await box.exec("typeof greeting")).result).toBe("undefined");
    await box.contexts.delete(contextId);
    expect(await box.contexts.list()).toEqual([]);
    expect(await failure(box.exec("greeting", { context: contextId }))).toMatchObject({ code: "not_found", status: 404 });
    await box.kill();
  });

  it("kill stops the sandbox; it then answers sandbox_stopped with its reason", async () => {
    const doomed = await sbx.sandboxes.create();
    await doomed.kill();
    expect((await doomed.refresh()).endReason).toBe("deleted");
    const stopped = await failure(doomed.exec("1"));
    expect(stopped).toMatchObject({ code: "sandbox_stopped", status: 410 });
    expect(stopped.extra.reason).toBe("deleted");
  });
});

// A linux sandbox under `npm start` is a real bubblewrap jail.
describe("Sandboxer client: commands and processes", () => {
  let linux: Sandbox;
  beforeAll(async () => {
    linux = await sbx.sandboxes.create({ profile: "linux", ttlSeconds: 600 });
  });

  it("commands.run takes a shell line and answers the result; a non-zero exit is a result", async () => {
    expect(await linux.commands.run("echo hi && echo err >&2")).toMatchObject({ exitCode: 0, stdout: "hi\n", stderr: "err\n" });
    const failed = await linux.commands.run("exit 7");
    expect(failed.exitCode).toBe(7);
    expect(failed.commandId).toMatch(/^exe_/);
  });

  it("commands.run takes argv, cwd, env, stdin and timeoutMs", async () => {
    await linux.files.write("dir/x.txt", "x");
    const result = await linux.commands.run({ argv: ["bash", "-c", 'pwd; echo "$GREETING"; cat'], cwd: "dir", env: { GREETING: "it's $HOME" }, stdin: "from stdin", timeoutMs: 10_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: "/workspace/dir\nit's $HOME\nfrom stdin" });
    expect(await linux.commands.run({ cmd: "sleep 30", timeoutMs: 300 })).toMatchObject({ limit: "wall" });
  });

  it("commands.run streams output to the callbacks while the command runs, then returns the whole result", async () => {
    const seen: [string, string, number][] = [];
    const started = Date.now();
    const result = await linux.commands.run("echo first; sleep 1; echo second; echo warned >&2", {
      onStdout: (text) => seen.push(["stdout", text, Date.now() - started]),
      onStderr: (text) => seen.push(["stderr", text, Date.now() - started]),
    });
    expect(seen.filter(([s]) => s === "stdout").map(([, t]) => t).join("")).toBe("first\nsecond\n");
    expect(seen.filter(([s]) => s === "stderr").map(([, t]) => t).join("")).toBe("warned\n");
    // "first" arrived before the command slept: it was streamed, not replayed at the end.
    expect(seen[0]).toEqual(["stdout", "first\n", expect.any(Number)]);
    expect(seen[0]![2]).toBeLessThan(Date.now() - started - 500);
    expect(result).toMatchObject({ exitCode: 0, stdout: "first\nsecond\n", stderr: "warned\n" });
  });

  it("processes start, list, get and kill a background command", async () => {
    const started = await linux.processes.start("echo ready; sleep 60");
    expect(started).toMatchObject({ status: "running", command: "echo ready; sleep 60" });
    expect((await linux.processes.list()).map((p) => p.pid)).toContain(started.pid);
    let one = await linux.processes.get(started.pid);
    for (let i = 0; i < 50 && !one.stdoutTail; i++) {
      await new Promise((r) => setTimeout(r, 100));
      one = await linux.processes.get(started.pid);
    }
    expect(one).toMatchObject({ pid: started.pid, status: "running", stdoutTail: "ready\n" });
    expect(await linux.processes.kill(started.pid)).toMatchObject({ pid: started.pid, status: "killed" });
    expect((await failure(linux.processes.get("proc_none"))).code).toBe("not_found");
  });

  it("errors are typed: a js sandbox has no shell, a bad body lists the field", async () => {
    const js = await sbx.sandboxes.create({ ttlSeconds: 60 });
    const shell = await failure(js.commands.run("echo hi"));
    expect(shell).toMatchObject({ code: "limit_exceeded", status: 422 });
    const bad = await failure(linux.commands.run({ cmd: "true", argv: ["true"] }));
    expect(bad).toMatchObject({ code: "validation_failed", status: 400 });
  });
});

describe("retry policy", () => {
  /** The real service behind a proxy that answers 503 (Retry-After: 0) to the first `n` requests with `method`. */
  function flakyFetch(n: number, method = "GET") {
    const seen: string[] = [];
    let failed = 0;
    const fetcher: typeof fetch = async (input, init) => {
      const call = `${init?.method ?? "GET"} ${String(input).replace(service.url, "")}`;
      seen.push(call);
      if ((init?.method ?? "GET") === method && failed < n) {
        failed++;
        return new Response(JSON.stringify({ type: "x", title: "Runtime unavailable", status: 503, detail: "restarting", code: "runtime_unavailable" }), {
          status: 503,
          headers: { "Content-Type": "application/problem+json", "Retry-After": "0" },
        });
      }
      return fetch(input, init);
    };
    return { fetcher, seen };
  }

  it("is off by default: a 503 is thrown with retryAfter", async () => {
    const { fetcher } = flakyFetch(1);
    const error = await failure(new Sandboxer({ baseUrl: service.url, apiKey: KEY, fetch: fetcher }).profiles());
    expect(error).toMatchObject({ code: "runtime_unavailable", status: 503, retryAfter: 0 });
  });

  it("when on, retries an idempotent call after Retry-After until it succeeds", async () => {
    const { fetcher, seen } = flakyFetch(2);
    const profiles = await new Sandboxer({ baseUrl: service.url, apiKey: KEY, fetch: fetcher, retry: { retries: 3 } }).profiles();
    expect(profiles.profiles.map((p) => p.name)).toContain("js");
    expect(seen).toEqual(["GET /v1/profiles", "GET /v1/profiles", "GET /v1/profiles"]);
  });

  it("never repeats a POST that may have acted (an exec, a create without idempotency key)", async () => {
    const { fetcher, seen } = flakyFetch(1, "POST");
    const retrying = new Sandboxer({ baseUrl: service.url, apiKey: KEY, fetch: fetcher, retry: true });
    expect((await failure(retrying.sandboxes.create())).code).toBe("runtime_unavailable");
    expect(seen).toEqual(["POST /v1/sandboxes"]);
    const sandbox = await retrying.sandboxes.create();
    seen.length = 0;
    const flaky = flakyFetch(1, "POST");
    const execClient = new Sandboxer({ baseUrl: service.url, apiKey: KEY, fetch: flaky.fetcher, retry: true });
    const handle = await execClient.sandboxes.get(sandbox.id);
    expect((await failure(handle.exec("1"))).code).toBe("runtime_unavailable");
    expect(flaky.seen.filter((c) => c.startsWith("POST"))).toEqual([`POST /v1/sandboxes/${sandbox.id}/exec`]);
  });

  it("retries a create that carries an idempotency key, and gets one sandbox", async () => {
    const { fetcher, seen } = flakyFetch(1, "POST");
    const retrying = new Sandboxer({ baseUrl: service.url, apiKey: KEY, fetch: fetcher, retry: true });
    const sandbox = await retrying.sandboxes.create({ metadata: { k: "v" } }, { idempotencyKey: "client-retry-1" });
    expect(seen).toEqual(["POST /v1/sandboxes", "POST /v1/sandboxes"]);
    const replay = await sbx.sandboxes.create({ metadata: { k: "v" } }, { idempotencyKey: "client-retry-1" });
    expect(replay.id).toBe(sandbox.id);
  });
});
