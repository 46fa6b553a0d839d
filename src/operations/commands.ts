import { CommandRequest, ProcessIdParam, type CommandResult, type ProcessInfo } from "../schemas/commands";
import { ErrorCode, SandboxerError } from "../errors";
import { sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

/** What `runCommand` and `startProcess` take: the HTTP body's fields (`cmd` or `argv`, `cwd`, `env`, `stdin`, `timeoutMs`). */
export type CommandInput = CommandRequest;

/** The process id, checked as the HTTP path checks it (so every door refuses the same ids). */
const parsePid = (pid: string): string => parseInput(ProcessIdParam.shape.pid, pid, "path.pid");

/**
 * A request for `runCommand`/`runCommandStream`: `background: true` belongs to `startProcess`
 * (HTTP picks it by that field; other doors have a method each), so it is refused rather than
 * silently run in the foreground.
 */
function foreground(request: CommandInput): CommandInput {
  const body = parseInput(CommandRequest, request, "body");
  if (!body.background) return body;
  throw new SandboxerError(ErrorCode.validationFailed, "The request body is invalid: body.background: a background command is started with startProcess (or POST /v1/sandboxes/{id}/commands with background: true); drop `background` to run it to completion.", {
    errors: [{ path: "body.background", message: "use startProcess for a background command" }],
  });
}

/** Shell commands and background processes (linux profiles; other profiles answer `limit_exceeded` naming them). */
export function commandOperations(ctx: OperationContext) {
  return {
    /**
     * Runs a command to completion. A non-zero exit or a limit that stopped it (named in
     * `limit`) is a result, not an error; refusals before it runs (no shell in the profile,
     * a timeout above the profile's, queue full, stopped sandbox) throw.
     */
    async runCommand(id: string, request: CommandInput): Promise<CommandResult> {
      return sandboxOf(ctx, id).runCommand(foreground(request));
    },

    /**
     * Like `runCommand`, streamed as server-sent events (text/event-stream bytes): `stdout` and
     * `stderr` (`{data}`) as the command writes, then `exit` with the whole result (or `error`).
     */
    async runCommandStream(id: string, request: CommandInput): Promise<ReadableStream<Uint8Array>> {
      return sandboxOf(ctx, id).runCommandStream(foreground(request));
    },

    /** Starts a command in the background and answers at once with its process. */
    async startProcess(id: string, request: CommandInput): Promise<ProcessInfo> {
      const body = parseInput(CommandRequest, request, "body");
      return sandboxOf(ctx, id).startProcess(body);
    },

    /** Running and recently finished background processes. */
    async listProcesses(id: string): Promise<ProcessInfo[]> {
      return sandboxOf(ctx, id).listProcesses();
    },

    /** One background process with the tails of its output (`not_found` for an unknown pid). */
    async getProcess(id: string, pid: string): Promise<ProcessInfo> {
      const checked = parsePid(pid);
      return sandboxOf(ctx, id).getProcess(checked);
    },

    /** Kills a background process and everything it started; answers it as it ended. */
    async killProcess(id: string, pid: string): Promise<ProcessInfo> {
      const checked = parsePid(pid);
      return sandboxOf(ctx, id).killProcess(checked);
    },
  };
}
