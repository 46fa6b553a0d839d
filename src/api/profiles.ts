import { createRoute } from "@hono/zod-openapi";
import { ProfileList } from "../schemas/profile";
import { createApp, ops } from "./app";
import { COMMON_ERRORS, json } from "./responses";

export const profiles = createApp();

const listProfiles = createRoute({
  operationId: "listProfiles",
  method: "get",
  path: "/v1/profiles",
  summary: "List sandbox profiles",
  responses: { 200: json(ProfileList, "Every profile"), ...COMMON_ERRORS },
});

profiles.openapi(listProfiles, async (c) => c.json(await ops(c).profiles(), 200));
