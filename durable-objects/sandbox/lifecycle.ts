import { ErrorCode, SandboxerError } from "../../src/errors";
import { PROFILES, DEFAULT_PROFILE, findProfile } from "../../src/profiles";
import type { Profile } from "../../src/schemas/profile";
import type { CreateSandboxBody, PatchSandboxBody } from "../../src/schemas/sandbox";
import { MAX_METADATA_KEYS } from "../../src/schemas/sandbox";
import type { StoredSandbox } from "./record";

/**
 * Pure lifecycle rules: what a create body or a PATCH does to a sandbox, checked
 * against its profile. Kept free of storage so the Worker can validate a create
 * before it claims an idempotency key, and so the rules are testable on their own.
 */

function limitExceeded(detail: string, extra: Record<string, unknown>): never {
  throw new SandboxerError(ErrorCode.limitExceeded, detail, extra);
}

function checkTtl(ttlSeconds: number, profile: Profile, field: string): void {
  if (ttlSeconds > profile.ttl.max) {
    limitExceeded(`${field} is ${ttlSeconds}; profile '${profile.name}' allows at most ${profile.ttl.max} seconds.`, {
      limit: field,
      max: profile.ttl.max,
    });
  }
}

export function resolveProfile(name: string | undefined): Profile {
  const profile = findProfile(name ?? DEFAULT_PROFILE);
  if (!profile) {
    const known = [...PROFILES.keys()];
    throw new SandboxerError(ErrorCode.validationFailed, `Unknown profile '${name}'. Known profiles: ${known.join(", ")}.`, {
      errors: [{ path: "profile", message: `must be one of: ${known.join(", ")}` }],
      knownProfiles: known,
    });
  }
  return profile;
}

/** The initial stored state of a new sandbox, or a SandboxerError naming what is wrong. */
export function planCreate(body: CreateSandboxBody, tenant: string, id: string, now: number): StoredSandbox {
  const profile = resolveProfile(body.profile);
  const ttlSeconds = body.ttlSeconds ?? profile.ttl.default;
  const idleTimeoutSeconds = body.idleTimeoutSeconds ?? profile.ttl.idleDefault;
  checkTtl(ttlSeconds, profile, "ttlSeconds");
  checkTtl(idleTimeoutSeconds, profile, "idleTimeoutSeconds");

  const capabilities = body.capabilities ?? [];
  const notAllowed = capabilities.filter((c) => !profile.capabilities.includes(c.name));
  if (notAllowed.length > 0) {
    throw new SandboxerError(
      ErrorCode.validationFailed,
      `Profile '${profile.name}' does not allow capabilities: ${notAllowed.map((c) => c.name).join(", ")}. Allowed: ${profile.capabilities.join(", ") || "none"}.`,
      { errors: notAllowed.map((c) => ({ path: `capabilities.${capabilities.indexOf(c)}.name`, message: "not allowed by the profile" })) },
    );
  }
  const names = capabilities.map((c) => c.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) {
    throw new SandboxerError(ErrorCode.validationFailed, `Capability '${duplicate}' is granted twice.`, {
      errors: [{ path: "capabilities", message: `duplicate capability '${duplicate}'` }],
    });
  }

  const allow = body.network?.allow ?? [];
  if (allow.length > 0 && profile.network.allow.length === 0) {
    limitExceeded(`Profile '${profile.name}' allows no network access; choose a profile with egress.`, { limit: "network" });
  }

  return {
    id,
    tenant,
    profile,
    state: "running",
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + ttlSeconds * 1000,
    idleTimeoutSeconds,
    metadata: body.metadata ?? {},
    network: { allow },
    capabilities,
    env: body.env ?? {},
    version: 1,
  };
}

/** Applies a PATCH: ttlSeconds counts from now (lengthen or shorten), metadata is a JSON merge patch. */
export function applyPatch(s: StoredSandbox, patch: PatchSandboxBody, now: number): StoredSandbox {
  const next: StoredSandbox = { ...s, metadata: { ...s.metadata } };
  if (patch.ttlSeconds !== undefined) {
    const maxRemaining = Math.floor((s.createdAt + s.profile.ttl.max * 1000 - now) / 1000);
    if (patch.ttlSeconds > maxRemaining) {
      limitExceeded(
        `ttlSeconds is ${patch.ttlSeconds}; profile '${s.profile.name}' caps a sandbox's life at ${s.profile.ttl.max} seconds from creation, so at most ${Math.max(0, maxRemaining)} remain.`,
        { limit: "ttlSeconds", max: Math.max(0, maxRemaining) },
      );
    }
    next.expiresAt = now + patch.ttlSeconds * 1000;
  }
  if (patch.idleTimeoutSeconds !== undefined) {
    checkTtl(patch.idleTimeoutSeconds, s.profile, "idleTimeoutSeconds");
    next.idleTimeoutSeconds = patch.idleTimeoutSeconds;
  }
  if (patch.metadata) {
    for (const [key, value] of Object.entries(patch.metadata)) {
      if (value === null) delete next.metadata[key];
      else next.metadata[key] = value;
    }
    if (Object.keys(next.metadata).length > MAX_METADATA_KEYS) {
      throw new SandboxerError(ErrorCode.validationFailed, `Metadata would have more than ${MAX_METADATA_KEYS} keys.`, {
        errors: [{ path: "metadata", message: `at most ${MAX_METADATA_KEYS} keys after the merge` }],
      });
    }
  }
  next.version = s.version + 1;
  return next;
}
