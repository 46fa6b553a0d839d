import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cgroupV1Writable } from "./service";
// @ts-expect-error: plain ESM module of the jail host (Node code, no types)
import { startJailHost } from "../../scripts/jail/host.mjs";
// @ts-expect-error: plain ESM module of the jail host (Node code, no types)
import { workspaceBytes } from "../../scripts/jail/workspace.mjs";

/**
 * The jail host on its own (scripts/jail), with limits far smaller than a profile's so the
 * disk, CPU and memory limits can be reached in a test: real bubblewrap jails, real processes.
 */

const SECRET = "jail-host-test-secret";
const LIMITS = {
  cpuMs: 1000,
  wallMs: 20_000,
  processWallMs: 60_000,
  memoryMb: 128,
  processes: 64,
  outputBytes: 64 * 1024,
  storageBytes: 8 * 1024 * 1024,
  fileBytes: 1024 * 1024,
};
const KEY_A = "a1".repeat(16);
/** Python that forks 200 sleepers (as many as the limit lets it) and prints how many it made. */
const FORKS = [
  "import os, time",
  "n = 0",
  "for i in range(200):",
  "    try:",
  "        if os.fork() == 0:",
  "            time.sleep(30)",
  "            os._exit(0)",
  "        n += 1",
  "    except OSError:",
  "        pass",
  "print(n)",
].join("\n");

let host: { url: string; jail: { ok: boolean; cgroups: Record<string, string> }; close: () => Promise<void> };
let stateDir: string;

function headers(key = KEY_A, extra: Record<string, string> = {}) {
  return { Authorization: `Bearer ${SECRET}`, "X-Sandboxer-Sandbox": key, "X-Sandboxer-Limits": JSON.stringify(LIMITS), "Content-Type": "application/json", ...extra };
}

async function post(path: string, body: unknown, key = KEY_A) {
  const res = await fetch(`${host.url}${path}`, { method: "POST", headers: headers(key), body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

async function get(path: string, key = KEY_A) {
  const res = await fetch(`${host.url}${path}`, { headers: headers(key) });
  return { status: res.status, body: (await res.json()) as any };
}

/** Polls a background process until it is no longer running (or the time is up). */
async function settled(processId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { process } = (await get(`/api/process/${processId}`)).body;
    if (process.status !== "running" || Date.now() > deadline) return process;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "sandboxer-jail-"));
  host = await startJailHost({ secret: SECRET, stateDir, rootfs: process.env.SANDBOXER_ROOTFS ?? join(import.meta.dirname, "../../.sandboxer/rootfs") });
  expect(host.jail.ok).toBe(true);
});

afterAll(async () => {
  await host?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("jail host", () => {
  it("refuses a request without the per-start secret, and one that names no sandbox", async () => {
    const anonymous = await fetch(`${host.url}/api/execute`, { method: "POST", body: "{}" });
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${host.url}/api/execute`, { method: "POST", headers: { ...headers(), Authorization: "Bearer nope-nope-nope-nope-nope" }, body: "{}" });
    expect(wrong.status).toBe(401);
    const noKey = await fetch(`${host.url}/api/execute`, { method: "POST", headers: headers("../../etc"), body: "{}" });
    expect(noKey.status).toBe(400);
  });

  it("a disk filler is stopped at the workspace quota and the space is the sandbox's own", async () => {
    const res = await post("/api/execute", { command: "for i in $(seq 1 40); do head -c 900000 /dev/zero > f$i; done; sleep 5; echo never" });
    expect(res.body.limit).toMatch(/disk/);
    expect(res.body.stdout).toBe("");
    // Writes through the files API respect the same quota.
    const write = await post("/api/write", { path: "/workspace/more.bin", content: Buffer.alloc(900_000).toString("base64"), encoding: "base64" });
    expect([413, 422]).toContain(write.status);
    await post("/api/execute", { command: "rm -f f*" });
    expect((await post("/api/execute", { command: "echo ok" })).body.stdout).toBe("ok\n");
  });

  it("a background disk filler is stopped at the workspace quota too, and its process says so", async () => {
    // Paced (about 4.5 MB/s) so that where it stops shows the quota's check, not the filler's end.
    const started = await post("/api/process/start", { command: "for i in $(seq 1 40); do head -c 900000 /dev/zero > bg$i; sleep 0.2; done; sleep 600" });
    expect(started.status).toBe(200);
    try {
      const info = await settled(started.body.processId, 15_000);
      expect(info).toMatchObject({ status: "failed", limit: "disk", exitCode: 137 });
      // Stopped a check or so past the 8 MiB quota, long before the filler's 36 MB.
      expect(workspaceBytes(join(stateDir, "workspaces", KEY_A))).toBeLessThan(27_000_000);
    } finally {
      await post("/api/execute", { command: "rm -f bg*" });
    }
    expect((await post("/api/execute", { command: "echo ok" })).body.stdout).toBe("ok\n");
  });

  it("a file past the per-file limit is refused with 413 through the files API", async () => {
    const res = await post("/api/write", { path: "/workspace/big.bin", content: Buffer.alloc(LIMITS.fileBytes + 1).toString("base64"), encoding: "base64" });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("FILE_TOO_LARGE");
  });

  it("private /tmp is size-limited", async () => {
    const res = await post("/api/execute", { command: "head -c 100000000 /dev/zero > /tmp/fill; echo rc=$?" });
    expect(res.body.stdout).toMatch(/rc=1/);
    // Whichever bound comes first: the tmpfs size or the file-size limit.
    expect(res.body.stderr).toMatch(/No space left on device|File size limit exceeded/);
  });

  it("a CPU spinner is stopped by the CPU limit", async () => {
    const res = await post("/api/execute", { command: "python3 -c 'while True: pass'" });
    expect(res.body.limit).toBe("cpu");
    expect(res.body.durationMs).toBeLessThan(10_000);
  });

  it.skipIf(!cgroupV1Writable("memory"))("a memory bomb is stopped by the memory limit (cgroups), and the answer says so [needs root and a cgroups v1 memory controller]", async () => {
    expect(host.jail.cgroups.memory).toBeTruthy();
    const res = await post("/api/execute", { command: "python3 -c 'b = bytearray(512 * 1024 * 1024)'" });
    expect(res.body).toMatchObject({ limit: "memory", exitCode: 137 });
  });

  it.skipIf(!cgroupV1Writable("pids"))("a fork bomb is held at the process limit (cgroups), and the answer says so [needs root and a cgroups v1 pids controller]", async () => {
    expect(host.jail.cgroups.pids).toBeTruthy();
    const res = await post("/api/execute", { command: `python3 -c '${FORKS}'` });
    expect(res.body.limit).toBe("processes");
    const forked = Number(res.body.stdout);
    expect(forked).toBeGreaterThan(10);
    expect(forked).toBeLessThan(LIMITS.processes);
    expect((await post("/api/execute", { command: "echo ok" })).body.stdout).toBe("ok\n");
  });

  it("an output flood is cut at the output limit", async () => {
    const res = await post("/api/execute", { command: "yes" });
    expect(res.body).toMatchObject({ limit: "output", stdoutTruncated: true });
    expect(res.body.stdout.length).toBe(LIMITS.outputBytes);
  });

  it("destroy kills the sandbox's processes and removes its workspace", async () => {
    const key = "b2".repeat(16);
    await post("/api/write", { path: "/workspace/x.txt", content: "x" }, key);
    const started = await post("/api/process/start", { command: "sleep 600" }, key);
    expect(started.body.processId).toBeTruthy();
    expect(existsSync(join(stateDir, "workspaces", key, "x.txt"))).toBe(true);
    await post("/api/sandboxer/destroy", {}, key);
    expect(existsSync(join(stateDir, "workspaces", key))).toBe(false);
    const list = await fetch(`${host.url}/api/process/list`, { headers: headers(key) });
    expect(((await list.json()) as any).processes).toEqual([]);
  });
});

describe("jail host without cgroups (rlimit fallbacks)", () => {
  let bare: typeof host;
  let bareStateDir: string;
  // The linux profile's memory: node needs some 350 MB of address space to start at all.
  const limits = { ...LIMITS, memoryMb: 1024 };
  const run = async (command: string) => {
    const res = await fetch(`${bare.url}/api/execute`, {
      method: "POST",
      headers: { ...headers(), "X-Sandboxer-Limits": JSON.stringify(limits) },
      body: JSON.stringify({ command }),
    });
    return (await res.json()) as any;
  };

  beforeAll(async () => {
    bareStateDir = mkdtempSync(join(tmpdir(), "sandboxer-jail-bare-"));
    bare = await startJailHost({ secret: SECRET, stateDir: bareStateDir, rootfs: process.env.SANDBOXER_ROOTFS ?? join(import.meta.dirname, "../../.sandboxer/rootfs"), cgroups: false });
    expect(bare.jail.ok).toBe(true);
    expect(bare.jail.cgroups).toEqual({});
  });

  afterAll(async () => {
    await bare?.close();
    rmSync(bareStateDir, { recursive: true, force: true });
  });

  it("a memory bomb fails at the address-space limit, and python3, node and git still run under it", async () => {
    const bomb = await run("python3 -c 'b = bytearray(1536 * 1024 * 1024); print(len(b))'");
    expect(bomb.exitCode).toBe(1);
    expect(bomb.stdout).toBe("");
    expect(bomb.stderr).toContain("MemoryError");
    const tools = await run("python3 -c 'print(6*7)' && node -e 'console.log(6*7)' && git --version");
    expect(tools).toMatchObject({ exitCode: 0 });
    expect(tools.stdout).toMatch(/^42\n42\ngit version/);
  });

  it.skipIf(process.getuid?.() !== 0)("a fork bomb is held at the process limit by RLIMIT_NPROC [needs root: the kernel counts it per host uid, and only as root does each sandbox get its own]", async () => {
    expect(bare.jail.asRoot).toBe(true);
    const res = await run(`python3 -c '${FORKS}'`);
    const forked = Number(res.stdout);
    expect(forked).toBeGreaterThan(10);
    expect(forked).toBeLessThan(limits.processes);
    expect((await run("echo ok")).stdout).toBe("ok\n");
  });
});
