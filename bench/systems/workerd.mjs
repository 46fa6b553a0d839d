// sand-boxer's isolate provider and codemode's DynamicWorkerExecutor, both called inside
// one workerd (Miniflare) by bench/worker.ts, so no HTTP is in their measurements.
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export async function startBenchWorker(root) {
  const outDir = join(root, ".sandboxer", "bench-build");
  mkdirSync(outDir, { recursive: true });
  const scriptPath = join(outDir, "worker.js");
  await build({
    entryPoints: [join(root, "bench/worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser", "import"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    outfile: scriptPath,
    logLevel: "error",
  });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      workers: [
        {
          name: "bench",
          modules: true,
          modulesRoot: outDir,
          scriptPath,
          compatibilityDate: "2026-11-01",
          compatibilityFlags: ["nodejs_compat"],
          workerLoaders: { LOADER: {} },
        },
      ],
    }),
  );
  const url = await mf.ready;
  return {
    /**
     * `n` samples of `code` inside workerd, each the mean of `batch` runs (workerd's clock
     * ticks in whole milliseconds: a batch of 10 gives 0.1 ms resolution); milliseconds per run.
     */
    async run(system, n, code, batch = 1) {
      const res = await fetch(`${url.href}?system=${system}&n=${n}&batch=${batch}&code=${encodeURIComponent(code)}`);
      if (!res.ok) throw new Error(`${system}: ${res.status} ${await res.text()}`);
      return (await res.json()).samples;
    },
    stop: () => mf.dispose(),
  };
}
