/**
 * What happened to executions a new runtime finds still marked "running": the runtime they ran
 * in was restarted under them. Locally the supervisor says why and, for a hang, which sandbox's
 * code froze it when that is known (scripts/supervisor/blame.mjs), through the
 * `SANDBOXER_RESTARTS` binding: JSON `[{ at, reason, culprits: ["<tenant>:<sandboxId>"] }]`.
 * Only a named culprit's executions are recorded as having run past their CPU budget; everyone
 * else's were interrupted, which is not their code's fault.
 */
export interface RestartNote {
  at: number;
  reason: string;
  culprits: string[];
}

export interface OrphanError {
  name: "LimitExceeded" | "Interrupted";
  message: string;
  limit?: "cpu";
}

/** The restarts the supervisor reported, or none (deployed, or not supervised). */
export function parseRestarts(json: string | undefined): RestartNote[] {
  if (!json) return [];
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as RestartNote[]).filter((r) => typeof r?.at === "number" && Array.isArray(r.culprits)) : [];
  } catch {
    return [];
  }
}

/** The error to record for an execution of sandbox `sandboxKey` ("tenant:id") that started at `startedAt` and never finished. */
export function orphanError(restarts: RestartNote[], sandboxKey: string, startedAt: number): OrphanError {
  // The first restart after it started is the one that cut it off.
  const restart = restarts.filter((r) => r.at >= startedAt).sort((a, b) => a.at - b.at)[0];
  if (restart?.culprits.includes(sandboxKey)) {
    return {
      name: "LimitExceeded",
      limit: "cpu",
      message: "The execution stopped the runtime (it ran past its CPU budget without yielding) and was terminated.",
    };
  }
  const why = restart ? ` (${restart.reason})` : "";
  return {
    name: "Interrupted",
    message: `The runtime was restarted${why} while this execution ran, for a reason outside this sandbox's code; it did not finish. Run it again.`,
  };
}
