import { CommandCollector, readServerSentEvents } from "../../client/sse";
import { ErrorCode, SandboxerError } from "../errors";
import type { CommandInput, Operations } from "../operations";
import type { CommandResult } from "../schemas/commands";

/**
 * `runCommand` over RPC: the HTTP body's fields, plus output callbacks (RPC stubs of the
 * caller's own functions), each called with a chunk of text as the command writes it.
 */
export interface RpcCommandRequest extends CommandInput {
  /** Called with each chunk the command writes to stdout, as it happens. */
  onStdout?: (text: string) => unknown;
  /** Called with each chunk the command writes to stderr, as it happens. */
  onStderr?: (text: string) => unknown;
}

/** Splits the callbacks off the body; a callback that is not a function is a validation error, as in `exec`. */
function callbacksOf(request: RpcCommandRequest) {
  const { onStdout, onStderr, ...body } = request ?? ({} as RpcCommandRequest);
  const errors = (["onStdout", "onStderr"] as const)
    .filter((name) => request?.[name] !== undefined && typeof request[name] !== "function")
    .map((name) => ({ path: `body.${name}`, message: "expected a function" }));
  if (errors.length > 0) {
    throw new SandboxerError(ErrorCode.validationFailed, `The request body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, { errors });
  }
  return { body, onStdout, onStderr };
}

/**
 * Runs a command in sandbox `id`. With callbacks, the command is streamed and each chunk is
 * handed to the caller in order (a callback that throws is ignored: the caller's trouble
 * must not change the command); the whole result is returned either way.
 */
export async function commandOverRpc(ops: Operations, id: string, request: RpcCommandRequest): Promise<CommandResult> {
  const { body, onStdout, onStderr } = callbacksOf(request);
  if (!onStdout && !onStderr) return ops.runCommand(id, body);
  const collector = new CommandCollector();
  for await (const event of readServerSentEvents(await ops.runCommandStream(id, body))) {
    const chunk = collector.add(event);
    const callback = chunk && (chunk.stream === "stdout" ? onStdout : onStderr);
    if (chunk && callback) {
      await Promise.resolve()
        .then(() => callback(chunk.data))
        .catch(() => undefined);
    }
  }
  const result = collector.result();
  if (result && "commandId" in result) return result;
  throw new SandboxerError(ErrorCode.internal, result?.error.message ?? "The command could not be run; it has been logged.");
}

/** `startProcess` over RPC: callbacks make no sense for a process that outlives the call, so they are refused. */
export function startOverRpc(ops: Operations, id: string, request: RpcCommandRequest) {
  const { body, onStdout, onStderr } = callbacksOf(request);
  if (onStdout || onStderr) {
    throw new SandboxerError(ErrorCode.validationFailed, "The request body is invalid: a background process has no output callbacks; read its output tail with getProcess.", {
      errors: [{ path: `body.${onStdout ? "onStdout" : "onStderr"}`, message: "not taken by startProcess" }],
    });
  }
  return ops.startProcess(id, body);
}
