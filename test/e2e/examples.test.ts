import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, KEY, sleep, startService, type Service } from "./service";

// The README's two examples, run as a user would: the Node script against `npm start`, and
// the consumer Worker beside sand-boxer under `wrangler dev` with both configs.

const ROOT = join(import.meta.dirname, "..", "..");

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("examples/node", () => {
  let service: Service;
  beforeAll(async () => {
    service = await startService();
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("the Node script runs against the service with the client", async () => {
    const { code, stdout, stderr } = await run(process.execPath, ["examples/node/run.ts"], { SBX: service.url, KEY });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("[sandbox] hello, node");
    expect(stdout).toContain('{"status":"ok","result":42}');
    expect(stdout).toMatch(/listed sbx_[a-z2-7]{26} running/);
  });
});

describe("examples/consumer-worker", () => {
  let wrangler: ChildProcess;
  let url: string;
  let persist: string;
  let output = "";

  beforeAll(async () => {
    const port = await freePort();
    persist = mkdtempSync(join(tmpdir(), "sandboxer-consumer-"));
    url = `http://127.0.0.1:${port}`;
    wrangler = spawn(
      join(ROOT, "node_modules/.bin/wrangler"),
      ["dev", "-c", "examples/consumer-worker/wrangler.toml", "-c", "wrangler.toml", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist],
      // The container class's registry image makes wrangler look up an account even with
      // containers off; a placeholder is enough locally (as `npm run dev` passes).
      {
        cwd: ROOT,
        env: { CLOUDFLARE_ACCOUNT_ID: "00000000000000000000000000000000", ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    wrangler.stdout!.on("data", (chunk) => (output += chunk));
    wrangler.stderr!.on("data", (chunk) => (output += chunk));
    const deadline = Date.now() + 90_000;
    while (!output.includes("Ready on")) {
      if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited: ${output}`);
      if (Date.now() > deadline) throw new Error(`wrangler dev did not start: ${output}`);
      await sleep(200);
    }
  });
  afterAll(async () => {
    // wrangler runs workerd as a child: end the whole process group we started.
    if (wrangler?.pid && wrangler.exitCode === null) {
      const exited = new Promise((resolve) => wrangler.once("exit", resolve));
      process.kill(-wrangler.pid, "SIGTERM");
      await Promise.race([exited, sleep(5000)]);
      if (wrangler.exitCode === null) process.kill(-wrangler.pid, "SIGKILL");
    }
    if (persist) rmSync(persist, { recursive: true, force: true });
  });

  it("runs code in a sandbox over the service binding, with console callbacks and a host tool", async () => {
    const res = await fetch(url);
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.lines).toEqual(["asking the host…"]);
    expect(body.result).toMatchObject({ status: "ok", result: { city: "Lisbon", sky: "clear", celsius: 21 } });
  });

  it("renders an error that crossed the binding by its code", async () => {
    const res = await fetch(url, { method: "POST", body: "" });
    const body = (await res.json()) as any;
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ code: "validation_failed" });
    expect(body.detail).toContain("body.code");
  });
});
