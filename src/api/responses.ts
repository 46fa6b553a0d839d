import type { z } from "@hono/zod-openapi";
import { Problem } from "../schemas/common";

/** OpenAPI response entries shared by routes. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

export function problem(description: string) {
  return { content: { "application/problem+json": { schema: Problem } }, description };
}

/** What any authenticated route can answer besides its own outcomes. */
export const COMMON_ERRORS = {
  400: problem("Validation failed (every bad field listed in `errors`), or an unknown query parameter"),
  401: problem("Missing or invalid API key"),
  429: problem("Too many requests (see `Retry-After`)"),
  503: problem("The runtime is restarting (see `Retry-After`); retry the request"),
} as const;

/** Routes under /v1/sandboxes/{id}. */
export const SANDBOX_ERRORS = {
  ...COMMON_ERRORS,
  404: problem("No such sandbox (or another tenant's)"),
} as const;

/** Routes that need the sandbox running: a paused one is a 409, a stopped one a 410. */
export const LIVE_ERRORS = {
  ...SANDBOX_ERRORS,
  409: problem("The sandbox is paused (`sandbox_paused`): resume it first with POST /v1/sandboxes/{id}/resume"),
  410: problem("The sandbox is stopped (`sandbox_stopped`, with its `reason`): create a new one"),
} as const;

/** Routes that take a request body. */
export const BODY_ERRORS = {
  413: problem("The request body is larger than 10 MiB (or the route's own limit)"),
  415: problem("The body's Content-Type is not one this route takes"),
} as const;

/** SSE framing headers for the streaming routes: no buffering by proxies on the way. */
export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
} as const;
