import { z } from "@hono/zod-openapi";
import { NetworkRule } from "./profile";
import { SecretName } from "./secrets";
import { SnapshotId } from "./snapshots";

export const MAX_METADATA_KEYS = 64;
export const MAX_METADATA_KEY_CHARS = 64;
export const MAX_METADATA_VALUE_CHARS = 512;
export const MAX_ENV_KEYS = 64;
export const MAX_ENV_VALUE_CHARS = 4096;

const MetadataKey = z.string().min(1).max(MAX_METADATA_KEY_CHARS);
const MetadataValue = z.string().max(MAX_METADATA_VALUE_CHARS);

export const Metadata = z
  .record(MetadataKey, MetadataValue)
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, {
    message: `at most ${MAX_METADATA_KEYS} metadata keys`,
  })
  .openapi("Metadata");

/** JSON merge patch of metadata: a `null` value removes the key. */
export const MetadataPatch = z
  .record(MetadataKey, MetadataValue.nullable())
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, {
    message: `at most ${MAX_METADATA_KEYS} metadata keys`,
  })
  .openapi("MetadataPatch");

export const CapabilityGrant = z
  .object({
    name: z.string().min(1).max(64),
    // Checked per capability by its own schema (src/capabilities); `any` keeps RPC typing shallow.
    options: z.record(z.string(), z.any()).optional(),
  })
  .openapi("CapabilityGrant");

export const SandboxNetwork = z
  .object({ allow: z.array(NetworkRule).max(100).default([]) })
  .openapi("SandboxNetwork", { description: "Egress allow rules; must be within the profile's policy" });

export const MAX_SECRET_BINDINGS = 32;

export const SecretBinding = z
  .object({
    secret: SecretName.describe("The tenant secret (PUT /v1/secrets/{name})"),
    hosts: z
      .array(z.string().min(1).max(253))
      .min(1)
      .max(20)
      .describe("Hosts (exact or `*.suffix`) whose requests get the real value in their headers; each must be in the sandbox's network allowlist"),
    allowInsecure: z
      .boolean()
      .optional()
      .describe("Also inject over plain http:// and on ports other than 443. Off by default: the value is sent only over https to port 443"),
  })
  .strict()
  .openapi("SecretBinding");

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "must be an identifier");

export const CreateSandboxBody = z
  .object({
    profile: z.string().min(1).max(64).optional().openapi({ example: "js" }),
    ttlSeconds: z.number().int().min(1).optional().openapi({ example: 900 }),
    idleTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .nullable()
      .optional()
      .openapi({ example: 300, description: "Seconds without activity before the sandbox stops; `null` switches the idle clock off (the TTL still ends it). Default: the profile's." }),
    metadata: Metadata.optional(),
    env: z
      .record(EnvName, z.string().max(MAX_ENV_VALUE_CHARS))
      .refine((e) => Object.keys(e).length <= MAX_ENV_KEYS, { message: `at most ${MAX_ENV_KEYS} variables` })
      .optional()
      .describe("Plain environment values the sandbox's code sees as `env.NAME`"),
    network: SandboxNetwork.optional(),
    capabilities: z.array(CapabilityGrant).max(32).optional(),
    secrets: z
      .record(EnvName, SecretBinding)
      .refine((m) => Object.keys(m).length <= MAX_SECRET_BINDINGS, { message: `at most ${MAX_SECRET_BINDINGS} secrets` })
      .optional()
      .describe("Secrets the code can use without seeing: `env.NAME` is a placeholder the egress gateway swaps for the value in request headers to the listed hosts"),
    fromSnapshot: SnapshotId.optional().describe(
      "Seed the new sandbox from one of your snapshots (a fork: each create is an independent copy). Profile, env, network, capabilities and secret bindings come from the snapshot; only ttlSeconds, idleTimeoutSeconds and metadata (merged over the snapshot's) may be given with it",
    ),
  })
  .strict()
  .openapi("CreateSandbox");

export const PatchSandboxBody = z
  .object({
    ttlSeconds: z.number().int().min(1).optional(),
    idleTimeoutSeconds: z.number().int().min(1).nullable().optional().describe("`null` switches the idle clock off"),
    metadata: MetadataPatch.optional(),
    capabilities: z
      .array(CapabilityGrant)
      .max(32)
      .optional()
      .describe("The grants to keep: a subset of the current ones (revocation). Grants cannot be added after create."),
  })
  .strict()
  .openapi("PatchSandbox");

export const SandboxState = z.enum(["running", "stopped"]);
/** The concrete backend serving a sandbox (a profile's provider, resolved where it runs). */
export const SandboxProviderName = z.enum(["isolate", "linux-jail", "cloudflare-container"]);
export const IsolationLevel = z.enum(["v8-isolate", "linux-namespaces", "container-vm"]);
export const EndReason = z.enum(["deleted", "ttl_expired", "idle_timeout"]);

export const SandboxRecord = z
  .object({
    id: z.string(),
    tenant: z.string(),
    profile: z.string(),
    profileVersion: z.string(),
    provider: SandboxProviderName.describe("What runs this sandbox's code: a V8 isolate, the local Linux jail, or a Cloudflare container"),
    isolationLevel: IsolationLevel.describe("The boundary around the code: a V8 isolate, Linux namespaces (local jail), or a container VM (Cloudflare)"),
    state: SandboxState,
    createdAt: z.string().datetime(),
    lastActiveAt: z.string().datetime(),
    expiresAt: z.string().datetime().describe("Absolute end of life"),
    idleTimeoutSeconds: z.number().int().nullable().describe("`null`: no idle clock, only the TTL"),
    idleExpiresAt: z.string().datetime().nullable().describe("When the idle clock runs out unless there is activity; `null` when it is off"),
    endedAt: z.string().datetime().optional(),
    endReason: EndReason.optional(),
    paused: z
      .literal(true)
      .optional()
      .describe("Present while paused (POST …/pause): its runtime is released, exec and commands answer 409 until POST …/resume; the idle clock is stopped (idleExpiresAt null), the TTL (expiresAt) keeps running"),
    pausedAt: z.string().datetime().optional(),
    metadata: z.record(z.string(), z.string()),
    network: SandboxNetwork,
    capabilities: z.array(CapabilityGrant),
    secrets: z.record(z.string(), SecretBinding).describe("Secret bindings (names and hosts; never values)"),
    etag: z.string(),
  })
  .openapi("Sandbox");

export const SandboxList = z
  .object({ sandboxes: z.array(SandboxRecord), nextCursor: z.string().nullable() })
  .openapi("SandboxList");

export const ListSandboxesQuery = z.object({
  state: SandboxState.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional(),
});

/**
 * A listing query as an operation takes it: the HTTP door folds its `metadata.<key>=<value>`
 * query parameters into `metadata`; other doors pass the object directly.
 */
export const ListSandboxesInput = ListSandboxesQuery.extend({
  metadata: z.record(MetadataKey, z.string()).optional(),
});

export type CreateSandboxBody = z.infer<typeof CreateSandboxBody>;
/** What a caller may send to create (defaults not yet applied). */
export type CreateSandboxInput = z.input<typeof CreateSandboxBody>;
export type PatchSandboxInput = z.input<typeof PatchSandboxBody>;
export type ListSandboxesInput = z.input<typeof ListSandboxesInput>;
export type SandboxList = z.infer<typeof SandboxList>;
export type PatchSandboxBody = z.infer<typeof PatchSandboxBody>;
export type SandboxRecord = z.infer<typeof SandboxRecord>;
export type CapabilityGrant = z.infer<typeof CapabilityGrant>;
export type SecretBinding = z.infer<typeof SecretBinding>;
export type EndReason = z.infer<typeof EndReason>;
export type SandboxProviderName = z.infer<typeof SandboxProviderName>;
export type IsolationLevel = z.infer<typeof IsolationLevel>;
