import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, sleep, startService, type Client, type Service } from "./service";

// The engine-integrity attacks (issue 10) that burn CPU or outlive their run: against the
// supervised service, never inside the test runtime's own workerd.
let service: Service;
let api: Client;

beforeAll(async () => {
  service = await startService();
  api = client(service.url);
});
afterAll(async () => {
  await service?.stop();
});

async function health(): Promise<any> {
  return (await fetch(`${service.url}/healthz`)).json();
}

/** CPU seconds the runtime process has used so far (user + system), from /proc. */
function runtimeCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe("a snippet cannot reset, hide or outlive its CPU budget", () => {
  it("12 s of busy loop, four sandboxes at once, every door to the entrypoint tried: each is stopped at its budget and a bystander stays fast", async () => {
    const before = await health();
    const attack = `
      import processModule from 'node:process';
      const doors = [];
      try { doors.push(process.getBuiltinModule('cloudflare:workers')) } catch {}
      try { doors.push(process.getBuiltinModule('node:module').createRequire('/')('cloudflare:workers')) } catch {}
      try { doors.push(processModule.getBuiltinModule('node:module').createRequire('/')('cloudflare:workers')) } catch {}
      for (const w of doors) { try { await w.exports.default.run(undefined, () => {}, 'x') } catch {} }
      const started = Date.now();
      while (Date.now() - started < 12000) {}
      'finished'`;
    const ids = await Promise.all([1, 2, 3, 4].map(() => api.createSandbox()));
    const started = Date.now();
    const results = await Promise.all(ids.map((id) => api.exec(id, attack, { cpuMs: 300 })));
    for (const res of results) {
      expect(res.status).toBe(200);
      expect(res.body.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
      expect(res.body.cpu.usedMs).toBeGreaterThanOrEqual(300);
    }
    expect(Date.now() - started).toBeLessThan(8_000);
    const bystander = await api.createSandbox();
    const t = Date.now();
    expect((await api.exec(bystander, "1 + 2")).body).toMatchObject({ status: "ok", result: 3 });
    expect(Date.now() - t).toBeLessThan(1_000);
    expect((await health()).runtime.restarts.total).toBe(before.runtime.restarts.total);
  });

  it.each([
    "import { getBuiltinModule } from 'node:process'; console.log('ran'); getBuiltinModule('node:module').createRequire('/')('cloudflare:workers').exports.default.run()",
    "import * as p from 'node:process'; console.log('ran'); p.getBuiltinModule('cloudflare:workers').exports.default.run()",
  ])("the doors node:process's own getBuiltinModule would open are ImportErrors before anything runs: %s", async (door) => {
    const id = await api.createSandbox();
    const res = await api.exec(id, door);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "error", stdout: "", error: { name: "ImportError" } });
    expect(res.body.error.message).toContain("not available in a sandbox");
  });

  it("work chained to run after the result (timers, scheduler.wait, promise reactions of bound builtins) does not burn CPU after the exec returns", async () => {
    const id = await api.createSandbox();
    const attack = `
      const big = Array.from({ length: 20000 }, (_, i) => ({ i, s: 'abcdefgh' }));
      const heavy = JSON.stringify.bind(JSON, big);
      for (let i = 0; i < 200; i++) {
        scheduler.wait(10 * i).then(heavy);
        setTimeout(heavy, 10 * i);
        Promise.resolve().then(() => scheduler.wait(5 * i)).then(heavy);
      }
      'returned'`;
    const res = await api.exec(id, attack);
    expect(res.body).toMatchObject({ status: "ok", result: "returned" });
    const { pid } = (await health()).runtime;
    const cpuBefore = runtimeCpuSeconds(pid);
    await sleep(2_000);
    // Left running, the chain would keep the runtime busy for most of these 2 s.
    expect(runtimeCpuSeconds(pid) - cpuBefore).toBeLessThan(0.5);
  });

  it("a chain of bound builtins feeding itself through then() (no check can run) costs a restart, like a ReDoS, and is recorded as LimitExceeded", async () => {
    const id = await api.createSandbox();
    const attack = `
      const p = Promise.resolve();
      const args = [];
      const step = Reflect.apply.bind(null, Promise.prototype.then, p, args);
      args.push(step);
      step();
      await new Promise(() => {})`;
    const res = await api.exec(id, attack, { cpuMs: 200 });
    expect([200, 503]).toContain(res.status);
    if (res.status === 200) expect(res.body.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
    for (let i = 0; i < 60 && (await api.exec(id, "1 + 2")).status === 503; i++) await sleep(200);
    expect((await api.exec(id, "1 + 2")).body.result).toBe(3);
    const history = await api.call("GET", `/v1/sandboxes/${id}/executions`);
    expect(history.body.executions.at(-1)).toMatchObject({ errorName: "LimitExceeded", limit: "cpu" });
  });

  it("fetches scheduled to happen after the run never leave: no egress for the execution after it returned", async () => {
    const id = await api.createSandbox({ profile: "js-net", network: { allow: [{ host: "api.example.com" }] } });
    const attack = `
      for (let i = 1; i <= 80; i++) {
        scheduler.wait(20 * i).then(() => fetch('https://api.example.com/' + i));
        setTimeout(() => fetch('https://api.example.com/t' + i), 20 * i);
      }
      'returned'`;
    const res = await api.exec(id, attack);
    expect(res.body).toMatchObject({ status: "ok", result: "returned" });
    await sleep(2_500);
    const audit = await api.call("GET", `/v1/sandboxes/${id}/audit?limit=200`);
    const egress = audit.body.entries.filter((e: any) => e.kind === "egress" && e.executionId === res.body.executionId);
    expect(egress).toEqual([]);
  });
});
