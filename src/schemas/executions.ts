import { z } from "@hono/zod-openapi";

/** One row of a sandbox's execution history. Outputs are kept for an hour, the row for the sandbox's life. */
export const ExecutionSummary = z
  .object({
    executionId: z.string(),
    codeHash: z.string().describe("SHA-256 of the submitted code"),
    language: z.enum(["js", "ts", "python", "bash", "command"]).describe("`command` for the commands API"),
    status: z.enum(["running", "ok", "error"]),
    errorName: z.string().optional(),
    limit: z.string().optional().describe("Which limit stopped it, when errorName is LimitExceeded"),
    startedAt: z.string().datetime(),
    finishedAt: z.string().datetime().optional(),
    durationMs: z.number().optional(),
    cpuUsedMs: z.number().optional(),
    output: z
      .object({ result: z.unknown(), resultType: z.string().optional(), stdout: z.string(), stderr: z.string(), error: z.unknown().optional() })
      .optional()
      .describe("Present for an hour after the execution finished"),
  })
  .openapi("ExecutionSummary");

export const ExecutionPage = z
  .object({ executions: z.array(ExecutionSummary), nextCursor: z.string().nullable() })
  .openapi("ExecutionPage");

/** A page request for the execution history. */
export const ExecutionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(64).optional(),
});

export type ExecutionsQuery = z.input<typeof ExecutionsQuery>;
export type ExecutionSummary = z.infer<typeof ExecutionSummary>;
export type ExecutionPage = z.infer<typeof ExecutionPage>;
