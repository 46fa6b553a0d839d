import { createRoute, z } from "@hono/zod-openapi";
import { PROFILES } from "../profiles";
import { Profile } from "../schemas/profile";
import { createApp } from "./app";
import { COMMON_ERRORS, json } from "./responses";

export const profiles = createApp();

const listProfiles = createRoute({
  method: "get",
  path: "/v1/profiles",
  summary: "List sandbox profiles",
  responses: { 200: json(z.object({ profiles: z.array(Profile) }), "Every profile"), 401: COMMON_ERRORS[401] },
});

profiles.openapi(listProfiles, (c) => c.json({ profiles: [...PROFILES.values()] }, 200));
