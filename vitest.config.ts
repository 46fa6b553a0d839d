import { createHash } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { upstream } from "./test/upstream.ts";

const sha256 = (key: string) => createHash("sha256").update(key).digest("hex");

/** Test tenants: `tenant-a` and `tenant-b`, each with its own key (see test/helpers.ts). */
const API_KEYS = JSON.stringify({ "tenant-a": [sha256("test-key-a")], "tenant-b": [sha256("test-key-b")] });

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { API_KEYS, SECRETS_KEY: "test-secrets-key-0123456789abcdef" },
        // The network: a fake upstream that follows the real fetch API (test/upstream.ts).
        outboundService: upstream,
        // No Docker here: linux sandboxes' container backend talks to a stand-in that answers
        // the container server's routes (test/providers/linux/container-standin.mjs).
        durableObjects: { LINUX_CONTAINER: { className: "ContainerStandIn", scriptName: "container-standin" } },
        workers: [
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
  // Each test file starts its own Worker; on a loaded 2-core machine the first request of a
  // file (bundle load, first Durable Object) can take several seconds.
  test: { include: ["test/**/*.test.ts"], exclude: ["test/e2e/**"], testTimeout: 20_000 },
});
