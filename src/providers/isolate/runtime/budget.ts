import { RESERVED_PREFIX } from "../instrument";

/** Most checks between two reads of the clock (the stride adapts below this). */
export const MAX_STRIDE = 128;
/**
 * While modules load (top-level code of imported workspace files) the runtime's clock is frozen
 * at 0, so the budget counts checks instead: MAX_STRIDE × this many per budget millisecond,
 * about what a tight instrumented loop runs in a millisecond here. An approximation, stated
 * in the README; on Cloudflare the platform's startup CPU limit applies as well. The time
 * loading took is reported all the same: the host charges it (run.ts, reconcileCpu).
 */
export const LOAD_ACCOUNTS_PER_MS = 2_000;

/**
 * Time forgiven when the isolate goes idle and the sentinel's latency could not be measured
 * (see below) nor was measured before: workerd fires a 0 ms timer about one clock tick after
 * the isolate drains.
 */
export const IDLE_GRACE_MS = 1;
/** The most forgiven per idle transition, however slow timers are measured to be. */
export const MAX_IDLE_GRACE_MS = 5;

/**
 * Source of the budget module. Every compiled module imports its `check`, which the
 * instrumenter calls at each loop back-edge, function entry and `await` resumption.
 *
 * Counting: `check` only counts calls; every `stride` calls it reads the clock and adds the time
 * since the previous read. The stride adapts (halved when a read finds more than a millisecond
 * gone, doubled otherwise, capped at MAX_STRIDE), so the clock is read about once a millisecond
 * and the overshoot is a few strides at most. The clock only ticks in whole milliseconds
 * locally, so counting always runs from the previous read rather than summing short slices.
 *
 * Waiting is not computing. Rather than bracketing every await, which a busy microtask
 * interleaved with an awaiting loop can exploit (its work would fall inside someone else's
 * "paused" bracket), the module detects the isolate going idle: each read arms a 0 ms timer,
 * the sentinel, which can only fire once the microtask queue has drained. When it fires,
 * everything since the last read is counted (the isolate was busy until then) less the
 * sentinel's own latency, and the isolate is marked idle; the next check,
 * which the instrumenter places first in whatever runs next (an await continuation, a callback,
 * a timer), reads the clock and discards the gap. So a microtask loop that never drains is
 * counted in full, and a wait for I/O or a timer is not. The latency (a timer fires a tick or
 * more after it is due, more when the machine is busy) is measured at once by a second 0 ms
 * timer, the probe, armed when the sentinel fires: the isolate is idle between the two, so the
 * probe's delay is the latency alone; the largest of the last eight, plus the clock's one-tick
 * resolution, is forgiven, and never more than MAX_IDLE_GRACE_MS. If anything runs before the
 * probe fires (a check), its measurement is void and the last estimate (at first IDLE_GRACE_MS)
 * is used. So code can run uncounted at most MAX_IDLE_GRACE_MS per real wait, which the
 * wall-clock limit bounds. Every way the runtime offers to run a
 * callback later (setTimeout, setInterval, queueMicrotask, scheduler.wait, AbortSignal.timeout, and
 * with nodejs_compat setImmediate and node:timers' default exports) is wrapped so that a check runs first, even
 * when the callback is a bare builtin with no check of its own.
 * Promise.prototype.then is not wrapped: replacing it slows every await in the isolate (V8's
 * fast paths check that it is untouched) by more than the compute budget allows. A builtin
 * chained with then() runs in the tail the sentinel counts; a chain of bound builtins feeding
 * itself through then() never drains and, like a ReDoS, costs a runtime restart locally.
 *
 * Once exceeded, every later check throws again, so a `catch` cannot swallow the error for good,
 * and `finish` reports it even if user code caught it and returned normally. After `finish`,
 * every check throws, timers are cleared, new ones are refused and `scheduler.wait` never
 * resolves again, so code left running (timers, microtask loops) stops at its next check.
 *
 * Every builtin used here comes from the primordials module, captured before user code ran.
 */
export function budgetModuleSource(cpuMs: number, primordials: string): string {
  return String.raw`
import {
  DateNow as clock, enqueueMicrotask as enqueue, setTimer, clearTimer, setRepeating, clearRepeating, setImmediateTimer, clearImmediateTimer, globalObject,
  ReflectApply, ErrorCtor, TypeErrorCtor, ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf,
  StringPrototypeStartsWith, StringPrototypeCharCodeAt, StringPrototypeIndexOf, StringPrototypeSlice, FunctionPrototype,
  FunctionPrototypeToString, newPromise, PromiseThen, AbortControllerCtor, AbortControllerPrototypeAbort, AbortControllerPrototypeGetSignal, DOMExceptionCtor,
} from "${primordials}";

const BUDGET_MS = ${Number.isFinite(cpuMs) ? cpuMs : "Infinity"}, MAX_STRIDE = ${MAX_STRIDE};
const IDLE_GRACE_MS = ${IDLE_GRACE_MS}, MAX_IDLE_GRACE_MS = ${MAX_IDLE_GRACE_MS};
const LOAD_ACCOUNTS = ${Number.isFinite(cpuMs) ? Math.ceil(cpuMs * LOAD_ACCOUNTS_PER_MS) : "Infinity"};
let loadAccounts = 0;

// Date.now() reads 0 while modules are evaluated (workerd freezes the clock outside a request),
// so counting starts from begin(), the first thing a run does.
let count = 0, stride = 1, usedMs = 0, last = clock();
let idle = false, exceeded = false, finished = false, slowPath = false, running = false;
let sentinel, firstError, uncaught = () => {};
// The probe: the time counted as busy up to the sentinel, latency included, waiting for its measure.
let probe, probing = false, probeStart = 0, unsettledGap = 0, grace = IDLE_GRACE_MS;
const LATENCY_SAMPLES = 8, latencies = { __proto__: null };
let latencyCount = 0;
// Timers still pending, by our own key: { handle, clear }.
const timers = { __proto__: null };
let timerKeys = 0;

export class LimitExceeded extends ErrorCtor {
  name = "LimitExceeded";
  limit = "cpu";
}

/** The value exceededSignal resolves to. */
export const EXCEEDED = "__exceeded__";
const signal = newPromise();
/** Settles when the budget is exceeded, so a run waiting on code that was stopped still ends. */
export const exceededSignal = signal.promise;

export function check(value) {
  if (slowPath || ++count >= stride) account();
  return value;
}

function account() {
  count = 0;
  if (!running) {
    // Module top-level code runs at load time, when the clock reads 0: count work instead.
    if (++loadAccounts > LOAD_ACCOUNTS) {
      exceeded = slowPath = true;
      fail();
    }
    stride = MAX_STRIDE;
    return;
  }
  const now = clock();
  if (probing) settleGap(grace);
  if (idle) {
    idle = false;
  } else {
    const gap = now - last;
    usedMs += gap;
    stride = gap > 1 ? (stride >> 1) || 1 : stride < MAX_STRIDE ? stride * 2 : MAX_STRIDE;
  }
  last = now;
  if (usedMs > BUDGET_MS) exceeded = true;
  slowPath = exceeded || finished;
  if (slowPath) fail();
  if (sentinel === undefined) sentinel = setTimer(drained, 0);
}

function drained() {
  sentinel = undefined;
  if (finished) return;
  const now = clock();
  if (probing) settleGap(grace);
  unsettledGap = idle ? 0 : now - last;
  last = now;
  idle = slowPath = true;
  probeStart = now;
  probing = true;
  probe = setTimer(probed, 0);
}

function probed() {
  probe = undefined;
  if (!probing || finished) return;
  // The largest of the last few latencies: one quick probe does not make the next wake pay
  // for a busy machine's usual delay.
  latencies[latencyCount++ % LATENCY_SAMPLES] = clock() - probeStart;
  let largest = 0;
  for (let i = 0; i < LATENCY_SAMPLES && i < latencyCount; i++) if (latencies[i] > largest) largest = latencies[i];
  grace = largest < MAX_IDLE_GRACE_MS ? largest : MAX_IDLE_GRACE_MS;
  settleGap(grace);
}

/**
 * Counts the busy time found by the sentinel, less its latency and one clock tick: the clock
 * reads whole milliseconds, so a gap read as n ms may be anything up to n + 1.
 */
function settleGap(latency) {
  probing = false;
  const forgiven = latency + 1 < MAX_IDLE_GRACE_MS ? latency + 1 : MAX_IDLE_GRACE_MS;
  usedMs += unsettledGap > forgiven ? unsettledGap - forgiven : 0;
  if (usedMs > BUDGET_MS) {
    exceeded = true;
    signal.resolve(EXCEEDED);
  }
}

function fail() {
  const error = new LimitExceeded(exceeded ? "CPU budget of " + BUDGET_MS + " ms exceeded." : "The run is over; code still running was stopped.");
  if (exceeded) {
    firstError ??= error;
    signal.resolve(EXCEEDED);
  }
  throw error;
}

/** Starts counting from now. Called once per isolate: the entrypoint refuses a second run. */
export function begin() {
  running = true;
  last = clock();
  idle = false;
}

/** Ends the run: stops counting, clears every timer, and makes every later check throw. */
export function finish() {
  if (!finished) {
    if (probing) settleGap(grace);
    if (running && !idle) usedMs += clock() - last;
    finished = slowPath = true;
    if (sentinel !== undefined) clearTimer(sentinel);
    if (probe !== undefined) clearTimer(probe);
    for (const key in timers) {
      const timer = timers[key];
      delete timers[key];
      try {
        timer.clear(timer.handle);
      } catch {}
    }
  }
  let stack = "";
  try {
    // Read only now: user code may have installed Error.prepareStackTrace.
    if (firstError) stack = "" + firstError.stack;
  } catch {}
  return { __proto__: null, usedMs, exceeded: exceeded || usedMs > BUDGET_MS, stack };
}

/** Where errors thrown by timer and microtask callbacks go (the console, see the output module). */
export function onUncaught(report) {
  uncaught = report;
}

/** Runs fn after the current work drains, with no check (for our own bookkeeping). */
export function defer(fn) {
  return setTimer(fn, 0);
}

function report(error) {
  if (!(error instanceof LimitExceeded)) uncaught(error);
}

function wrapTimer(original, clear, repeats) {
  return function (callback, delay, ...args) {
    return schedule(original, clear, repeats, callback, args, delay);
  };
}

/** setImmediate(callback, ...args): Node's, with no delay argument. */
function wrapImmediate(original, clear) {
  return function (callback, ...args) {
    return schedule(original, clear, false, callback, args, undefined);
  };
}

function schedule(original, clear, repeats, callback, args, delay) {
  if (typeof callback !== "function") throw new TypeErrorCtor("The timer callback must be a function.");
  if (finished) return 0;
  const key = ++timerKeys;
  const handle = original(() => {
    if (!repeats) delete timers[key];
    if (finished) return;
    try {
      check();
      ReflectApply(callback, undefined, args);
    } catch (error) {
      report(error);
    }
  }, delay);
  timers[key] = { __proto__: null, handle, clear };
  return handle;
}

function microtask(callback) {
  if (typeof callback !== "function") throw new TypeErrorCtor("The microtask callback must be a function.");
  if (finished) return;
  enqueue(() => {
    try {
      check();
      callback();
    } catch (error) {
      report(error);
    }
  });
}

/**
 * A promise-returning timer (scheduler.wait, node:timers/promises) whose promise settles with
 * the original's value only through a check, and never once the run is over.
 */
function gatePromise(original) {
  return function (...args) {
    const waiting = newPromise(false);
    if (finished) return waiting.promise;
    PromiseThen(
      ReflectApply(original, this, args),
      (value) => {
        if (finished) return;
        try {
          check();
        } catch (error) {
          waiting.reject(error);
          return;
        }
        waiting.resolve(value);
      },
      (error) => waiting.reject(error),
    );
    return waiting.promise;
  };
}

/** node:timers/promises' setInterval: an async iterator whose next() is gated the same way. */
function gateInterval(original) {
  return function (...args) {
    const iterator = ReflectApply(original, this, args);
    const next = iterator.next;
    ObjectDefineProperty(iterator, "next", { __proto__: null, value: gatePromise(function (...nextArgs) { return ReflectApply(next, iterator, nextArgs); }), writable: true, configurable: true });
    return iterator;
  };
}

/**
 * Puts value in place of the property on the object and, when the runtime defines it on the
 * object's prototype as well (workerd's globals live on the global scope's prototype), there
 * too, so the original cannot be fetched from the prototype.
 */
function replace(object, name, value) {
  for (let target = object; target; target = ObjectGetPrototypeOf(target)) {
    const descriptor = ObjectGetOwnPropertyDescriptor(target, name);
    if (!descriptor) continue;
    try {
      ObjectDefineProperty(target, name, { __proto__: null, value, writable: true, configurable: true, enumerable: descriptor.enumerable });
    } catch {}
  }
}

replace(globalObject, "setTimeout", wrapTimer(setTimer, clearTimer, false));
replace(globalObject, "setInterval", wrapTimer(setRepeating, clearRepeating, true));
replace(globalObject, "queueMicrotask", microtask);
if (typeof setImmediateTimer === "function") replace(globalObject, "setImmediate", wrapImmediate(setImmediateTimer, clearImmediateTimer));
const scheduler = globalObject.scheduler;
if (scheduler && typeof scheduler.wait === "function") replace(scheduler, "wait", gatePromise(scheduler.wait));

// Function.prototype.toString shows the user's own source, as in Node: the instrumenter's
// insertions are taken out of the text V8 keeps (see instrument.ts: every call names a check,
// every other inserted character follows a check-named marker comment).
const CHECK_PREFIX = "__sbx_", CHECK_LENGTH = ${RESERVED_PREFIX.length + 32};
function isCheckAt(text, at) {
  if (!StringPrototypeStartsWith(text, CHECK_PREFIX, at)) return false;
  for (let i = at + CHECK_PREFIX.length; i < at + CHECK_LENGTH; i++) {
    const c = StringPrototypeCharCodeAt(text, i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
function stripChecks(text) {
  let out = "", from = 0;
  for (let at = StringPrototypeIndexOf(text, CHECK_PREFIX); at !== -1; at = StringPrototypeIndexOf(text, CHECK_PREFIX, at + 1)) {
    if (at < from || !isCheckAt(text, at)) continue;
    const end = at + CHECK_LENGTH;
    // A marker comment and the one character it marks; a check call with what it opens.
    let cut = at, resume;
    if (at >= 2 && StringPrototypeStartsWith(text, "/*", at - 2) && StringPrototypeStartsWith(text, "*/", end)) {
      cut = at - 2;
      resume = end + 3;
    } else if (StringPrototypeStartsWith(text, "();", end)) resume = end + 3;
    else if (StringPrototypeStartsWith(text, "(), ", end)) resume = end + 4;
    else if (StringPrototypeStartsWith(text, "(", end)) resume = end + 1;
    if (resume === undefined || cut < from) continue;
    out += StringPrototypeSlice(text, from, cut);
    from = resume;
  }
  return from === 0 ? text : out + StringPrototypeSlice(text, from);
}
function toString() {
  if (this === toString) return "function toString() { [native code] }";
  return stripChecks(FunctionPrototypeToString(this));
}
replace(FunctionPrototype, "toString", toString);

// AbortSignal.timeout aborts from a timer of the runtime's own, running the signal's listeners
// (bare builtins among them) with no check: here the wrapped setTimeout aborts it.
const AbortSignalCtor = globalObject.AbortSignal;
if (AbortSignalCtor && typeof AbortSignalCtor.timeout === "function") {
  const wrappedSetTimeout = globalObject.setTimeout;
  replace(AbortSignalCtor, "timeout", function timeout(ms) {
    const delay = +ms;
    if (!(delay >= 0 && delay < Infinity)) throw new TypeErrorCtor("AbortSignal.timeout: the delay must be a finite number of milliseconds, 0 or more.");
    const controller = new AbortControllerCtor();
    wrappedSetTimeout(() => AbortControllerPrototypeAbort(controller, new DOMExceptionCtor("The operation was aborted due to timeout", "TimeoutError")), delay);
    return AbortControllerPrototypeGetSignal(controller);
  });
}

// node:timers and node:timers/promises (nodejs_compat) schedule through the runtime's own
// timers, not the wrapped globals: a bare builtin scheduled through them ran uncounted. Their
// default exports, which process.getBuiltinModule returns too, get the wrapped ones
// (node:timers' the globals themselves, as in Node); their named exports are bindings no code
// can replace, so the compiler rewrites named imports to read the default export (compile.ts).
const processObject = globalObject.process;
const originalGetBuiltinModule = processObject && typeof processObject.getBuiltinModule === "function" ? processObject.getBuiltinModule : undefined;
function builtinDefault(id) {
  try {
    return ReflectApply(originalGetBuiltinModule, processObject, [id]);
  } catch {}
}
function wrapTimersPromises(promises) {
  if (!promises) return;
  for (const name of ["setTimeout", "setImmediate"]) {
    if (typeof promises[name] === "function") replace(promises, name, gatePromise(promises[name]));
  }
  if (typeof promises.setInterval === "function") replace(promises, "setInterval", gateInterval(promises.setInterval));
  const original = promises.scheduler;
  if (original) {
    const gated = { __proto__: null };
    for (const name of ["wait", "yield"]) {
      const method = original[name];
      if (typeof method === "function") gated[name] = gatePromise(function (...args) { return ReflectApply(method, original, args); });
    }
    replace(promises, "scheduler", gated);
  }
}
if (originalGetBuiltinModule) {
  const timersModule = builtinDefault("node:timers");
  if (timersModule) {
    for (const name of ["setTimeout", "setInterval", "setImmediate"]) {
      if (name in timersModule) replace(timersModule, name, globalObject[name]);
    }
  }
  const timersPromises = builtinDefault("node:timers/promises");
  wrapTimersPromises(timersPromises);
  // node:timers' own promises is a module namespace no code can change: Node's is timers/promises itself.
  if (timersModule && timersPromises && "promises" in timersModule) replace(timersModule, "promises", timersPromises);
}

// The runtime's own modules (cloudflare:workers holds the entrypoint loopback, waitUntil and
// exports) are not for sandboxed code: imports of them are refused at compile time, and this
// closes the door process.getBuiltinModule would open (node:module's createRequire loads them).
if (originalGetBuiltinModule) {
  const getBuiltinModule = originalGetBuiltinModule;
  replace(processObject, "getBuiltinModule", function (id) {
    const name = "" + id;
    if (name === "module" || name === "node:module" || StringPrototypeStartsWith(name, "cloudflare:") || StringPrototypeStartsWith(name, "workerd:")) {
      throw new ErrorCtor("process.getBuiltinModule('" + name + "') is not available in a sandbox; import the module statically.");
    }
    return ReflectApply(getBuiltinModule, processObject, [id]);
  });
}
`;
}
