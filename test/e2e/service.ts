import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";

export const KEY = "sbx_local_dev_key";
const ROOT = join(import.meta.dirname, "..", "..");

export interface Service {
  url: string;
  stateDir: string;
  process: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts `scripts/start.mjs` (what `npm start` runs) on a free port with a fresh state dir. */
export async function startService(env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), "sandboxer-e2e-"));
  const child = spawn(process.execPath, [join(ROOT, "scripts/start.mjs")], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), SANDBOXER_STATE_DIR: stateDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited: ${stderr}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`service did not start: ${stderr}`);
    await sleep(100);
  }
  return {
    url,
    stateDir,
    process: child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(5000)]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Client {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  createSandbox(body?: Record<string, unknown>): Promise<string>;
  exec(id: string, code: string, extra?: Record<string, unknown>): Promise<{ status: number; body: any }>;
}

/** A JSON client for the service; retries once on 503 when asked to (the documented client behaviour). */
export function client(url: string, key = KEY): Client {
  const call: Client["call"] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    call,
    async createSandbox(body = {}) {
      const res = await call("POST", "/v1/sandboxes", body);
      if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.id;
    },
    exec: (id, code, extra = {}) => call("POST", `/v1/sandboxes/${id}/exec`, { code, ...extra }),
  };
}

/** PIDs of live (not zombie) processes whose command line (NUL-separated) matches. */
export function livePids(matches: (cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (matches(cmd) && !stat.includes(") Z ")) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** PIDs of the workerd processes (for kill tests and orphan checks). */
export function workerdPids(): number[] {
  return livePids((cmd) => cmd.includes("workerd"));
}

/**
 * Whether the jail can put sandboxes in a cgroups v1 controller here (root, controller mounted
 * and writable), as scripts/jail/jail.mjs probes it: tests of what that controller enforces
 * are skipped, by name, where it cannot.
 */
export function cgroupV1Writable(controller: "pids" | "memory"): boolean {
  const dir = `/sys/fs/cgroup/${controller}`;
  if (process.getuid?.() !== 0 || !existsSync(`${dir}/cgroup.procs`)) return false;
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
