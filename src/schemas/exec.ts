import { z } from "@hono/zod-openapi";

export const ExecRequest = z
  .object({
    code: z.string().min(1).openapi({ example: "1 + 2" }),
    language: z
      .enum(["js", "ts", "python", "bash"])
      .default("js")
      .describe("js/ts run in an isolate (profiles js, js-net); python/bash run through the interpreter on a linux sandbox"),
    timeoutMs: z.number().int().positive().optional().describe("Wall-clock limit; at most the profile's"),
    cpuMs: z.number().int().positive().optional().describe("CPU budget; at most the profile's"),
    input: z.any().optional().describe("Any JSON value, visible to the code as `input`"),
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

export const ExecResult = z
  .object({
    executionId: z.string(),
    status: z.enum(["ok", "error"]),
    result: z.any().describe("The value of the last expression (JSON), or its rendering when resultType is set"),
    resultType: z.string().optional().describe("Set when the result is not plain JSON: undefined, bigint, Map, Date, function, circular, …"),
    resultTruncated: z.boolean().optional(),
    stdout: z.string(),
    stderr: z.string(),
    stdoutTruncated: z.boolean().optional(),
    stderrTruncated: z.boolean().optional(),
    logs: z.array(LogEntry),
    error: ExecError.optional(),
    durationMs: z.number(),
    exitCode: z.number().int().optional().describe("The interpreter's exit code (python/bash on linux)"),
    cpu: z.object({ budgetMs: z.number(), usedMs: z.number() }),
  })
  .openapi("ExecResult");

export type ExecRequest = z.input<typeof ExecRequest>;
export type ExecResult = z.infer<typeof ExecResult>;
export type ExecError = z.infer<typeof ExecError>;
export type LogEntry = z.infer<typeof LogEntry>;
export type LimitName = z.infer<typeof LimitName>;
