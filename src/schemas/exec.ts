import { z } from "@hono/zod-openapi";
import { CONTEXT_ID_PATTERN, ContextDropped } from "./contexts";

/** Deepest nesting accepted in an exec's `input` (it is copied, recursively, into the isolate). */
export const MAX_INPUT_DEPTH = 256;

/** How deeply a JSON value nests arrays and objects, counted without recursion and only up to `max + 1`. */
function nestingDepth(value: unknown, max: number): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== "object" || node === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > max) break;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}

export const ExecRequest = z
  .object({
    code: z.string().min(1).openapi({ example: "1 + 2" }),
    language: z
      .enum(["js", "ts", "python", "bash"])
      .default("js")
      .describe("js/ts run in an isolate (profiles js, js-net); python/bash run through the interpreter on a linux sandbox"),
    timeoutMs: z.number().int().positive().optional().describe("Wall-clock limit; at most the profile's"),
    cpuMs: z.number().int().positive().optional().describe("CPU budget; at most the profile's"),
    input: z
      .any()
      .optional()
      .superRefine((value, ctx) => {
        if (nestingDepth(value, MAX_INPUT_DEPTH) > MAX_INPUT_DEPTH) {
          ctx.addIssue({ code: "custom", message: `input nests deeper than ${MAX_INPUT_DEPTH} levels; flatten it, or pass it as a JSON string and parse it in the code` });
        }
      })
      .describe(`Any JSON value nested at most ${MAX_INPUT_DEPTH} deep, visible to the code as \`input\``),
    context: z
      .string()
      .regex(CONTEXT_ID_PATTERN, "a context id looks like ctx_ and 24 hex digits (POST /v1/sandboxes/{id}/contexts makes one)")
      .optional()
      .describe("Run as a cell of this code context: earlier cells' top-level declarations are in scope, and this cell's are kept for later ones"),
  })
  .strict()
  .openapi("ExecRequest");

export const LimitName = z.enum(["cpu", "wall", "memory", "subrequests", "output", "disk", "processes"]);

export const ExecError = z
  .object({
    name: z.string(),
    message: z.string(),
    stack: z.string().optional(),
    line: z.number().int().optional().describe("1-based line in the user's own code"),
    column: z.number().int().optional().describe("1-based column in the user's own code"),
    file: z.string().optional().describe("The snippet (`<snippet>`) or the workspace module the error points into"),
    limit: LimitName.optional(),
  })
  .openapi("ExecError");

export const LogEntry = z
  .object({ level: z.enum(["log", "info", "debug", "warn", "error"]), message: z.string(), ts: z.string().datetime() })
  .openapi("LogEntry");

/** A console line as the exec stream's `stdout`/`stderr` events (and console callbacks) carry it. */
export const OutputLine = LogEntry.extend({
  stream: z.enum(["stdout", "stderr"]),
  cut: z.literal(true).optional().describe("The line was cut at the output limit (no newline follows it in stdout/stderr)"),
}).openapi("OutputLine");

export const ExecResult = z
  .object({
    executionId: z.string(),
    status: z.enum(["ok", "error"]),
    result: z.any().describe("The value of the last expression (JSON), or its rendering when resultType is set"),
    resultType: z
      .string()
      .optional()
      .describe(
        'Set when the result is not plain JSON. "tagged": an array or object kept as JSON, each part JSON cannot carry replaced by {"@type", "text"} (e.g. {"@type":"undefined","text":"undefined"}); "json": JSON text cut at the size limit; otherwise the result is a string rendering and this names what it was: undefined, bigint, Map, Date, function, circular, …',
      ),
    resultTruncated: z.boolean().optional(),
    stdout: z.string(),
    stderr: z.string(),
    stdoutTruncated: z.boolean().optional(),
    stderrTruncated: z.boolean().optional(),
    logs: z.array(LogEntry),
    error: ExecError.optional(),
    durationMs: z.number(),
    exitCode: z.number().int().optional().describe("The interpreter's exit code (python/bash on linux)"),
    contextDropped: z
      .array(ContextDropped)
      .optional()
      .describe("A context cell: bindings that could not be carried to later cells (a function value, a promise, a stub…), each with why"),
    cpu: z.object({
      budgetMs: z.number(),
      usedMs: z.number().describe("CPU counted against the budget, compilation included"),
      compileMs: z.number().optional().describe("Of usedMs, the time spent compiling the code and the modules it imports (0 when cached)"),
    }),
  })
  .openapi("ExecResult");

/**
 * The exec stream's `done` event: the result without what the stream already carried (the
 * output lines, and the value or error in the `result`/`error` event), so a megabyte of stdout
 * is sent once.
 */
export const ExecSummary = ExecResult.omit({ stdout: true, stderr: true, logs: true, result: true, error: true }).openapi("ExecSummary");

export type ExecRequest = z.input<typeof ExecRequest>;
export type ExecSummary = z.infer<typeof ExecSummary>;
export type ExecResult = z.infer<typeof ExecResult>;
export type ExecError = z.infer<typeof ExecError>;
export type LogEntry = z.infer<typeof LogEntry>;
export type OutputLine = z.infer<typeof OutputLine>;
export type LimitName = z.infer<typeof LimitName>;
