import { z } from "@hono/zod-openapi";
import { SandboxIdParam } from "./common";

/** Shape of a context id: `ctx_` and 24 lowercase hex digits. */
export const CONTEXT_ID_PATTERN = /^ctx_[0-9a-f]{24}$/;

/** No options yet: a context's cells each name their language (js or ts share one context). */
export const CreateContextBody = z.object({}).strict().openapi("CreateContextBody");

export const CodeContext = z
  .object({
    contextId: z.string().openapi({ example: "ctx_0123456789abcdef01234567" }),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
    cells: z.number().int().describe("Cells that ran successfully in it (a failed cell changes nothing)"),
    bytes: z.number().int().describe("Size of what it carries (saved values and declaration sources), counted against its limit"),
    bindings: z.array(z.string()).describe("Names later cells see: saved values, carried functions and classes, imports"),
  })
  .openapi("CodeContext");

export const ContextList = z.object({ contexts: z.array(CodeContext) }).openapi("ContextList");

export const ContextIdParam = SandboxIdParam.extend({
  contextId: z
    .string()
    .regex(CONTEXT_ID_PATTERN, "a context id looks like ctx_ and 24 hex digits")
    .openapi({ param: { name: "contextId", in: "path" } }),
});

/** A binding a context cell could not carry to the next cell, and why. */
export const ContextDropped = z
  .object({ name: z.string(), reason: z.string() })
  .openapi("ContextDropped");

export type CreateContextBody = z.input<typeof CreateContextBody>;
export type CodeContext = z.infer<typeof CodeContext>;
export type ContextList = z.infer<typeof ContextList>;
