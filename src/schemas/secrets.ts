import { z } from "@hono/zod-openapi";

export const MAX_SECRET_BYTES = 8 * 1024;

export const SecretName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "letters, digits, '_', '.', '-'; at most 64; starting with a letter or digit");

export const SecretNameParam = z.object({
  name: SecretName.openapi({ param: { name: "name", in: "path" }, example: "gh" }),
});

export const PutSecretBody = z
  .object({
    value: z
      .string()
      .min(1)
      .refine((v) => new TextEncoder().encode(v).length <= MAX_SECRET_BYTES, { message: `at most ${MAX_SECRET_BYTES} bytes` })
      .refine((v) => !/[\r\n\0]/.test(v), { message: "no line breaks or NUL: the value goes into HTTP headers" })
      .openapi({ example: "ghp_xxxxxxxxxxxxxxxxxxxx" }),
  })
  .strict()
  .openapi("PutSecret");

/** What the API shows of a secret: never its value. */
export const SecretInfo = z
  .object({ name: z.string(), createdAt: z.string().datetime(), updatedAt: z.string().datetime() })
  .openapi("Secret");

export const SecretList = z.object({ secrets: z.array(SecretInfo) }).openapi("SecretList");

export type PutSecretInput = z.input<typeof PutSecretBody>;
export type SecretInfo = z.infer<typeof SecretInfo>;
export type SecretList = z.infer<typeof SecretList>;
