import { ErrorCode, SandboxerError } from "../errors";
import type { Profile } from "../schemas/profile";
import type { NetworkRule } from "../schemas/profile";
import type { SandboxProviderName } from "../schemas/sandbox";
import type { SandboxProvider } from "./contract";
import { IsolateProvider, type IsolateProviderDeps } from "./isolate-provider";
import { LinuxProvider, type JailLimits } from "./linux";

export type { SandboxProvider } from "./contract";

/** Default for profiles that do not set `limits.processes`. */
const DEFAULT_PROCESSES = 256;

/**
 * Which backend serves a new sandbox of `profile` here: isolates everywhere; linux on the
 * local jail host when the supervisor gave us one (JAIL_URL + JAIL_SECRET), else on
 * Cloudflare Containers when deployed (LINUX_CONTAINER). Fixed at create: a sandbox keeps
 * its backend for life. Throws 503 naming what is missing when linux cannot run here.
 */
export function chooseProvider(env: Env, profile: Profile): SandboxProviderName {
  if (profile.provider === "isolate") return "isolate";
  if (profile.provider === "linux") {
    if (env.JAIL_URL && env.JAIL_SECRET) return "linux-jail";
    if (env.LINUX_CONTAINER) return "cloudflare-container";
    throw new SandboxerError(
      ErrorCode.runtimeUnavailable,
      `Profile '${profile.name}' needs a Linux runtime and none is configured: run the service with \`npm start\` (which starts the local jail host; it needs bubblewrap), or deploy with the LINUX_CONTAINER container binding.`,
      { retryAfterSeconds: 60, missing: ["JAIL_URL/JAIL_SECRET (local jail host)", "LINUX_CONTAINER (Cloudflare Containers)"] },
    );
  }
  throw new SandboxerError(ErrorCode.runtimeUnavailable, `Profile '${profile.name}' uses provider '${profile.provider}', which this deployment does not have.`, {
    retryAfterSeconds: 60,
  });
}

/** What a sandbox needs from its record to build its provider. */
export interface ProviderTarget {
  provider: SandboxProviderName;
  profile: Profile;
  /** The Durable Object's id (hex): names the sandbox to the jail host and its container. */
  key: string;
  /** Egress rules when the sandbox holds the `fetch` grant, else null (no network at all). */
  network: { allow: NetworkRule[]; profileAllow: NetworkRule[] } | null;
}

/** The provider serving one sandbox (cheap to build: no I/O). */
export function providerFor(env: Env, target: ProviderTarget, isolate: IsolateProviderDeps): SandboxProvider {
  const { profile } = target;
  switch (target.provider) {
    case "isolate":
      return new IsolateProvider(isolate);
    case "linux-jail": {
      if (!env.JAIL_URL || !env.JAIL_SECRET) {
        throw new SandboxerError(ErrorCode.runtimeUnavailable, "This sandbox runs in the local jail host, which is not configured in this runtime (start the service with `npm start`).", {
          retryAfterSeconds: 60,
        });
      }
      return new LinuxProvider(
        { kind: "linux-jail", url: env.JAIL_URL, secret: env.JAIL_SECRET, sandboxKey: target.key, limits: jailLimits(profile), network: target.network },
        profile.limits.outputBytes,
      );
    }
    case "cloudflare-container": {
      if (!env.LINUX_CONTAINER) {
        throw new SandboxerError(ErrorCode.runtimeUnavailable, "This sandbox runs on Cloudflare Containers, which this runtime has no binding for.", { retryAfterSeconds: 60 });
      }
      const stub = env.LINUX_CONTAINER.get(env.LINUX_CONTAINER.idFromName(target.key));
      return new LinuxProvider({ kind: "cloudflare-container", stub: stub as never }, profile.limits.outputBytes);
    }
  }
}

/** The profile's limits in the jail host's terms. */
export function jailLimits(profile: Profile): JailLimits {
  const { limits } = profile;
  return {
    cpuMs: limits.cpuMs,
    wallMs: limits.wallMs,
    // Background processes live as long as the sandbox may; its stop kills them sooner.
    processWallMs: profile.ttl.max * 1000,
    memoryMb: limits.memoryMb,
    processes: limits.processes ?? DEFAULT_PROCESSES,
    outputBytes: limits.outputBytes,
    storageBytes: limits.storageBytes,
    fileBytes: limits.fileBytes,
  };
}
