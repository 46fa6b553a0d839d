import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { operations, type Operations } from "../operations";
import { validationError } from "../operations/validate";

export type AppEnv = { Bindings: Env; Variables: { tenant: string } };

/** A sub-app whose validation failures become problem+json listing every bad field. */
export function createApp(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    // `/v1/sandboxes/` is `/v1/sandboxes`: a trailing slash never turns a route into a 404/405.
    strict: false,
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target === "json" ? "body" : result.target);
    },
  });
}

/** The operations of the request's authenticated tenant: what every route handler calls. */
export function ops(c: Context<AppEnv>): Operations {
  return operations(c.env, c.get("tenant"));
}
