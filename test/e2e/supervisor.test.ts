import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, KEY, sleep, startService, type Service } from "./service";

/** Kills the runtime's whole process group (node + workerd), as a crash or the OOM killer would. */
function killRuntime(pid: number) {
  process.kill(-pid, "SIGKILL");
}

async function health(url: string) {
  return (await fetch(`${url}/healthz`)).json() as Promise<any>;
}

/** Waits until the runtime has been restarted (its restart count passed `restartsBefore`) and is ready. */
async function waitReady(url: string, timeoutMs: number, restartsBefore?: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const body = await health(url);
    if (body.ok && (restartsBefore === undefined || body.runtime.restarts.total > restartsBefore)) return Date.now() - started;
    await sleep(50);
  }
  throw new Error("runtime did not come back");
}

describe("the supervisor", () => {
  let service: Service;
  beforeAll(async () => {
    service = await startService();
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("reports uptime, runtime state and restart counts at /healthz", async () => {
    const body = await health(service.url);
    expect(body).toMatchObject({ ok: true, version: "0.1.0", runtime: { state: "ready", restarts: { total: 0, hang: 0, memory: 0, crash: 0, stopped: 0 } } });
    expect(typeof body.uptimeSeconds).toBe("number");
    expect(typeof body.runtime.pid).toBe("number");
  });

  it("restarts a killed runtime in under 3 s, answering 503 with Retry-After meanwhile, and state survives", async () => {
    const api = client(service.url);
    const id = await api.createSandbox({ metadata: { purpose: "survive" } });
    await api.call("PUT", `/v1/sandboxes/${id}/files/kept.txt`, "still here", { "Content-Type": "application/octet-stream" });
    const before = await health(service.url);
    killRuntime(before.runtime.pid);
    await sleep(100);
    const during = await fetch(`${service.url}/v1/sandboxes/${id}`, { headers: { Authorization: "Bearer sbx_local_dev_key" } });
    expect(during.status).toBe(503);
    expect(Number(during.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(during.headers.get("content-type")).toBe("application/problem+json");
    expect((await during.json()).code).toBe("runtime_unavailable");

    expect(await waitReady(service.url, 3000, before.runtime.restarts.total)).toBeLessThan(3000);
    const after = await health(service.url);
    expect(after.runtime.restarts.crash).toBe(1);
    expect(after.runtime.lastRestartMs).toBeLessThan(3000);
    const record = await api.call("GET", `/v1/sandboxes/${id}`);
    expect(record.body).toMatchObject({ id, state: "running", metadata: { purpose: "survive" } });
    expect((await api.call("GET", `/v1/sandboxes/${id}/files/kept.txt`)).body).toBe("still here");
  });

  it("an execution in flight when the runtime dies gets a 503, not a hang, and is recorded as Interrupted, not blamed", async () => {
    const api = client(service.url);
    const id = await api.createSandbox();
    const pending = api.exec(id, "await new Promise((r) => setTimeout(r, 2000)); 'never'");
    await sleep(300);
    const before = await health(service.url);
    killRuntime(before.runtime.pid);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(res.body.code).toBe("runtime_unavailable");
    await waitReady(service.url, 5000, before.runtime.restarts.total);
    const history = await api.call("GET", `/v1/sandboxes/${id}/executions`);
    expect(history.body.executions[0]).toMatchObject({ status: "error", errorName: "Interrupted" });
    expect(history.body.executions[0].output.error.message).toMatch(/restarted \(crash\)/);
    expect((await api.exec(id, "1+2")).body.result).toBe(3);
  });

  it("a catastrophic regexp V8 can run linearly finishes at once: no freeze, no restart", async () => {
    const api = client(service.url);
    const id = await api.createSandbox();
    const before = await health(service.url);
    const started = Date.now();
    const res = await api.exec(id, "/(a+)+$/.test('a'.repeat(40) + 'b')");
    expect(res.body).toMatchObject({ status: "ok", result: false });
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await health(service.url)).runtime.restarts.total).toBe(before.runtime.restarts.total);
  });

  it("restarts a runtime frozen by a backtracking regexp within the hang threshold + 3 s and records the execution as LimitExceeded cpu", async () => {
    const api = client(service.url);
    const id = await api.createSandbox();
    const other = await api.createSandbox();
    const before = await health(service.url);
    const started = Date.now();
    // A backreference keeps V8 on its backtracking engine: this never ends.
    const res = await api.exec(id, "/^(a+)+\\1$/.test('a'.repeat(40) + 'b')");
    expect(res.status).toBe(503);
    await waitReady(service.url, 7000, before.runtime.restarts.total);
    // Idle otherwise: SANDBOXER_HANG_MS (1.5 s) + one CPU budget (1 s), then the restart.
    expect(Date.now() - started).toBeLessThan(1500 + 1000 + 3000 + 1000);
    expect((await health(service.url)).runtime.restarts.hang).toBeGreaterThanOrEqual(1);
    const history = await api.call("GET", `/v1/sandboxes/${id}/executions`);
    expect(history.body.executions[0]).toMatchObject({ status: "error", errorName: "LimitExceeded", limit: "cpu" });
    expect((await api.exec(other, "'fine'")).body.result).toBe("fine");
    expect(service.stderr()).toMatch(/runtime restarted: reason=hang .*; culprit local:sbx_/);
  });

  it("the same freeze while another sandbox's upload is in flight blames no one: the execution is recorded as Interrupted", async () => {
    const api = client(service.url);
    const id = await api.createSandbox();
    const other = await api.createSandbox();
    const before = await health(service.url);
    // An upload the runtime is still receiving: a write that may hold the loop too.
    const upload = http.request(`${service.url}/v1/sandboxes/${other}/files/big.bin`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${KEY}`, "Content-Length": "1000000" },
    });
    upload.on("error", () => undefined);
    const uploadAnswer = new Promise<number>((resolve) => upload.on("response", (res) => (res.resume(), resolve(res.statusCode ?? 0))));
    upload.write("x".repeat(1000));
    await sleep(300);
    try {
      const res = await api.exec(id, "/^(a+)+\\1$/.test('a'.repeat(40) + 'b')");
      expect(res.status).toBe(503);
      await waitReady(service.url, 7000, before.runtime.restarts.total);
      expect(await uploadAnswer).toBe(503);
    } finally {
      upload.destroy();
    }
    const history = await api.call("GET", `/v1/sandboxes/${id}/executions`);
    expect(history.body.executions[0]).toMatchObject({ status: "error", errorName: "Interrupted" });
    expect(history.body.executions[0].limit).toBeUndefined();
    const restarts = service.stderr().match(/runtime restarted: reason=hang .*/g) ?? [];
    expect(restarts.at(-1)).not.toMatch(/culprit/);
  });

  it("TTL alarms that fell due while the runtime was down fire after the restart", async () => {
    const api = client(service.url);
    const marker = `m${Date.now()}`;
    const id = await api.createSandbox({ ttlSeconds: 2, metadata: { marker } });
    const before = await health(service.url);
    // Stop the runtime hard; its restart takes about as long as the TTL, and the alarm
    // must fire in the new runtime.
    killRuntime(before.runtime.pid);
    await sleep(2500);
    await waitReady(service.url, 5000, before.runtime.restarts.total);
    // Listing reads only the registry, which only the alarm updates.
    let state = "";
    for (let i = 0; i < 40 && state !== "stopped"; i++) {
      const list = await api.call("GET", `/v1/sandboxes?metadata.marker=${marker}`);
      state = list.body.sandboxes?.[0]?.state ?? "";
      if (state !== "stopped") await sleep(250);
    }
    expect(state).toBe("stopped");
    expect((await api.call("GET", `/v1/sandboxes/${id}`)).body.endReason).toBe("ttl_expired");
  });
});

describe("memory recycling", () => {
  let service: Service;
  beforeAll(async () => {
    // A ceiling just above an idle runtime, so a few loaded isolates trip it.
    service = await startService({ SANDBOXER_MAX_RSS_MB: "420" });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("recycles the runtime before it passes SANDBOXER_MAX_RSS_MB and keeps serving, with no exec lost", async () => {
    const api = client(service.url);
    const id = await api.createSandbox();
    let answered = 0;
    // Each run touches 8 MB, so the runtime's RSS climbs whatever its garbage collector keeps.
    const code = (i: number) => `new Uint8Array(8e6).fill(1); ${i} * 2`;
    for (let i = 0; i < 150; i++) {
      let res = await api.exec(id, code(i));
      if (res.status === 503) {
        await sleep(Number(res.headers?.get?.("retry-after") ?? 1) * 100);
        res = await api.exec(id, code(i));
      }
      for (let tries = 0; res.status === 503 && tries < 50; tries++) {
        await sleep(100);
        res = await api.exec(id, code(i));
      }
      expect(res.body.result).toBe(i * 2);
      answered++;
    }
    expect(answered).toBe(150);
    const body = await health(service.url);
    expect(body.runtime.restarts.memory).toBeGreaterThanOrEqual(1);
    expect(service.stderr()).toMatch(/runtime restarted: reason=memory/);
  });
});
