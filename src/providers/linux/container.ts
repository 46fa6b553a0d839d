import { Sandbox } from "@cloudflare/sandbox";

/**
 * The Cloudflare container behind a deployed linux sandbox (wrangler.toml `[[containers]]`,
 * image containers/linux/Dockerfile). Our clocks rule it, not the SDK's: the SandboxDO
 * destroys the container when the sandbox stops (TTL, idle, delete), so `sleepAfter` is only
 * a safety net set beyond the longest TTL a profile allows (24 h), and keepAlive stays off
 * (the SDK's activity renewal is known to misfire after hibernation).
 */
export class LinuxContainer extends Sandbox<Env> {
  override sleepAfter: string | number = "25h";
}
