import { createHash } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { upstream } from "./test/upstream.ts";

const sha256 = (key: string) => createHash("sha256").update(key).digest("hex");

/** Test tenants: `tenant-a` and `tenant-b`, each with its own key (see test/helpers.ts). */
const API_KEYS = JSON.stringify({ "tenant-a": [sha256("test-key-a")], "tenant-b": [sha256("test-key-b")], "tenant-q": [sha256("test-key-q")] });
/** `tenant-q` has small quotas, for test/api/quotas.test.ts; the others get the defaults. */
const TENANT_QUOTAS = JSON.stringify({ tenants: { "tenant-q": { sandboxesAlive: 3, executionsInFlight: 2, storageBytes: 1000 } } });

/** The Worker under test, as auxiliary Workers' service bindings name it (the plugin's runner). */
const WORKER_UNDER_TEST = "vitest-plugin-runner-";

/** A second Worker bound to SandboxService with these props, as a customer deploys one. */
function rpcCaller(name: string, props: { tenant: string } | undefined) {
  return {
    name,
    modules: true,
    scriptPath: "./test/rpc/caller-worker.mjs",
    compatibilityDate: "2026-11-01",
    serviceBindings: { SANDBOXER: { name: WORKER_UNDER_TEST, entrypoint: "SandboxService", ...(props ? { props } : {}) } },
  };
}

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { API_KEYS, TENANT_QUOTAS, SECRETS_KEY: "test-secrets-key-0123456789abcdef", DASHBOARD_SESSION_KEY: "test-dashboard-session-key-0123456789abcdef" },
        // The network: a fake upstream that follows the real fetch API (test/upstream.ts).
        outboundService: upstream,
        // Other Workers bound to SandboxService (test/rpc): the tests reach them through these.
        serviceBindings: { CALLER_A: "rpc-caller-a", CALLER_B: "rpc-caller-b", CALLER_NO_TENANT: "rpc-caller-none" },
        // No Docker here: linux sandboxes' container backend talks to a stand-in that answers
        // the container server's routes (test/providers/linux/container-standin.mjs).
        durableObjects: { LINUX_CONTAINER: { className: "ContainerStandIn", scriptName: "container-standin" } },
        workers: [
          rpcCaller("rpc-caller-a", { tenant: "tenant-a" }),
          rpcCaller("rpc-caller-b", { tenant: "tenant-b" }),
          rpcCaller("rpc-caller-none", undefined),
          {
            name: "container-standin",
            modules: true,
            scriptPath: "./test/providers/linux/container-standin.mjs",
            compatibilityDate: "2026-11-01",
            durableObjects: { STANDIN: "ContainerStandIn" },
          },
        ],
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**"],
    // A file's first request loads the whole Worker (several MB with the reference renderer
    // and the MCP SDK) into a fresh runtime: seconds on a loaded two-core machine.
    testTimeout: 20_000,
  },
});
