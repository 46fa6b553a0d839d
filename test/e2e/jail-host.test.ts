import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

  it("a memory bomb is stopped by the memory limit (cgroups)", async () => {
    if (!host.jail.cgroups.memory) return; // not root: no memory cgroup to enforce it here
    const res = await post("/api/execute", { command: "python3 -c 'b = bytearray(512 * 1024 * 1024)'" });
    expect(res.body.limit).toBe("memory");
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
