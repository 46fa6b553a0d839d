import { hostToolNames, type HostTools } from "../capabilities/tools";
import { ExecRequest, type ExecResult } from "../schemas/exec";
import { ExecutionsQuery, type ExecutionPage } from "../schemas/executions";
import { sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

/** What `exec` takes: the HTTP body's fields (`code`, `language`, `timeoutMs`, `cpuMs`, `input`). */
export type ExecInput = ExecRequest;

/** Options of `exec` that only some doors can offer. */
export interface ExecOptions {
  /**
   * Host tools (RPC doors): the caller's functions, callable from the snippet as
   * `tools.<name>(args)`; each call is audited and counts against the subrequest limit.
   */
  tools?: HostTools;
}

function checkedTools(tools: HostTools | undefined): HostTools | undefined {
  return hostToolNames(tools) ? tools : undefined;
}

/** Running code, and what ran before. */
export function execOperations(ctx: OperationContext) {
  return {
    /**
     * Runs a snippet in a fresh isolate and answers with its whole result. A thrown error in
     * the code is `status: "error"` (the call worked); refusals before anything runs (stopped
     * sandbox, per-call limit above the profile's, code too large, queue full) throw.
     */
    async exec(id: string, request: ExecInput, options: ExecOptions = {}): Promise<ExecResult> {
      const body = parseInput(ExecRequest, request, "body");
      return sandboxOf(ctx, id).exec(body, checkedTools(options.tools));
    },

    /**
     * Like `exec`, streamed as server-sent events (text/event-stream bytes): `stdout` and
     * `stderr` while it runs, then `result` or `error`, then `done` with the whole result.
     */
    async execStream(id: string, request: ExecInput, options: ExecOptions = {}): Promise<ReadableStream<Uint8Array>> {
      const body = parseInput(ExecRequest, request, "body");
      return sandboxOf(ctx, id).execStream(body, checkedTools(options.tools));
    },

    /** The execution history, newest first (outputs for an hour after each finished). */
    async executions(id: string, query: ExecutionsQuery = {}): Promise<ExecutionPage> {
      const { limit, cursor } = parseInput(ExecutionsQuery, query ?? {}, "query");
      return sandboxOf(ctx, id).listExecutions(limit, cursor);
    },
  };
}
