// A Node script (≥ 22.18 runs .ts as it is) using the HTTP client:
//   SBX=http://localhost:8787 KEY=sbx_local_dev_key node examples/node/run.ts
import { Sandboxer, SandboxerError } from "sand-boxer/client";

const sbx = new Sandboxer({
  baseUrl: process.env.SBX ?? "http://localhost:8787",
  apiKey: process.env.KEY ?? "sbx_local_dev_key",
  retry: true, // waits out 429/503 (Retry-After) where that is safe
});

const sandbox = await sbx.sandboxes.create({ ttlSeconds: 300, metadata: { from: "node-example" } });
try {
  await sandbox.files.write("lib/greet.ts", "export const greet = (n: string): string => `hello, ${n}`;");
  const run = await sandbox.exec("import { greet } from './lib/greet.ts';\nconsole.log(greet('node'));\n6 * 7", {
    language: "ts",
    onStdout: (line) => console.log(`[sandbox] ${line}`),
  });
  console.log(JSON.stringify({ status: run.status, result: run.result }));
  await sandbox.setTimeout(60);
  for await (const record of sbx.sandboxes.list({ metadata: { from: "node-example" } })) console.log(`listed ${record.id} ${record.state}`);
} catch (error) {
  if (error instanceof SandboxerError) console.error(`failed: ${error.code} (${error.status}): ${error.detail}`);
  throw error;
} finally {
  await sandbox.kill();
}
