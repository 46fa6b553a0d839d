// The supervisor: owns the runtime child process, watches it (liveness through the
// runtime's event loop, resident memory), restarts it when it hangs, grows too big or
// crashes, and fronts it with a proxy that answers 503 runtime_unavailable (never a
// dropped connection, never a hang) while there is no healthy runtime.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";

const PROBE_INTERVAL_MS = 250;
const PROBE_TIMEOUT_MS = 1000;
const START_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 5000;
/** Recycle when RSS reaches this share of the ceiling, so it is never passed. */
const RSS_RECYCLE_SHARE = 0.9;
/**
 * The Worker's own body limit (src/api/index.ts). Checked here too for declared lengths:
 * when the Worker refuses a body early, the rest of the upload fails to write and the
 * proxy could not tell that from a dead runtime.
 */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/**
 * Requests in flight to the runtime at once; the rest wait here, in order. Local workerd
 * resets connections when hundreds of requests that load isolates arrive together, and two
 * cores gain nothing from more concurrency than this.
 */
const MAX_UPSTREAM_CONCURRENCY = Number(process.env.SANDBOXER_MAX_CONCURRENCY ?? 64);

/** V8 flags for the runtime (see spawnRuntime). */
export const RUNTIME_V8_FLAGS = ["--enable-experimental-regexp-engine-on-excessive-backtracks"];

/** @typedef {"starting" | "ready" | "draining" | "restarting" | "stopped"} RuntimeState */

export class Supervisor {
  /**
   * @param {{ runtimeScript: string, runtimeOptions: (port: number) => object, livenessPath: string, hangMs: number, maxRssMb: number,
   *           version: string, log: (line: string) => void }} options
   */
  constructor(options) {
    this.options = options;
    /** @type {RuntimeState} */
    this.state = "stopped";
    this.child = undefined;
    this.runtimePort = 0;
    this.inFlight = 0;
    this.lastHealthyAt = 0;
    this.rssMb = 0;
    this.startedAt = Date.now();
    this.restarts = { total: 0, hang: 0, memory: 0, crash: 0 };
    this.lastRestartMs = undefined;
    // No keep-alive to the runtime: reusing a socket workerd is about to close loses the
    // request ("socket hang up") and a POST cannot be replayed safely. Loopback connects are cheap.
    this.agent = new http.Agent({ keepAlive: false });
    this.probeTimer = undefined;
    this.probing = false;
    this.restarting = undefined;
    this.upstreamActive = 0;
    /** @type {(() => void)[]} */
    this.upstreamWaiting = [];
  }

  async start() {
    await this.spawnRuntime();
    this.probeTimer = setInterval(() => void this.tick(), PROBE_INTERVAL_MS);
  }

  async stop() {
    clearInterval(this.probeTimer);
    this.state = "stopped";
    await this.killRuntime();
    this.agent.destroy();
  }

  health() {
    return {
      ok: this.state === "ready",
      version: this.options.version,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      runtime: {
        state: this.state,
        pid: this.child?.pid ?? null,
        rssMb: Math.round(this.rssMb),
        inFlight: this.inFlight,
        lastRestartMs: this.lastRestartMs ?? null,
        restarts: { ...this.restarts },
      },
    };
  }

  // -- runtime process --------------------------------------------------------

  async spawnRuntime() {
    this.state = "starting";
    this.runtimePort = await freePort();
    const child = spawn(process.execPath, [this.options.runtimeScript], {
      detached: true, // its own process group: killing the group kills workerd too
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        SANDBOXER_RUNTIME_OPTIONS: JSON.stringify(this.options.runtimeOptions(this.runtimePort)),
        // Read by Miniflare into workerd's config (`v8Flags`): V8 switches a regexp that backtracks
        // excessively to its linear-time engine, so a catastrophic backtracking pattern finishes
        // instead of freezing the shared event loop. Patterns that engine cannot run
        // (backreferences, lookbehind) still backtrack: the watchdog stays the last line.
        MINIFLARE_WORKERD_V8_FLAGS: [process.env.MINIFLARE_WORKERD_V8_FLAGS, ...RUNTIME_V8_FLAGS].filter(Boolean).join(" "),
      },
    });
    this.child = child;
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.state === "ready" || this.state === "starting") {
        void this.restart("crash", `runtime exited (${signal ?? `code ${code}`})`);
      }
    });
    await new Promise((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error("runtime did not start in time")), START_TIMEOUT_MS);
      let buffered = "";
      child.stdout.on("data", (chunk) => {
        buffered += chunk;
        if (buffered.includes("SANDBOXER_RUNTIME_READY")) {
          clearTimeout(timeout);
          resolve(undefined);
        }
      });
      child.on("exit", () => {
        clearTimeout(timeout);
        reject(new Error("runtime exited while starting"));
      });
    });
    child.stdout.resume();
    this.lastHealthyAt = Date.now();
    this.state = "ready";
  }

  async killRuntime() {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await Promise.race([exited, sleep(2000)]);
  }

  /**
   * Replaces the runtime. Only one restart runs at a time; a second request for one
   * while it runs joins it. `drain` (memory recycling) first stops routing and waits
   * for in-flight requests, up to a bound.
   */
  restart(reason, detail, { drain = false } = {}) {
    if (this.state === "stopped") return Promise.resolve();
    this.restarting ??= (async () => {
      const began = Date.now();
      this.state = drain ? "draining" : "restarting";
      if (drain) {
        while (this.inFlight > 0 && Date.now() - began < DRAIN_TIMEOUT_MS) await sleep(20);
      }
      this.state = "restarting";
      await this.killRuntime();
      this.restarts.total++;
      this.restarts[reason]++;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.spawnRuntime();
          break;
        } catch (error) {
          this.options.log(`runtime failed to start (attempt ${attempt}): ${error.message}`);
          await this.killRuntime();
          if (this.state === "stopped") return;
          this.state = "restarting";
          await sleep(Math.min(5000, 250 * attempt));
        }
      }
      this.lastRestartMs = Date.now() - began;
      this.rssMb = 0;
      this.options.log(`runtime restarted: reason=${reason} (${detail}) in ${this.lastRestartMs} ms; restarts=${this.restarts.total}`);
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  async tick() {
    if (this.state !== "ready" || !this.child) return;
    const silentMs = Date.now() - this.lastHealthyAt;
    if (silentMs > this.options.hangMs) {
      void this.restart("hang", `no answer to the health probe for ${silentMs} ms`);
      return;
    }
    this.rssMb = treeRssMb(this.child.pid);
    if (this.rssMb > this.options.maxRssMb * RSS_RECYCLE_SHARE) {
      void this.restart("memory", `RSS ${Math.round(this.rssMb)} MB of ${this.options.maxRssMb} MB`, { drain: true });
      return;
    }
    if (this.probing) return;
    this.probing = true;
    const probe = http.get(
      { host: "127.0.0.1", port: this.runtimePort, path: this.options.livenessPath, agent: this.agent, timeout: PROBE_TIMEOUT_MS },
      (res) => {
        res.resume();
        res.on("end", () => {
          this.probing = false;
          if (res.statusCode === 200) this.lastHealthyAt = Date.now();
        });
      },
    );
    probe.on("timeout", () => probe.destroy());
    probe.on("error", () => {
      this.probing = false;
    });
  }

  // -- proxy ------------------------------------------------------------------

  /** How long a client should wait: about one restart (measured), at least a second. */
  retryAfterSeconds() {
    return Math.max(1, Math.ceil((this.lastRestartMs ?? 1500) / 1000) + 1);
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
  handle(req, res) {
    if (req.url === "/healthz" && req.method === "GET") {
      const health = this.health();
      return sendJson(res, health.ok ? 200 : 503, health);
    }
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
      req.resume();
      return problem(res, 413, "payload_too_large", "Payload too large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`, { max: MAX_BODY_BYTES });
    }
    if (this.state !== "ready") return unavailable(res, `The runtime is ${this.state}; retry shortly.`, this.retryAfterSeconds());
    if (this.upstreamActive >= MAX_UPSTREAM_CONCURRENCY) {
      req.pause();
      this.upstreamWaiting.push(() => this.handle(req, res));
      return;
    }
    this.upstreamActive++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.upstreamActive--;
      const next = this.upstreamWaiting.shift();
      if (next) next();
    };
    res.on("close", release);
    this.inFlight++;
    let finished = false;
    const done = () => {
      if (!finished) {
        finished = true;
        this.inFlight--;
      }
    };
    res.on("close", done);
    const upstream = http.request(
      {
        host: "127.0.0.1",
        port: this.runtimePort,
        method: req.method,
        path: req.url,
        headers: withoutHopByHop(req.headers),
        agent: this.agent,
      },
      (upstreamRes) => {
        // A response is proof of life as good as the probe's: under heavy load the probe
        // may queue behind real work, but a frozen runtime answers nothing at all.
        this.lastHealthyAt = Date.now();
        res.writeHead(upstreamRes.statusCode ?? 502, withoutHopByHop(upstreamRes.headers));
        res.flushHeaders();
        upstreamRes.pipe(res);
        upstreamRes.on("error", () => res.destroy());
        upstreamRes.on("aborted", () => res.destroy());
      },
    );
    upstream.on("error", () => {
      // The runtime went away under this request (killed, crashed, recycled).
      if (!res.headersSent) unavailable(res, "The runtime was restarted while handling this request; retry it.", this.retryAfterSeconds());
      else res.destroy();
    });
    req.on("aborted", () => upstream.destroy());
    req.pipe(upstream);
  }
}

/** Connection-level headers belong to each hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

function withoutHopByHop(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name.toLowerCase()) && value !== undefined) out[name] = value;
  return out;
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** problem+json in the same shape the Worker renders (src/api/problem.ts). */
function problem(res, status, code, title, detail, extra = {}, headers = {}) {
  const text = JSON.stringify({ type: `https://sand-boxer.dev/errors/${code}`, title, status, detail, code, ...extra });
  res.writeHead(status, { "Content-Type": "application/problem+json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** 503 runtime_unavailable with Retry-After: the client should retry, nothing was lost. */
function unavailable(res, detail, retryAfterSeconds = 1) {
  problem(res, 503, "runtime_unavailable", "Runtime unavailable", detail, { retryAfterSeconds }, { "Retry-After": String(retryAfterSeconds) });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port free right now on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resident memory of a process and all its descendants, in MB (Linux /proc). */
export function treeRssMb(rootPid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  let totalKb = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      totalKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // gone
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return totalKb / 1024;
}
