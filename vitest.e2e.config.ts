import { defineConfig } from "vitest/config";

/**
 * The Node-side suites in test/e2e: they start the supervised service (`npm start`'s
 * scripts/start.mjs) on a free port and attack it with hostile code, faults and load.
 * Hostile code must never run inside the test runtime's own workerd.
 */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
