// The supervised runtime: one Miniflare (workerd) instance serving the pre-built Worker.
// Started by the supervisor as a child process in its own process group, so that killing
// the group also kills workerd. It loads Miniflare, prints a STANDBY line, and waits for its
// options (one line of JSON on stdin): the supervisor starts it before it is needed, so that a
// restart does not wait for Node and Miniflare to load (standby.mjs). Prints one READY line
// on stdout when it serves.
import { createInterface } from "node:readline";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

process.stdout.write("SANDBOXER_RUNTIME_STANDBY\n");
const line = await new Promise((resolve) => {
  const input = createInterface({ input: process.stdin });
  input.once("line", (text) => {
    resolve(text); // before close(), whose listener below would resolve null first
    input.close();
  });
  // The supervisor went away before it needed us.
  input.once("close", () => resolve(null));
});
if (line === null) process.exit(0);

const mf = new Miniflare(convertV4MiniflareOptions(JSON.parse(line)));
const url = await mf.ready;
process.stdout.write(`SANDBOXER_RUNTIME_READY ${url.href}\n`);

const stop = async () => {
  await mf.dispose().catch(() => undefined);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
