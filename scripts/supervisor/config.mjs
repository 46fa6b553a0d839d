// Reads the project's wrangler.toml and .dev.vars once and turns them into the options
// of the runtime (Miniflare), pointed at a pre-built bundle so restarts never re-bundle.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";

/** Parses a .dev.vars file (KEY=VALUE lines, optional quotes, # comments). */
export function parseDevVars(text) {
  const vars = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    vars[match[1]] = value;
  }
  return vars;
}

/** Bundles the Worker once with wrangler (esbuild) into `outDir`; returns the script path. */
export function buildWorker(root, outDir) {
  mkdirSync(outDir, { recursive: true });
  execFileSync(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outDir], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return join(outDir, "index.js");
}

/**
 * The bundle's modules, listed: the entry, then each non-JS module that wrangler.toml's
 * [[rules]] make (written beside the bundle as "<hash>-<file name>"). Listed rather than
 * discovered because Miniflare cannot carry `modulesRules` over to its current options.
 */
function bundleModules(config, scriptPath) {
  const dir = join(scriptPath, "..");
  const modules = [{ type: "ESModule", path: scriptPath }];
  for (const file of readdirSync(dir)) {
    const rule = (config.rules ?? []).find((r) => r.globs.some((glob) => file.endsWith(`-${glob.split("/").pop()}`)));
    if (rule) modules.push({ type: rule.type, path: join(dir, file) });
  }
  return modules;
}

/**
 * The largest CPU budget any isolate profile grants one execution: how long one may legitimately
 * hold the loop. Linux profiles' budgets are spent in the jail's processes, not on this loop.
 */
export function maxProfileCpuMs(root) {
  const dir = join(root, "profiles");
  let max = 0;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".json")) continue;
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
    if (profile.provider === "isolate") max = Math.max(max, Number(profile.limits?.cpuMs ?? 0));
  }
  return max || 1000;
}

/** The path the supervisor probes; routed to the liveness worker, never to the API. */
export const LIVENESS_PATH = "/__sandboxer_liveness";

/** Miniflare (v4-shaped) options for the runtime. */
export function runtimeOptions({ root, scriptPath, stateDir, port, extraBindings = {} }) {
  const config = unstable_readConfig({ config: join(root, "wrangler.toml") });
  // SANDBOXER_DEV_VARS points at another vars file (tests use it for extra tenants and keys).
  const devVarsPath = process.env.SANDBOXER_DEV_VARS ?? join(root, ".dev.vars");
  const secrets = existsSync(devVarsPath) ? parseDevVars(readFileSync(devVarsPath, "utf8")) : {};
  const durableObjects = {};
  for (const binding of config.durable_objects?.bindings ?? []) {
    durableObjects[binding.name] = { className: binding.class_name, useSQLite: true };
  }
  const workerLoaders = {};
  for (const loader of config.worker_loaders ?? []) workerLoaders[loader.binding] = {};
  // Persisted with everything else under the state directory (resourcePersistencePath).
  const r2Buckets = {};
  for (const bucket of config.r2_buckets ?? []) r2Buckets[bucket.binding] = bucket.bucket_name;
  return {
    host: "127.0.0.1",
    port,
    resourcePersistencePath: stateDir,
    workers: [
      {
        name: config.name,
        modules: bundleModules(config, scriptPath),
        modulesRoot: join(scriptPath, ".."),
        compatibilityDate: config.compatibility_date,
        compatibilityFlags: config.compatibility_flags,
        durableObjects,
        workerLoaders,
        r2Buckets,
        bindings: {
          ...config.vars,
          ...secrets,
          ...(process.env.SANDBOXER_API_KEYS ? { API_KEYS: process.env.SANDBOXER_API_KEYS } : {}),
          ...(process.env.TENANT_QUOTAS ? { TENANT_QUOTAS: process.env.TENANT_QUOTAS } : {}),
          ...extraBindings,
        },
      },
      {
        // The liveness probe's own worker: its own isolate, so it does not queue behind
        // the main Worker's requests, yet it shares workerd's event loop, so a snippet
        // that freezes the loop (a ReDoS) silences it too.
        name: "sandboxer-liveness",
        modules: true,
        script: 'export default { fetch() { return new Response("alive") } }',
        compatibilityDate: config.compatibility_date,
        routes: [`*${LIVENESS_PATH}`],
      },
    ],
  };
}
