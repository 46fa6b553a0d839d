import type { Profile } from "../../src/schemas/profile";
import type { CapabilityGrant, EndReason, SandboxRecord, SecretBinding } from "../../src/schemas/sandbox";

/** How long a stopped sandbox keeps answering with its end reason before it is purged. */
export const TOMBSTONE_MS = 24 * 60 * 60 * 1000;

/** What a SandboxDO keeps about itself; times are epoch milliseconds. */
export interface StoredSandbox {
  id: string;
  tenant: string;
  /** The profile as it was at creation: later profile edits do not change a live sandbox. */
  profile: Profile;
  state: "running" | "stopped";
  createdAt: number;
  lastActiveAt: number;
  expiresAt: number;
  idleTimeoutSeconds: number;
  endedAt?: number;
  endReason?: EndReason;
  metadata: Record<string, string>;
  network: SandboxRecord["network"];
  capabilities: CapabilityGrant[];
  env: Record<string, string>;
  /** Secret bindings by env name, each with the placeholder the code sees in its place. */
  secrets?: Record<string, SecretBinding & { placeholder: string }>;
  /** Bumped on every change; the ETag is derived from it. */
  version: number;
}

export function idleExpiresAt(s: StoredSandbox): number {
  return s.lastActiveAt + s.idleTimeoutSeconds * 1000;
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
  return s.state === "running" ? Math.min(s.expiresAt, idleExpiresAt(s)) : (s.endedAt ?? Date.now()) + TOMBSTONE_MS;
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
    state: s.state,
    createdAt: iso(s.createdAt),
    lastActiveAt: iso(s.lastActiveAt),
    expiresAt: iso(s.expiresAt),
    idleTimeoutSeconds: s.idleTimeoutSeconds,
    idleExpiresAt: iso(idleExpiresAt(s)),
    ...(s.endedAt !== undefined ? { endedAt: iso(s.endedAt) } : {}),
    ...(s.endReason ? { endReason: s.endReason } : {}),
    metadata: s.metadata,
    network: s.network,
    capabilities: s.capabilities,
    secrets: Object.fromEntries(Object.entries(s.secrets ?? {}).map(([name, { placeholder: _, ...binding }]) => [name, binding])),
    etag: etagOf(s),
  };
}
