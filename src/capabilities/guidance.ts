import { PROFILES } from "../profiles";
import type { RunGuidance } from "../providers/isolate/runtime/guards";
import type { Profile } from "../schemas/profile";
import type { CapabilityGrant } from "../schemas/sandbox";
import { CAPABILITIES } from "./definitions";

/**
 * What code in this sandbox is told when it reaches for something it was not given: each
 * capability of `env` it lacks (grant it, or use a profile that offers it) and, without the
 * `fetch` grant, the network (which profile and allowlist give one). Errors that direct, not
 * the runtime's "Cannot read properties of undefined".
 */
export function runGuidance(s: { profile: Profile; capabilities: CapabilityGrant[] }): RunGuidance {
  const granted = new Set(s.capabilities.map((g) => g.name));
  const profile = s.profile;
  const env: Record<string, string> = {};
  for (const [name, definition] of Object.entries(CAPABILITIES)) {
    if (!definition.entrypoint || granted.has(name)) continue;
    env[name] = profile.capabilities.includes(name)
      ? `env.${name} is not granted to this sandbox. Create the sandbox with "capabilities": [{ "name": "${name}" }] (profile '${profile.name}' offers it).`
      : `env.${name} is not available in profile '${profile.name}'. Create the sandbox with a profile that offers it (${offering(name)}) and "capabilities": [{ "name": "${name}" }].`;
  }
  if (granted.has("fetch")) return { env };
  const network = profile.capabilities.includes("fetch")
    ? `This sandbox has no network: it was created without "network": { "allow": [...] }. Create it with "network": { "allow": [{ "host": "api.example.com" }] } to reach those hosts through the egress gateway.`
    : `This sandbox has no network: profile '${profile.name}' gives none. Create the sandbox with "profile": "${offering("fetch").split(", ")[0] ?? "js-net"}" and "network": { "allow": [{ "host": "api.example.com" }] }.`;
  return { env, network };
}

/** The shipped profiles that offer a capability, by name. */
function offering(capability: string): string {
  return [...PROFILES.values()].filter((p) => p.capabilities.includes(capability)).map((p) => p.name).join(", ") || "none";
}
