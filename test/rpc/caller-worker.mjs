// A second Worker, as a customer would write one: it binds to sand-boxer's SandboxService
// through a real service binding (`SANDBOXER`, with or without props.tenant, see
// vitest.config.ts) and exposes a few scenarios the tests call. Errors are returned as data
// ({ name, message }, exactly what crossed the binding) so the test sees the caller's view.
import { WorkerEntrypoint } from "cloudflare:workers";

const caught = async (fn) => {
  try {
    return { value: await fn() };
  } catch (error) {
    return { error: { name: error?.name, message: error?.message } };
  }
};

export default class Caller extends WorkerEntrypoint {
  /** Any SandboxService method with plain arguments. */
  call(method, ...args) {
    return caught(() => this.env.SANDBOXER[method](...args));
  }

  /** exec with the caller's own console callbacks. */
  execWithCallbacks(id, code) {
    const lines = [];
    return caught(async () => {
      const result = await this.env.SANDBOXER.exec(id, {
        code,
        onStdout: (text) => void lines.push(["stdout", text]),
        onStderr: (text) => void lines.push(["stderr", text]),
      });
      return { result, lines };
    });
  }

  /** exec with host tools: the caller's functions, holding what the sandbox must not see. */
  execWithTools(id, code, { stream = false } = {}) {
    const calls = [];
    const apiToken = "caller-only-token";
    const tools = {
      add: async ({ a, b }) => {
        calls.push(["add", a, b]);
        return a + b;
      },
      whoami: async () => {
        calls.push(["whoami"]);
        return { authorised: apiToken.length > 0 };
      },
      broken: async () => {
        calls.push(["broken"]);
        throw new Error("the tool broke");
      },
    };
    return caught(async () => {
      if (!stream) return { result: await this.env.SANDBOXER.exec(id, { code, tools }), calls };
      const text = await new Response(await this.env.SANDBOXER.execStream(id, { code, tools })).text();
      return { text, calls };
    });
  }

  /** execStream read to its end, as text/event-stream. */
  execStreamText(id, code) {
    return caught(async () => new Response(await this.env.SANDBOXER.execStream(id, { code })).text());
  }

  /** The handle: `using` a sandbox bound to one id. */
  viaHandle(id) {
    return caught(async () => {
      using sbx = await this.env.SANDBOXER.sandbox(id);
      await sbx.writeFile("notes/a.txt", "from a handle");
      const files = await sbx.listFiles("notes/");
      const run = await sbx.exec({ code: "console.log('hi'); 6 * 7" });
      const kept = await sbx.keepalive();
      return { id: await sbx.id, files, run, state: kept.state };
    });
  }

  /** runCommand with the caller's own output callbacks. */
  commandWithCallbacks(id, request) {
    const chunks = [];
    return caught(async () => {
      const result = await this.env.SANDBOXER.runCommand(id, {
        ...request,
        onStdout: (text) => void chunks.push(["stdout", text]),
        onStderr: (text) => void chunks.push(["stderr", text]),
      });
      return { result, chunks };
    });
  }

  /** Commands and background processes through a handle. */
  processesViaHandle(id) {
    return caught(async () => {
      using sbx = await this.env.SANDBOXER.sandbox(id);
      const run = await sbx.runCommand({ cmd: "echo from a handle" });
      const started = await sbx.startProcess({ cmd: "sleep 100" });
      const listed = await sbx.listProcesses();
      const one = await sbx.getProcess(started.pid);
      const killed = await sbx.killProcess(started.pid);
      return { run, started, listed, one, killed };
    });
  }

  /** Binary-safe files over RPC. */
  roundTripBytes(id, bytes) {
    return caught(async () => {
      await this.env.SANDBOXER.writeFile(id, "bin/data.bin", new Uint8Array(bytes));
      const { entry, data } = await this.env.SANDBOXER.readFile(id, "bin/data.bin");
      return { entry, bytes: [...data] };
    });
  }
}
