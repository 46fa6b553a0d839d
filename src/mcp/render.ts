import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toSandboxerError } from "../api/problem";
import { ErrorCode } from "../errors";
import type { CommandResult } from "../schemas/commands";
import type { ExecResult } from "../schemas/exec";
import type { SnapshotList } from "../schemas/snapshots";

/** A successful tool result: a short text for the model, the whole value as structured content. */
export function toolResult(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured };
}

/** A value rendered as its JSON, the usual answer of the CRUD-like tools. */
export function jsonResult(structured: Record<string, unknown>): CallToolResult {
  return toolResult(JSON.stringify(structured, null, 2), structured);
}

/**
 * What to do next, in tool terms, for errors whose `detail` names an HTTP route: the detail
 * stays the same for every door, the model also gets the tool to call.
 */
const NEXT_STEP: Partial<Record<string, string>> = {
  [ErrorCode.sandboxPaused]: "Call resume_sandbox with this sandboxId, then call this tool again.",
};

/**
 * Anything an operation threw, as a tool error the model can act on: the same stable `code`,
 * `detail` and extra members (`errors`, `reason`, `limit`, …) as the HTTP problem document,
 * plus `nextStep` where the fix is another tool. Unexpected errors are logged and reduced to
 * `internal`, never a stack trace.
 */
export function errorResult(error: unknown, tool: string): CallToolResult {
  const problem = toSandboxerError(error);
  if (problem.code === ErrorCode.internal) console.error(`internal error in MCP tool ${tool}:`, error);
  const nextStep = NEXT_STEP[problem.code];
  return {
    isError: true,
    content: [{ type: "text", text: `${problem.code}: ${problem.detail}${nextStep ? ` ${nextStep}` : ""}` }],
    structuredContent: { code: problem.code, detail: problem.detail, ...problem.extra, ...(nextStep ? { nextStep } : {}) },
  };
}

/** Snapshots as one line each (id, name, size, dates, source), the whole list as structured content. */
export function snapshotListResult(list: SnapshotList): CallToolResult {
  const lines = list.snapshots.map(
    (s) => `${s.snapshotId}\t"${s.name}"\t${s.size} bytes\tcreated ${s.createdAt}\texpires ${s.expiresAt}\tof ${s.sourceSandboxId} (${s.profile})`,
  );
  if (list.nextCursor) lines.push(`more: call again with cursor ${list.nextCursor}`);
  return toolResult(lines.length === 0 ? "No snapshots." : lines.join("\n"), list);
}

/**
 * An execution as a tool result. A run that ended in an error (thrown, a limit hit) is
 * `isError`, with the error's position in the user's own code and whatever the code printed,
 * so the model can fix its code and try again.
 */
export function execResult(result: ExecResult, sandboxId: string | undefined): CallToolResult {
  const lines = [`status: ${result.status} (${result.durationMs} ms, CPU ${result.cpu.usedMs} of ${result.cpu.budgetMs} ms)`];
  if (result.error) {
    const { name, message, line, column, file, limit } = result.error;
    const where = line !== undefined ? ` at ${file ?? "<snippet>"}:${line}${column !== undefined ? `:${column}` : ""}` : "";
    lines.push(`error: ${name}: ${message}${where}${limit ? ` (limit: ${limit})` : ""}`);
    if (result.error.stack) lines.push(`stack:\n${result.error.stack}`);
  } else {
    const rendered = result.resultType ? String(result.result) : JSON.stringify(result.result);
    lines.push(`result${result.resultType ? ` (${result.resultType})` : ""}: ${rendered}${result.resultTruncated ? " [truncated]" : ""}`);
  }
  if (result.stdout) lines.push(`stdout:\n${result.stdout}${result.stdoutTruncated ? "\n[truncated]" : ""}`);
  if (result.stderr) lines.push(`stderr:\n${result.stderr}${result.stderrTruncated ? "\n[truncated]" : ""}`);
  const structured = sandboxId ? { sandboxId, ...result } : { ...result };
  return { ...toolResult(lines.join("\n"), structured), ...(result.status === "error" ? { isError: true } : {}) };
}

/**
 * A command as a tool result: the exit code, then what it wrote. A non-zero exit or a limit
 * that stopped it is `isError`, so the model reads the output and tries again.
 */
export function commandResult(result: CommandResult, sandboxId: string): CallToolResult {
  const lines = [`exit code: ${result.exitCode} (${result.durationMs} ms)${result.limit ? ` (stopped by the ${result.limit} limit)` : ""}`];
  if (result.stdout) lines.push(`stdout:\n${result.stdout}${result.stdoutTruncated ? "\n[truncated]" : ""}`);
  if (result.stderr) lines.push(`stderr:\n${result.stderr}${result.stderrTruncated ? "\n[truncated]" : ""}`);
  const failed = result.exitCode !== 0 || result.limit !== undefined;
  return { ...toolResult(lines.join("\n"), { sandboxId, ...result }), ...(failed ? { isError: true } : {}) };
}
