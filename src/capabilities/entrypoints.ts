import { WorkerEntrypoint } from "cloudflare:workers";
import { sandboxStub } from "../api/stubs";
import { SandboxerError } from "../errors";
import type { CapabilityCall, CapabilityProps } from "./definitions";
import { CallGate } from "./gate";

/** Shared by every capability entrypoint instance in this isolate (one gate per execution id). */
const gate = new CallGate();

/**
 * Thin typed facades. They hold no power of their own: each call is forwarded, with the
 * identity from `props` (set by us at load time, unreachable from the sandbox), to the
 * sandbox's Durable Object, which checks the grant, does the work and audits it.
 */
abstract class CapabilityEntrypoint extends WorkerEntrypoint<Env, CapabilityProps> {
  protected call(call: CapabilityCall): Promise<unknown> {
    const { tenant, sandboxId, executionId } = this.ctx.props;
    // Counted per execution (at most so many in flight); errors reach the sandbox readable ("code: detail").
    return readable(gate.run(executionId, () => sandboxStub(this.env, tenant, sandboxId).invokeCapability(call, executionId)));
  }
}

/** Errors reach the sandbox as plain Errors with a readable "code: detail" message. */
function readable<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    const known = SandboxerError.fromRpc(error);
    throw known ? new Error(`${known.code}: ${known.detail}`) : error;
  });
}

/**
 * The RPC caller's host tools (src/capabilities/tools.ts), as the snippet's `tools.<name>(args)`
 * reaches them: forwarded to the sandbox's Durable Object, which holds the caller's stubs for
 * this execution, audits the call and counts it against the subrequest limit.
 */
export class ToolsCapability extends WorkerEntrypoint<Env, CapabilityProps> {
  async call(name: string, args: unknown): Promise<unknown> {
    const { tenant, sandboxId, executionId } = this.ctx.props;
    return readable(sandboxStub(this.env, tenant, sandboxId).invokeTool(executionId, String(name), args));
  }
}

/**
 * The arguments arrive from sandbox code, so anything at all: a wrong type is a TypeError in
 * our words, thrown here, before it can reach code that would fail in its own (a bundler's
 * `raw2.startsWith is not a function`). RPC keeps a TypeError a TypeError.
 */
function text(value: unknown, method: string, name: string): string {
  if (typeof value !== "string") throw new TypeError(`${method}: ${name} must be a string, not ${kindOf(value)}.`);
  return value;
}

function optionalText(value: unknown, method: string, name: string): string | undefined {
  return value === undefined ? undefined : text(value, method, name);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export class FilesCapability extends CapabilityEntrypoint {
  async read(path: string): Promise<string> {
    return (await this.call({ capability: "files", method: "read", path: text(path, "files.read(path)", "path") })) as string;
  }
  async readBytes(path: string): Promise<Uint8Array> {
    return (await this.call({ capability: "files", method: "readBytes", path: text(path, "files.readBytes(path)", "path") })) as Uint8Array;
  }
  async write(path: string, content: string | Uint8Array): Promise<unknown> {
    if (typeof content !== "string" && !(content instanceof Uint8Array)) {
      throw new TypeError(`files.write(path, content): content must be a string or a Uint8Array, not ${kindOf(content)}.`);
    }
    return this.call({ capability: "files", method: "write", path: text(path, "files.write(path, content)", "path"), content });
  }
  async list(prefix?: string): Promise<unknown> {
    return this.call({ capability: "files", method: "list", prefix: optionalText(prefix, "files.list(prefix)", "prefix") });
  }
  async delete(path: string): Promise<boolean> {
    return (await this.call({ capability: "files", method: "delete", path: text(path, "files.delete(path)", "path") })) as boolean;
  }
}

export class StateCapability extends CapabilityEntrypoint {
  async get(key: string): Promise<unknown> {
    return this.call({ capability: "state", method: "get", key: text(key, "state.get(key)", "key") });
  }
  async put(key: string, value: unknown): Promise<void> {
    await this.call({ capability: "state", method: "put", key: text(key, "state.put(key, value)", "key"), value });
  }
  async delete(key: string): Promise<boolean> {
    return (await this.call({ capability: "state", method: "delete", key: text(key, "state.delete(key)", "key") })) as boolean;
  }
  async list(prefix?: string): Promise<unknown> {
    return this.call({ capability: "state", method: "list", prefix: optionalText(prefix, "state.list(prefix)", "prefix") });
  }
}
