import { createHash } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const sha256 = (key: string) => createHash("sha256").update(key).digest("hex");

/** Test tenants: `tenant-a` and `tenant-b`, each with its own key (see test/helpers.ts). */
const API_KEYS = JSON.stringify({ "tenant-a": [sha256("test-key-a")], "tenant-b": [sha256("test-key-b")] });

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { API_KEYS } },
    }),
  ],
  test: { include: ["test/**/*.test.ts"], exclude: ["test/e2e/**"] },
});
