import { ErrorCode, SandboxerError } from "../../src/errors";
import { PROFILES, DEFAULT_PROFILE, findProfile } from "../../src/profiles";
import type { Profile } from "../../src/schemas/profile";
import type { CreateSandboxBody, PatchSandboxBody } from "../../src/schemas/sandbox";
import { MAX_METADATA_KEYS } from "../../src/schemas/sandbox";
import type { StoredSandbox } from "./record";
import { CAPABILITIES } from "../../src/capabilities/definitions";
import type { CapabilityGrant, SecretBinding } from "../../src/schemas/sandbox";
import type { NetworkRule } from "../../src/schemas/profile";
import { parseRuleHost, ruleWithin } from "../../src/egress/policy";
import { newPlaceholder } from "../../src/secrets/crypto";

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
  // `null` (not `undefined`) switches the idle clock off.
  const idleTimeoutSeconds = body.idleTimeoutSeconds === undefined ? profile.ttl.idleDefault : body.idleTimeoutSeconds;
  checkTtl(ttlSeconds, profile, "ttlSeconds");
  if (idleTimeoutSeconds !== null) checkTtl(idleTimeoutSeconds, profile, "idleTimeoutSeconds");

  const capabilities = body.capabilities ?? [];
  const notAllowed = capabilities.filter((c) => !profile.capabilities.includes(c.name));
  if (notAllowed.length > 0) {
    throw new SandboxerError(
      ErrorCode.validationFailed,
      `Profile '${profile.name}' does not allow capabilities: ${notAllowed.map((c) => c.name).join(", ")}. Allowed: ${profile.capabilities.join(", ") || "none"}.`,
      { errors: notAllowed.map((c) => ({ path: `capabilities.${capabilities.indexOf(c)}.name`, message: "not allowed by the profile" })) },
    );
  }
  const grants = checkGrants(capabilities);
  const clash = Object.keys(body.env ?? {}).find((name) => CAPABILITIES[name]);
  if (clash) {
    throw new SandboxerError(ErrorCode.validationFailed, `env.${clash} would hide the '${clash}' capability; choose another name.`, {
      errors: [{ path: `env.${clash}`, message: "reserved for a capability" }],
    });
  }

  const allow = checkNetwork(body.network?.allow ?? [], profile);
  // Egress is the `fetch` capability: granted with the rules, revocable by PATCH like any other.
  if (allow.length > 0 && !grants.some((g) => g.name === "fetch")) grants.push({ name: "fetch", options: {} });
  if (profile.provider === "linux" && Object.keys(body.secrets ?? {}).length > 0) {
    // The linux egress proxy sees HTTPS only as CONNECT tunnels, so it cannot swap a placeholder for a value.
    throw new SandboxerError(ErrorCode.validationFailed, `Profile '${profile.name}' cannot inject secrets (its egress proxy cannot see inside HTTPS); use profile 'js-net' for code that needs secrets.`, {
      errors: [{ path: "secrets", message: "not supported by linux profiles" }],
    });
  }
  const secrets = planSecrets(body.secrets ?? {}, allow, body.env ?? {});

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
    capabilities: grants,
    env: body.env ?? {},
    secrets,
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
    if (patch.idleTimeoutSeconds !== null) checkTtl(patch.idleTimeoutSeconds, s.profile, "idleTimeoutSeconds");
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
  if (patch.capabilities) {
    const kept = checkGrants(patch.capabilities);
    const added = kept.filter((g) => !s.capabilities.some((c) => c.name === g.name));
    if (added.length > 0) {
      throw new SandboxerError(ErrorCode.validationFailed, `Grants are fixed at create; PATCH can only revoke. Not granted: ${added.map((g) => g.name).join(", ")}.`, {
        errors: added.map((g) => ({ path: `capabilities.${kept.indexOf(g)}.name`, message: "not granted at create" })),
      });
    }
    // Revocation keeps each remaining grant's original options.
    next.capabilities = s.capabilities.filter((c) => kept.some((g) => g.name === c.name));
  }
  next.version = s.version + 1;
  return next;
}

/** The sandbox's allow rules: valid hosts (no `*`), each within the profile's policy. */
function checkNetwork(allow: NetworkRule[], profile: Profile): NetworkRule[] {
  if (allow.length > 0 && (profile.network.allow.length === 0 || !profile.capabilities.includes("fetch"))) {
    limitExceeded(`Profile '${profile.name}' allows no network access; choose a profile with egress (js-net).`, { limit: "network" });
  }
  const errors: { path: string; message: string }[] = [];
  allow.forEach((rule, index) => {
    const host = parseRuleHost(rule.host);
    if (!host || "any" in host) {
      errors.push({ path: `network.allow.${index}.host`, message: "must be a host name or *.suffix (no IP addresses, no bare *)" });
    } else if (!ruleWithin(rule, profile.network.allow)) {
      errors.push({ path: `network.allow.${index}`, message: `outside profile '${profile.name}''s network policy` });
    }
  });
  if (errors.length > 0) {
    throw new SandboxerError(ErrorCode.validationFailed, "Some network allow rules are invalid or outside the profile's policy.", { errors });
  }
  return allow;
}

/** Secret bindings: names free, hosts valid and inside the allowlist, one fresh placeholder each. */
function planSecrets(
  bindings: Record<string, SecretBinding>,
  allow: NetworkRule[],
  env: Record<string, string>,
): Record<string, SecretBinding & { placeholder: string }> {
  const errors: { path: string; message: string }[] = [];
  const planned: Record<string, SecretBinding & { placeholder: string }> = {};
  for (const [name, binding] of Object.entries(bindings)) {
    if (name in env || CAPABILITIES[name]) errors.push({ path: `secrets.${name}`, message: "name already used by env or a capability" });
    binding.hosts.forEach((host, index) => {
      const parsed = parseRuleHost(host);
      if (!parsed || "any" in parsed) errors.push({ path: `secrets.${name}.hosts.${index}`, message: "must be a host name or *.suffix" });
      else if (!ruleWithin({ host }, allow.map((rule) => ({ host: rule.host })))) errors.push({ path: `secrets.${name}.hosts.${index}`, message: "not in the sandbox's network allowlist" });
    });
    planned[name] = { secret: binding.secret, hosts: binding.hosts, ...(binding.allowInsecure ? { allowInsecure: true } : {}), placeholder: newPlaceholder() };
  }
  if (errors.length > 0) throw new SandboxerError(ErrorCode.validationFailed, "Some secret bindings are invalid.", { errors });
  return planned;
}

/** Each grant's options checked against its capability's schema; no duplicates. */
function checkGrants(grants: CapabilityGrant[]): CapabilityGrant[] {
  const names = grants.map((g) => g.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) {
    throw new SandboxerError(ErrorCode.validationFailed, `Capability '${duplicate}' is granted twice.`, {
      errors: [{ path: "capabilities", message: `duplicate capability '${duplicate}'` }],
    });
  }
  return grants.map((grant, index) => {
    const definition = CAPABILITIES[grant.name];
    if (!definition) {
      throw new SandboxerError(ErrorCode.validationFailed, `Unknown capability '${grant.name}'. Known: ${Object.keys(CAPABILITIES).join(", ")}.`, {
        errors: [{ path: `capabilities.${index}.name`, message: "unknown capability" }],
      });
    }
    const options = definition.options.safeParse(grant.options ?? {});
    if (!options.success) {
      throw new SandboxerError(ErrorCode.validationFailed, `Invalid options for capability '${grant.name}'.`, {
        errors: options.error.issues.map((issue) => ({
          path: ["capabilities", index, "options", ...issue.path].join("."),
          message: issue.message,
        })),
      });
    }
    return { name: grant.name, options: options.data as Record<string, unknown> };
  });
}
