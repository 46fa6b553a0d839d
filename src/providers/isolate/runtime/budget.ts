/** Most checks between two reads of the clock (the stride adapts below this). */
export const MAX_STRIDE = 128;
/**
 * While modules load (top-level code of imported workspace files) the runtime's clock is frozen
 * at 0, so the budget counts checks instead: MAX_STRIDE × this many per budget millisecond,
 * about what a tight instrumented loop runs in a millisecond here. An approximation, stated
 * in the README; on Cloudflare the platform's startup CPU limit applies as well.
 */
export const LOAD_ACCOUNTS_PER_MS = 2_000;

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
 * everything since the last read is counted (the isolate was busy until then) and the isolate is
 * marked idle; the next check, which the instrumenter places first in whatever runs next (an
 * await continuation, a callback, a timer), reads the clock and discards the gap. So a
 * microtask loop that never drains is counted in full, and a wait for I/O or a timer is not.
 * What escapes: a builtin handed directly to the runtime as an event callback (no user function
 * around it) runs before that first check; its time after an idle wait is not counted. That
 * needs a real wait per iteration, so the host's wall-clock limit bounds it.
 *
 * Once exceeded, every later check throws again, so a `catch` cannot swallow the error for good,
 * and `finish` reports it even if user code caught it and returned normally. After `finish`,
 * every check throws, so code left running (timers, microtask loops) stops at its next check.
 *
 * The timer functions are wrapped here (this module is evaluated before any user module):
 * every timer callback starts with a check, runs with its errors reported rather than
 * uncaught, and is cleared when the run finishes.
 */
export function budgetModuleSource(cpuMs: number): string {
  return String.raw`
// Captured before any user code runs, so patching Date.now or the timers later cannot blind us.
const clock = Date.now, enqueue = queueMicrotask;
const setTimer = setTimeout, clearTimer = clearTimeout, setRepeating = setInterval, clearRepeating = clearInterval;
const BUDGET_MS = ${Number.isFinite(cpuMs) ? cpuMs : "Infinity"}, MAX_STRIDE = ${MAX_STRIDE};
const LOAD_ACCOUNTS = ${Number.isFinite(cpuMs) ? Math.ceil(cpuMs * LOAD_ACCOUNTS_PER_MS) : "Infinity"};
let loadAccounts = 0;

// Date.now() reads 0 while modules are evaluated (workerd freezes the clock outside a request),
// so counting starts from begin(), the first thing a run does.
let count = 0, stride = 1, usedMs = 0, last = clock();
let idle = false, exceeded = false, finished = false, slowPath = false, running = false;
let sentinel, firstError, uncaught = () => {}, signalExceeded;
const timers = new Map();

export class LimitExceeded extends Error {
  name = "LimitExceeded";
  limit = "cpu";
}

/** The value exceededSignal resolves to. */
export const EXCEEDED = Symbol("exceeded");
/** Settles when the budget is exceeded, so a run waiting on code that was stopped still ends. */
export const exceededSignal = new Promise((resolve) => { signalExceeded = () => resolve(EXCEEDED); });

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
  // No timers may be set while modules load (outside a request); the run starts with begin().
  if (running && sentinel === undefined) sentinel = setTimer(drained, 0);
}

function drained() {
  sentinel = undefined;
  const now = clock();
  if (!idle) usedMs += now - last;
  last = now;
  idle = slowPath = true;
  if (usedMs > BUDGET_MS) {
    exceeded = true;
    signalExceeded();
  }
}

function fail() {
  const error = new LimitExceeded(exceeded ? "CPU budget of " + BUDGET_MS + " ms exceeded." : "The run is over; code still running was stopped.");
  if (exceeded) {
    firstError ??= error;
    signalExceeded();
  }
  throw error;
}

/** Starts counting from now. */
export function begin() {
  running = true;
  usedMs = 0;
  last = clock();
  idle = false;
}

/** Ends the run: stops counting, clears every timer, and makes every later check throw. */
export function finish() {
  if (!finished) {
    if (!idle) usedMs += clock() - last;
    finished = slowPath = true;
    if (sentinel !== undefined) clearTimer(sentinel);
    for (const [id, clear] of timers) clear(id);
    timers.clear();
  }
  let stack = "";
  try {
    // Read only now: user code may have installed Error.prepareStackTrace.
    if (firstError) stack = String(firstError.stack);
  } catch {}
  return { usedMs, exceeded: exceeded || usedMs > BUDGET_MS, stack };
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
    if (typeof callback !== "function") throw new TypeError("The timer callback must be a function.");
    if (finished) return 0;
    const id = original(() => {
      if (!repeats) timers.delete(id);
      try {
        check();
        callback(...args);
      } catch (error) {
        report(error);
      }
    }, delay);
    timers.set(id, clear);
    return id;
  };
}

globalThis.setTimeout = wrapTimer(setTimer, clearTimer, false);
globalThis.setInterval = wrapTimer(setRepeating, clearRepeating, true);
globalThis.queueMicrotask = function queueMicrotask(callback) {
  if (typeof callback !== "function") throw new TypeError("The microtask callback must be a function.");
  enqueue(() => {
    try {
      callback();
    } catch (error) {
      report(error);
    }
  });
};
`;
}
