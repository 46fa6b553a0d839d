import { createHash } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { upstream } from "./test/upstream.ts";

const sha256 = (key: string) => createHash("sha256").update(key).digest("hex");

/** Test tenants: `tenant-a` and `tenant-b`, each with its own key (see test/helpers.ts). */
const API_KEYS = JSON.stringify({ "tenant-a": [sha256("test-key-a")], "tenant-b": [sha256("test-key-b")], "tenant-q": [sha256("test-key-q")] });
/** `tenant-q` has small quotas, for test/api/quotas.test.ts; the others get the defaults. */
const TENANT_QUOTAS = JSON.stringify({ tenants: { "tenant-q": { sandboxesAlive: 3, executionsInFlight: 2, storageBytes: 1000 } } });

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { API_KEYS, TENANT_QUOTAS, SECRETS_KEY: "test-secrets-key-0123456789abcdef" },
        // The network: a fake upstream that follows the real fetch API (test/upstream.ts).
        outboundService: upstream,
      },
    }),
  ],
  test: { include: ["test/**/*.test.ts"], exclude: ["test/e2e/**"] },
});
