import { z } from "@hono/zod-openapi";

/** One tenant's quotas: what all of its sandboxes together may hold at once. */
export const TenantQuotas = z
  .object({
    sandboxesAlive: z.number().int().positive().describe("Sandboxes in state running at once"),
    executionsInFlight: z.number().int().positive().describe("Executions running or queued at once, over all sandboxes"),
    storageBytes: z.number().int().positive().describe("Workspace file bytes over all running sandboxes"),
  })
  .strict()
  .openapi("TenantQuotas");

/**
 * The `TENANT_QUOTAS` setting (a Worker var or secret; locally also the environment of
 * `npm start`): defaults for every tenant, and overrides per tenant.
 */
export const QuotaConfig = z
  .object({
    default: TenantQuotas.partial().optional(),
    tenants: z.record(z.string(), TenantQuotas.partial()).optional(),
  })
  .strict();

export type TenantQuotas = z.infer<typeof TenantQuotas>;
export type QuotaConfig = z.infer<typeof QuotaConfig>;
