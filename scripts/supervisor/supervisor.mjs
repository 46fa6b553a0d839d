// The supervisor: owns the runtime child process, watches it (liveness through the
// runtime's event loop, resident memory), restarts it when it hangs, grows too big or
// crashes, and fronts it with a proxy that answers 503 runtime_unavailable (never a
// dropped connection, never a hang) while there is no healthy runtime.
import { readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { Admission, execTarget } from "./admission.mjs";
import { hangCulprits, RestartLedger, treeStopped } from "./blame.mjs";
import { LOG_BUDGET_BYTES, LogLimiter } from "./logs.mjs";
import { RuntimeProcess } from "./standby.mjs";

/** Probe often: detection time of a frozen runtime is the hang threshold plus up to one interval. */
const PROBE_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 1000;
/** Idempotent requests cut off by a restart are sent again once, after the restart, if it ends within this. */
const RETRY_WAIT_MS = 15_000;
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);
/** Requests that only read; any other request may do heavy work in the runtime (hangCulprits). */
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Response bytes held back until the response is complete (see forward); larger ones stream. */
const RESPONSE_HOLD_BYTES = 1024 * 1024;
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
 * Requests other than executions in flight to the runtime at once (the request window); the
 * rest wait here, per tenant, served round-robin (admission.mjs). Local workerd resets
 * connections when hundreds of requests that load isolates arrive together, and two cores gain
 * nothing from more concurrency than this.
 */
const MAX_UPSTREAM_CONCURRENCY = Number(process.env.SANDBOXER_MAX_CONCURRENCY ?? 64);
/**
 * Executions in flight to the runtime at once, all tenants together, and per tenant. Each may
 * hold the shared event loop for up to its CPU budget, so the hang threshold grows by one CPU
 * budget per execution in flight (see hangThresholdMs): 8 keeps the worst legitimate silence at
 * SANDBOXER_HANG_MS + 8 s. Half of them per tenant, so a tenant that fills its share with
 * waiting executions leaves the other half to everyone else.
 */
const EXEC_SLOTS = Number(process.env.SANDBOXER_EXEC_SLOTS ?? 8);
const EXEC_SLOTS_PER_TENANT = Number(process.env.SANDBOXER_EXEC_SLOTS_PER_TENANT ?? Math.max(1, Math.floor(EXEC_SLOTS / 2)));

/** V8 flags for the runtime (see spawnRuntime). */
export const RUNTIME_V8_FLAGS = ["--enable-experimental-regexp-engine-on-excessive-backtracks"];

/** @typedef {"starting" | "ready" | "draining" | "restarting" | "stopped"} RuntimeState */

export class Supervisor {
  /**
   * @param {{ runtimeScript: string, runtimeOptions: (port: number) => object, livenessPath: string, hangMs: number, maxRssMb: number,
   *           maxCpuMs: number, tenantOf: (authorization: string | undefined) => string, version: string, log: (line: string) => void }} options
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
    this.restarts = { total: 0, hang: 0, memory: 0, crash: 0, stopped: 0 };
    this.lastRestartMs = undefined;
    // No keep-alive to the runtime: reusing a socket workerd is about to close loses the
    // request ("socket hang up") and a POST cannot be replayed safely. Loopback connects are cheap.
    this.agent = new http.Agent({ keepAlive: false });
    this.probeTimer = undefined;
    this.probing = false;
    this.restarting = undefined;
    this.admission = new Admission({
      execSlots: EXEC_SLOTS,
      execSlotsPerTenant: EXEC_SLOTS_PER_TENANT,
      windowSlots: MAX_UPSTREAM_CONCURRENCY,
      windowSlotsPerTenant: Math.max(1, Math.floor((MAX_UPSTREAM_CONCURRENCY * 3) / 4)),
    });
    /** Requests other than executions that may write (snapshot, restore, fork, upload) in flight at the runtime. */
    this.writesInFlight = 0;
    /** Executions admitted since the runtime last answered: the CPU the silence may legitimately take. */
    this.execLoadSinceHealthy = 0;
    this.ledger = new RestartLedger();
    this.runtimeLog = new LogLimiter((text) => process.stderr.write(text), {
      budgetBytes: Number(process.env.SANDBOXER_LOG_BUDGET_BYTES ?? LOG_BUDGET_BYTES),
    });
  }

  /** Marks the runtime as having answered just now. */
  healthy() {
    this.lastHealthyAt = Date.now();
    this.execLoadSinceHealthy = this.admission.execsInFlight;
  }

  /**
   * How long the runtime may stay silent before it is declared hung: the base threshold, plus one
   * CPU budget for each execution admitted since it last answered (capped by the slots). Every
   * admitted execution may legitimately hold the loop for its budget, one after another; a
   * silence longer than all of that together is code that escaped its budget.
   */
  hangThresholdMs() {
    return this.options.hangMs + Math.min(this.execLoadSinceHealthy, EXEC_SLOTS) * this.options.maxCpuMs;
  }

  async start() {
    await this.spawnRuntime();
    this.probeTimer = setInterval(() => void this.tick(), PROBE_INTERVAL_MS);
  }

  async stop() {
    clearInterval(this.probeTimer);
    this.state = "stopped";
    this.standby?.kill();
    this.standby = undefined;
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
        execsInFlight: this.admission.execsInFlight,
        hangThresholdMs: this.hangThresholdMs(),
        lastRestartMs: this.lastRestartMs ?? null,
        restarts: { ...this.restarts },
      },
    };
  }

  // -- runtime process --------------------------------------------------------

  async spawnRuntime() {
    this.state = "starting";
    this.runtimePort = await freePort();
    const options = this.options.runtimeOptions(this.runtimePort);
    // What the sandboxes need to record executions cut off by earlier restarts (blame.mjs).
    options.workers[0].bindings = { ...options.workers[0].bindings, SANDBOXER_RESTARTS: this.ledger.toJSON() };
    let proc = this.standby;
    this.standby = undefined;
    if (!proc || proc.exited) proc = this.newRuntimeProcess();
    const child = proc.child;
    this.child = child;
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.state === "ready" || this.state === "starting") {
        void this.restart("crash", `runtime exited (${signal ?? `code ${code}`})`);
      }
    });
    await proc.waitFor("STANDBY", START_TIMEOUT_MS);
    proc.start(options);
    await proc.waitFor("READY", START_TIMEOUT_MS);
    this.healthy();
    this.state = "ready";
    // The next restart's runtime, loaded now while nothing waits for it.
    this.standby = this.newRuntimeProcess();
  }

  newRuntimeProcess() {
    return new RuntimeProcess(
      this.options.runtimeScript,
      {
        ...process.env,
        // Read by Miniflare into workerd's config (`v8Flags`): V8 switches a regexp that backtracks
        // excessively to its linear-time engine, so a catastrophic backtracking pattern finishes
        // instead of freezing the shared event loop. Patterns that engine cannot run
        // (backreferences, lookbehind) still backtrack: the watchdog stays the last line.
        MINIFLARE_WORKERD_V8_FLAGS: [process.env.MINIFLARE_WORKERD_V8_FLAGS, ...RUNTIME_V8_FLAGS].filter(Boolean).join(" "),
      },
      (chunk) => this.runtimeLog.push(chunk),
    );
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
  restart(reason, detail, { drain = false, culprits = [] } = {}) {
    if (this.state === "stopped") return Promise.resolve();
    if (!this.restarting) this.ledger.record(reason, culprits);
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
      const blamed = culprits.length > 0 ? `; culprit ${culprits.join(", ")}` : "";
      this.options.log(`runtime restarted: reason=${reason} (${detail}) in ${this.lastRestartMs} ms; restarts=${this.restarts.total}${blamed}`);
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  async tick() {
    this.runtimeLog.roll();
    if (this.state !== "ready" || !this.child) return;
    const silentMs = Date.now() - this.lastHealthyAt;
    const thresholdMs = this.hangThresholdMs();
    if (silentMs > thresholdMs) {
      // A runtime stopped by a signal is not running anyone's code: nobody is to blame.
      const stopped = treeStopped(this.child.pid);
      // Any execution in flight may be the one that froze the loop (even one sent after the last
      // answer can have started before the freeze): a culprit is named only when there is one.
      const culprits = hangCulprits(this.admission.inFlightExecutions(), stopped, this.writesInFlight);
      void this.restart(stopped ? "stopped" : "hang", `no answer to the health probe for ${silentMs} ms (threshold ${thresholdMs} ms)`, { culprits });
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
          if (res.statusCode === 200) this.healthy();
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
    req.pause();
    let cancel;
    res.on("close", () => cancel?.());
    const refusal = this.admission.admit(
      { tenant: this.options.tenantOf(req.headers.authorization), method: req.method, url: req.url },
      (release) => {
        cancel = undefined;
        this.forward(req, res, release);
      },
      (onGone) => {
        cancel = onGone;
      },
    );
    if (refusal) {
      cancel = undefined;
      req.resume();
      problem(res, refusal.status, refusal.code, "Too many requests", refusal.detail, refusal.extra, { "Retry-After": String(refusal.extra.retryAfterSeconds ?? 1) });
    }
  }

  /** Sends an admitted request to the runtime; `release` frees its admission slot (once). */
  forward(req, res, release, attempt = 0) {
    if (res.destroyed) return release();
    if (this.state !== "ready") {
      release();
      return unavailable(res, `The runtime is ${this.state}; retry shortly.`, this.retryAfterSeconds());
    }
    const execution = execTarget(req.method, req.url) !== null;
    // It may hold the loop for its CPU budget before the runtime next answers (hangThresholdMs).
    if (attempt === 0 && execution) this.execLoadSinceHealthy++;
    this.inFlight++;
    let finished = false;
    const done = () => {
      if (!finished) {
        finished = true;
        this.inFlight--;
      }
    };
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
        this.healthy();
        // A response is held back until it is complete (or past RESPONSE_HOLD_BYTES): workerd
        // may write part of a response and freeze before the rest, and a client that already
        // got a 200 can only be cut off, whereas one that got nothing yet still gets a clean 503
        // (or its retry). Event streams start at once (their body comes when there is news).
        let held = [];
        let heldBytes = 0;
        const head = () => {
          if (res.headersSent) return;
          res.writeHead(upstreamRes.statusCode ?? 502, withoutHopByHop(upstreamRes.headers));
          for (const chunk of held) res.write(chunk);
          held = null;
        };
        if (String(upstreamRes.headers["content-type"] ?? "").startsWith("text/event-stream")) {
          head();
          res.flushHeaders();
        }
        upstreamRes.on("data", (chunk) => {
          // The client left: the rest is read and dropped, so the runtime's response can end.
          if (res.destroyed) return;
          if (held) {
            held.push(chunk);
            heldBytes += chunk.length;
            if (heldBytes <= RESPONSE_HOLD_BYTES) return;
            head();
          } else if (!res.write(chunk)) {
            upstreamRes.pause();
            res.once("drain", () => upstreamRes.resume());
          }
        });
        res.once("close", () => upstreamRes.resume());
        upstreamRes.on("end", () => {
          if (res.destroyed) return;
          head();
          res.end();
        });
        upstreamRes.on("error", () => cutOff());
        upstreamRes.on("aborted", () => cutOff());
      },
    );
    // The runtime went away under this request (killed, crashed, recycled): answer once.
    let failed = false;
    const cutOff = () => {
      if (failed || res.writableEnded) return;
      failed = true;
      if (res.headersSent) return res.destroy();
      if (attempt === 0 && retryable(req)) {
        // Nothing this request did can be harmed by doing it again: send it once more to the
        // new runtime, so a restart caused by someone else costs the caller only time.
        done();
        return void this.afterRestart().then((ready) => {
          if (ready && !res.destroyed) this.forward(req, res, release, 1);
          else if (!res.destroyed) unavailable(res, "The runtime was restarted while handling this request; retry it.", this.retryAfterSeconds());
        });
      }
      unavailable(res, "The runtime was restarted while handling this request; retry it.", this.retryAfterSeconds());
    };
    upstream.on("error", cutOff);
    // An execution holds its slot until the runtime is done with it (its response ended, or the
    // runtime failed), not until its client leaves: workerd runs the code to its end even when
    // the client is gone, so freeing the slot then would let a tenant that sends and disconnects
    // run any number of executions at once.
    const over = execution ? upstream : res;
    over.on("close", release);
    over.on("close", done);
    if (!execution && !READ_METHODS.has(req.method)) {
      // Counted until the runtime is done with it, like an execution's slot.
      this.writesInFlight++;
      upstream.once("close", () => this.writesInFlight--);
    }
    // Only a request whose body was cut short: the runtime cannot have started it (a complete
    // request's client leaving does not emit this).
    req.on("aborted", () => upstream.destroy());
    if (attempt === 0) {
      req.pipe(upstream);
      req.resume();
    } else {
      upstream.end();
    }
  }

  /** Resolves true once a runtime is ready again (a restart may not have begun yet), false after RETRY_WAIT_MS. */
  async afterRestart() {
    const began = Date.now();
    // The watchdog notices a dead runtime on its next tick; give it that long to start the restart.
    while (Date.now() - began < RETRY_WAIT_MS) {
      if (this.restarting) await this.restarting;
      if (this.state === "ready" && this.child && this.lastHealthyAt > began) return true;
      if (this.state === "stopped") return false;
      await sleep(PROBE_INTERVAL_MS);
    }
    return false;
  }
}

/** An idempotent request without a body: safe to send again after the runtime restarted under it. */
function retryable(req) {
  return IDEMPOTENT_METHODS.has(req.method) && !req.headers["transfer-encoding"] && Number(req.headers["content-length"] ?? 0) === 0;
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
