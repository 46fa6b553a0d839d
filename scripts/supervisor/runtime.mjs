// The supervised runtime: one Miniflare (workerd) instance serving the pre-built Worker.
// Started by the supervisor as a child process in its own process group, so that killing
// the group also kills workerd. Prints one READY line on stdout when it serves.
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const options = JSON.parse(process.env.SANDBOXER_RUNTIME_OPTIONS ?? "{}");
const mf = new Miniflare(convertV4MiniflareOptions(options));
const url = await mf.ready;
process.stdout.write(`SANDBOXER_RUNTIME_READY ${url.href}\n`);

const stop = async () => {
  await mf.dispose().catch(() => undefined);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
