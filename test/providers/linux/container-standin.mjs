// A stand-in for a Cloudflare container running @cloudflare/sandbox's container server: a
// Durable Object with the two methods our provider calls on the real container class
// (`containerFetch(url, init, port)` and `destroy()`), answering the container server's HTTP
// routes with the payloads the SDK's SandboxClient sends and parses. Commands are emulated
// (echo, cat, exit, sleep); what it checks is the wire contract, not a shell. Only a deploy
// proves the real image (see README).
import { DurableObject } from "cloudflare:workers";

const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const now = () => new Date().toISOString();
const error = (status, code, message) => json({ code, message, context: {}, httpStatus: status, timestamp: now() }, status);

/** The command lines our provider may send (bash -lc, as the API documents): the user's command comes in SANDBOXER_CMD. */
const WRAPPERS = ['bash -lc "$SANDBOXER_CMD" 0</dev/null', 'bash -lc "$SANDBOXER_CMD" 0< <(printf %s "$SANDBOXER_STDIN_B64" | base64 -d)'];

export class ContainerStandIn extends DurableObject {
  files = new Map();
  processes = new Map();
  requests = [];
  /** Set by the test: the next N requests answer 503 (container not ready). */
  unavailable = 0;

  async containerFetch(url, init, port) {
    const { pathname } = new URL(url);
    const body = typeof init.body === "string" && init.body ? JSON.parse(init.body) : undefined;
    this.requests.push({ method: init.method ?? "GET", pathname, port, body });
    if (this.unavailable > 0) {
      this.unavailable--;
      return error(503, "CONTAINER_STARTING", "container is starting");
    }
    const route = `${init.method ?? "GET"} ${pathname}`;
    if (route === "GET /api/ping") return json({ success: true, message: "pong", timestamp: now() });
    if (route === "POST /api/execute") return json({ success: true, ...this.emulate(body), command: body.command, timestamp: now() });
    if (route === "POST /api/execute/stream") {
      const result = this.emulate(body);
      const events = [
        { type: "start", command: body.command },
        ...result.stdout.split(/(?<=\n)/).filter(Boolean).map((data) => ({ type: "stdout", data })),
        ...(result.stderr ? [{ type: "stderr", data: result.stderr }] : []),
        { type: "complete", exitCode: result.exitCode },
      ];
      const text = events.map((e) => `data: ${JSON.stringify({ ...e, timestamp: now() })}\n\n`).join("");
      return new Response(text, { headers: { "Content-Type": "text/event-stream" } });
    }
    if (route === "POST /api/write") {
      if (body.encoding !== "base64") return error(400, "VALIDATION_FAILED", "expected base64");
      this.files.set(body.path, { content: body.content, modifiedAt: now() });
      return json({ success: true, path: body.path, timestamp: now() });
    }
    if (route === "POST /api/read") {
      const file = this.files.get(body.path);
      if (!file) return error(404, "FILE_NOT_FOUND", `File not found: ${body.path}`);
      return json({ success: true, path: body.path, content: file.content, encoding: "base64", isBinary: true, timestamp: now() });
    }
    if (route === "POST /api/delete") {
      if (!this.files.delete(body.path)) return error(404, "FILE_NOT_FOUND", `File not found: ${body.path}`);
      return json({ success: true, path: body.path, timestamp: now() });
    }
    if (route === "POST /api/list-files") {
      const files = [...this.files.entries()]
        .filter(([path]) => path.startsWith(`${body.path}/`))
        .map(([path, file]) => ({
          name: path.slice(path.lastIndexOf("/") + 1),
          absolutePath: path,
          relativePath: path.slice(body.path.length + 1),
          type: "file",
          size: atob(file.content).length,
          modifiedAt: file.modifiedAt,
          mode: "rw-r--r--",
          permissions: { readable: true, writable: true, executable: false },
        }));
      return json({ success: true, path: body.path, files, count: files.length, timestamp: now() });
    }
    if (route === "POST /api/process/start") {
      if (!WRAPPERS.includes(body.command)) return error(400, "VALIDATION_FAILED", `stand-in: unexpected command line ${JSON.stringify(body.command)}`);
      const id = body.processId ?? `proc_${this.processes.size + 1}`;
      this.processes.set(id, { id, pid: 100 + this.processes.size, command: body.env?.SANDBOXER_CMD ?? body.command, status: "running", startTime: now() });
      return json({ success: true, processId: id, pid: this.processes.get(id).pid, command: body.command, timestamp: now() });
    }
    if (route === "GET /api/process/list") return json({ success: true, processes: [...this.processes.values()], timestamp: now() });
    const process = /^\/api\/process\/([^/]+)(\/logs)?$/.exec(pathname);
    if (process) {
      const entry = this.processes.get(process[1]);
      if (!entry) return error(404, "PROCESS_NOT_FOUND", `Process not found: ${process[1]}`);
      if (process[2]) return json({ success: true, processId: entry.id, stdout: "tail of stdout\n", stderr: "", timestamp: now() });
      if ((init.method ?? "GET") === "DELETE") {
        Object.assign(entry, { status: "killed", exitCode: 137, endTime: now() });
        return json({ success: true, processId: entry.id, signal: "SIGTERM", timestamp: now() });
      }
      return json({ success: true, process: entry, timestamp: now() });
    }
    return error(404, "NOT_FOUND", `no route ${route}`);
  }

  /** A handful of commands, enough to see arguments, stdin, exit codes and files travel. */
  emulate(body) {
    if (!WRAPPERS.includes(body.command) || body.sessionId !== "sandboxer") {
      return { exitCode: 2, stdout: "", stderr: `stand-in: unexpected command line or session: ${JSON.stringify(body)}` };
    }
    const command = body.env.SANDBOXER_CMD;
    const stdin = body.env.SANDBOXER_STDIN_B64 ? atob(body.env.SANDBOXER_STDIN_B64) : "";
    let match;
    if ((match = /^echo (.*)$/.exec(command))) return { exitCode: 0, stdout: `${match[1]}\n`, stderr: "" };
    if ((match = /^exit (\d+)$/.exec(command))) return { exitCode: Number(match[1]), stdout: "", stderr: "" };
    if (command === "cat") return { exitCode: 0, stdout: stdin, stderr: "" };
    if ((match = /^cat (\S+)$/.exec(command))) {
      const file = this.files.get(match[1].startsWith("/") ? match[1] : `${body.cwd ?? "/workspace"}/${match[1]}`);
      return file ? { exitCode: 0, stdout: atob(file.content), stderr: "" } : { exitCode: 1, stdout: "", stderr: `cat: ${match[1]}: No such file or directory\n` };
    }
    return { exitCode: 127, stdout: "", stderr: `${command.split(" ")[0]}: command not found\n` };
  }

  async destroy() {
    if (this.destroyFailures > 0) {
      this.destroyFailures--;
      throw new Error("the container could not be reached");
    }
    this.files.clear();
    for (const entry of this.processes.values()) Object.assign(entry, { status: "killed" });
    await this.ctx.storage.put("destroyed", true);
  }

  // Test inspection.
  async seen() {
    return this.requests;
  }
  async destroyed() {
    return (await this.ctx.storage.get("destroyed")) === true;
  }
  async failNext(count) {
    this.unavailable = count;
  }
  async failDestroy(count) {
    this.destroyFailures = count;
  }
}

export default {
  fetch() {
    return new Response("container stand-in");
  },
};
