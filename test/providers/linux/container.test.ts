import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, createSandbox, sandboxObject, TENANT_NAMES } from "../../helpers";

afterEach(() => vi.useRealTimers());

/**
 * Linux sandboxes on the Cloudflare-Containers backend, through the whole Worker, against a
 * stand-in container (container-standin.mjs) that answers the container server's routes.
 * Without a jail host (JAIL_URL unset, as when deployed) linux sandboxes choose this backend.
 */

interface StandIn {
  seen(): Promise<{ method: string; pathname: string; port: number; body: any }[]>;
  destroyed(): Promise<boolean>;
  failNext(count: number): Promise<void>;
  failDestroy(count: number): Promise<void>;
}

/** The stand-in container of a sandbox: named by the SandboxDO's id, as the provider names it. */
function containerOf(id: string): StandIn {
  const key = env.SANDBOX.idFromName(`${TENANT_NAMES.a}:${id}`).toString();
  const ns = (env as unknown as { LINUX_CONTAINER: DurableObjectNamespace }).LINUX_CONTAINER;
  return ns.get(ns.idFromName(key)) as unknown as StandIn;
}

async function command(id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return api("POST", `/v1/sandboxes/${id}/commands`, { json: body, headers });
}

describe("linux sandboxes on Cloudflare Containers (stand-in container server)", { timeout: 30_000 }, () => {
  it("a linux sandbox is served by a container when no jail host is configured, started at create", async () => {
    const created = await createSandbox({ profile: "linux" });
    expect(created).toMatchObject({ profile: "linux", provider: "cloudflare-container", isolationLevel: "container-vm" });
    const [first] = await containerOf(created.id).seen();
    expect(first).toMatchObject({ method: "GET", pathname: "/api/ping", port: 3000 });
  });

  it("runs a command through POST /api/execute on port 3000, in the sandboxer session, the user's line in SANDBOXER_CMD run by bash -lc", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const res = await command(id, { cmd: "echo hi", env: { A: "1" }, timeoutMs: 5000 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ exitCode: 0, stdout: "hi\n", stderr: "" });
    const [call] = (await containerOf(id).seen()).filter((r) => r.pathname === "/api/execute");
    expect(call).toMatchObject({
      method: "POST",
      port: 3000,
      body: { command: 'bash -lc "$SANDBOXER_CMD" 0</dev/null', sessionId: "sandboxer", timeoutMs: 5000, env: { A: "1", SANDBOXER_CMD: "echo hi" } },
    });
  });

  it("argv is quoted into one line that runs exactly those words; stdin travels base64-encoded", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    await command(id, { argv: ["echo", "it's", "$HOME"] });
    const seen = await containerOf(id).seen();
    expect(seen.at(-1)!.body.env.SANDBOXER_CMD).toBe(`'echo' 'it'\\''s' '$HOME'`);
    const cat = await (await command(id, { cmd: "cat", stdin: "from stdin" })).json<any>();
    expect(cat.stdout).toBe("from stdin");
  });

  it("has no code contexts yet: creating one is a 422 that says what to use instead", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const res = await api("POST", `/v1/sandboxes/${id}/contexts`, { json: {} });
    expect(res.status).toBe(422);
    const body = await res.json<any>();
    expect(body).toMatchObject({ code: "limit_exceeded", limit: "contexts", profiles: ["js", "js-net"] });
    expect(body.detail).toContain("/workspace");
  });

  it("reports exit codes and a missing command as results, not errors", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    expect(await (await command(id, { cmd: "exit 3" })).json()).toMatchObject({ exitCode: 3 });
    expect(await (await command(id, { cmd: "nosuch" })).json()).toMatchObject({ exitCode: 127, stderr: "nosuch: command not found\n" });
  });

  it("streams stdout events then exit from /api/execute/stream", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const res = await command(id, { cmd: "echo streamed" }, { Accept: "text/event-stream" });
    const text = await res.text();
    expect(text.indexOf("event: stdout")).toBeGreaterThanOrEqual(0);
    expect(text.indexOf("event: stdout")).toBeLessThan(text.indexOf("event: exit"));
    expect(text).toContain('data: {"data":"streamed\\n"}');
  });

  it("POST …/commands/stream streams the same events as Accept: text/event-stream, and refuses background", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const res = await api("POST", `/v1/sandboxes/${id}/commands/stream`, { json: { cmd: "echo streamed" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/event-stream");
    const text = await res.text();
    expect(text).toContain('event: stdout\ndata: {"data":"streamed\\n"}');
    expect(text).toMatch(/event: exit\ndata: \{"commandId":"exe_[^"]+","exitCode":0/);
    const refused = await api("POST", `/v1/sandboxes/${id}/commands/stream`, { json: { cmd: "sleep 1", background: true } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: "validation_failed", errors: [{ path: "body.background" }] });
  });

  it("files go through /api/write and /api/read base64-encoded and come back byte for byte", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const bytes = new Uint8Array(256).map((_, i) => i);
    expect((await api("PUT", `/v1/sandboxes/${id}/files/data/all.bin`, { body: bytes })).status).toBe(201);
    const back = await api("GET", `/v1/sandboxes/${id}/files/data/all.bin`);
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(bytes);
    const list = await (await api("GET", `/v1/sandboxes/${id}/files?prefix=data/`)).json();
    expect(list).toEqual([expect.objectContaining({ path: "data/all.bin", size: 256 })]);
    const write = (await containerOf(id).seen()).find((r) => r.pathname === "/api/write")!;
    expect(write.body).toMatchObject({ path: "/workspace/data/all.bin", encoding: "base64", sessionId: "sandboxer" });
    // A command sees the uploaded file.
    expect(await (await command(id, { cmd: "cat data/all.bin" })).json()).toMatchObject({ exitCode: 0 });
    expect((await api("DELETE", `/v1/sandboxes/${id}/files/data/all.bin`)).status).toBe(204);
    expect((await api("GET", `/v1/sandboxes/${id}/files/data/all.bin`)).status).toBe(404);
  });

  it("background processes: start, list, inspect with the output tail, kill", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const started = await command(id, { cmd: "sleep 100", background: true });
    expect(started.status).toBe(202);
    const { pid } = await started.json<any>();
    const list = await (await api("GET", `/v1/sandboxes/${id}/processes`)).json<any>();
    expect(list.processes).toEqual([expect.objectContaining({ pid, status: "running", command: "sleep 100" })]);
    const one = await (await api("GET", `/v1/sandboxes/${id}/processes/${pid}`)).json();
    expect(one).toMatchObject({ pid, status: "running", stdoutTail: "tail of stdout\n" });
    const killed = await (await api("DELETE", `/v1/sandboxes/${id}/processes/${pid}`)).json();
    expect(killed).toMatchObject({ pid, status: "killed", exitCode: 137 });
    expect((await api("GET", `/v1/sandboxes/${id}/processes/proc_none`)).status).toBe(404);
  });

  it("our stop destroys the container", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    await command(id, { cmd: "echo warm" });
    expect(await containerOf(id).destroyed()).toBe(false);
    expect((await api("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
    expect(await containerOf(id).destroyed()).toBe(true);
  });

  it("our clocks drive the container: a TTL or idle expiry by our alarm, and a pause, destroy it", async () => {
    const ttl = await createSandbox({ profile: "linux", ttlSeconds: 60 });
    const idle = await createSandbox({ profile: "linux", ttlSeconds: 3600, idleTimeoutSeconds: 30 });
    const paused = await createSandbox({ profile: "linux" });
    for (const { id } of [ttl, idle, paused]) await command(id, { cmd: "echo warm" });
    expect((await api("POST", `/v1/sandboxes/${paused.id}/pause`)).status).toBe(200);
    expect(await containerOf(paused.id).destroyed()).toBe(true);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    for (const { id } of [ttl, idle]) {
      expect(await containerOf(id).destroyed()).toBe(false);
      await runDurableObjectAlarm(sandboxObject(id));
    }
    vi.useRealTimers();
    expect(await (await api("GET", `/v1/sandboxes/${ttl.id}`)).json()).toMatchObject({ state: "stopped", endReason: "ttl_expired" });
    expect(await (await api("GET", `/v1/sandboxes/${idle.id}`)).json()).toMatchObject({ state: "stopped", endReason: "idle_timeout" });
    expect(await containerOf(ttl.id).destroyed()).toBe(true);
    expect(await containerOf(idle.id).destroyed()).toBe(true);
  });

  it("a release that fails at stop is tried again by the alarm until it succeeds", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    await command(id, { cmd: "echo warm" });
    await containerOf(id).failDestroy(2);
    expect((await api("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
    expect(await containerOf(id).destroyed()).toBe(false);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    await runDurableObjectAlarm(sandboxObject(id)); // fails again
    expect(await containerOf(id).destroyed()).toBe(false);
    vi.setSystemTime(Date.now() + 61_000);
    await runDurableObjectAlarm(sandboxObject(id));
    expect(await containerOf(id).destroyed()).toBe(true);
    vi.useRealTimers();
    // Still the tombstone it was: the retries do not purge it early.
    expect(await (await api("GET", `/v1/sandboxes/${id}`)).json()).toMatchObject({ state: "stopped", endReason: "deleted" });
  });

  it("a container that is still starting (503) is waited for, as the SDK does for a cold start", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    await containerOf(id).failNext(1);
    const res = await command(id, { cmd: "echo after the cold start" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ stdout: "after the cold start\n" });
    const attempts = (await containerOf(id).seen()).filter((r) => r.pathname === "/api/execute");
    expect(attempts).toHaveLength(2);
  });
});
