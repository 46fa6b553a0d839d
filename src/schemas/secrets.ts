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
      // Printable ASCII only: the value goes into HTTP headers, and every escaped form of a
      // printable ASCII character (JSON, HTML, percent-encoding) is one the scrubber knows.
      .refine((v) => /^[\x21-\x7e]+$/.test(v), { message: "printable ASCII without spaces or line breaks (characters ! to ~)" })
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
