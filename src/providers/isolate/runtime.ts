/**
 * Source of the two modules we load beside the user's code in every isolate. They are
 * strings, not bundled functions, because the bundler may rewrite a function's text
 * (e.g. `__name` helpers) with references that do not exist inside the isolate.
 */

/** CPU time between two budget checks above this is time spent waiting (a timer, I/O), not computing. */
export const IDLE_GAP_MS = 1000;
/** Most fast checks between two reads of the clock. */
export const MAX_STRIDE = 1024;

/**
 * The budget module. `check` is called at every loop back-edge and function entry: it
 * counts, and every `stride` calls reads the clock and adds the time since the last
 * read. The stride adapts: it shrinks when a read finds a long gap (heavy loop bodies
 * are then timed every iteration) and grows back when gaps are short. `pause`/`resume`
 * bracket every `await`, so time suspended is not counted. Once the budget is exceeded
 * every later check throws again, so a `catch` cannot swallow it for good, and after
 * the run finishes every check throws, so code left running (timers, microtask loops)
 * stops at its next check.
 */
export function budgetModuleSource(): string {
  // The clock and Math helpers are captured when this module is evaluated, before any
  // user code, so patching Date.now or Math.max afterwards cannot blind the budget.
  return `
const clock = Date.now, max = Math.max, min = Math.min;
let count = 0, stride = 1, usedMs = 0, last = clock(), budgetMs = Infinity, exceeded = false, finished = false;
export class LimitExceeded extends Error {
  constructor(message) { super(message); this.name = "LimitExceeded"; this.limit = "cpu"; }
}
let signalExceeded;
/** Settles when the budget is exceeded, so a run stuck awaiting code that was stopped still ends. */
export const exceededSignal = new Promise((resolve) => { signalExceeded = resolve; });
function fail() {
  if (exceeded) signalExceeded("exceeded");
  throw new LimitExceeded(finished ? "The execution has finished; code left running was stopped." : "CPU budget of " + budgetMs + " ms exceeded.");
}
function account(now) {
  const gap = now - last;
  last = now;
  if (gap < ${IDLE_GAP_MS}) usedMs += gap;
  if (usedMs > budgetMs) exceeded = true;
  return gap;
}
function slow() {
  count = 0;
  const gap = account(clock());
  stride = gap > 2 ? max(1, stride >> 2) : min(${MAX_STRIDE}, stride * 2);
  if (exceeded || finished) fail();
}
export function check() { if (exceeded || finished || ++count >= stride) slow(); }
export function pause(value) { account(clock()); return value; }
export function resume(value) { last = clock(); if (exceeded || finished) fail(); return value; }
export function start(ms) { budgetMs = ms; usedMs = 0; last = clock(); }
export function finish() { account(clock()); finished = true; return { usedMs, exceeded }; }
`;
}

/**
 * The main module: a WorkerEntrypoint whose `run` captures the console, runs the
 * snippet, renders its result and reports everything, streaming each console line to
 * `sink` when one is given.
 */
export function mainModuleSource(budgetModule: string, snippetModule: string): string {
  return `
import { WorkerEntrypoint } from "cloudflare:workers";
import * as budget from "${budgetModule}";
import snippet from "${snippetModule}";

const STREAMS = { log: "stdout", info: "stdout", debug: "stdout", warn: "stderr", error: "stderr" };

${inspectSource}

${renderSource}

function describeError(error) {
  if (error instanceof Error) {
    return { name: String(error.name), message: String(error.message), stack: typeof error.stack === "string" ? error.stack : "", limit: error.limit };
  }
  return { name: "Error", message: "Uncaught " + inspect(error), stack: "" };
}

export default class SandboxerRun extends WorkerEntrypoint {
  async run(input, sink, cpuMs, outputBytes) {
    const out = { stdout: "", stderr: "", logs: [], stdoutTruncated: false, stderrTruncated: false, logsBytes: 0 };
    const pending = [];
    const encoder = new TextEncoder();
    for (const level of Object.keys(STREAMS)) {
      console[level] = (...args) => {
        const stream = STREAMS[level];
        const message = args.map((a) => (typeof a === "string" ? a : inspect(a))).join(" ");
        const ts = new Date().toISOString();
        const line = message + "\\n";
        if (out[stream].length + line.length <= outputBytes) out[stream] += line;
        else {
          out[stream] += line.slice(0, Math.max(0, outputBytes - out[stream].length));
          out[stream + "Truncated"] = true;
        }
        const size = encoder.encode(message).length;
        if (out.logsBytes + size <= outputBytes) { out.logs.push({ level, message, ts }); out.logsBytes += size; }
        if (sink) pending.push(Promise.resolve(sink({ stream, level, message, ts })).catch(() => {}));
      };
    }
    // Timers are tracked so none outlives the run, and their callbacks start a fresh
    // CPU slice (the wait before them is not computing).
    const timers = new Set();
    const wrapTimer = (original, clear) => (callback, ...rest) => {
      if (typeof callback !== "function") throw new TypeError("Timer callbacks must be functions.");
      const id = original((...args) => { budget.resume(); return callback(...args); }, ...rest);
      timers.add([id, clear]);
      return id;
    };
    globalThis.setTimeout = wrapTimer(setTimeout, clearTimeout);
    globalThis.setInterval = wrapTimer(setInterval, clearInterval);

    budget.start(cpuMs);
    let status = "ok", value, error;
    try {
      const outcome = snippet(this.env, input).then((v) => ({ v }));
      const raced = await Promise.race([outcome, budget.exceededSignal]);
      if (raced !== "exceeded") value = raced.v;
    } catch (thrown) {
      status = "error";
      error = describeError(thrown);
    }
    const spent = budget.finish();
    for (const [id, clear] of timers) clear(id);
    if (spent.exceeded) {
      status = "error";
      value = undefined;
      error = { name: "LimitExceeded", message: "CPU budget of " + cpuMs + " ms exceeded.", limit: "cpu", stack: error && error.name === "LimitExceeded" ? error.stack : "" };
    }
    await Promise.all(pending);
    const rendered = status === "ok" ? render(value, outputBytes) : { result: null };
    return {
      status, ...rendered, error,
      stdout: out.stdout, stderr: out.stderr, logs: out.logs,
      ...(out.stdoutTruncated ? { stdoutTruncated: true } : {}),
      ...(out.stderrTruncated ? { stderrTruncated: true } : {}),
      cpuUsedMs: spent.usedMs,
    };
  }
}
`;
}

/** A small util.inspect: enough to show an agent what a value is. */
const inspectSource = `
function inspect(value, depth = 0, seen = new Set()) {
  const t = typeof value;
  if (value === null) return "null";
  if (t === "string") return depth === 0 ? value : JSON.stringify(value);
  if (t === "number" || t === "boolean" || t === "undefined") return String(value);
  if (t === "bigint") return value + "n";
  if (t === "symbol") return value.toString();
  if (t === "function") return "[Function: " + (value.name || "(anonymous)") + "]";
  if (seen.has(value)) return "[Circular]";
  if (depth > 4) return Array.isArray(value) ? "[Array]" : "[Object]";
  seen.add(value);
  try {
    if (value instanceof Error) return (value.stack && String(value.stack).split("\\n")[0]) || value.name + ": " + value.message;
    if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
    if (value instanceof RegExp) return String(value);
    if (value instanceof Map) return "Map(" + value.size + ") {" + [...value].map(([k, v]) => " " + inspect(k, depth + 1, seen) + " => " + inspect(v, depth + 1, seen)).join(",") + (value.size ? " " : "") + "}";
    if (value instanceof Set) return "Set(" + value.size + ") {" + [...value].map((v) => " " + inspect(v, depth + 1, seen)).join(",") + (value.size ? " " : "") + "}";
    if (ArrayBuffer.isView(value)) return value.constructor.name + "(" + value.length + ") [" + Array.from(value.slice(0, 50)).join(", ") + (value.length > 50 ? ", ..." : "") + "]";
    if (value instanceof Promise) return "Promise { <pending> }";
    if (Array.isArray(value)) return "[" + value.map((v) => inspect(v, depth + 1, seen)).join(", ") + "]";
    const name = value.constructor && value.constructor !== Object ? value.constructor.name + " " : "";
    const entries = Object.keys(value).map((k) => (/^[A-Za-z_$][\\w$]*$/.test(k) ? k : JSON.stringify(k)) + ": " + inspect(value[k], depth + 1, seen));
    return name + "{" + (entries.length ? " " + entries.join(", ") + " " : "") + "}";
  } finally {
    seen.delete(value);
  }
}
`;

/**
 * Results that are plain JSON go back as they are; anything else (undefined, BigInt,
 * Map, Date, functions, cycles, NaN, class instances …) as its rendering with
 * `resultType` naming what it was.
 */
const renderSource = `
function plainJson(value, seen) {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object") return false;
  if (seen.has(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return false;
  seen.add(value);
  for (const key of Object.keys(value)) if (!plainJson(value[key], seen)) return false;
  if (Array.isArray(value) && Object.keys(value).length !== value.length) return false;
  seen.delete(value);
  return true;
}
function hasCycle(value, seen = new Set()) {
  if (value === null || typeof value !== "object") return false;
  if (seen.has(value)) return true;
  seen.add(value);
  for (const key of Object.keys(value)) if (hasCycle(value[key], seen)) return true;
  seen.delete(value);
  return false;
}
function typeName(value) {
  if (value === undefined) return "undefined";
  if (typeof value !== "object" || value === null) return typeof value;
  if (hasCycle(value)) return "circular";
  if (Array.isArray(value)) return "Array";
  const ctor = value.constructor;
  return ctor && ctor.name ? ctor.name : "Object";
}
function render(value, outputBytes) {
  let result, resultType;
  if (plainJson(value, new Set())) result = value;
  else { result = inspect(value, 1); resultType = typeName(value); }
  const json = JSON.stringify(result);
  if (json.length > outputBytes) return { result: json.slice(0, outputBytes), resultType: "truncated-json", resultTruncated: true };
  return resultType ? { result, resultType } : { result };
}
`;
