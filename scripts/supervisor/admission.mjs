// Admission to the local runtime: which request goes to workerd next, per tenant, fairly.
//
// Why here, in the supervisor's proxy, and not in a Durable Object: locally every sandbox of
// every tenant shares ONE workerd event loop, and the proxy is the only place that sees every
// request before it reaches that loop (a Durable Object would be reached only after the work
// is already on the loop, and would cost an RPC per request). On Cloudflare there is no shared
// loop to protect: each Durable Object and isolate is scheduled by the platform, and the
// per-tenant quotas in the Worker (durable-objects/registry/quotas.ts) apply there as here.
//
// Two pools, each with one FIFO queue per tenant; a freed slot goes to the waiting tenant with
// the fewest requests running (round-robin among equals):
// - executions (anything that runs sandbox code): at most `execSlots` in flight to the
//   runtime, at most `execSlotsPerTenant` of them for one tenant, so another tenant always
//   finds a slot free. An execution holds its slot while it waits on a timer or the network,
//   so its waiting costs no one but its own tenant; it never holds the request window.
// - everything else (reads, writes, creates): the request window, `windowSlots` in flight,
//   at most `windowSlotsPerTenant` for one tenant.
// Bounded so that the work admitted adds up to what one loop carries: each admitted execution
// can hold the loop for at most its CPU budget, which is what the hang threshold allows for
// (Supervisor.hangThresholdMs).
import { createHash } from "node:crypto";

/** Executions waiting or running per sandbox before 429 (the Durable Object's own queue: 4 running + 64 waiting). */
export const MAX_PENDING_PER_SANDBOX = 4 + 64;
/** Requests one tenant may have waiting at the proxy before 429. */
export const MAX_WAITING_PER_TENANT = 1024;

/** Routes that run sandbox code: exec and commands (plain or streamed), the one-shot, and MCP (its tools run code). */
const EXEC_PATH = /^\/v1\/(?:sandboxes\/([^/]+)\/(?:exec|commands)(?:\/stream)?|exec)$/;
const MCP_PATH = "/mcp";

/** Tenant lookup by API key hash, from the same `API_KEYS` the Worker uses. */
export function tenantResolver(apiKeysJson) {
  const byHash = new Map();
  try {
    for (const [tenant, hashes] of Object.entries(JSON.parse(apiKeysJson ?? "{}"))) {
      if (Array.isArray(hashes)) for (const hash of hashes) if (typeof hash === "string") byHash.set(hash.toLowerCase(), tenant);
    }
  } catch {
    // The Worker refuses every key then; all requests share the anonymous lane.
  }
  const cache = new Map();
  return (authorization) => {
    const key = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    // Unknown or missing keys share one lane: they are answered 401 by the Worker, quickly.
    if (!key) return "-";
    let tenant = cache.get(key);
    if (tenant === undefined) {
      tenant = byHash.get(createHash("sha256").update(key).digest("hex")) ?? "-";
      if (cache.size > 10_000) cache.clear();
      cache.set(key, tenant);
    }
    return tenant;
  };
}

/**
 * Is this request one that runs sandbox code? Returns its sandbox id ("" for a one-shot and for
 * MCP, whose tools may run code in any sandbox or none), or null.
 */
export function execTarget(method, url) {
  if (method !== "POST") return null;
  const path = routedPath(url ?? "");
  // A target the runtime might route but we cannot read is treated as an execution: an
  // execution slot held briefly by a request that runs nothing costs its own tenant only.
  if (path === undefined) return "";
  if (path === MCP_PATH) return "";
  const match = EXEC_PATH.exec(path);
  return match ? (match[1] ?? "") : null;
}

/**
 * The path the Worker's router will match, not the raw request target: the runtime parses the
 * target as a URL (absolute form, dot segments, backslashes), and Hono decodes percent-escapes
 * (decodeURI) and ignores a trailing slash (`strict: false`). Without this, `/exec/`, `/%65xec`
 * or `/x/../exec` would run code without being admitted as an execution.
 */
function routedPath(target) {
  let pathname;
  try {
    pathname = new URL(target.startsWith("/") ? `http://runtime${target}` : target).pathname;
  } catch {
    return undefined;
  }
  // As Hono does: `%25` stays as it is, everything else decodeURI decodes is decoded.
  pathname = pathname.replace(/%25/g, "%2525");
  let decoded;
  try {
    decoded = decodeURI(pathname);
  } catch {
    // What decodeURI refuses as a whole, Hono decodes escape by escape.
    decoded = pathname.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
      try {
        return decodeURI(escapes);
      } catch {
        return escapes;
      }
    });
  }
  return decoded.length > 1 && decoded.endsWith("/") ? decoded.slice(0, -1) : decoded;
}

/** One pool of slots with per-tenant FIFO queues, served fewest-running-first, then round-robin. */
class FairPool {
  constructor(slots, perTenant) {
    this.slots = slots;
    this.perTenant = perTenant;
    this.active = 0;
    /** @type {Map<string, number>} */
    this.activeByTenant = new Map();
    /** @type {Map<string, (() => void)[]>} tenant → waiting starts, in arrival order (Map order = round-robin order) */
    this.queues = new Map();
  }

  waiting(tenant) {
    return this.queues.get(tenant)?.length ?? 0;
  }

  canStart(tenant) {
    return this.active < this.slots && (this.activeByTenant.get(tenant) ?? 0) < this.perTenant;
  }

  /** Starts `start` now or when its turn comes; returns a release function, called once. */
  enter(tenant, start) {
    if (this.canStart(tenant) && this.waiting(tenant) === 0) return this.begin(tenant, start);
    if (!this.queues.has(tenant)) this.queues.set(tenant, []);
    this.queues.get(tenant).push(start);
  }

  begin(tenant, start) {
    this.active++;
    this.activeByTenant.set(tenant, (this.activeByTenant.get(tenant) ?? 0) + 1);
    let released = false;
    start(() => {
      if (released) return;
      released = true;
      this.active--;
      const left = this.activeByTenant.get(tenant) - 1;
      if (left === 0) this.activeByTenant.delete(tenant);
      else this.activeByTenant.set(tenant, left);
      this.dispatch();
    });
  }

  /**
   * Fills free slots: the waiting tenant with the fewest requests running goes first (ties in
   * round-robin order), then moves to the back of the round.
   */
  dispatch() {
    while (this.active < this.slots) {
      let next;
      for (const tenant of this.queues.keys()) {
        if (!this.canStart(tenant)) continue;
        if (next === undefined || (this.activeByTenant.get(tenant) ?? 0) < (this.activeByTenant.get(next) ?? 0)) next = tenant;
      }
      if (next === undefined) return;
      const queue = this.queues.get(next);
      const start = queue.shift();
      this.queues.delete(next);
      if (queue.length > 0) this.queues.set(next, queue); // to the back of the round
      this.begin(next, start);
    }
  }

  /** Drops a waiting start (its client went away). */
  remove(tenant, start) {
    const queue = this.queues.get(tenant);
    const at = queue?.indexOf(start) ?? -1;
    if (at >= 0) queue.splice(at, 1);
    if (queue?.length === 0) this.queues.delete(tenant);
  }
}

export class Admission {
  /**
   * @param {{ execSlots: number, execSlotsPerTenant: number, windowSlots: number, windowSlotsPerTenant: number }} limits
   */
  constructor(limits) {
    this.limits = limits;
    this.exec = new FairPool(limits.execSlots, limits.execSlotsPerTenant);
    this.window = new FairPool(limits.windowSlots, limits.windowSlotsPerTenant);
    /** @type {Map<string, number>} "tenant:sandbox" → executions waiting or in flight */
    this.pendingBySandbox = new Map();
    /** @type {Map<number, { tenant: string, sandboxId: string }>} executions in flight, by request */
    this.running = new Map();
    this.nextId = 1;
  }

  /** Executions in flight to the runtime now. */
  get execsInFlight() {
    return this.exec.active;
  }

  /**
   * Admits one request. Returns a refusal ({ status, code, detail, extra }) to answer at once,
   * or undefined after arranging for `start(release)` to be called when the request may go.
   * @param {{ tenant: string, method: string, url: string }} request
   * @param {(release: () => void) => void} start
   * @param {(cancel: () => void) => void} onGone registers what to do if the client leaves while waiting
   */
  admit(request, start, onGone) {
    const sandboxId = execTarget(request.method, request.url);
    const pool = sandboxId === null ? this.window : this.exec;
    if (pool.waiting(request.tenant) >= MAX_WAITING_PER_TENANT) {
      return {
        status: 429,
        code: "rate_limited",
        detail: `This tenant already has ${MAX_WAITING_PER_TENANT} requests waiting for the runtime; retry after some complete.`,
        extra: { retryAfterSeconds: 1, quota: "waitingRequests", max: MAX_WAITING_PER_TENANT },
      };
    }
    let wrapped = start;
    if (sandboxId !== null) {
      const key = `${request.tenant}:${sandboxId}`;
      const pending = this.pendingBySandbox.get(key) ?? 0;
      // The documented per-sandbox queue limit, enforced where the queue now is (here), so the
      // 429 reaches the caller instead of the request waiting at the proxy.
      if (sandboxId !== "" && pending >= MAX_PENDING_PER_SANDBOX) {
        return {
          status: 429,
          code: "rate_limited",
          detail: `${pending} executions are already running or waiting in this sandbox (at most ${MAX_PENDING_PER_SANDBOX}); retry after some complete.`,
          extra: { retryAfterSeconds: 1 },
        };
      }
      this.pendingBySandbox.set(key, pending + 1);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        const left = (this.pendingBySandbox.get(key) ?? 1) - 1;
        if (left === 0) this.pendingBySandbox.delete(key);
        else this.pendingBySandbox.set(key, left);
      };
      const id = this.nextId++;
      wrapped = (release) => {
        this.running.set(id, { tenant: request.tenant, sandboxId });
        start(() => {
          this.running.delete(id);
          finish();
          release();
        });
      };
      onGone(() => {
        finish();
        pool.remove(request.tenant, wrapped);
      });
    } else {
      onGone(() => pool.remove(request.tenant, wrapped));
    }
    pool.enter(request.tenant, wrapped);
    return undefined;
  }

  /** Executions in flight to the runtime (the candidates when it freezes). */
  inFlightExecutions() {
    return [...this.running.values()];
  }
}
