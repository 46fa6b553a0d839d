// `npm start`: sand-boxer on local workerd, supervised.
//
// Environment:
//   PORT                  port to serve on (default 8787)
//   HOST                  address to bind (default 127.0.0.1)
//   SANDBOXER_STATE_DIR   Durable Object state on disk (default .sandboxer/state)
//   SANDBOXER_HANG_MS     restart the runtime when its health probe fails this long, plus one CPU
//                         budget per execution in flight (default 1500)
//   SANDBOXER_MAX_RSS_MB  recycle the runtime before its RSS reaches this (default 1536)
//   SANDBOXER_DEV_VARS    the vars file with the local secrets (default .dev.vars)
//   SANDBOXER_EXEC_SLOTS  executions in flight to the runtime, all tenants (default 8; half per tenant)
//   SANDBOXER_API_KEYS    overrides API_KEYS from .dev.vars (JSON {"<tenant>": ["<sha256 hex>"]})
//   TENANT_QUOTAS         per-tenant quotas (JSON, see README) for the Worker
//
// Local workerd enforces no CPU or memory limits and never frees a loaded isolate, so the
// runtime runs as a child process that the supervisor probes every 250 ms, restarts when it
// hangs or crashes, and recycles before it outgrows its memory ceiling. Requests arriving
// while it restarts get 503 runtime_unavailable with Retry-After.
import { ensureDevVars } from "./ensure-dev-vars.mjs";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { tenantResolver } from "./supervisor/admission.mjs";
import { buildWorker, LIVENESS_PATH, maxProfileCpuMs, runtimeOptions } from "./supervisor/config.mjs";
import { Supervisor } from "./supervisor/supervisor.mjs";
import { launchJailHost } from "./jail/launch.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? "127.0.0.1";
const stateDir = resolve(root, process.env.SANDBOXER_STATE_DIR ?? ".sandboxer/state");
const hangMs = Number(process.env.SANDBOXER_HANG_MS ?? 1500);
const maxRssMb = Number(process.env.SANDBOXER_MAX_RSS_MB ?? 1536);
const log = (line) => process.stderr.write(`[sand-boxer] ${line}\n`);

ensureDevVars();
mkdirSync(stateDir, { recursive: true });

// One build per supervisor process; builds left by supervisors that died are removed.
for (const entry of existsSync(join(root, ".sandboxer")) ? readdirSync(join(root, ".sandboxer")) : []) {
  const pid = /^build-(\d+)$/.exec(entry)?.[1];
  if (pid && !isAlive(Number(pid))) rmSync(join(root, ".sandboxer", entry), { recursive: true, force: true });
}
const buildDir = join(root, ".sandboxer", `build-${process.pid}`);
log("building the Worker…");
const scriptPath = buildWorker(root, buildDir);
const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
// Linux sandboxes: the jail host, reached by the Worker with a per-start secret.
const jail = await launchJailHost({ root, stateDir, log });
const jailBindings = { JAIL_URL: jail.url, JAIL_SECRET: jail.secret };

const options = (runtimePort) => runtimeOptions({ root, scriptPath, stateDir, port: runtimePort, extraBindings: jailBindings });
const supervisor = new Supervisor({
  runtimeScript: join(root, "scripts/supervisor/runtime.mjs"),
  runtimeOptions: options,
  livenessPath: LIVENESS_PATH,
  hangMs,
  maxRssMb,
  maxCpuMs: maxProfileCpuMs(root),
  tenantOf: tenantResolver(options(0).workers[0].bindings.API_KEYS),
  version,
  log,
});

const server = http.createServer((req, res) => supervisor.handle(req, res));
server.keepAliveTimeout = 5000;
await supervisor.start();
server.listen(port, host, () => {
  console.log(`sand-boxer listening on http://${host === "127.0.0.1" ? "localhost" : host}:${server.address().port}`);
});

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  server.close();
  await supervisor.stop();
  await jail.stop();
  rmSync(buildDir, { recursive: true, force: true });
  process.exit(0);
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
