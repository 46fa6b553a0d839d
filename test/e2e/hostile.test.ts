import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, sleep, startService, type Client, type Service } from "./service";

let service: Service;
let api: Client;

beforeAll(async () => {
  service = await startService();
  api = client(service.url);
});
afterAll(async () => {
  await service?.stop();
});

/** Calls until the runtime is back (hostile code may have forced a restart). */
async function settled<T extends { status: number }>(call: () => Promise<T>): Promise<T> {
  for (let i = 0; i < 60; i++) {
    const res = await call();
    if (res.status !== 503) return res;
    await sleep(200);
  }
  throw new Error("the service did not come back");
}

/** After each attack: the service answers at once and a bystander sandbox still works. */
async function expectServiceHealthy() {
  const bystander = await settled(() => api.call("POST", "/v1/sandboxes", {}));
  expect(bystander.status).toBe(201);
  const res = await settled(() => api.exec(bystander.body.id, "1 + 2"));
  expect(res.body).toMatchObject({ status: "ok", result: 3 });
}

describe("hostile code gets the named error and the service keeps answering", () => {
  it.each([
    ["while(true){}", "while (true) {}"],
    ["for(;;){}", "for (;;) {}"],
    ["do-while", "do {} while (true)"],
    ["recursion catch-and-retry", "function f() { try { f() } catch { f() } } f()"],
    ["microtask loop", "await new Promise(() => { function f() { Promise.resolve().then(f) } f() })"],
    ["async loop", "for (;;) await null"],
    ["callbacks", "const a = [1, 2, 3]; for (;;) a.map((x) => x)"],
  ])("%s → LimitExceeded (cpu)", async (_name, code) => {
    const id = await api.createSandbox();
    const res = await api.exec(id, code, { cpuMs: 100 });
    expect(res.status).toBe(200);
    expect(res.body.error).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
    await expectServiceHealthy();
  });

  it("a ReDoS V8 cannot run linearly freezes the runtime: the watchdog restarts it, a concurrent exec elsewhere gets a retryable 503 or its result", async () => {
    const victim = await api.createSandbox();
    const bystander = await api.createSandbox();
    await api.call("PUT", `/v1/sandboxes/${bystander}/files/data.txt`, "precious", { "Content-Type": "application/octet-stream" });
    // A backreference keeps V8 on its backtracking engine (the linear fallback cannot run it).
    const attack = api.exec(victim, "/^(a+)+\\1$/.test('a'.repeat(40) + 'b')");
    await sleep(500);
    const concurrent = await api.exec(bystander, "1 + 1");
    expect([200, 503]).toContain(concurrent.status);
    if (concurrent.status === 200) expect(concurrent.body.result).toBe(2);
    expect((await attack).status).toBe(503);
    await expectServiceHealthy();
    const history = await settled(() => api.call("GET", `/v1/sandboxes/${victim}/executions`));
    // Two executions were in flight, so the supervisor cannot know which froze the runtime: the
    // victim's is recorded as over budget only if the bystander's had already answered.
    const victimRow = history.body.executions[0];
    expect(victimRow.status).toBe("error");
    if (concurrent.status === 200) expect(victimRow).toMatchObject({ errorName: "LimitExceeded", limit: "cpu" });
    else expect(victimRow).toMatchObject({ errorName: "Interrupted" });
    expect((await settled(() => api.call("GET", `/v1/sandboxes/${bystander}/files/data.txt`))).body).toBe("precious");
  });

  it("a memory bomb fails (error or retryable 503) and loses nothing", async () => {
    const id = await api.createSandbox();
    await api.call("PUT", `/v1/sandboxes/${id}/files/keep.txt`, "kept", { "Content-Type": "application/octet-stream" });
    const res = await api.exec(id, "const a = [...'x'.repeat(1e8)]; a.length");
    if (res.status === 200) expect(res.body.status).toBe("error");
    else expect(res.status).toBe(503);
    await expectServiceHealthy();
    expect((await settled(() => api.call("GET", `/v1/sandboxes/${id}/files/keep.txt`))).body).toBe("kept");
  }, 60_000);

  it("deep recursion is a RangeError", async () => {
    const id = await api.createSandbox();
    const res = await api.exec(id, "function f(n) { return f(n + 1) + 1 } f(0)");
    expect(res.body.error.name).toBe("RangeError");
  });

  it("prototype pollution does not reach a second sandbox's execution", async () => {
    const a = await api.createSandbox();
    const b = await api.createSandbox();
    await api.exec(a, "Object.prototype.isAdmin = true; Array.prototype.map = () => 'pwned'; JSON.parse = () => ({})");
    const res = await api.exec(b, "[({}).isAdmin, [1].map((x) => x), JSON.parse('[2]')]");
    expect(res.body.resultType).toBe("tagged");
    expect(res.body.result).toEqual([{ "@type": "undefined", text: "undefined" }, [1], [2]]);
  });

  it("constructor walks towards the host find no eval and no host objects", async () => {
    const id = await api.createSandbox();
    const walk = await api.exec(id, "globalThis.constructor.constructor('return globalThis')()");
    expect(walk.body.status).toBe("error");
    expect(walk.body.error.message).toMatch(/Code generation from strings disallowed|not a function|Cannot read/);
    const fn = await api.exec(id, "(() => {}).constructor('return 1')()");
    expect(fn.body.error.name).toMatch(/EvalError|Error/);
    const probes = await api.exec(id, "[typeof require, typeof Deno, typeof Bun, typeof globalThis.env]");
    expect(probes.body.result).toEqual(["undefined", "undefined", "undefined", "undefined"]);
    // workerd gives every isolate a Node-style `process` emulation; it must not be the host's.
    const hostFs = await api.exec(id, "let r; try { r = process.getBuiltinModule('fs').readFileSync('/etc/passwd', 'utf8') } catch (e) { r = 'no host fs' } r");
    expect(String(hostFs.body.result)).not.toContain("root:");
  });

  it("Error.prepareStackTrace and Function.prototype patches do not break error reporting", async () => {
    const id = await api.createSandbox();
    const res = await api.exec(
      id,
      "Error.prepareStackTrace = () => 'forged'; Function.prototype.toString = () => 'x'; Function.prototype.call = () => { throw new Error('hijacked') };\nthrow new TypeError('real')",
    );
    expect(res.body.error).toMatchObject({ name: "TypeError", message: "real" });
    await expectServiceHealthy();
  });

  it("code cannot read other sandboxes' files or state", async () => {
    const victim = await api.createSandbox({ capabilities: [{ name: "files" }, { name: "state" }] });
    await api.call("PUT", `/v1/sandboxes/${victim}/files/secret.txt`, "victim data", { "Content-Type": "application/octet-stream" });
    await api.exec(victim, "await env.state.put('token', 'victim-state')");
    const attacker = await api.createSandbox({ capabilities: [{ name: "files" }, { name: "state" }] });
    const res = await api.exec(
      attacker,
      `const out = [];
       for (const p of ["../${victim}/secret.txt", "/${victim}/secret.txt", "${victim}/secret.txt", "secret.txt"]) {
         try { out.push(await env.files.read(p)) } catch (e) { out.push(e.message.split(":")[0]) }
       }
       out.push(await env.state.get("token") ?? "none");
       out`,
    );
    expect(res.body.result).toEqual(["validation_failed", "validation_failed", "not_found", "not_found", "none"]);
  });

  it("fetch, connect and WebSocket without egress are refused", async () => {
    const id = await api.createSandbox();
    const fetchRes = await api.exec(id, `let r; try { await fetch("${service.url}/healthz"); r = "fetched" } catch (e) { r = "blocked: " + e.message } r`);
    expect(fetchRes.body.result).toMatch(/^blocked: This sandbox has no network: profile 'js' gives none/);
    const connectRes = await api.exec(id, "import { connect } from 'cloudflare:sockets';\nlet r; try { const s = connect('127.0.0.1:22'); await s.opened; r = 'connected' } catch { r = 'blocked' } r");
    expect(connectRes.body.result).toBe("blocked");
    const wsRes = await api.exec(
      id,
      "let r; try { const res = await fetch('http://127.0.0.1:1/', { headers: { Upgrade: 'websocket' } }); r = res.webSocket ? 'opened' : 'no socket' } catch { r = 'blocked' } r",
    );
    expect(wsRes.body.result).toBe("blocked");
  });

  it("with egress granted, the service itself, loopback and metadata stay unreachable (SSRF)", async () => {
    const port = new URL(service.url).port;
    const id = await api.createSandbox({ profile: "js-net", network: { allow: [{ host: "api.example.com" }] } });
    const targets = [
      `http://localhost:${port}/v1/sandboxes`,
      `http://127.0.0.1:${port}/healthz`,
      `http://2130706433:${port}/healthz`,
      `http://[::1]:${port}/healthz`,
      "http://169.254.169.254/latest/meta-data/",
      `http://api.example.com@127.0.0.1:${port}/healthz`,
    ];
    const res = await api.exec(
      id,
      `const out = [];
       for (const url of ${JSON.stringify(targets)}) {
         const r = await fetch(url, { headers: { authorization: "Bearer sbx_local_dev_key" } });
         out.push([r.status, (await r.json()).code]);
       }
       out`,
    );
    expect(res.body.status).toBe("ok");
    expect(res.body.result).toEqual(targets.map(() => [403, "egress_denied"]));
    const audit = await api.call("GET", `/v1/sandboxes/${id}/audit`);
    // Identical refusals are aggregated into one row with a count.
    const denied = audit.body.entries.filter((e: any) => e.kind === "egress" && e.decision === "denied");
    expect(denied.reduce((sum: number, e: any) => sum + (e.count ?? 1), 0)).toBe(targets.length);
  });

  it("huge output is truncated with flags", async () => {
    const id = await api.createSandbox();
    const res = await api.exec(id, "for (let i = 0; i < 3000; i++) console.log('x'.repeat(1000)); 'y'.repeat(3 * 1024 * 1024)");
    expect(res.body).toMatchObject({ status: "ok", stdoutTruncated: true, resultTruncated: true });
    expect(res.body.stdout.length).toBeLessThanOrEqual(1024 * 1024);
  });

  it("huge code is refused: over the profile's code limit 422, over the body limit 413", async () => {
    const id = await api.createSandbox();
    const big = await api.exec(id, `"${"x".repeat(2 * 1024 * 1024)}"`);
    expect(big.status).toBe(422);
    expect(big.body.limit).toBe("code");
    const huge = await api.exec(id, `"${"x".repeat(11 * 1024 * 1024)}"`);
    expect(huge.status).toBe(413);
  });

  it("malformed requests get problem+json, never a 500", async () => {
    const id = await api.createSandbox();
    const cases: [string, string, string | undefined, Record<string, string>, number][] = [
      ["POST", `/v1/sandboxes/${id}/exec`, "{not json", { "Content-Type": "application/json" }, 400],
      ["POST", `/v1/sandboxes/${id}/exec`, "code=1", { "Content-Type": "text/plain" }, 415],
      ["POST", `/v1/sandboxes/${id}/exec`, JSON.stringify({ code: 5 }), { "Content-Type": "application/json" }, 400],
      ["POST", `/v1/sandboxes/${id}/exec`, JSON.stringify({ code: "1", language: "cobol" }), { "Content-Type": "application/json" }, 400],
      // A language that exists on another profile: 422 naming it (issue 11).
      ["POST", `/v1/sandboxes/${id}/exec`, JSON.stringify({ code: "1", language: "python" }), { "Content-Type": "application/json" }, 422],
      ["DELETE", "/v1/sandboxes", undefined, {}, 405],
      ["GET", "/v1/sandboxes/%E0%A4%A", undefined, {}, 404],
      ["PUT", `/v1/sandboxes/${id}/files/%00`, "x", {}, 400],
    ];
    for (const [method, path, body, headers, status] of cases) {
      const res = await api.call(method, path, body, headers);
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
  });
});
