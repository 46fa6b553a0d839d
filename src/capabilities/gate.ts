import { ErrorCode, SandboxerError } from "../errors";

/**
 * Capability calls one execution may have in flight at once. Code that fires thousands of calls
 * in one `Promise.allSettled` would otherwise put thousands of Durable Object calls on the
 * runtime's shared event loop at once. Above the default `subRequests` (50), so code within its
 * limit never meets it.
 */
export const MAX_CALLS_IN_FLIGHT = 64;
/** Executions tracked at once (a safety bound: entries are removed when their calls drain). */
const MAX_TRACKED_EXECUTIONS = 10_000;

interface ExecutionCalls {
  active: number;
  /** Set once the sandbox refused a call for the subRequests limit: later calls fail here at once. */
  exhausted?: SandboxerError;
}

/**
 * Per-execution admission of capability calls, in the capability entrypoints' isolate. The
 * sandbox's Durable Object stays the authority (it counts calls against `subRequests`); this
 * gate keeps a burst from reaching it all at once and stops forwarding calls once the object
 * has said the limit is reached.
 *
 * Calls past the cap are refused at once rather than queued: each call is its own request to
 * the runtime, and a request waiting on a promise another request settles is cancelled by
 * workerd as hung.
 */
export class CallGate {
  private readonly executions = new Map<string, ExecutionCalls>();

  async run<T>(executionId: string, call: () => Promise<T>): Promise<T> {
    let entry = this.executions.get(executionId);
    if (!entry) {
      if (this.executions.size >= MAX_TRACKED_EXECUTIONS) this.executions.clear();
      entry = { active: 0 };
      this.executions.set(executionId, entry);
    }
    if (entry.exhausted) throw entry.exhausted;
    if (entry.active >= MAX_CALLS_IN_FLIGHT) {
      throw new SandboxerError(ErrorCode.rateLimited, `More than ${MAX_CALLS_IN_FLIGHT} capability calls in flight in one execution; await some before starting more.`, {
        limit: "callsInFlight",
        max: MAX_CALLS_IN_FLIGHT,
      });
    }
    entry.active++;
    try {
      return await call();
    } catch (error) {
      const known = SandboxerError.fromRpc(error);
      if (known?.code === ErrorCode.limitExceeded && known.extra.limit === "subrequests") entry.exhausted = known;
      throw error;
    } finally {
      if (--entry.active === 0 && !entry.exhausted) this.executions.delete(executionId);
    }
  }
}
