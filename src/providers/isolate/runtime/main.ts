/** Module names (absolute specifiers) of one run's modules. */
export interface RuntimeModuleNames {
  budget: string;
  inspect: string;
  console: string;
  snippet: string;
}

/**
 * Source of the main module: a WorkerEntrypoint whose `run` streams console output to `sink`,
 * runs the snippet, renders its result and reports how much CPU it used; `stop` ends a run the
 * host gave up on (wall clock). The budget and console modules are imported first, so they are
 * in place before any user module is evaluated.
 */
export function mainModuleSource(names: RuntimeModuleNames, limits: { cpuMs: number; outputBytes: number }): string {
  return String.raw`
import { WorkerEntrypoint } from "cloudflare:workers";
import { begin, EXCEEDED, exceededSignal, finish } from "${names.budget}";
import { attach, close } from "${names.console}";
import { describeError, renderResult } from "${names.inspect}";
import snippet from "${names.snippet}";

const race = Promise.race.bind(Promise);

export default class SnippetRun extends WorkerEntrypoint {
  async run(input, sink) {
    begin();
    attach(sink);
    let outcome;
    // Rendering and describing read user objects (getters, toJSON, Proxies): both happen
    // before finish(), while the budget still counts.
    try {
      const settled = await race([snippet(this.env, input).then((value) => ({ value })), exceededSignal]);
      outcome = settled === EXCEEDED ? { status: "error" } : { status: "ok", ...renderResult(settled.value, ${limits.outputBytes}) };
    } catch (error) {
      try {
        outcome = { status: "error", error: describeError(error) };
      } catch {
        outcome = { status: "error", error: { name: "Error", message: "An error that cannot be described was thrown.", stack: "" } };
      }
    }
    const spent = finish();
    if (spent.exceeded) {
      outcome = { status: "error", error: { name: "LimitExceeded", message: "CPU budget of ${limits.cpuMs} ms exceeded.", stack: spent.stack, limit: "cpu" } };
    }
    await close();
    return { ...outcome, cpuUsedMs: spent.usedMs };
  }

  async stop() {
    const spent = finish();
    await close();
    return spent.usedMs;
  }
}
`;
}
