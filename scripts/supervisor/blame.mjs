// Who a runtime restart is recorded against. The runtime cannot tell after the fact: a new
// workerd finds executions still marked "running" and nothing else. The supervisor knows what
// it saw (the reason, and for a hang which executions were in flight when the runtime went
// silent) and hands that to the new runtime as the SANDBOXER_RESTARTS binding, which the
// sandbox objects read when they fail their orphaned executions
// (durable-objects/sandbox/orphans.ts).
import { readFileSync, readdirSync } from "node:fs";

/** Restarts remembered for the binding (the oldest are forgotten first). */
const MAX_RESTARTS_REMEMBERED = 100;

export class RestartLedger {
  constructor() {
    /** @type {{ at: number, reason: string, culprits: string[] }[]} */
    this.restarts = [];
  }

  /** Records a restart; `culprits` are "tenant:sandboxId" keys, empty when the culprit is not known. */
  record(reason, culprits = []) {
    this.restarts.push({ at: Date.now(), reason, culprits });
    if (this.restarts.length > MAX_RESTARTS_REMEMBERED) this.restarts.shift();
  }

  /** The binding's value: JSON `[{ at, reason, culprits }]`. */
  toJSON() {
    return JSON.stringify(this.restarts);
  }
}

/**
 * The culprit of a hang, when it can be known: the runtime burning CPU (not stopped by a
 * signal), exactly one sandbox with executions in flight, and no other request in flight that
 * may hold the loop too (`writesInFlight`: a snapshot, restore, fork or large upload does work
 * between its yields). Anything else (several candidates, a one-shot execution among them, a
 * write in flight, a stopped process, none) blames no one.
 * @param {{ tenant: string, sandboxId: string }[]} candidates
 */
export function hangCulprits(candidates, stopped, writesInFlight = 0) {
  if (stopped || writesInFlight > 0) return [];
  const keys = new Set(candidates.filter((c) => c.sandboxId !== "").map((c) => `${c.tenant}:${c.sandboxId}`));
  return keys.size === 1 && candidates.every((c) => c.sandboxId !== "") ? [...keys] : [];
}

/** Whether any process in the tree below `rootPid` is stopped (SIGSTOP, a debugger). */
export function treeStopped(rootPid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push({ pid: Number(entry), state: fields[0] });
    } catch {
      // the process ended while we looked
    }
  }
  const stack = [rootPid];
  while (stack.length) {
    for (const child of children.get(stack.pop()) ?? []) {
      if (child.state === "T" || child.state === "t") return true;
      stack.push(child.pid);
    }
  }
  try {
    const own = readFileSync(`/proc/${rootPid}/stat`, "utf8");
    const state = own.slice(own.lastIndexOf(")") + 2).split(" ")[0];
    return state === "T" || state === "t";
  } catch {
    return false;
  }
}
