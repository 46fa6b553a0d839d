import type { Profile } from "../../src/schemas/profile";
import type { CapabilityGrant, EndReason, IsolationLevel, SandboxProviderName, SandboxRecord, SecretBinding } from "../../src/schemas/sandbox";

const ISOLATION_LEVELS: Record<SandboxProviderName, IsolationLevel> = {
  isolate: "v8-isolate",
  "linux-jail": "linux-namespaces",
  "cloudflare-container": "container-vm",
};

/** How long a stopped sandbox keeps answering with its end reason before it is purged. */
export const TOMBSTONE_MS = 24 * 60 * 60 * 1000;

/** What a SandboxDO keeps about itself; times are epoch milliseconds. */
export interface StoredSandbox {
  id: string;
  tenant: string;
  /** The profile as it was at creation: later profile edits do not change a live sandbox. */
  profile: Profile;
  /** The backend chosen at create (absent in records from before providers: isolate). */
  provider?: SandboxProviderName;
  state: "running" | "stopped";
  createdAt: number;
  lastActiveAt: number;
  expiresAt: number;
  /** `null`: the idle clock is off and only `expiresAt` ends the sandbox. */
  idleTimeoutSeconds: number | null;
  endedAt?: number;
  endReason?: EndReason;
  /** Set while paused (`POST …/pause`): the idle clock is stopped, the TTL keeps running. */
  pausedAt?: number;
  metadata: Record<string, string>;
  network: SandboxRecord["network"];
  capabilities: CapabilityGrant[];
  env: Record<string, string>;
  /** Secret bindings by env name, each with the placeholder the code sees in its place. */
  secrets?: Record<string, SecretBinding & { placeholder: string }>;
  /** Bumped on every change; the ETag is derived from it. */
  version: number;
  /** A one-shot (`POST /v1/exec`): never in the tenant's registry, stopped as soon as its run ends. */
  ephemeral?: true;
  /** Stopped, but releasing its runtime failed: the alarm tries again at this time, until the purge. */
  releaseRetryAt?: number;
}

/** How long after a failed release of a stopped sandbox's runtime the alarm tries again. */
export const RELEASE_RETRY_MS = 60_000;

/** When the idle clock runs out (`Infinity` when it is off, or stopped by a pause). */
export function idleExpiresAt(s: StoredSandbox): number {
  return s.idleTimeoutSeconds === null || s.pausedAt !== undefined ? Infinity : s.lastActiveAt + s.idleTimeoutSeconds * 1000;
}

/** Which clock has run out at `now`, if any; the absolute TTL wins a tie. */
export function dueReason(s: StoredSandbox, now: number): { reason: EndReason; at: number } | undefined {
  if (s.state !== "running") return undefined;
  if (now >= s.expiresAt) return { reason: "ttl_expired", at: s.expiresAt };
  const idle = idleExpiresAt(s);
  if (now >= idle) return { reason: "idle_timeout", at: idle };
  return undefined;
}

/** When the alarm must next fire: the earlier clock while running, the purge time once stopped. */
export function nextWake(s: StoredSandbox): number {
  if (s.state === "running") return Math.min(s.expiresAt, idleExpiresAt(s));
  const purgeAt = (s.endedAt ?? Date.now()) + TOMBSTONE_MS;
  return s.releaseRetryAt === undefined ? purgeAt : Math.min(s.releaseRetryAt, purgeAt);
}

export function etagOf(s: StoredSandbox): string {
  return `"${s.version}"`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The public record (API.md) for a stored sandbox. */
export function toRecord(s: StoredSandbox): SandboxRecord {
  return {
    id: s.id,
    tenant: s.tenant,
    profile: s.profile.name,
    profileVersion: s.profile.version,
    provider: s.provider ?? "isolate",
    isolationLevel: ISOLATION_LEVELS[s.provider ?? "isolate"],
    state: s.state,
    createdAt: iso(s.createdAt),
    lastActiveAt: iso(s.lastActiveAt),
    expiresAt: iso(s.expiresAt),
    idleTimeoutSeconds: s.idleTimeoutSeconds,
    idleExpiresAt: s.idleTimeoutSeconds === null || s.pausedAt !== undefined ? null : iso(idleExpiresAt(s)),
    ...(s.endedAt !== undefined ? { endedAt: iso(s.endedAt) } : {}),
    ...(s.endReason ? { endReason: s.endReason } : {}),
    ...(s.pausedAt !== undefined && s.state === "running" ? { paused: true, pausedAt: iso(s.pausedAt) } : {}),
    metadata: s.metadata,
    network: s.network,
    capabilities: s.capabilities,
    secrets: Object.fromEntries(Object.entries(s.secrets ?? {}).map(([name, { placeholder: _, ...binding }]) => [name, binding])),
    etag: etagOf(s),
  };
}
