import { ErrorCode, SandboxerError } from "../../src/errors";
import { newExecutionId, sha256Hex } from "../../src/ids";
import type { CommandRun, OutputListener } from "../../src/providers/contract";
import { commandLine } from "../../src/providers/linux";
import type { CommandRequest, CommandResult, ProcessInfo } from "../../src/schemas/commands";
import { MAX_QUEUED_EXECUTIONS, type ExecutionContext } from "./execute";
import type { StoredSandbox } from "./record";

/** Refuses commands on a sandbox whose provider has none, naming the profiles that do. */
export function checkCommands(ctx: ExecutionContext, s: StoredSandbox): void {
  if (ctx.provider.capabilities.commands) return;
  throw new SandboxerError(
    ErrorCode.limitExceeded,
    `Profile '${s.profile.name}' runs JS/TS snippets only and has no shell; create the sandbox with profile 'linux' (or 'linux-net') to run commands.`,
    { limit: "commands", profiles: ["linux", "linux-net"] },
  );
}

/** The provider's view of a command request: one bash line, the sandbox's env under the call's, a bounded clock. */
export function commandRun(s: StoredSandbox, request: CommandRequest): CommandRun {
  const wallMs = s.profile.limits.wallMs;
  if (request.timeoutMs !== undefined && request.timeoutMs > wallMs) {
    throw new SandboxerError(ErrorCode.limitExceeded, `timeoutMs is ${request.timeoutMs}; profile '${s.profile.name}' allows at most ${wallMs}.`, {
      limit: "timeoutMs",
      max: wallMs,
    });
  }
  return {
    command: commandLine(request),
    ...(request.cwd ? { cwd: request.cwd } : {}),
    env: { ...s.env, ...request.env },
    ...(request.stdin !== undefined ? { stdin: request.stdin } : {}),
    timeoutMs: request.timeoutMs ?? wallMs,
  };
}

/**
 * Checks what can be refused before anything runs, records the command in the execution
 * history (language `command`), then `run` executes it to completion.
 */
export function prepareCommand(ctx: ExecutionContext, s: StoredSandbox, request: CommandRequest) {
  checkCommands(ctx, s);
  const run = commandRun(s, request);
  if (ctx.queue.depth >= MAX_QUEUED_EXECUTIONS) {
    throw new SandboxerError(ErrorCode.rateLimited, `${ctx.queue.depth} executions are already waiting in this sandbox.`, { retryAfterSeconds: 1 });
  }
  const commandId = newExecutionId();
  ctx.history.start(commandId, "command", Date.now());
  const codeHash = sha256Hex(run.command);

  async function execute(onOutput?: OutputListener): Promise<CommandResult> {
    const started = Date.now();
    try {
      const { audit, ...outcome } = await ctx.queue.run(() => {
        ctx.onStarted(commandId);
        return ctx.provider.runCommand(run, onOutput);
      });
      if (audit.length > 0) ctx.onAudit(audit, commandId);
      const result: CommandResult = { commandId, ...outcome, durationMs: outcome.durationMs || Date.now() - started };
      const failed = result.exitCode !== 0 || result.limit !== undefined;
      ctx.history.finish(
        commandId,
        {
          codeHash: await codeHash,
          status: failed ? "error" : "ok",
          ...(result.limit ? { errorName: "LimitExceeded", limit: result.limit } : failed ? { errorName: "NonZeroExit" } : {}),
          durationMs: result.durationMs,
          output: { result: { exitCode: result.exitCode }, stdout: result.stdout, stderr: result.stderr },
        },
        Date.now(),
      );
      ctx.onFinished(commandId);
      return result;
    } catch (error) {
      const message = error instanceof SandboxerError ? error.detail : "The command could not be run; it has been logged.";
      ctx.history.finish(
        commandId,
        { codeHash: await codeHash, status: "error", errorName: "InternalError", durationMs: Date.now() - started, output: { result: null, stdout: "", stderr: "", error: { name: "InternalError", message } } },
        Date.now(),
      );
      ctx.onFinished(commandId);
      throw error;
    }
  }

  return { commandId, run: execute };
}

/** Starts a background process; recorded in the history as a command that started. */
export async function startBackground(ctx: ExecutionContext, s: StoredSandbox, request: CommandRequest): Promise<ProcessInfo> {
  checkCommands(ctx, s);
  const run = commandRun(s, request);
  const commandId = newExecutionId();
  const now = Date.now();
  ctx.history.start(commandId, "command", now);
  try {
    const process = await ctx.provider.startProcess(run);
    ctx.history.finish(
      commandId,
      { codeHash: await sha256Hex(run.command), status: "ok", durationMs: Date.now() - now, output: { result: { background: true, pid: process.pid }, stdout: "", stderr: "" } },
      Date.now(),
    );
    return process;
  } catch (error) {
    ctx.history.finish(commandId, { codeHash: await sha256Hex(run.command), status: "error", errorName: "InternalError", durationMs: Date.now() - now, output: { result: null, stdout: "", stderr: "" } }, Date.now());
    throw error;
  } finally {
    ctx.onFinished(commandId);
  }
}
