// The jail host: serves local linux sandboxes over HTTP, speaking the routes of the container
// server that @cloudflare/sandbox's SandboxClient calls (/api/execute, /api/execute/stream,
// /api/read, /api/write, /api/delete, /api/list-files, /api/process/*, /api/ping), so the
// Worker has one client path for this jail and for Cloudflare Containers.
//
// One host serves every sandbox. Each request names its sandbox and carries its limits and
// egress policy in headers (the SandboxDO is the source of truth, so a restarted host needs
// no state but the workspaces on disk), and the per-start secret as a Bearer token.
//
// Environment: SANDBOXER_JAIL_SECRET (required), SANDBOXER_JAIL_PORT (0 = any),
// SANDBOXER_JAIL_STATE_DIR, SANDBOXER_ROOTFS (a debootstrap'd Debian root; optional).
import { timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import http from "node:http";
import { probeJail, staleCgroups, killCgroups, removeCgroupParents, removeCgroups } from "./jail.mjs";
import { describeProcess, runCommand } from "./commands.mjs";
import { SandboxRegistry } from "./sandboxes.mjs";
import { deleteWorkspaceFile, listWorkspaceFiles, readWorkspaceFile, writeWorkspaceFile } from "./workspace.mjs";

/** Largest JSON request body (a 100 MiB file as base64, plus room). */
const MAX_REQUEST_BYTES = 140 * 1024 * 1024;

const LIMIT_FIELDS = ["cpuMs", "wallMs", "processWallMs", "memoryMb", "processes", "outputBytes", "storageBytes", "fileBytes"];

class HostError extends Error {
  constructor(httpStatus, code, message, context = {}) {
    super(message);
    this.httpStatus = httpStatus;
    this.code = code;
    this.context = context;
  }
}

/**
 * Starts the jail host.
 * @param {{ secret: string, port?: number, stateDir: string, rootfs?: string, cgroups?: boolean }} options
 *   `cgroups: false` runs without cgroups even where they could be written (see probeJail).
 * @returns {Promise<{ url: string, jail: object, close: () => Promise<void> }>}
 */
export async function startJailHost({ secret, port = 0, stateDir, rootfs, cgroups }) {
  mkdirSync(stateDir, { recursive: true });
  const jail = probeJail({ stateDir, rootfs, cgroups });
  // Processes left in our cgroups by a host that died are killed before anything new runs.
  const stale = staleCgroups(jail);
  killCgroups(stale);
  removeCgroups(stale);
  const host = { jail, stateDir };
  const registry = new SandboxRegistry(host);
  const expected = Buffer.from(`Bearer ${secret}`);

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      const status = error instanceof HostError || typeof error.httpStatus === "number" ? error.httpStatus : 500;
      const body = {
        code: error.code ?? "INTERNAL_ERROR",
        message: status === 500 && !(error instanceof HostError) ? "The jail host failed; it has been logged." : error.message,
        context: error.context ?? {},
        httpStatus: status,
        timestamp: new Date().toISOString(),
      };
      if (status === 500) process.stderr.write(`[jail] ${error.stack ?? error}\n`);
      if (res.headersSent) res.destroy();
      else sendJson(res, status, body);
    });
  });

  async function handle(req, res) {
    const url = new URL(req.url ?? "/", "http://jail");
    const presented = Buffer.from(req.headers.authorization ?? "");
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      throw new HostError(401, "UNAUTHORIZED", "The jail host's per-start secret is required.");
    }
    if (url.pathname === "/api/ping") {
      return sendJson(res, 200, {
        success: true,
        message: "pong",
        jail: { ok: jail.ok, missing: jail.missing, notes: jail.notes, rootfs: jail.rootfs ? "debootstrap" : "host-binds", cgroups: Object.keys(jail.cgroups), ownUids: jail.asRoot },
        timestamp: now(),
      });
    }
    if (!jail.ok) {
      throw new HostError(503, "JAIL_UNAVAILABLE", `The local Linux jail cannot start on this machine. Missing: ${jail.missing.join("; ")}.`, { missing: jail.missing });
    }
    const key = req.headers["x-sandboxer-sandbox"];
    if (!SandboxRegistry.validKey(key)) throw new HostError(400, "INVALID_SANDBOX", "X-Sandboxer-Sandbox must name the sandbox.");
    if (url.pathname === "/api/sandboxer/destroy" && req.method === "POST") {
      registry.destroy(key);
      return sendJson(res, 200, { success: true, timestamp: now() });
    }
    const sandbox = registry.get(key, parseLimits(req.headers["x-sandboxer-limits"]), parseNetwork(req.headers["x-sandboxer-network"]));
    const route = `${req.method} ${url.pathname}`;
    if (route === "POST /api/sandboxer/prepare") return sendJson(res, 200, { success: true, timestamp: now() });

    switch (route) {
      case "POST /api/execute": {
        const body = commandBody(await readJson(req));
        const result = await runCommand(sandbox, body);
        return sendJson(res, 200, { ...result, audit: sandbox.egress?.drain() ?? [] });
      }
      case "POST /api/execute/stream": {
        const body = commandBody(await readJson(req));
        res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
        const event = (data) => res.write(`data: ${JSON.stringify({ ...data, timestamp: now() })}\n\n`);
        event({ type: "start", command: body.command });
        const result = await runCommand(sandbox, body, (type, data) => event({ type, data }));
        event({ type: "complete", exitCode: result.exitCode, result: { ...result, audit: sandbox.egress?.drain() ?? [] } });
        return res.end();
      }
      case "POST /api/process/start": {
        const body = commandBody(await readJson(req));
        const entry = sandbox.processes.start({ ...body, processId: typeof body.processId === "string" ? body.processId : undefined });
        return sendJson(res, 200, { success: true, processId: entry.id, pid: entry.pid, command: entry.command, timestamp: now() });
      }
      case "GET /api/process/list":
        return sendJson(res, 200, { success: true, processes: sandbox.processes.list().map(describeProcess), timestamp: now() });
      case "DELETE /api/process/kill-all":
        return sendJson(res, 200, { success: true, killedCount: sandbox.killAll(), cleanedCount: 0, timestamp: now() });
      case "POST /api/read": {
        const { path } = await readJson(req);
        const data = await readWorkspaceFile(sandbox, absolute(path));
        return sendJson(res, 200, { success: true, path, content: data.toString("base64"), encoding: "base64", isBinary: true, size: data.length, timestamp: now() });
      }
      case "POST /api/write": {
        const { path, content, encoding } = await readJson(req);
        if (typeof content !== "string") throw new HostError(400, "VALIDATION_FAILED", "content must be a string.");
        const bytes = Buffer.from(content, encoding === "base64" ? "base64" : "utf8");
        await writeWorkspaceFile(sandbox, absolute(path), bytes);
        return sendJson(res, 200, { success: true, path, timestamp: now() });
      }
      case "POST /api/delete": {
        const { path } = await readJson(req);
        await deleteWorkspaceFile(sandbox, absolute(path));
        return sendJson(res, 200, { success: true, path, timestamp: now() });
      }
      case "POST /api/list-files": {
        const files = await listWorkspaceFiles(sandbox);
        return sendJson(res, 200, { success: true, path: "/workspace", files, count: files.length, timestamp: now() });
      }
    }
    const processRoute = /^\/api\/process\/([A-Za-z0-9_-]{1,64})(\/logs)?$/.exec(url.pathname);
    if (processRoute) {
      const [, id, logs] = processRoute;
      const entry = req.method === "DELETE" && !logs ? sandbox.processes.kill(id) : sandbox.processes.get(id);
      if (!entry) throw new HostError(404, "PROCESS_NOT_FOUND", `No process ${id} in this sandbox.`);
      if (logs && req.method === "GET") {
        return sendJson(res, 200, { success: true, processId: id, stdout: entry.stdout.text(), stderr: entry.stderr.text(), timestamp: now() });
      }
      if (!logs && req.method === "GET") return sendJson(res, 200, { success: true, process: describeProcess(entry), timestamp: now() });
      if (!logs && req.method === "DELETE") {
        // Answer once it is gone, so the caller's next read says "killed" (SIGKILL: at most a moment).
        await Promise.race([entry.exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
        return sendJson(res, 200, { success: true, processId: id, signal: "SIGKILL", timestamp: now() });
      }
    }
    throw new HostError(404, "NOT_FOUND", `No route ${route}.`);
  }

  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${address.port}`,
    jail,
    close: async () => {
      registry.closeAll();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      // The kernel takes a moment to empty a cgroup whose processes were just killed.
      for (let attempt = 0; attempt < 10 && Object.values(jail.cgroups).some((dir) => existsSync(dir)); attempt++) {
        removeCgroupParents(jail);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

function now() {
  return new Date().toISOString();
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) throw new HostError(413, "FILE_TOO_LARGE", "The request body is too large.");
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    if (typeof value !== "object" || value === null) throw new Error("not an object");
    return value;
  } catch {
    throw new HostError(400, "INVALID_JSON", "The body must be a JSON object.");
  }
}

/** The fields of a command request we use, checked (the Worker validated them already). */
function commandBody(body) {
  if (typeof body.command !== "string" || body.command.length === 0) throw new HostError(400, "INVALID_COMMAND", "command must be a non-empty string.");
  // execve cannot carry NUL: refused here rather than failing in spawn.
  if (body.command.includes("\0") || (typeof body.cwd === "string" && body.cwd.includes("\0"))) {
    throw new HostError(400, "INVALID_COMMAND", "command and cwd must not contain NUL characters.");
  }
  const env = {};
  for (const [k, v] of Object.entries(body.env ?? {})) {
    if (typeof v === "string" && v.includes("\0")) throw new HostError(400, "INVALID_COMMAND", `env.${k} must not contain NUL characters.`);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && typeof v === "string") env[k] = v;
  }
  return {
    command: body.command,
    env,
    cwd: typeof body.cwd === "string" ? body.cwd : undefined,
    stdin: typeof body.stdin === "string" ? body.stdin : undefined,
    timeoutMs: Number.isFinite(body.timeoutMs) && body.timeoutMs > 0 ? body.timeoutMs : undefined,
    processId: body.processId,
  };
}

/** Paths arrive absolute under /workspace (the Worker normalised them); anything else is refused. */
function absolute(path) {
  if (typeof path !== "string" || !path.startsWith("/workspace/") || path.includes("\0") || path.split("/").includes("..")) {
    throw new HostError(400, "INVALID_PATH", "Paths must be absolute under /workspace.");
  }
  return path;
}

function parseLimits(header) {
  let limits;
  try {
    limits = JSON.parse(String(header ?? ""));
  } catch {
    throw new HostError(400, "INVALID_LIMITS", "X-Sandboxer-Limits must carry the sandbox's limits as JSON.");
  }
  for (const field of LIMIT_FIELDS) {
    if (!Number.isSafeInteger(limits?.[field]) || limits[field] <= 0) throw new HostError(400, "INVALID_LIMITS", `X-Sandboxer-Limits.${field} must be a positive integer.`);
  }
  return Object.fromEntries(LIMIT_FIELDS.map((f) => [f, limits[f]]));
}

function parseNetwork(header) {
  if (header === undefined) return null;
  try {
    const network = JSON.parse(String(header));
    if (Array.isArray(network.allow) && Array.isArray(network.profileAllow)) return { allow: network.allow, profileAllow: network.profileAllow };
  } catch {
    // fall through
  }
  throw new HostError(400, "INVALID_NETWORK", "X-Sandboxer-Network must carry { allow, profileAllow }.");
}

// Run directly (`node scripts/jail/host.mjs`): print one READY line with the URL.
if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.SANDBOXER_JAIL_SECRET;
  if (!secret) {
    process.stderr.write("SANDBOXER_JAIL_SECRET is required\n");
    process.exit(2);
  }
  const host = await startJailHost({
    secret,
    port: Number(process.env.SANDBOXER_JAIL_PORT ?? 0),
    stateDir: process.env.SANDBOXER_JAIL_STATE_DIR ?? ".sandboxer/state/jail",
    rootfs: process.env.SANDBOXER_ROOTFS,
  });
  if (!host.jail.ok) process.stderr.write(`[jail] linux sandboxes unavailable: ${host.jail.missing.join("; ")}\n`);
  for (const note of host.jail.notes) process.stderr.write(`[jail] ${note}\n`);
  process.stdout.write(`SANDBOXER_JAIL_READY ${host.url}\n`);
  const stop = async () => {
    await host.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Orphaned (the supervisor was killed outright): stop, which kills every jailed process.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop();
  }, 1000).unref();
}
