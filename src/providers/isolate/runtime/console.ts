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
 * can leave the isolate; what is left when the run ends travels in the report itself. Uncaught
 * errors from timers and microtasks, and unhandled rejections, are written to stderr as Node
 * would print them. Builtins come from the primordials module.
 */
export function consoleModuleSource(names: { budget: string; inspect: string; primordials: string }, outputBytes: number): string {
  return String.raw`
import { LimitExceeded, defer, onUncaught } from "${names.budget}";
import { byteLength, formatArguments, truncateUtf8 } from "${names.inspect}";
import { DateNow as clock, ArrayPrototypePush, ArrayPrototypeIncludes, ArrayPrototypeJoin, ObjectKeys, StringCtor, newPromise, PromiseThen, globalObject } from "${names.primordials}";

const LEVELS = ${JSON.stringify(CONSOLE_LEVELS)};
const STDERR = ${JSON.stringify(STDERR_LEVELS)};
const OUTPUT_BYTES = ${outputBytes};
const used = { __proto__: null, stdout: 0, stderr: 0 };
const full = { __proto__: null, stdout: false, stderr: false };
let batch = [], flushTimer, sink, closed = false, pending = 0, drained;

function write(level, message) {
  if (closed) return;
  const stream = ArrayPrototypeIncludes(STDERR, level) ? "stderr" : "stdout";
  if (full[stream]) return;
  const line = message + "\n";
  const size = byteLength(line);
  if (used[stream] + size <= OUTPUT_BYTES) {
    used[stream] += size;
    ArrayPrototypePush(batch, [level, message, clock(), false]);
  } else {
    const cut = truncateUtf8(line, OUTPUT_BYTES - used[stream]);
    used[stream] = OUTPUT_BYTES;
    full[stream] = true;
    ArrayPrototypePush(batch, [level, cut, clock(), true]);
  }
  if (sink && flushTimer === undefined) flushTimer = defer(flush);
}

function flush() {
  flushTimer = undefined;
  if (!sink || closed || batch.length === 0) return;
  const events = batch;
  batch = [];
  pending++;
  const delivered = newPromise();
  const settle = () => {
    if (--pending === 0 && drained) drained.resolve(undefined);
  };
  try {
    delivered.resolve(sink(events));
  } catch {
    delivered.resolve(undefined);
  }
  // Resolved or rejected, the batch is settled (a lost batch only costs its own lines).
  PromiseThen(delivered.promise, settle, settle);
}

const console = globalObject.console;
const counts = { __proto__: null }, timers = { __proto__: null };
const label = (value) => (value === undefined ? "default" : StringCtor(value));
const methods = ObjectKeys(LEVELS);
for (let i = 0; i < methods.length; i++) {
  const method = methods[i], level = LEVELS[method];
  console[method] = (...args) => write(level, (method === "trace" ? "Trace: " : "") + formatArguments(args));
}
console.assert = (condition, ...args) => {
  if (!condition) write("error", "Assertion failed" + (args.length ? ": " + formatArguments(args) : ""));
};
console.count = (name) => {
  const key = label(name), count = (counts[key] ?? 0) + 1;
  counts[key] = count;
  write("info", key + ": " + count);
};
console.countReset = (name) => { delete counts[label(name)]; };
console.time = (name) => { timers[label(name)] = clock(); };
const elapsed = (name) => (label(name) in timers ? label(name) + ": " + (clock() - timers[label(name)]) + "ms" : null);
console.timeLog = (name, ...args) => {
  const text = elapsed(name);
  if (text === null) return;
  const parts = [text];
  for (let i = 0; i < args.length; i++) ArrayPrototypePush(parts, formatArguments([args[i]]));
  write("info", ArrayPrototypeJoin(parts, " "));
};
console.timeEnd = (name) => {
  const text = elapsed(name);
  if (text) write("info", text);
  delete timers[label(name)];
};
const silent = ["group", "groupCollapsed", "groupEnd", "dirxml", "profile", "profileEnd", "timeStamp"];
for (let i = 0; i < silent.length; i++) console[silent[i]] = () => {};

function reportUncaught(error, prefix) {
  if (error instanceof LimitExceeded) return;
  let text;
  try {
    text = error instanceof Error ? StringCtor(error.name) + ": " + StringCtor(error.message) : formatArguments([error]);
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

/**
 * Ends the output: later writes are dropped. Returns the lines not yet sent (they travel in the
 * report) and a promise that settles once the host has acknowledged every batch sent before.
 */
export function close() {
  closed = true;
  const rest = batch;
  batch = [];
  drained = newPromise();
  if (pending === 0) drained.resolve(undefined);
  return { __proto__: null, rest, delivered: drained.promise };
}
`;
}
