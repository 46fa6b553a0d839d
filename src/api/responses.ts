import type { z } from "@hono/zod-openapi";
import { Problem } from "../schemas/common";

/** OpenAPI response entries shared by routes. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

export function problem(description: string) {
  return { content: { "application/problem+json": { schema: Problem } }, description };
}

export const COMMON_ERRORS = {
  400: problem("Validation failed (every bad field listed in `errors`)"),
  401: problem("Missing or invalid API key"),
  404: problem("No such sandbox (or another tenant's)"),
} as const;
