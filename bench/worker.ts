// Bench-only Worker, run inside workerd by bench/systems/workerd.mjs. It times, inside the
// runtime (no HTTP in the measurement), sand-boxer's isolate provider and codemode's
// DynamicWorkerExecutor on the same engine and the same snippet.
import { DynamicWorkerExecutor } from "@cloudflare/codemode";
import { ISOLATE_COMPATIBILITY_DATE, runSnippet } from "../src/providers/isolate";
import { budgetModuleSource } from "../src/providers/isolate/runtime/budget";
import { consoleModuleSource } from "../src/providers/isolate/runtime/console";
import { guardsModuleSource } from "../src/providers/isolate/runtime/guards";
import { inspectModuleSource } from "../src/providers/isolate/runtime/inspect";
import { primordialsModuleSource } from "../src/providers/isolate/runtime/primordials";

interface BenchEnv {
  LOADER: WorkerLoader;
}

const LIMITS = { cpuMs: 60_000, wallMs: 60_000, outputBytes: 1 << 20, codeBytes: 1 << 20, subRequests: 50 };

/**
 * `n` samples, each the mean of `batch` consecutive runs. workerd's clock ticks in whole
 * milliseconds (and only moves across I/O), so one run cannot be timed below 1 ms; a batch of
 * B runs gives each sample a resolution of 1/B ms.
 */
async function time(n: number, batch: number, run: () => Promise<unknown>): Promise<{ samples: number[]; last: unknown }> {
  const samples: number[] = [];
  let last: unknown;
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    for (let j = 0; j < batch; j++) last = await run();
    samples.push((performance.now() - started) / batch);
  }
  return { samples, last };
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? 10);
    const batch = Math.max(1, Number(url.searchParams.get("batch") ?? 1));
    const code = url.searchParams.get("code") ?? "1+2";
    const system = url.searchParams.get("system");
    let measured;
    if (system === "sandboxer" || system === "sandboxer-plain") {
      measured = await time(n, batch, () =>
        runSnippet(env.LOADER, {
          code,
          language: "js",
          limits: LIMITS,
          env: {},
          globalOutbound: null,
          readModule: async () => null,
          uninstrumented: system === "sandboxer-plain",
        }).then((r) => r.result),
      );
    } else if (system === "codemode") {
      measured = await time(n, batch, async () => {
        const executor = new DynamicWorkerExecutor({ loader: env.LOADER });
        // codemode takes an async arrow function body; `return` gives the result.
        return (await executor.execute(`async () => { return ${code} }`, [])).result;
      });
    } else if (system === "floor" || system === "floor-runtime") {
      // The layers under our provider: a bare load of one module and one RPC into it, then the
      // same plus our runtime modules (primordials, budget, inspect, console, guards) evaluated.
      measured = await time(n, batch, async () => {
        const withRuntime = system === "floor-runtime";
        const names = { primordials: "/r_primordials.js", budget: "/r_budget.js", inspect: "/r_inspect.js", console: "/r_console.js", guards: "/r_guards.js", snippet: "/r_snippet.js" };
        const runtime: Record<string, { js: string }> = withRuntime
          ? {
              "r_primordials.js": { js: primordialsModuleSource() },
              "r_budget.js": { js: budgetModuleSource(LIMITS.cpuMs, names.primordials) },
              "r_inspect.js": { js: inspectModuleSource(names.primordials) },
              "r_console.js": { js: consoleModuleSource(names, LIMITS.outputBytes) },
              "r_guards.js": { js: guardsModuleSource(names.primordials, {}) },
            }
          : {};
        const imports = Object.keys(runtime).map((name) => `import "/${name}";`).join("\n");
        const worker = env.LOADER.load({
          compatibilityDate: ISOLATE_COMPATIBILITY_DATE,
          compatibilityFlags: ["no_nodejs_compat", "no_nodejs_compat_v2"],
          mainModule: "main.js",
          modules: {
            ...runtime,
            "main.js": { js: `${imports}\nimport { WorkerEntrypoint } from "cloudflare:workers";\nexport default class extends WorkerEntrypoint { run() { return JSON.stringify(${code}); } }` },
          },
          env: {},
          globalOutbound: null,
        });
        return (worker.getEntrypoint() as unknown as { run(): Promise<string> }).run();
      });
    } else {
      return new Response("unknown system", { status: 400 });
    }
    return Response.json(measured);
  },
};
