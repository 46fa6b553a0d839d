import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toSandboxerError } from "../api/problem";
import { ErrorCode } from "../errors";
import type { CommandResult } from "../schemas/commands";
import type { ExecResult } from "../schemas/exec";

/** A successful tool result: a short text for the model, the whole value as structured content. */
export function toolResult(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured };
}

/** A value rendered as its JSON, the usual answer of the CRUD-like tools. */
export function jsonResult(structured: Record<string, unknown>): CallToolResult {
  return toolResult(JSON.stringify(structured, null, 2), structured);
}

/**
 * Anything an operation threw, as a tool error the model can act on: the same stable `code`,
 * `detail` and extra members (`errors`, `reason`, `limit`, …) as the HTTP problem document.
 * Unexpected errors are logged and reduced to `internal`, never a stack trace.
 */
export function errorResult(error: unknown, tool: string): CallToolResult {
  const problem = toSandboxerError(error);
  if (problem.code === ErrorCode.internal) console.error(`internal error in MCP tool ${tool}:`, error);
  return {
    isError: true,
    content: [{ type: "text", text: `${problem.code}: ${problem.detail}` }],
    structuredContent: { code: problem.code, detail: problem.detail, ...problem.extra },
  };
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
