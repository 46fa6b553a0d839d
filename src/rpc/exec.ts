import { ExecutionCollector, readServerSentEvents } from "../../client/sse";
import type { HostTools } from "../capabilities/tools";
import { ErrorCode, SandboxerError } from "../errors";
import type { ExecInput, Operations } from "../operations";
import type { ExecResult, OutputLine } from "../schemas/exec";

export type { OutputLine };

/**
 * `exec` over RPC: the HTTP body's fields, plus what only a binding can pass, functions.
 * They arrive as RPC stubs of the caller's own functions.
 */
export interface RpcExecRequest extends ExecInput {
  /** Called with each line the code writes with console.log/info/debug, as it happens. */
  onStdout?: (text: string, line: OutputLine) => unknown;
  /** Called with each line the code writes with console.warn/error, as it happens. */
  onStderr?: (text: string, line: OutputLine) => unknown;
  /** Host tools: callable from the snippet as `tools.<name>(args)` (audited, counted as subrequests). */
  tools?: HostTools;
}

function callbacksOf(request: RpcExecRequest) {
  const { onStdout, onStderr, tools, ...body } = request ?? ({} as RpcExecRequest);
  const errors = (["onStdout", "onStderr"] as const)
    .filter((name) => request?.[name] !== undefined && typeof request[name] !== "function")
    .map((name) => ({ path: `body.${name}`, message: "expected a function" }));
  if (errors.length > 0) {
    throw new SandboxerError(ErrorCode.validationFailed, `The request body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, { errors });
  }
  return { body, tools, onStdout, onStderr };
}

/**
 * Runs `request` in sandbox `id`. With callbacks, the execution is streamed and each
 * console line is handed to the caller in order (a callback that throws is ignored:
 * the caller's trouble must not change the execution); the whole result is returned.
 */
export async function execOverRpc(ops: Operations, id: string, request: RpcExecRequest): Promise<ExecResult> {
  const { body, tools, onStdout, onStderr } = callbacksOf(request);
  if (!onStdout && !onStderr) return ops.exec(id, body, { tools });
  const stream = await ops.execStream(id, body, { tools });
  const collector = new ExecutionCollector();
  for await (const event of readServerSentEvents(stream)) {
    const line = collector.add(event);
    const callback = line && (line.stream === "stdout" ? onStdout : onStderr);
    if (line && callback) {
      await Promise.resolve()
        .then(() => callback(line.message, line))
        .catch(() => undefined);
    }
  }
  const result = collector.result();
  if (!result) throw new SandboxerError(ErrorCode.internal, "The execution could not be run; it has been logged.");
  return result;
}

/** `execStream` over RPC: the SSE bytes of the HTTP route (read them with `readServerSentEvents`). */
export async function execStreamOverRpc(ops: Operations, id: string, request: RpcExecRequest): Promise<ReadableStream<Uint8Array>> {
  const { body, tools } = callbacksOf(request);
  return ops.execStream(id, body, { tools });
}
