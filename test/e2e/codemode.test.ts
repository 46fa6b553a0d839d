import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWorker, runtimeOptions } from "../../scripts/supervisor/config.mjs";
import { ensureDevVars } from "../../scripts/ensure-dev-vars.mjs";
import { KEY, workerdPids } from "./service";

// SandboxerExecutor as codemode users run it: a second Worker bound to sand-boxer's
// SandboxService over a real service binding (props.tenant), running codemode's own
// createCodeTool / runCode / codeMcpServer. Both Workers run in a workerd of their own (never
// the test runtime's), because the stock executor's busy loop freezes the workerd it runs in.

const ROOT = join(import.meta.dirname, "..", "..");
const TENANT = "local"; // the tenant of KEY in .dev.vars, so the HTTP API sees the same sandboxes

let workDir: string;
let callerScript: string;
let mf: Miniflare;
let apiUrl: URL;

/** The caller Worker (test/e2e/codemode/caller.ts) bundled as a customer's build would be. */
function bundleCaller(outDir: string): string {
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "-c", join(import.meta.dirname, "codemode/wrangler.toml"), "--outdir", outDir],
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  return join(outDir, "caller.js");
}

function callerWorker(name: string, extra: Record<string, unknown>) {
  return {
    name,
    modules: true,
    modulesRoot: join(callerScript, ".."),
    scriptPath: callerScript,
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    ...extra,
  };
}

/** POSTs a scenario to a caller Worker; resolves to its `{ value } | { error }`. */
async function run(worker: string, path: string, body: Record<string, unknown>, instance = mf): Promise<{ value?: any; error?: string }> {
  const fetcher = await instance.getWorker(worker);
  const res = await fetcher.fetch(`http://caller${path}`, { method: "POST", body: JSON.stringify(body) });
  return (await res.json()) as { value?: any; error?: string };
}

/** A process's parent pid, from /proc (fields after the command name: state, ppid, …). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(new URL(path, apiUrl), {
    method,
    headers: { Authorization: `Bearer ${KEY}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return res.json();
}

beforeAll(async () => {
  ensureDevVars(); // the local key, as `npm start` makes sure of (this suite may run first)
  workDir = mkdtempSync(join(tmpdir(), "sandboxer-codemode-"));
  const scriptPath = buildWorker(ROOT, join(workDir, "service"));
  callerScript = bundleCaller(join(workDir, "caller"));
  const options = runtimeOptions({ root: ROOT, scriptPath, stateDir: join(workDir, "state"), port: 0 });
  options.workers.push(
    callerWorker("codemode-caller", {
      serviceBindings: { SANDBOXER: { name: options.workers[0].name, entrypoint: "SandboxService", props: { tenant: TENANT } } },
    }),
  );
  mf = new Miniflare(convertV4MiniflareOptions(options));
  apiUrl = await mf.ready;
}, 180_000);

afterAll(async () => {
  await mf?.dispose();
  rmSync(workDir, { recursive: true, force: true });
});

describe("SandboxerExecutor with codemode's createCodeTool", () => {
  it("runs the model's code in a sandbox, with the host's tools reachable as codemode.*", async () => {
    const code = "async () => { console.log('adding'); console.warn('careful'); const sum = await codemode.add({ a: 40, b: 2 }); const who = await codemode.authorised({}); return { sum, who }; }";
    const { value, error } = await run("codemode-caller", "/code-tool", { code });
    expect(error).toBeUndefined();
    expect(value).toEqual({ result: { sum: 42, who: { authorised: true } }, logs: ["adding", "[warn] careful"] });
  });

  it("hands a tool's own error to the code, which can catch it or fail with its message", async () => {
    const caught = await run("codemode-caller", "/code-tool", {
      code: "async () => { try { await codemode.broken({}); } catch (e) { return 'caught: ' + e.message; } }",
    });
    expect(caught.value).toEqual({ result: "caught: the tool broke" });
    const failed = await run("codemode-caller", "/code-tool", { code: "async () => { await codemode.broken({}); }" });
    expect(failed.error).toBe("Code execution failed: Error: the tool broke");
  });

  it("reports a thrown error with its name and the logs written before it", async () => {
    const { error } = await run("codemode-caller", "/code-tool", { code: "async () => { console.log('before'); null.boom(); }" });
    expect(error).toMatch(/^Code execution failed: TypeError: .*\n\nConsole output:\nbefore$/);
  });

  it("stops a while(true) with the CPU budget, and the next execution runs normally", async () => {
    const started = Date.now();
    const { error } = await run("codemode-caller", "/code-tool", { code: "async () => { while (true) {} }", cpuMs: 200 });
    expect(error).toMatch(/^Code execution failed: LimitExceeded: CPU budget of 200 ms exceeded/);
    expect(Date.now() - started).toBeLessThan(15_000);
    const next = await run("codemode-caller", "/code-tool", { code: "async () => (await codemode.add({ a: 1, b: 1 }))" });
    expect(next.value).toEqual({ result: 2 });
  });

  it("deletes the one-off sandbox of each execution", async () => {
    const before = await api("GET", "/v1/sandboxes?state=running&limit=100");
    await run("codemode-caller", "/code-tool", { code: "async () => 1" });
    const after = await api("GET", "/v1/sandboxes?state=running&limit=100");
    expect(after.sandboxes.length).toBe(before.sandboxes.length);
    const stopped = await api("GET", "/v1/sandboxes?state=stopped&limit=1");
    expect(stopped.sandboxes[0]).toMatchObject({ state: "stopped", endReason: "deleted" });
  });

  it("runs in a given sandbox, whose audit log records every tool call", async () => {
    const sandbox = await api("POST", "/v1/sandboxes", { ttlSeconds: 300 });
    const { value } = await run("codemode-caller", "/code-tool", {
      sandboxId: sandbox.id,
      code: "async () => [await codemode.add({ a: 1, b: 2 }), await codemode.add({ a: 3, b: 4 })]",
    });
    expect(value).toEqual({ result: [3, 7] });
    const audit = await api("GET", `/v1/sandboxes/${sandbox.id}/audit`);
    const toolCalls = audit.entries.filter((e: { action: string }) => e.action === "tools.codemode");
    expect(toolCalls).toHaveLength(2);
    expect(toolCalls[0]).toMatchObject({ kind: "capability", decision: "allowed" });
    expect((await api("GET", `/v1/sandboxes/${sandbox.id}`)).state).toBe("running");
  });
});

describe("SandboxerExecutor never throws", () => {
  it("a refusal by sand-boxer comes back in error with its code: a stopped or unknown sandboxId", async () => {
    const sandbox = await api("POST", "/v1/sandboxes", { ttlSeconds: 300 });
    await fetch(new URL(`/v1/sandboxes/${sandbox.id}`, apiUrl), { method: "DELETE", headers: { Authorization: `Bearer ${KEY}` } });
    const stopped = await run("codemode-caller", "/execute", { sandboxId: sandbox.id, code: "async () => 1" });
    expect(stopped.error).toBeUndefined();
    expect(stopped.value).toMatchObject({ error: expect.stringMatching(/^sandbox_stopped: /) });
    const unknown = await run("codemode-caller", "/execute", { sandboxId: "sbx_aaaaaaaaaaaaaaaaaaaaaaaaaa", code: "async () => 1" });
    expect(unknown.value).toMatchObject({ error: "not_found: No such sandbox." });
  });

  it("two tool names that sanitize alike are an error, not one silently replacing the other", async () => {
    const { value, error } = await run("codemode-caller", "/colliding-names", { code: "async () => await tools2.get_user()" });
    expect(error).toBeUndefined();
    expect(value).toEqual({ result: undefined, error: 'Tool names "get-user" and "get_user" both sanitize to "get_user" in provider "tools2"' });
  });
});

describe("SandboxerExecutor with codemode's runCode, connectors and codeMcpServer", () => {
  it("exposes a named provider's functions, with their arguments and binary results", async () => {
    const { value, error } = await run("codemode-caller", "/run-code", { code: "const b = await math.bytes(); [await math.twice(21), b.length, b instanceof Uint8Array]" });
    expect(error).toBeUndefined();
    expect(value).toEqual({ result: [42, 3, true] });
  });

  it("calls connectors with codemode's protocol, including a connector's refusal", async () => {
    const ok = await run("codemode-caller", "/execute", { code: "async () => await conn.lookup({ q: 'x' })" });
    expect(ok.value).toEqual({ result: { method: "lookup", args: { q: "x" } }, logs: [] });
    const refused = await run("codemode-caller", "/execute", { code: "async () => await conn.fail({})" });
    expect(refused.value).toMatchObject({ error: "Error: refused by the connector" });
  });

  it("drops into codeMcpServer: the upstream server's tools run from the sandbox", async () => {
    const { value, error } = await run("codemode-caller", "/code-mcp", { code: "async () => await codemode.greet({ name: 'sandbox' })" });
    expect(error).toBeUndefined();
    expect(value.tools).toEqual(["code"]);
    expect(JSON.stringify(value.result)).toContain("hello sandbox");
    expect(value.result.isError).toBeFalsy();
  });
});

describe("codemode's stock DynamicWorkerExecutor, for comparison", () => {
  it("cannot stop a while(true): its 1 s timeout never fires and its workerd stops answering", async () => {
    const before = new Set(workerdPids());
    const stock = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        workers: [callerWorker("stock-caller", { workerLoaders: { LOADER: {} } })],
      }),
    );
    await stock.ready;
    // Its workerd: the one this test process spawned just now (other workerds on the machine are not ours).
    const stockPids = workerdPids().filter((pid) => !before.has(pid) && parentOf(pid) === process.pid);
    expect(stockPids).toHaveLength(1);
    try {
      // It works on ordinary code…
      const ok = await run("stock-caller", "/code-tool", { code: "async () => (await codemode.add({ a: 1, b: 1 }))" }, stock);
      expect(ok.value).toEqual({ result: 2 });
      // …but a busy loop never returns, although the executor's timeout is 1000 ms.
      const outcome = await Promise.race([
        run("stock-caller", "/code-tool", { code: "async () => { while (true) {} }" }, stock).then(() => "answered"),
        new Promise((resolve) => setTimeout(() => resolve("no answer after 6 s"), 6_000)),
      ]);
      expect(outcome).toBe("no answer after 6 s");
      // The loop holds the whole runtime: even ordinary code gets no answer now.
      const after = await Promise.race([
        run("stock-caller", "/code-tool", { code: "async () => 1" }, stock).then(() => "answered"),
        new Promise((resolve) => setTimeout(() => resolve("no answer after 2 s"), 2_000)),
      ]);
      expect(after).toBe("no answer after 2 s");
    } finally {
      // Its workerd is frozen for good: kill it rather than wait for a graceful stop.
      for (const pid of stockPids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await Promise.race([stock.dispose().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))]);
    }
  });
});
