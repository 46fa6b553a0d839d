import { z } from "@hono/zod-openapi";

/** Most host tools one execution may be handed. */
export const MAX_HOST_TOOLS = 64;
/** A host tool's name is a JavaScript identifier (so `tools.name(…)` reads naturally). */
export const HOST_TOOL_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** Options of `types`: the host tools to declare as `tools` in the `.d.ts` (RPC only). */
export const TypesOptions = z.object({
  tools: z.array(z.string().regex(HOST_TOOL_NAME, "must be a JavaScript identifier")).max(MAX_HOST_TOOLS).optional(),
});

export type TypesOptions = z.input<typeof TypesOptions>;
