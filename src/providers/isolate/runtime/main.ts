/** Module names (absolute specifiers) of one run's modules. */
export interface RuntimeModuleNames {
  primordials: string;
  budget: string;
  inspect: string;
  console: string;
  guards: string;
  /** Only a context cell's isolate loads the context module (its source is parsed in every isolate that has it). */
  context?: string;
  snippet: string;
}

/**
 * Source of the main module: a WorkerEntrypoint whose `run` streams console output to `sink`,
 * runs the snippet, renders its result and reports how much CPU it used; `stop` ends a run the
 * host gave up on (wall clock). The primordials, budget and console modules are imported first,
 * so they are in place before any user module is evaluated.
 *
 * What user code could do to this entrypoint, and why it does not help:
 * - reach it again (a loopback through `cloudflare:workers`' `exports`, which the compiler and
 *   the budget module keep from user code, or by any other door): a run starts once per isolate,
 *   so a second `run` is refused without touching the budget, and `stop` needs the run's token,
 *   which only the host and this module hold;
 * - tamper with builtins or `Object.prototype` to divert the report: the report is one string,
 *   built with builtins captured before user code ran (runtime/primordials.ts) from objects
 *   with a null prototype, and the host parses and checks it with its own JSON.
 */
export function mainModuleSource(names: RuntimeModuleNames, limits: { cpuMs: number; outputBytes: number; contextChars?: number }): string {
  return String.raw`
import { WorkerEntrypoint } from "cloudflare:workers";
import { DateNow, JSONStringify, ObjectSetPrototypeOf, PromiseThen, newPromise } from "${names.primordials}";
import { begin, exceededSignal, finish } from "${names.budget}";
import { attach, close } from "${names.console}";
import { describeError, renderResult } from "${names.inspect}";
import { guardEnv } from "${names.guards}";
${names.context ? `import { restoreBindings, saveBindings } from "${names.context}";` : "const restoreBindings = undefined, saveBindings = undefined;"}
import snippet from "${names.snippet}";

let started = false, runToken, reported = false, runDone, capture, contextCell = false, runBegan = 0;

function failure(thrown) {
  try {
    return { __proto__: null, status: "error", error: describeError(thrown) };
  } catch {
    return { __proto__: null, status: "error", error: { __proto__: null, name: "Error", message: "An error that cannot be described was thrown.", stack: "" } };
  }
}

/**
 * Ends the run and serialises what the host gets: one JSON string, no object user code could
 * reach. runMs is the wall time from the run's start to the answer: the host charges what it
 * measured beyond that to loading (module top-level code runs before the run, clock frozen).
 */
function report(outcome, resolve) {
  const spent = finish();
  if (spent.exceeded) {
    outcome = { __proto__: null, status: "error", error: { __proto__: null, name: "LimitExceeded", message: "CPU budget of ${limits.cpuMs} ms exceeded.", stack: spent.stack, limit: "cpu" } };
  }
  const output = close();
  for (let i = 0; i < output.rest.length; i++) ObjectSetPrototypeOf(output.rest[i], null);
  ObjectSetPrototypeOf(output.rest, null);
  const fields = {
    __proto__: null,
    status: outcome.status,
    json: outcome.json,
    resultType: outcome.resultType,
    resultTruncated: outcome.truncated || undefined,
    error: outcome.error,
    context: outcome.context,
    cpuUsedMs: spent.usedMs,
    output: output.rest,
  };
  const send = () => {
    fields.runMs = DateNow() - runBegan;
    resolve(JSONStringify(fields));
  };
  PromiseThen(output.delivered, send, send);
}

export default class SnippetRun extends WorkerEntrypoint {
  /** state: a context cell's saved bindings (the text saveBindings made), or undefined for a plain run. */
  run(input, sink, token, state) {
    if (started) return "refused: this isolate has run already";
    started = true;
    runToken = token;
    begin();
    runBegan = DateNow();
    attach(sink);
    const done = (runDone = newPromise());
    const settle = (outcome) => {
      if (reported) return;
      reported = true;
      report(outcome, done.resolve);
    };
    // Rendering and describing read user objects (getters, toJSON, Proxies): both happen
    // before finish(), while the budget still counts.
    const rendered = (value) => {
      let outcome;
      try {
        const result = renderResult(value, ${limits.outputBytes});
        outcome = { __proto__: null, status: "ok", json: result.json, resultType: result.resultType, truncated: result.truncated };
        if (contextCell) outcome.context = saveBindings(capture, ${limits.contextChars ?? 0});
      } catch (error) {
        outcome = failure(error);
      }
      settle(outcome);
    };
    try {
      PromiseThen(exceededSignal, () => settle({ __proto__: null, status: "error" }));
      if (typeof state === "string") {
        // A context cell: the wrapper takes the restored values and hands back its capture function.
        contextCell = true;
        const values = restoreBindings(state);
        PromiseThen(snippet(guardEnv(this.env), input, values, (fn) => { capture = fn; }), rendered, (error) => settle(failure(error)));
      } else {
        PromiseThen(snippet(guardEnv(this.env), input), rendered, (error) => settle(failure(error)));
      }
    } catch (error) {
      settle(failure(error));
    }
    return done.promise;
  }

  /** Ends a run the host stopped waiting for; answers the CPU used and the output not yet sent. */
  stop(token) {
    if (!started || token !== runToken) return "refused: not this run's token";
    if (reported) return "refused: the run has reported";
    reported = true;
    // The run's own call gets the same report, so it does not hang.
    report({ __proto__: null, status: "error" }, runDone.resolve);
    return runDone.promise;
  }
}
`;
}
