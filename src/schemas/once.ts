import { z } from "@hono/zod-openapi";
import { ExecRequest, ExecResult } from "./exec";
import { CreateSandboxBody } from "./sandbox";

/** Most workspace files a one-shot may bring (each still counts against the profile's file limits). */
export const MAX_ONCE_FILES = 100;

/**
 * `POST /v1/exec`: an exec request plus what the ephemeral sandbox needs (its profile, the
 * files the code imports or reads, and the hosts it may reach on a profile with egress).
 */
export const RunOnceRequest = ExecRequest.extend({
  profile: CreateSandboxBody.shape.profile.describe("The profile the ephemeral sandbox gets (default `js`): its limits and network policy apply"),
  files: z
    .record(z.string().min(1).max(1024), z.string())
    .refine((files) => Object.keys(files).length <= MAX_ONCE_FILES, { message: `at most ${MAX_ONCE_FILES} files` })
    .optional()
    .describe("Text files (path → UTF-8 content) written to the workspace before the code runs; the code can import them by relative path")
    .openapi({ example: { "lib/add.ts": "export const add = (a: number, b: number) => a + b;" } }),
  network: CreateSandboxBody.shape.network.describe("Outbound hosts, on a profile with egress (`js-net`, `linux-net`); within the profile's policy"),
})
  .strict()
  .openapi("RunOnceRequest");

/** The exec result, plus the id of the ephemeral sandbox it ran in (stopped already; its audit and history stay readable for 24 h). */
export const RunOnceResult = ExecResult.extend({
  sandboxId: z.string().describe("The ephemeral sandbox, already stopped: `GET /v1/sandboxes/{id}/audit` and `/executions` read what the run did, for 24 h"),
}).openapi("RunOnceResult");

export type RunOnceRequest = z.input<typeof RunOnceRequest>;
export type RunOnceResult = z.infer<typeof RunOnceResult>;
