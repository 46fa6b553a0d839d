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
    // Errors reach the sandbox as plain Errors with a readable "code: detail" message.
    return gate.run(executionId, () => sandboxStub(this.env, tenant, sandboxId).invokeCapability(call, executionId)).catch((error: unknown) => {
      const known = SandboxerError.fromRpc(error);
      throw known ? new Error(`${known.code}: ${known.detail}`) : error;
    });
  }
}

export class FilesCapability extends CapabilityEntrypoint {
  async read(path: string): Promise<string> {
    return (await this.call({ capability: "files", method: "read", path })) as string;
  }
  async readBytes(path: string): Promise<Uint8Array> {
    return (await this.call({ capability: "files", method: "readBytes", path })) as Uint8Array;
  }
  async write(path: string, content: string | Uint8Array): Promise<unknown> {
    return this.call({ capability: "files", method: "write", path, content });
  }
  async list(prefix?: string): Promise<unknown> {
    return this.call({ capability: "files", method: "list", prefix });
  }
  async delete(path: string): Promise<boolean> {
    return (await this.call({ capability: "files", method: "delete", path })) as boolean;
  }
}

export class StateCapability extends CapabilityEntrypoint {
  async get(key: string): Promise<unknown> {
    return this.call({ capability: "state", method: "get", key });
  }
  async put(key: string, value: unknown): Promise<void> {
    await this.call({ capability: "state", method: "put", key, value });
  }
  async delete(key: string): Promise<boolean> {
    return (await this.call({ capability: "state", method: "delete", key })) as boolean;
  }
  async list(prefix?: string): Promise<unknown> {
    return this.call({ capability: "state", method: "list", prefix });
  }
}
