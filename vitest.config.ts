import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { API_KEYS: "{}" },
      },
    }),
  ],
  test: { include: ["test/**/*.test.ts"], exclude: ["test/e2e/**"] },
});
