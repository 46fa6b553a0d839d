import { OpenAPIHono } from "@hono/zod-openapi";
import { validationError } from "./problem";

export type AppEnv = { Bindings: Env; Variables: { tenant: string } };

/** A sub-app whose validation failures become problem+json listing every bad field. */
export function createApp(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target === "json" ? "body" : result.target);
    },
  });
}
