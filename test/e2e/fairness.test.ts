import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, sleep, startService, type Client, type Service } from "./service";

// Two tenants share one local runtime (one workerd event loop). Issue 15: neither may take the
// service away from the other, by legitimate load or by hostile code. Loads here are bounded in
// count and time and stay on loopback.

const sha256 = (key: string) => createHash("sha256").update(key).digest("hex");
const KEY_A = "sbx_tenant_a_key";
const KEY_B = "sbx_tenant_b_key";
const API_KEYS = JSON.stringify({ "tenant-a": [sha256(KEY_A)], "tenant-b": [sha256(KEY_B)] });
// tenant-b gets a small quota of sandboxes so the quota test stays short; tenant-a the defaults.
const TENANT_QUOTAS = JSON.stringify({ tenants: { "tenant-b": { sandboxesAlive: 20 } } });

let service: Service;
let a: Client;
let b: Client;

async function health() {
  return (await fetch(`${service.url}/healthz`)).json() as Promise<any>;
}

/** Waits until the runtime answers again after a restart; returns the time it took. */
async function waitReady(restartsBefore: number, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const body = await health();
    if (body.ok && body.runtime.restarts.total > restartsBefore) return Date.now() - started;
    await sleep(50);
  }
  throw new Error("runtime did not come back");
}

/** Calls until something other than 503 comes back (the documented client behaviour). */
async function retrying<T extends { status: number }>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const res = await call();
    if (res.status !== 503 || Date.now() - started > timeoutMs) return res;
    await sleep(100);
  }
}

beforeAll(async () => {
  service = await startService({ SANDBOXER_API_KEYS: API_KEYS, TENANT_QUOTAS });
  a = client(service.url, KEY_A);
  b = client(service.url, KEY_B);
});
afterAll(async () => {
  if (process.env.SANDBOXER_DEBUG) console.log(service?.stderr());
  await service?.stop();
});

describe("one tenant cannot stop the others", () => {
  it("eight concurrent execs that each compute 500 ms (within budget) all answer, and the runtime is not restarted", async () => {
    const before = await health();
    const ids = await Promise.all(Array.from({ length: 8 }, () => a.createSandbox()));
    const results = await Promise.all(ids.map((id) => a.exec(id, "const t = Date.now(); while (Date.now() - t < 500) {} 'done'")));
    for (const res of results) expect(res.body, JSON.stringify(res.body)).toMatchObject({ status: "ok", result: "done" });
    expect((await health()).runtime.restarts.total).toBe(before.runtime.restarts.total);
  }, 60_000);

  it("the same eight executions streamed (/exec/stream) are admitted like plain ones: all answer, no restart", async () => {
    const before = await health();
    const ids = await Promise.all(Array.from({ length: 8 }, () => a.createSandbox()));
    const streams = await Promise.all(
      ids.map(async (id) => {
        const res = await fetch(`${service.url}/v1/sandboxes/${id}/exec/stream`, {
          method: "POST",
          headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
          body: JSON.stringify({ code: "const t = Date.now(); while (Date.now() - t < 500) {} 'done'" }),
        });
        return { status: res.status, text: await res.text() };
      }),
    );
    for (const stream of streams) {
      expect(stream.status, stream.text).toBe(200);
      expect(stream.text).toContain('event: result\ndata: {"result":"done"}');
    }
    expect((await health()).runtime.restarts.total).toBe(before.runtime.restarts.total);
  }, 60_000);

  it("160 parked executions from one tenant do not make another tenant's GET or exec wait", async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, () => a.createSandbox()));
    const mine = await b.createSandbox();
    const abort = new AbortController();
    const parked = Array.from({ length: 160 }, (_, n) =>
      fetch(`${service.url}/v1/sandboxes/${ids[n % 40]}/exec`, {
        method: "POST",
        headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
        body: JSON.stringify({ code: "await new Promise((r) => setTimeout(r, 5000)); 'late'" }),
        signal: abort.signal,
      }).catch(() => undefined),
    );
    await sleep(500);
    try {
      let started = Date.now();
      const get = await b.call("GET", `/v1/sandboxes/${mine}`);
      const getMs = Date.now() - started;
      expect(get.status).toBe(200);
      started = Date.now();
      const exec = await b.exec(mine, "1 + 1");
      const execMs = Date.now() - started;
      expect(exec.body.result).toBe(2);
      // Without fair admission the GET waited ~10 s behind the parked executions.
      expect(getMs).toBeLessThan(1000);
      expect(execMs).toBeLessThan(2000);
      // The parked tenant's own plain requests are not stuck behind its executions either.
      started = Date.now();
      expect((await a.call("GET", `/v1/sandboxes/${ids[0]}`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      abort.abort();
      await Promise.all(parked);
    }
  }, 60_000);

  it("past 64 waiting executions in one sandbox, callers get the documented 429 with Retry-After", async () => {
    const id = await a.createSandbox();
    const abort = new AbortController();
    const calls = Array.from({ length: 80 }, () =>
      fetch(`${service.url}/v1/sandboxes/${id}/exec`, {
        method: "POST",
        headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
        body: JSON.stringify({ code: "await new Promise((r) => setTimeout(r, 3000)); 1" }),
        signal: abort.signal,
      }).then(
        async (res) => ({ status: res.status, retryAfter: res.headers.get("retry-after"), body: res.status === 429 ? await res.json() : null }),
        () => null,
      ),
    );
    const refused = [];
    const deadline = Date.now() + 5000;
    for (const call of calls) {
      const res = await Promise.race([call, sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
      if (res?.status === 429) refused.push(res);
    }
    abort.abort();
    await Promise.all(calls);
    expect(refused.length).toBe(80 - 68);
    expect(refused[0]).toMatchObject({ retryAfter: "1", body: { code: "rate_limited", status: 429 } });
    expect(refused[0]!.body.detail).toMatch(/already running or waiting in this sandbox/);
  }, 60_000);

  it("a client that sends an execution and leaves keeps its slot until the code has run: a tenant cannot run more than its four at once by disconnecting", async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, () => a.createSandbox()));
    // Earlier tests' executions run on after their clients left; start with none of A's in flight.
    await until(async () => (await health()).runtime.execsInFlight === 0);
    for (const id of ids) {
      const abort = new AbortController();
      const sent = fetch(`${service.url}/v1/sandboxes/${id}/exec`, {
        method: "POST",
        headers: { Authorization: `Bearer ${KEY_A}`, "Content-Type": "application/json" },
        body: JSON.stringify({ code: "await new Promise((r) => setTimeout(r, 4000)); 'ran'" }),
        signal: abort.signal,
      }).catch(() => undefined);
      await sleep(250);
      abort.abort();
      await sent;
    }
    const histories = async () =>
      (await Promise.all(ids.map(async (id) => (await a.call("GET", `/v1/sandboxes/${id}/executions`)).body.executions))).flat();
    // workerd runs an execution to its end when its client is gone: the ones admitted finish ok.
    await until(async () => (await histories()).every((row: any) => row.status !== "running") && (await health()).runtime.execsInFlight === 0);
    const ran = await histories();
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.every((row: any) => row.status === "ok")).toBe(true);
    // Without holding the slot, all twelve ran at once (each client left after 250 ms).
    expect(ran.length).toBeLessThanOrEqual(4);
  }, 60_000);

  it("a burst of 6,000 capability calls inside a 200 ms budget ends on a limit and the runtime keeps answering", async () => {
    const before = await health();
    const id = await a.createSandbox({ capabilities: [{ name: "state" }] });
    const other = await b.createSandbox();
    const burst = a.exec(id, `const r = await Promise.allSettled(Array.from({ length: 6000 }, () => env.state.get(""))); r.length`, { cpuMs: 200 });
    await sleep(100);
    const started = Date.now();
    expect((await b.call("GET", `/v1/sandboxes/${other}`)).status).toBe(200);
    // The isolate's 6,000 RPC messages still reach workerd (measured ~1.5 s of loop time on this
    // 2-core machine); past the gate each is refused in microseconds instead of reaching the object.
    expect(Date.now() - started).toBeLessThan(3000);
    const res = await burst;
    expect(res.status).toBe(200);
    expect(res.body.error).toMatchObject({ name: "LimitExceeded" });
    expect(["subrequests", "cpu"]).toContain(res.body.error.limit);
    expect((await health()).runtime.restarts.total).toBe(before.runtime.restarts.total);
  }, 60_000);

  it("quotas: a tenant past its sandboxes-alive quota gets a 429 naming it; the other tenant is unaffected", async () => {
    const listed = await b.call("GET", "/v1/sandboxes?state=running&limit=100");
    const created: string[] = [];
    for (let i = listed.body.sandboxes.length; i < 20; i++) created.push(await b.createSandbox());
    const over = await b.call("POST", "/v1/sandboxes", {});
    expect(over.status).toBe(429);
    expect(over.headers.get("content-type")).toBe("application/problem+json");
    expect(over.body).toMatchObject({ code: "quota_exceeded", quota: "sandboxesAlive", max: 20 });
    expect((await a.call("POST", "/v1/sandboxes", {})).status).toBe(201);
    for (const id of created) await b.call("DELETE", `/v1/sandboxes/${id}`);
  }, 60_000);
});

describe("restarts: blame, retries and recovery", () => {
  it("a runtime stopped by a signal is restarted; executions in flight are recorded as interrupted, not over budget, and an idempotent GET in flight is answered after the restart", async () => {
    const id = await a.createSandbox();
    const before = await health();
    const parked = a.exec(id, "await new Promise((r) => setTimeout(r, 10000)); 'late'");
    await sleep(500);
    process.kill(before.runtime.pid, "SIGSTOP");
    for (const pid of descendants(before.runtime.pid)) process.kill(pid, "SIGSTOP");
    // Sent to a frozen runtime: cut off by the restart, then sent again to the new one.
    const get = a.call("GET", `/v1/sandboxes/${id}`);
    expect((await parked).status).toBe(503);
    await waitReady(before.runtime.restarts.total);
    const answered = await get;
    expect(answered.status).toBe(200);
    expect(answered.body.id).toBe(id);
    expect((await health()).runtime.restarts.stopped).toBe(before.runtime.restarts.stopped + 1);
    const history = await a.call("GET", `/v1/sandboxes/${id}/executions`);
    expect(history.body.executions[0]).toMatchObject({ status: "error", errorName: "Interrupted" });
    expect(history.body.executions[0].limit).toBeUndefined();
    expect(history.body.executions[0].output.error.message).toMatch(/restarted \(stopped\)/);
  }, 60_000);

  it("under load, a tenant's hang is blamed only when it is the one candidate; the other tenant recovers, measured", async () => {
    const culprit = await b.createSandbox();
    const busy = await Promise.all(Array.from({ length: 4 }, () => a.createSandbox()));
    const probe = await a.createSandbox();
    // Tenant A keeps the runtime busy with legitimate compute while tenant B's code freezes it.
    let loading = true;
    const loadStatuses: (number | string)[] = [];
    const load = Promise.all(
      busy.map(async (id) => {
        while (loading) {
          // In flight when the runtime is killed: a 503, or (if the restart cut a response
          // already under way) a dropped connection; either way the caller retries.
          const res = await a.exec(id, "const t = Date.now(); while (Date.now() - t < 200) {} 1").catch((error: Error) => ({ status: error.message }));
          loadStatuses.push(res.status);
        }
      }),
    );
    await sleep(1000);
    const before = await health();
    const hangStarted = Date.now();
    const frozen = b.exec(culprit, "/^(a+)+\\1$/.test('a'.repeat(40) + 'b')");
    await sleep(200);
    // Recovery as a client sees it: from the freeze until tenant A's next exec answers.
    const res = await retrying(() => a.exec(probe, "'back'"));
    const recoveryMs = Date.now() - hangStarted;
    loading = false;
    await load;
    expect(res.body.result).toBe("back");
    expect((await frozen).status).toBe(503);
    const after = await health();
    expect(after.runtime.restarts.hang).toBe(before.runtime.restarts.hang + 1);
    console.log(`recovery under load: ${recoveryMs} ms (restart itself ${after.runtime.lastRestartMs} ms); load answers: ${JSON.stringify(countBy(loadStatuses))}`);
    expect(loadStatuses.every((status) => status === 200 || status === 503 || status === "terminated")).toBe(true);
    // Detection (SANDBOXER_HANG_MS + one CPU budget per execution in flight: 4 for A, 1 for B),
    // the restart as measured by the supervisor, then the client's retry and probe granularity,
    // and the probe's own turn: A may have 4 executions in flight (its admission limit), so the
    // probe waits behind A's own 200 ms loads, on a fresh runtime that compiles everything anew
    // (a CI run measured 9.6 s against a bound of 10.5 s without that turn counted).
    expect(recoveryMs).toBeLessThan(1500 + 5 * 1000 + after.runtime.lastRestartMs + 3000 + 4 * 500);
    // A's executions were in flight too: nobody can be named, so B's is recorded as interrupted, like A's.
    const history = await b.call("GET", `/v1/sandboxes/${culprit}/executions`);
    expect(["Interrupted", "LimitExceeded"]).toContain(history.body.executions[0].errorName);
    for (const id of busy) {
      const rows = (await a.call("GET", `/v1/sandboxes/${id}/executions?limit=100`)).body.executions;
      for (const row of rows) expect(row.errorName === "LimitExceeded" && row.limit === "cpu").toBe(false);
    }
  }, 120_000);
});

describe("what a sandbox's own code cannot undo", () => {
  it("11,000 cheap failing capability calls do not push the earlier allowed write out of the audit log", async () => {
    const id = await a.createSandbox({ capabilities: [{ name: "files" }] });
    const first = await a.exec(id, `await env.files.write("evidence.txt", "kept"); 1`);
    expect(first.body.status).toBe("ok");
    // 50 failing reads per execution (the subRequests limit), 220 executions, 4 at a time.
    const flood = `for (let i = 0; i < 50; i++) { try { await env.files.read("missing-" + i) } catch {} } 1`;
    for (let round = 0; round < 55; round++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => a.exec(id, flood)));
      for (const res of results) expect(res.status).toBe(200);
    }
    const page = await a.call("GET", `/v1/sandboxes/${id}/audit?limit=1000`);
    expect(page.body.entries[0]).toMatchObject({ kind: "capability", action: "files.write", decision: "allowed", detail: "evidence.txt" });
    const failures = page.body.entries.filter((e: any) => e.detail === "failed: not_found");
    // One row per execution, each counting its 50 identical failures.
    expect(failures.reduce((sum: number, e: any) => sum + (e.count ?? 1), 0)).toBe(11_000);
    expect(page.body.entries.length).toBeLessThan(300);
  }, 180_000);

  it("a secret value outside printable ASCII is refused at PUT /v1/secrets with a 400 saying why", async () => {
    const res = await a.call("PUT", "/v1/secrets/odd", { value: "has space" });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ path: "body.value" });
    expect(res.body.errors[0].message).toMatch(/printable ASCII/);
  });
});

/** Polls `check` until it holds (at most `timeoutMs`). */
async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await sleep(100);
  }
}

function countBy(values: (number | string)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** PIDs of every process below `pid` (the runtime's node process and its workerd). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) for (const child of children.get(stack.pop()!) ?? []) out.push(child), stack.push(child);
  return out;
}
