import { z } from "@hono/zod-openapi";

export const Problem = z
  .object({
    type: z.string().url(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi("Problem", { description: "RFC 9457 problem details" });

/** `sbx_` followed by 26 base32 characters (128 random bits). */
export const SANDBOX_ID_PATTERN = /^sbx_[a-z2-7]{26}$/;

export const SandboxIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "sbx_3k2j5h6g7f8d9s2a3q4w5e6r7t" }),
});
