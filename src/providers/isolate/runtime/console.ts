/** Console methods captured, and the log level each is recorded with. */
export const CONSOLE_LEVELS = {
  log: "log",
  info: "info",
  debug: "debug",
  warn: "warn",
  error: "error",
  dir: "log",
  table: "log",
  trace: "error",
} as const;

/** Log levels written to stderr; the rest go to stdout. */
export const STDERR_LEVELS = ["warn", "error"];

/**
 * Source of the console module, evaluated before any user module. It replaces the console
 * methods, keeps each stream within `outputBytes` (cutting the line that crosses the limit and
 * dropping the rest), and sends lines to the host in batches of `[level, text, epochMs, cut]`:
 * a batch goes out when the current work drains (a 0 ms timer), which is as soon as anything
 * can leave the isolate. Uncaught errors from timers and microtasks, and unhandled
 * rejections, are written to stderr as Node would print them.
 */
export function consoleModuleSource(names: { budget: string; inspect: string }, outputBytes: number): string {
  return String.raw`
import { LimitExceeded, defer, onUncaught } from "${names.budget}";
import { byteLength, formatArguments, truncateUtf8 } from "${names.inspect}";

const clock = Date.now;
const LEVELS = ${JSON.stringify(CONSOLE_LEVELS)};
const STDERR = ${JSON.stringify(STDERR_LEVELS)};
const OUTPUT_BYTES = ${outputBytes};
const used = { stdout: 0, stderr: 0 };
const full = { stdout: false, stderr: false };
const sends = [];
let batch = [], flushTimer, sink, closed = false;

function write(level, message) {
  if (closed) return;
  const stream = STDERR.includes(level) ? "stderr" : "stdout";
  if (full[stream]) return;
  const line = message + "\n";
  const size = byteLength(line);
  if (used[stream] + size <= OUTPUT_BYTES) {
    used[stream] += size;
    batch.push([level, message, clock(), false]);
  } else {
    const cut = truncateUtf8(line, OUTPUT_BYTES - used[stream]);
    used[stream] = OUTPUT_BYTES;
    full[stream] = true;
    batch.push([level, cut, clock(), true]);
  }
  if (sink && flushTimer === undefined) flushTimer = defer(flush);
}

function flush() {
  flushTimer = undefined;
  if (!sink || batch.length === 0) return;
  const events = batch;
  batch = [];
  sends.push(Promise.resolve(sink(events)).catch(() => {}));
}

const counts = new Map(), timers = new Map();
const label = (value) => (value === undefined ? "default" : String(value));
for (const [method, level] of Object.entries(LEVELS)) {
  console[method] = (...args) => write(level, (method === "trace" ? "Trace: " : "") + formatArguments(args));
}
console.assert = (condition, ...args) => {
  if (!condition) write("error", "Assertion failed" + (args.length ? ": " + formatArguments(args) : ""));
};
console.count = (name) => {
  const key = label(name), count = (counts.get(key) ?? 0) + 1;
  counts.set(key, count);
  write("info", key + ": " + count);
};
console.countReset = (name) => counts.delete(label(name));
console.time = (name) => timers.set(label(name), clock());
const elapsed = (name) => (timers.has(label(name)) ? label(name) + ": " + (clock() - timers.get(label(name))) + "ms" : null);
console.timeLog = (name, ...args) => {
  const text = elapsed(name);
  if (text) write("info", [text, ...args.map((a) => formatArguments([a]))].join(" "));
};
console.timeEnd = (name) => {
  const text = elapsed(name);
  if (text) write("info", text);
  timers.delete(label(name));
};
for (const method of ["group", "groupCollapsed", "groupEnd", "dirxml", "profile", "profileEnd", "timeStamp"]) console[method] = () => {};

function reportUncaught(error, prefix) {
  if (error instanceof LimitExceeded) return;
  let text;
  try {
    text = error instanceof Error ? String(error.name) + ": " + String(error.message) : formatArguments([error]);
  } catch {
    text = "(an error that cannot be shown)";
  }
  write("error", prefix + " " + text);
}
onUncaught((error) => reportUncaught(error, "Uncaught"));
addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  reportUncaught(event.reason, "Uncaught (in promise)");
});

/** Starts streaming to the host: lines written so far (while modules loaded) go first. */
export function attach(hostSink) {
  sink = hostSink;
  if (batch.length > 0 && flushTimer === undefined) flushTimer = defer(flush);
}

/** Sends what is left and waits until the host has every batch; later writes are dropped. */
export async function close() {
  flush();
  closed = true;
  await Promise.all(sends);
}
`;
}
