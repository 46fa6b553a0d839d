// One entry per sandbox the jail host has seen: its workspace directory (under the state dir,
// so it survives a restart of the service), its cgroups, the processes running in it, the
// watch on its disk quota, and, for linux-net, its egress proxy socket.
import { chownSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { killCgroups, killJailed, removeCgroups, sandboxCgroups, sandboxUid, spawnJailed } from "./jail.mjs";
import { ProcessTable } from "./commands.mjs";
import { EgressProxy } from "./egress.mjs";
import { workspaceBytes } from "./workspace.mjs";

/** A sandbox key: the SandboxDO's id (hex), so never a path trick. */
const KEY_PATTERN = /^[a-f0-9]{16,64}$/;
/** Where the egress forwarder and its socket appear inside a linux-net jail. */
const EGRESS_DIR_IN_JAIL = "/run/sandboxer";
const PROXY_PORT_IN_JAIL = 3128;
/** How often the workspace size is measured while anything runs in the sandbox. */
const DISK_CHECK_MS = 1000;

export class SandboxJail {
  constructor(host, key, limits, network) {
    this.host = host;
    this.key = key;
    this.limits = limits;
    this.network = network;
    this.workspaceDir = join(host.stateDir, "workspaces", key);
    this.uid = host.jail.asRoot ? sandboxUid(key) : undefined;
    mkdirSync(this.workspaceDir, { recursive: true, mode: 0o700 });
    if (this.uid !== undefined) chownSync(this.workspaceDir, this.uid, this.uid);
    this.cgroups = sandboxCgroups(host.jail, key, limits, this.uid);
    this.processes = new ProcessTable(this);
    /**
     * Jailed children running now (foreground commands and background processes), each with
     * the callback that records a limit that stopped it.
     * @type {Map<import("node:child_process").ChildProcess, ((limit: string) => void) | undefined>}
     */
    this.children = new Map();
    /** The disk-quota watch: runs while any child does (file writes check the quota themselves). */
    this.diskWatch = undefined;
    this.egress = null;
  }

  /** Limits and policy come with every request, so a restarted jail host needs no re-registration. */
  configure(limits, network) {
    const changed = JSON.stringify(limits) !== JSON.stringify(this.limits);
    this.limits = limits;
    this.network = network;
    if (changed) this.cgroups = sandboxCgroups(this.host.jail, this.key, limits, this.uid);
    if (this.egress) this.egress.network = network;
  }

  /** Spawns a command in this sandbox's jail (with the egress forwarder first on linux-net). */
  spawn(request) {
    let command = request.command;
    const env = { ...(request.env ?? {}) };
    const extraBinds = [];
    if (this.network) {
      this.egress ??= new EgressProxy(this.network);
      extraBinds.push(["--ro-bind", this.egress.dir, EGRESS_DIR_IN_JAIL]);
      const proxy = `http://127.0.0.1:${PROXY_PORT_IN_JAIL}`;
      Object.assign(env, { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, NO_PROXY: "", no_proxy: "" });
      // The forwarder daemonises once it listens, so the command never races it.
      command = `python3 ${EGRESS_DIR_IN_JAIL}/forward.py ${PROXY_PORT_IN_JAIL} ${EGRESS_DIR_IN_JAIL}/egress.sock || exit 70\n${command}`;
    }
    return spawnJailed(this.host.jail, {
      workspaceDir: this.workspaceDir,
      cgroups: this.cgroups,
      command,
      cwd: request.cwd,
      env,
      limits: this.limits,
      extraBinds,
      uid: this.uid,
    });
  }

  /** Counts a child as running in the sandbox; `onLimit` hears the limit that stops it (disk). */
  track(child, onLimit) {
    this.children.set(child, onLimit);
    this.diskWatch ??= setInterval(() => this.checkDisk(), DISK_CHECK_MS);
  }

  untrack(child) {
    this.children.delete(child);
    if (this.children.size === 0) this.stopDiskWatch();
  }

  /**
   * The workspace quota holds for the sandbox as a whole: past it, everything running in the
   * sandbox (foreground or background) is killed and told "disk". The files stay for the
   * caller to remove.
   */
  checkDisk() {
    if (workspaceBytes(this.workspaceDir, this.limits.storageBytes) <= this.limits.storageBytes) return;
    for (const [child, onLimit] of this.children) {
      onLimit?.("disk");
      killJailed(child);
    }
    killCgroups(this.cgroups);
  }

  stopDiskWatch() {
    clearInterval(this.diskWatch);
    this.diskWatch = undefined;
  }

  /** Kills everything running in the sandbox. */
  killAll() {
    const killed = this.processes.killAll();
    for (const child of this.children.keys()) killJailed(child);
    killCgroups(this.cgroups);
    return killed;
  }

  /** Stop for good: every process killed, the workspace and cgroups removed. */
  destroy() {
    this.killAll();
    this.stopDiskWatch();
    this.egress?.close();
    rmSync(this.workspaceDir, { recursive: true, force: true });
    setTimeout(() => removeCgroups(this.cgroups), 200).unref();
  }
}

export class SandboxRegistry {
  constructor(host) {
    this.host = host;
    /** @type {Map<string, SandboxJail>} */
    this.sandboxes = new Map();
  }

  static validKey(key) {
    return typeof key === "string" && KEY_PATTERN.test(key);
  }

  get(key, limits, network) {
    let sandbox = this.sandboxes.get(key);
    if (sandbox) sandbox.configure(limits, network);
    else {
      sandbox = new SandboxJail(this.host, key, limits, network);
      this.sandboxes.set(key, sandbox);
    }
    return sandbox;
  }

  destroy(key) {
    const sandbox = this.sandboxes.get(key);
    if (sandbox) {
      sandbox.destroy();
      this.sandboxes.delete(key);
    } else {
      rmSync(join(this.host.stateDir, "workspaces", key), { recursive: true, force: true });
    }
  }

  /** Whether a sandbox has a workspace on disk (it survives restarts of the jail host). */
  exists(key) {
    return this.sandboxes.has(key) || existsSync(join(this.host.stateDir, "workspaces", key));
  }

  closeAll() {
    for (const sandbox of this.sandboxes.values()) {
      sandbox.killAll();
      sandbox.stopDiskWatch();
      sandbox.egress?.close();
    }
  }
}
