import { z } from "@hono/zod-openapi";

/** Which provider a profile's sandboxes run on (src/providers). */
export const ProviderKind = z.enum(["isolate", "linux", "external"]);

/** A host allow rule for egress: exact host or `*.suffix`, optional ports and methods. */
export const NetworkRule = z
  .object({
    host: z.string().min(1).max(253),
    ports: z.array(z.number().int().min(1).max(65535)).optional(),
    methods: z.array(z.string().min(1).max(16)).optional(),
  })
  .openapi("NetworkRule");

export const NetworkPolicy = z
  .object({
    default: z.literal("deny"),
    allow: z.array(NetworkRule).max(100).default([]),
  })
  .openapi("NetworkPolicy");

export const ProfileLimits = z
  .object({
    cpuMs: z.number().int().positive().describe("CPU budget per execution, in milliseconds"),
    wallMs: z.number().int().positive().describe("Wall-clock limit per execution, in milliseconds"),
    memoryMb: z.number().int().positive().describe("Memory per isolate (enforced on Cloudflare only)"),
    codeBytes: z.number().int().positive().describe("Largest snippet accepted"),
    outputBytes: z.number().int().positive().describe("Largest stdout, stderr and result each"),
    subRequests: z.number().int().nonnegative().describe("Outbound requests and RPC calls per execution"),
    storageBytes: z.number().int().positive().describe("Workspace quota (all files together)"),
    fileBytes: z.number().int().positive().describe("Largest single file"),
    maxFiles: z.number().int().positive().describe("Most files in the workspace"),
    processes: z.number().int().positive().optional().describe("Most processes at once in the sandbox (linux profiles)"),
  })
  .openapi("ProfileLimits");

export const ProfileTtl = z
  .object({
    default: z.number().int().positive().describe("Lifetime in seconds when the create body gives none"),
    max: z.number().int().positive().describe("Longest lifetime in seconds, counted from creation"),
    idleDefault: z.number().int().positive().describe("Idle timeout in seconds when the create body gives none"),
  })
  .refine((ttl) => ttl.default <= ttl.max && ttl.idleDefault <= ttl.max, {
    message: "default and idleDefault must not exceed max",
  })
  .openapi("ProfileTtl");

/** The one schema every file in `profiles/` must satisfy. */
export const Profile = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
    version: z.string().regex(/^\d+\.\d+\.\d+$/),
    description: z.string().min(1),
    provider: ProviderKind,
    isolation_level: z.enum(["v8-isolate", "container", "microvm"]),
    persistence: z.enum(["ephemeral", "persistent", "checkpoint"]),
    network: NetworkPolicy,
    limits: ProfileLimits,
    ttl: ProfileTtl,
    capabilities: z.array(z.string().min(1)).describe("Capabilities a sandbox of this profile may be granted"),
  })
  .strict()
  .openapi("Profile");

/** `GET /v1/profiles`: every profile (inline in the OpenAPI document, not a named component). */
export const ProfileList = z.object({ profiles: z.array(Profile) });

export type Profile = z.infer<typeof Profile>;
export type ProfileList = z.infer<typeof ProfileList>;
export type NetworkRule = z.infer<typeof NetworkRule>;
export type ProviderKind = z.infer<typeof ProviderKind>;
