// A runtime child process started ahead of need. Node's start and the import of Miniflare take
// about 0.6 s of the ~1.1 s a restart costs; a standby has done both and waits, holding no
// state and no port, for its options on stdin. A restart hands the options to the standby, so
// only workerd's own start remains (~0.35 s), and a new standby is prepared in the background.
import { spawn } from "node:child_process";

export class RuntimeProcess {
  /**
   * @param {string} script scripts/supervisor/runtime.mjs
   * @param {NodeJS.ProcessEnv} env
   * @param {(chunk: Buffer) => void} onOutput the child's output once it serves (and its stderr throughout)
   */
  constructor(script, env, onOutput) {
    this.child = spawn(process.execPath, [script], {
      detached: true, // its own process group: killing the group kills workerd too
      stdio: ["pipe", "pipe", "pipe"],
      env,
    });
    /** @type {Set<"STANDBY" | "READY">} */
    this.seen = new Set();
    this.exited = false;
    /** @type {(() => void)[]} */
    this.waiters = [];
    let text = "";
    this.child.stdout.on("data", (chunk) => {
      if (this.seen.has("READY")) return onOutput(chunk);
      text += chunk;
      for (const marker of /** @type {const} */ (["STANDBY", "READY"])) {
        if (text.includes(`SANDBOXER_RUNTIME_${marker}`)) this.seen.add(marker);
      }
      this.notify();
    });
    this.child.stderr.on("data", onOutput);
    // A supervisor that is gone closes the pipe; the child exits on that (runtime.mjs).
    this.child.stdin.on("error", () => undefined);
    this.child.on("exit", () => {
      this.exited = true;
      this.notify();
    });
  }

  notify() {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once the child printed `SANDBOXER_RUNTIME_<marker>`; rejects if it exits or `timeoutMs` passes first. */
  async waitFor(marker, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!this.seen.has(marker)) {
      if (this.exited) throw new Error(`runtime exited before ${marker.toLowerCase()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`runtime not ${marker.toLowerCase()} in time`);
      await new Promise((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, left);
      });
    }
  }

  /** Hands the Miniflare options over: the child starts workerd with them. */
  start(options) {
    this.child.stdin.end(`${JSON.stringify(options)}\n`);
  }

  kill() {
    try {
      process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
