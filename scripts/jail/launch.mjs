// Starts the jail host as a child of the supervisor (`npm start`), with a fresh secret per
// start, and restarts it on the same port if it dies (the Worker's JAIL_URL stays valid).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";

const START_TIMEOUT_MS = 15_000;
const RESTART_DELAY_MS = 500;

/**
 * @param {{ root: string, stateDir: string, log: (line: string) => void }} options
 * @returns {Promise<{ url: string, secret: string, stop: () => Promise<void> }>}
 */
export async function launchJailHost({ root, stateDir, log }) {
  const secret = randomBytes(32).toString("hex");
  const defaultRootfs = join(root, ".sandboxer", "rootfs");
  const rootfs = process.env.SANDBOXER_ROOTFS ?? (existsSync(defaultRootfs) ? defaultRootfs : "");
  let port = 0;
  let child;
  let stopping = false;

  const start = () =>
    new Promise((resolve, reject) => {
      child = spawn(process.execPath, [join(root, "scripts/jail/host.mjs")], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          SANDBOXER_JAIL_SECRET: secret,
          SANDBOXER_JAIL_PORT: String(port),
          SANDBOXER_JAIL_STATE_DIR: join(stateDir, "jail"),
          ...(rootfs ? { SANDBOXER_ROOTFS: rootfs } : {}),
          ...(process.env.SANDBOXER_BWRAP !== undefined ? { SANDBOXER_BWRAP: process.env.SANDBOXER_BWRAP } : {}),
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      const timer = setTimeout(() => reject(new Error("the jail host did not start in time")), START_TIMEOUT_MS);
      let buffered = "";
      child.stdout.on("data", (chunk) => {
        buffered += chunk;
        const match = /SANDBOXER_JAIL_READY (\S+)/.exec(buffered);
        if (match) {
          clearTimeout(timer);
          child.stdout.resume();
          resolve(match[1]);
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the jail host exited (${signal ?? `code ${code}`})`));
        if (stopping) return;
        log(`jail host exited (${signal ?? `code ${code}`}); restarting it`);
        setTimeout(() => void start().catch((error) => log(`jail host restart failed: ${error.message}`)), RESTART_DELAY_MS);
      });
    });

  const url = await start();
  port = Number(new URL(url).port);
  log(`jail host on ${url}${rootfs ? ` (root: ${rootfs})` : " (root: host binds; run scripts/jail/make-rootfs.sh for a Debian root)"}`);
  return {
    url,
    secret,
    stop: async () => {
      stopping = true;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
