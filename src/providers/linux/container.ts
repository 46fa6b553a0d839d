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
  /**
   * No internet from the container (the Containers default is on). linux-net's egress proxy is
   * the local jail host's; deployed, its policy would belong in the class's outbound handlers,
   * which are not built yet, so deployed linux-net sandboxes have no network either.
   */
  override enableInternet = false;
}
