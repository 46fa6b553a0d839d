import { z } from "@hono/zod-openapi";

/** Most sandboxes one bulk action may name (one page of the listing). */
export const MAX_BULK_SANDBOXES = 100;

/** The sandboxes a bulk action applies to: distinct ids, at least one. */
export const BulkSandboxIds = z
  .array(z.string().min(1).max(64))
  .min(1, "select at least one sandbox")
  .max(MAX_BULK_SANDBOXES, `at most ${MAX_BULK_SANDBOXES} sandboxes at once`)
  .transform((ids) => [...new Set(ids)]);

/** What a bulk action did to one sandbox: done, or the error it would have answered alone. */
export const BulkOutcome = z
  .object({
    id: z.string(),
    ok: z.boolean(),
    error: z.object({ code: z.string(), detail: z.string() }).optional(),
  })
  .openapi("BulkOutcome");

export type BulkOutcome = z.infer<typeof BulkOutcome>;
