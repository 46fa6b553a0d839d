// CPU time of a process (all its threads: V8's compiler and GC threads count), from /proc.
import { readFileSync, readdirSync } from "node:fs";

/** Linux's USER_HZ: /proc/<pid>/stat counts clock ticks of 10 ms. */
const TICK_MS = 10;

/** User + system CPU milliseconds `pid` has used so far (10 ms ticks). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** The children of `parent` whose command line contains `needle`. */
export function childPids(parent, needle) {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** CPU milliseconds `pids` spend while `work` runs. */
export async function cpuDuring(pids, work) {
  const before = pids.map(cpuMs);
  await work();
  return pids.reduce((sum, pid, i) => sum + cpuMs(pid) - before[i], 0);
}
