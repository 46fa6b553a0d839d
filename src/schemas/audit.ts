import { z } from "@hono/zod-openapi";

/** One audited event: a capability call, an egress decision, or a lifecycle step (a snapshot taken, a restore). */
export const AuditEntry = z
  .object({
    ts: z.string().datetime(),
    kind: z.enum(["capability", "egress", "lifecycle"]),
    /** Capability and method (`files.write`), for egress `fetch`, for lifecycle `snapshot` or `restore`. */
    action: z.string(),
    decision: z.enum(["allowed", "denied"]),
    host: z.string().optional(),
    method: z.string().optional(),
    status: z.number().int().optional(),
    bytes: z.number().int().optional(),
    detail: z.string().optional(),
    executionId: z.string().optional(),
    count: z.number().int().optional().describe("Identical failures aggregated into this row (absent: 1)"),
    lastTs: z.string().datetime().optional().describe("When the last of the aggregated failures happened"),
  })
  .openapi("AuditEntry");

export const AuditPage = z
  .object({ entries: z.array(AuditEntry.extend({ seq: z.number().int() })), nextCursor: z.string().nullable() })
  .openapi("AuditPage");

/** A page request for the audit log. */
export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
});

export type AuditQuery = z.input<typeof AuditQuery>;
export type AuditEntry = z.infer<typeof AuditEntry>;
export type AuditPage = z.infer<typeof AuditPage>;
