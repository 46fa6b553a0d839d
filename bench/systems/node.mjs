// The Node baselines: node:vm (no isolation, lower bound), isolated-vm (a V8 isolate per
// run, when it can be installed), and a process per run (node -e).
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import vm from "node:vm";

export function nodeVm(code) {
  return () => vm.runInNewContext(code, {}, { timeout: 10_000 });
}

export function childProcess(code) {
  return () =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, ["-e", `process.stdout.write(String(eval(${JSON.stringify(code)})))`], (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
    });
}

/** isolated-vm if it is installed and loads on this Node; otherwise the reason it is not. */
export function isolatedVm() {
  try {
    const ivm = createRequire(import.meta.url)("isolated-vm");
    return {
      available: true,
      run: (code) => () => {
        const isolate = new ivm.Isolate({ memoryLimit: 128 });
        try {
          const context = isolate.createContextSync();
          return context.evalSync(code, { timeout: 10_000 });
        } finally {
          isolate.dispose();
        }
      },
    };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message.split("\n")[0] : String(error) };
  }
}
