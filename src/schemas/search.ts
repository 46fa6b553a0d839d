import { z } from "@hono/zod-openapi";
import { ListSandboxesInput } from "./sandbox";

/** Longest "expiring within" window a search accepts: the longest TTL a profile allows. */
export const MAX_EXPIRING_WITHIN_SECONDS = 86_400;

/**
 * A listing for people watching (the dashboard, and any door that wants it): the listing
 * filters plus search by id prefix, "expiring within N seconds" (running sandboxes whose
 * earlier clock, TTL or idle, runs out within that window) and paused or not.
 */
export const SearchSandboxesInput = ListSandboxesInput.extend({
  idPrefix: z
    .string()
    .max(30)
    .regex(/^[a-z0-9_]*$/, "letters, digits and '_' only (a sandbox id or its beginning)")
    .optional(),
  expiringWithinSeconds: z.number().int().min(0).max(MAX_EXPIRING_WITHIN_SECONDS).optional(),
  paused: z.boolean().optional().describe("Only paused sandboxes (true) or only those not paused (false); paused ones are in state `running`"),
});

export type SearchSandboxesInput = z.input<typeof SearchSandboxesInput>;
