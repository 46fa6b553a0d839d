// Commands in a sandbox's jail: run to completion (with or without streaming) and background
// processes. Every command gets the sandbox's limits: CPU seconds and file size (rlimits),
// processes and memory (the sandbox's cgroups), wall time (killed here), output (killed here
// once a stream passes the cap, so an output flood ends at once), and disk (the sandbox
// measures its workspace while anything runs in it; past the quota everything is killed).
import { randomUUID } from "node:crypto";
import { killJailed, oomKills, pidsLimitHits } from "./jail.mjs";
/** Bytes of output kept for a background process (a rolling tail). */
const PROCESS_TAIL_BYTES = 64 * 1024;
/**
 * Output a background process may produce before we stop reading it: past this its writes
 * block (harmless to everyone else) instead of costing the jail host a copy per chunk forever.
 */
const PROCESS_READ_BYTES = 64 * 1024 * 1024;
/** Finished background processes kept per sandbox for listing. */
const MAX_FINISHED_PROCESSES = 100;

/**
 * Collects one stream up to `cap` bytes (the rest is counted, not kept) and decodes it as
 * UTF-8 across chunk boundaries.
 */
class Capture {
  constructor(cap) {
    this.cap = cap;
    this.chunks = [];
    this.kept = 0;
    this.total = 0;
  }
  add(chunk) {
    this.total += chunk.length;
    if (this.kept < this.cap) {
      const part = chunk.subarray(0, this.cap - this.kept);
      this.chunks.push(part);
      this.kept += part.length;
    }
  }
  get truncated() {
    return this.total > this.cap;
  }
  text() {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** A rolling tail of the last `cap` bytes of a stream. */
class Tail {
  constructor(cap) {
    this.cap = cap;
    this.buffer = Buffer.alloc(0);
  }
  add(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > this.cap) this.buffer = this.buffer.subarray(this.buffer.length - this.cap);
  }
  text() {
    return this.buffer.toString("utf8");
  }
}

/**
 * The client (src/providers/linux) sends every command as one of these lines with the user's
 * command in SANDBOXER_CMD and stdin base64-encoded in SANDBOXER_STDIN_B64, so that the
 * container server, which has no stdin field, runs it the same way. Here we run the user's
 * command directly with that stdin: one bash and one base64 process fewer per command.
 */
const CLIENT_WRAPPERS = new Set(['bash -lc "$SANDBOXER_CMD" 0</dev/null', 'bash -lc "$SANDBOXER_CMD" 0< <(printf %s "$SANDBOXER_STDIN_B64" | base64 -d)']);

export function nativeRequest(request) {
  const env = request.env ?? {};
  if (!CLIENT_WRAPPERS.has(request.command) || typeof env.SANDBOXER_CMD !== "string") return request;
  const { SANDBOXER_CMD: command, SANDBOXER_STDIN_B64: stdin, ...rest } = env;
  return { ...request, command, env: rest, stdin: stdin ? Buffer.from(stdin, "base64") : request.stdin };
}

/**
 * Runs one command to completion. `onChunk(stream, text)` sees output as it is produced
 * (streaming). Resolves with the container server's execute result plus our limit fields.
 * @param {import("./sandboxes.mjs").SandboxJail} sandbox
 */
export function runCommand(sandbox, original, onChunk) {
  const request = nativeRequest(original);
  const { limits } = sandbox;
  const wallMs = Math.min(request.timeoutMs ?? limits.wallMs, limits.wallMs);
  const started = Date.now();
  const kernelBefore = kernelCounters(sandbox);
  const child = sandbox.spawn(request);
  const out = new Capture(limits.outputBytes);
  const err = new Capture(limits.outputBytes);
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  let limit;
  const stop = (why) => {
    limit ??= why;
    killJailed(child);
  };
  const wall = setTimeout(() => stop("wall"), wallMs);
  const feed = (name, capture) => (chunk) => {
    capture.add(chunk);
    if (onChunk && capture.kept <= capture.cap) {
      const text = decoders[name].decode(capture.truncated ? chunk.subarray(0, chunk.length - (capture.total - capture.cap)) : chunk, { stream: true });
      if (text) onChunk(name, text);
    }
    // A flood is stopped rather than drained: past the cap nothing more is kept anyway.
    if (capture.truncated) stop("output");
  };
  child.stdout.on("data", feed("stdout", out));
  child.stderr.on("data", feed("stderr", err));
  writeStdin(child, request.stdin);
  sandbox.track(child, (why) => (limit ??= why));
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(wall);
      sandbox.untrack(child);
      limit ??= kernelLimit(sandbox, kernelBefore, code, signal);
      const exitCode = code ?? 128 + signalNumber(signal);
      resolve({
        success: exitCode === 0 && !limit,
        exitCode,
        stdout: out.text(),
        stderr: err.text(),
        command: request.command,
        durationMs: Date.now() - started,
        ...(out.truncated ? { stdoutTruncated: true } : {}),
        ...(err.truncated ? { stderrTruncated: true } : {}),
        ...(limit ? { limit } : {}),
        timestamp: new Date().toISOString(),
      });
    });
  });
}

/** The sandbox's cgroup event counters, to tell afterwards whether a limit acted meanwhile. */
function kernelCounters(sandbox) {
  return { oom: oomKills(sandbox.cgroups), pids: pidsLimitHits(sandbox.cgroups) };
}

/**
 * The limit the kernel enforced on a command that has ended, if any: SIGXCPU past RLIMIT_CPU,
 * SIGXFSZ past the file-size limit (bwrap passes the status on, so a signal shows as 128 + its
 * number), the OOM killer, or forks refused at pids.max. The cgroup counters are the
 * sandbox's: a background process hitting a limit meanwhile is counted too. Without cgroups
 * (rlimit fallbacks) memory and processes cannot be told apart from other failures.
 */
function kernelLimit(sandbox, before, code, signal) {
  if (signal === "SIGXCPU" || code === 128 + SIGNALS.SIGXCPU) return "cpu";
  if (signal === "SIGXFSZ" || code === 128 + SIGNALS.SIGXFSZ) return "disk";
  if (oomKills(sandbox.cgroups) > before.oom) return "memory";
  if (pidsLimitHits(sandbox.cgroups) > before.pids) return "processes";
  return undefined;
}

function writeStdin(child, stdin) {
  child.stdin.on("error", () => undefined); // the command may exit without reading its input
  if (stdin) child.stdin.end(typeof stdin === "string" ? Buffer.from(stdin, "utf8") : stdin);
  else child.stdin.end();
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGXCPU: 24, SIGXFSZ: 25, SIGSEGV: 11, SIGABRT: 6 };
function signalNumber(signal) {
  return SIGNALS[signal] ?? 1;
}

/**
 * A sandbox's background processes: started with a wall clock of their own (the profile's
 * process limit), listed, inspected with an output tail, killed (the whole jail).
 */
export class ProcessTable {
  constructor(sandbox) {
    this.sandbox = sandbox;
    /** @type {Map<string, any>} */
    this.processes = new Map();
  }

  start(original) {
    const request = nativeRequest(original);
    const { limits } = this.sandbox;
    const id = request.processId ?? `proc_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    if (this.processes.get(id)?.status === "running") {
      throw Object.assign(new Error(`Process ${id} is already running.`), { code: "PROCESS_EXISTS", httpStatus: 409 });
    }
    const kernelBefore = kernelCounters(this.sandbox);
    const child = this.sandbox.spawn(request);
    const entry = {
      id,
      pid: child.pid,
      command: request.command,
      status: "running",
      startTime: new Date().toISOString(),
      stdout: new Tail(PROCESS_TAIL_BYTES),
      stderr: new Tail(PROCESS_TAIL_BYTES),
      child,
    };
    const wallMs = Math.min(request.timeoutMs ?? limits.processWallMs, limits.processWallMs);
    const wall = setTimeout(() => {
      entry.limit = "wall";
      killJailed(child);
    }, wallMs);
    let read = 0;
    const tail = (buffer) => (chunk) => {
      buffer.add(chunk);
      read += chunk.length;
      if (read > PROCESS_READ_BYTES) {
        child.stdout.pause();
        child.stderr.pause();
        entry.outputPaused = true;
      }
    };
    child.stdout.on("data", tail(entry.stdout));
    child.stderr.on("data", tail(entry.stderr));
    writeStdin(child, request.stdin);
    this.sandbox.track(child, (why) => (entry.limit ??= why));
    let exited;
    entry.exited = new Promise((resolve) => (exited = resolve));
    // "exit", not "close": paused pipes would never close.
    child.on("exit", (code, signal) => {
      clearTimeout(wall);
      child.stdout.resume();
      child.stderr.resume();
      this.sandbox.untrack(child);
      if (!entry.killed) entry.limit ??= kernelLimit(this.sandbox, kernelBefore, code, signal);
      entry.exitCode = code ?? 128 + signalNumber(signal);
      entry.endTime = new Date().toISOString();
      entry.status = entry.killed ? "killed" : entry.exitCode === 0 ? "completed" : "failed";
      this.prune();
      exited();
    });
    this.processes.set(id, entry);
    return entry;
  }

  get(id) {
    return this.processes.get(id);
  }

  list() {
    return [...this.processes.values()];
  }

  kill(id) {
    const entry = this.processes.get(id);
    if (!entry) return undefined;
    if (entry.status === "running") {
      entry.killed = true;
      killJailed(entry.child);
    }
    return entry;
  }

  killAll() {
    let killed = 0;
    for (const entry of this.processes.values()) {
      if (entry.status === "running") {
        entry.killed = true;
        killJailed(entry.child);
        killed++;
      }
    }
    return killed;
  }

  prune() {
    const finished = this.list().filter((p) => p.status !== "running");
    for (const old of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_PROCESSES))) this.processes.delete(old.id);
  }
}

/** The container server's view of a process (ProcessInfoResult.process). */
export function describeProcess(entry) {
  return {
    id: entry.id,
    pid: entry.pid,
    command: entry.command,
    status: entry.status,
    startTime: entry.startTime,
    ...(entry.endTime ? { endTime: entry.endTime } : {}),
    ...(entry.exitCode !== undefined ? { exitCode: entry.exitCode } : {}),
    ...(entry.limit ? { limit: entry.limit } : {}),
  };
}
