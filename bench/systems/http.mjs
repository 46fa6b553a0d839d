// sand-boxer over HTTP on loopback: the supervised service that `npm start` runs.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";

const KEY = "sbx_local_dev_key";

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function startService(root) {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), "sandboxer-bench-"));
  const child = spawn(process.execPath, [join(root, "scripts/start.mjs")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), SANDBOXER_STATE_DIR: stateDir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i > 600) throw new Error(`service did not start: ${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const call = async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${KEY}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    url,
    create: async () => (await call("POST", "/v1/sandboxes", { ttlSeconds: 3600, idleTimeoutSeconds: 3600 })).id,
    exec: async (id, code) => {
      const out = await call("POST", `/v1/sandboxes/${id}/exec`, { code });
      if (out.status !== "ok") throw new Error(`exec failed: ${JSON.stringify(out.error)}`);
      return out;
    },
    remove: (id) => call("DELETE", `/v1/sandboxes/${id}`),
    /** Writes a file's bytes (PUT, raw body). */
    putFile: async (id, path, bytes) => {
      const res = await fetch(`${url}/v1/sandboxes/${id}/files/${path}`, { method: "PUT", headers: { Authorization: `Bearer ${KEY}` }, body: bytes });
      if (res.status >= 400) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
    },
    snapshot: async (id) => (await call("POST", `/v1/sandboxes/${id}/snapshots`, {})).snapshotId,
    restore: (id, snapshotId) => call("POST", `/v1/sandboxes/${id}/restore`, { snapshotId }),
    fork: async (snapshotId) => (await call("POST", "/v1/sandboxes", { fromSnapshot: snapshotId })).id,
    createContext: async (id) => (await call("POST", `/v1/sandboxes/${id}/contexts`, {})).contextId,
    /** A cell of a code context (exec with `context`). */
    execIn: async (id, context, code) => {
      const out = await call("POST", `/v1/sandboxes/${id}/exec`, { code, context });
      if (out.status !== "ok") throw new Error(`cell failed: ${JSON.stringify(out.error)}`);
      return out;
    },
    /** One-shot: POST /v1/exec (an ephemeral sandbox, one request). */
    runOnce: async (code) => {
      const out = await call("POST", "/v1/exec", { code });
      if (out.status !== "ok") throw new Error(`one-shot failed: ${JSON.stringify(out.error)}`);
      return out;
    },
    /** Index writes taken so far by the tenant registries (their own counter, read from the state on disk). */
    registryWrites: () => registryWrites(stateDir),
    createLinux: async () => (await call("POST", "/v1/sandboxes", { profile: "linux", ttlSeconds: 3600, idleTimeoutSeconds: 3600 })).id,
    command: async (id, cmd) => {
      const out = await call("POST", `/v1/sandboxes/${id}/commands`, { cmd });
      if (out.exitCode !== 0) throw new Error(`command failed: ${JSON.stringify(out)}`);
      return out;
    },
    /** Plain GETs for the latency breakdown: supervisor only, Worker (auth, routing), Durable Object read. */
    get: (path) => call("GET", path),
    /** A GET whose status is the answer (a 404 is not a failure here). */
    status: async (path) => {
      const res = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${KEY}` } });
      await res.arrayBuffer();
      return res.status;
    },
    supervisorOnly: async () => (await fetch(`${url}/healthz`)).text(),
    health: async () => (await fetch(`${url}/healthz`)).json(),
    /** The supervisor's process (the runtime's pid is in health().runtime.pid). */
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * The sum of every RegistryDO's `index_writes` counter (durable-objects/registry), read
 * read-only from the SQLite files the runtime keeps under the state directory.
 */
async function registryWrites(stateDir) {
  const { DatabaseSync } = await import("node:sqlite");
  const files = readdirSync(stateDir, { recursive: true, withFileTypes: true }).filter(
    (entry) => entry.isFile() && entry.name.endsWith(".sqlite") && (entry.parentPath ?? entry.path).includes("RegistryDO"),
  );
  let total = 0;
  for (const file of files) {
    const db = new DatabaseSync(join(file.parentPath ?? file.path, file.name), { readOnly: true });
    try {
      total += db.prepare("SELECT value FROM counters WHERE name = 'index_writes'").get()?.value ?? 0;
    } catch {
      // A registry that has never written its counter table yet.
    } finally {
      db.close();
    }
  }
  if (files.length === 0) throw new Error(`no RegistryDO storage under ${stateDir}`);
  return total;
}
