// The jail: one bubblewrap (bwrap) invocation per command, in fresh user, PID, mount, IPC, UTS
// and network namespaces, with a read-only root, a private /tmp, and the sandbox's own
// /workspace bound from the state dir. Limits: cgroups v1 (pids, memory, cpu share) where the
// machine lets us write them, rlimits (CPU seconds, file size, open files) always, rlimits in
// place of the missing cgroups where they hold (see spawnJailed), and the caller's wall clock.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where a sandbox's processes see their files. */
export const WORKSPACE = "/workspace";
/** Size of each command's private /tmp (tmpfs, counted against memory). */
const TMP_BYTES = 64 * 1024 * 1024;
const RUN_BYTES = 1024 * 1024;
const CGROUP_ROOT = "/sys/fs/cgroup";
/** Our cgroups live under sandboxer-<hash of the state dir>: one jail host's never touch another's. */
const CGROUP_PREFIX = "sandboxer-";
/** The jail's user and group inside its user namespace. */
const JAIL_UID = 1000;
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Finds a binary on the host's standard paths (we never trust the caller's PATH). */
function which(name) {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/**
 * What the jail can use on this machine, probed once: bwrap, a working user namespace,
 * a Debian root made by debootstrap (else read-only binds of the host's system dirs),
 * and writable cgroups v1 controllers.
 * @param {{ stateDir: string, rootfs?: string, cgroups?: boolean }} options `cgroups: false`
 *   runs without them, as on a machine where they cannot be written (the rlimit fallbacks).
 */
export function probeJail({ stateDir, rootfs, cgroups: useCgroups = true }) {
  const missing = [];
  // SANDBOXER_BWRAP names another bwrap (or a missing one, to see the 503 a machine without it gets).
  const bwrap = process.env.SANDBOXER_BWRAP !== undefined ? (existsSync(process.env.SANDBOXER_BWRAP) ? process.env.SANDBOXER_BWRAP : null) : which("bwrap");
  if (!bwrap) missing.push("bubblewrap (bwrap): install it with `sudo apt-get install -y bubblewrap`");
  const root = rootfs && existsSync(join(rootfs, "usr/bin/bash")) ? rootfs : null;
  const etcDir = join(stateDir, "jail-etc");
  writeEtc(etcDir);
  const cgroups = !useCgroups ? {} : probeCgroups(`${CGROUP_PREFIX}${createHash("sha256").update(stateDir).digest("hex").slice(0, 12)}`);
  // As root, each sandbox runs as its own unprivileged host uid (see sandboxUid): inside its
  // user namespace it is uid 1000, outside it owns nothing but its workspace. That needs the
  // state dir to be traversable by other users; it is made so (o+x, no listing).
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    for (const dir of [stateDir, dirname(stateDir)]) {
      try {
        chmodSync(dir, statSync(dir).mode | 0o111);
      } catch {
        // not ours: the probe below tells whether the jail can still reach its files
      }
    }
  }
  const jail = { bwrap, rootfs: root, etcDir, cgroups, asRoot, ok: false, missing, notes: [] };
  if (bwrap) {
    // Shaped like a real command: a workspace under the state dir, owned by the uid that runs.
    // The parent may be crossed (o+x) but not listed; each workspace is its owner's alone.
    mkdirSync(join(stateDir, "workspaces"), { recursive: true });
    chmodSync(join(stateDir, "workspaces"), 0o711);
    const probeWorkspace = join(stateDir, "workspaces", "probe");
    mkdirSync(probeWorkspace, { recursive: true, mode: 0o700 });
    const probe = (uid) => {
      try {
        if (uid !== undefined) chownSync(probeWorkspace, uid, uid);
        execFileSync(bwrap, [...namespaceArgs(), ...rootArgs(jail), "--bind", probeWorkspace, WORKSPACE, "--", "/bin/true"], {
          env: {},
          cwd: "/",
          stdio: ["ignore", "ignore", "pipe"],
          timeout: 10_000,
          ...(uid === undefined ? {} : { uid, gid: uid }),
        });
        return null;
      } catch (error) {
        return String(error.stderr ?? error.message).trim();
      }
    };
    let failure = probe(asRoot ? sandboxUid("0".repeat(16)) : undefined);
    if (failure && asRoot && probe(process.getuid()) === null) {
      // The state dir sits where other uids cannot reach (e.g. under /root): the jail still
      // works, with the sandbox's uid 1000 mapped to root outside instead of its own uid.
      jail.asRoot = false;
      jail.notes.push(`sandboxes run without their own host uid: the state dir is not reachable by other users (${failure})`);
      failure = null;
    }
    if (failure) {
      missing.push(
        /namespace|Operation not permitted|No permutation/i.test(failure)
          ? `user namespaces: bwrap could not create its namespaces (${failure}); enable them with \`sudo sysctl -w kernel.unprivileged_userns_clone=1\` (Debian) or \`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\` (Ubuntu 24.04)`
          : `a working jail: bwrap failed (${failure})`,
      );
    }
  }
  jail.ok = missing.length === 0;
  return jail;
}

/** First host uid given to sandboxes when the service runs as root. */
const SANDBOX_UID_BASE = 200_000;
const SANDBOX_UID_RANGE = 100_000;

/**
 * The unprivileged host uid (and gid) a sandbox's processes run as when the service is root:
 * derived from its key, so it is stable across restarts and differs between sandboxes (a
 * collision would still leave them apart: each sees only its own mounts).
 */
export function sandboxUid(key) {
  return SANDBOX_UID_BASE + (parseInt(key.slice(0, 8), 16) % SANDBOX_UID_RANGE);
}

/** What interpreters resolve through /etc (python3, node), and CA certificates for linux-net. */
const HOST_ETC = ["alternatives", "ssl", "ca-certificates", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "mime.types", "gitconfig"];

/** A minimal /etc for the host-binds root: who the jail user is, no host secrets. */
function writeEtc(dir) {
  mkdirSync(dir, { recursive: true });
  // Mount points for the host entries bound on top (the /etc bind itself is read-only).
  for (const sub of HOST_ETC) {
    if (!existsSync(`/etc/${sub}`) || existsSync(join(dir, sub))) continue;
    if (statSync(`/etc/${sub}`).isDirectory()) mkdirSync(join(dir, sub));
    else writeFileSync(join(dir, sub), "");
  }
  writeFileSync(join(dir, "passwd"), `root:x:0:0:root:/root:/bin/bash\nsandbox:x:${JAIL_UID}:${JAIL_UID}:sandbox:${WORKSPACE}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`);
  writeFileSync(join(dir, "group"), `root:x:0:\nsandbox:x:${JAIL_UID}:\nnogroup:x:65534:\n`);
  writeFileSync(join(dir, "hostname"), "sandbox\n");
  writeFileSync(join(dir, "hosts"), "127.0.0.1 localhost sandbox\n::1 localhost\n");
  writeFileSync(join(dir, "profile"), 'export PATH="' + PATH + '"\nexport PS1="\\u@\\h:\\w\\$ "\n');
}

/** Controllers we can create children in (root on a cgroups v1 host); missing ones are skipped. */
function probeCgroups(parent) {
  const usable = {};
  for (const controller of ["pids", "memory", "cpu"]) {
    const dir = join(CGROUP_ROOT, controller, parent);
    try {
      mkdirSync(dir, { recursive: true });
      usable[controller] = dir;
    } catch {
      // not mounted, cgroups v2 only, or not ours to write
    }
  }
  return usable;
}

function namespaceArgs() {
  return [
    "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try",
    "--die-with-parent", "--new-session", "--uid", String(JAIL_UID), "--gid", String(JAIL_UID), "--hostname", "sandbox",
  ];
}

/** Read-only root: the debootstrap'd Debian tree, or the host's system directories and a made-up /etc. */
function rootArgs(jail) {
  if (jail.rootfs) {
    return ["--ro-bind", jail.rootfs, "/", "--proc", "/proc", "--dev", "/dev"];
  }
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const dir of ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]) {
    const host = `/${dir}`;
    if (!existsSync(host)) continue;
    // Merged-/usr hosts have these as symlinks into /usr; older ones have real directories.
    const target = lstatSync(host).isSymbolicLink() ? readlinkSync(host) : null;
    args.push(...(target ? ["--symlink", target, host] : ["--ro-bind", host, host]));
  }
  args.push("--ro-bind", jail.etcDir, "/etc");
  for (const sub of HOST_ETC) {
    if (existsSync(`/etc/${sub}`)) args.push("--ro-bind", `/etc/${sub}`, `/etc/${sub}`);
  }
  args.push("--proc", "/proc", "--dev", "/dev");
  return args;
}

/**
 * The cgroup directories of one sandbox, created with its limits. Every command of the
 * sandbox joins them, so the limits hold for the sandbox as a whole.
 */
export function sandboxCgroups(jail, key, limits, uid) {
  const dirs = [];
  for (const [controller, parent] of Object.entries(jail.cgroups)) {
    const dir = join(parent, key);
    try {
      mkdirSync(dir, { recursive: true });
      if (controller === "pids") writeFileSync(join(dir, "pids.max"), String(limits.processes));
      if (controller === "memory") {
        writeFileSync(join(dir, "memory.limit_in_bytes"), String(limits.memoryMb * 1024 * 1024));
        // Without swap accounting the sandbox could page out past its limit.
        try {
          writeFileSync(join(dir, "memory.memsw.limit_in_bytes"), String(limits.memoryMb * 1024 * 1024));
        } catch {
          // swap accounting off: memory.limit_in_bytes alone
        }
      }
      // At most one core's worth of CPU time per period, so one sandbox cannot starve the host.
      if (controller === "cpu") {
        writeFileSync(join(dir, "cpu.cfs_period_us"), "100000");
        writeFileSync(join(dir, "cpu.cfs_quota_us"), "100000");
      }
      // The sandbox's own uid joins the cgroup (the wrapper shell runs as that uid).
      if (uid !== undefined) for (const file of ["cgroup.procs", "tasks"]) chownSync(join(dir, file), uid, uid);
      dirs.push(dir);
    } catch {
      // this controller refused: the others still apply
    }
  }
  return dirs;
}

/** Kills every process in the sandbox's cgroups (the pids controller sees them all). */
export function killCgroups(dirs) {
  for (const dir of dirs) {
    let pids = [];
    try {
      pids = readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
    } catch {
      continue;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

/** Removes a sandbox's cgroups once nothing runs in them. */
export function removeCgroups(dirs) {
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch {
      // still busy for an instant; removed on the next destroy or start
    }
  }
}

/** How many times a fork was refused at the sandbox's pids.max (0 without a pids cgroup). */
export function pidsLimitHits(dirs) {
  const dir = dirs.find((d) => d.includes("/pids/"));
  if (!dir) return 0;
  try {
    return Number(/^max (\d+)/m.exec(readFileSync(join(dir, "pids.events"), "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** How many times the OOM killer has acted in the sandbox's memory cgroup (0 without one). */
export function oomKills(dirs) {
  const dir = dirs.find((d) => d.includes("/memory/"));
  if (!dir) return 0;
  try {
    return Number(/oom_kill (\d+)/.exec(readFileSync(join(dir, "memory.oom_control"), "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Spawns `bash -lc <command>` in the jail. The child is a process-group leader (detached) so
 * the whole tree can be killed; bwrap's own PID namespace makes that total: when its init dies,
 * the kernel kills everything left in the namespace, including double-forked daemons.
 * @param {object} jail from probeJail
 * @param {{ workspaceDir: string, cgroups: string[], command: string, cwd?: string, env?: Record<string,string>,
 *           limits: { cpuMs: number, storageBytes: number, processes: number, memoryMb: number }, extraBinds?: string[][], uid?: number }} run
 */
export function spawnJailed(jail, run) {
  const cwd = run.cwd && run.cwd.startsWith("/") ? run.cwd : join(WORKSPACE, run.cwd ?? "");
  const env = {
    PATH,
    HOME: WORKSPACE,
    USER: "sandbox",
    LANG: "C.UTF-8",
    TERM: "dumb",
    PYTHONDONTWRITEBYTECODE: "1",
    ...run.env,
  };
  const bwrapArgs = [
    ...namespaceArgs(),
    ...rootArgs(jail),
    "--size", String(TMP_BYTES), "--tmpfs", "/tmp",
    // A private /run, also where linux-net's forwarder and proxy socket are bound.
    "--size", String(RUN_BYTES), "--tmpfs", "/run",
    "--bind", run.workspaceDir, WORKSPACE,
    ...(run.extraBinds ?? []).flat(),
    // With host binds the root is bwrap's own tmpfs: read-only too once everything is mounted.
    "--remount-ro", "/",
    "--chdir", cwd,
    "--clearenv",
    ...Object.entries(env).flatMap(([k, v]) => ["--setenv", k, String(v)]),
    "--", "/bin/bash", "-lc", run.command,
  ];
  const cpuSeconds = Math.max(1, Math.ceil(run.limits.cpuMs / 1000));
  // rlimits set by the shell's ulimit builtin (one exec fewer than prlimit). The CPU hard limit
  // is a second past the soft one, so the process gets SIGXCPU (named "cpu"), not SIGKILL.
  const fileBlocks = Math.ceil(run.limits.storageBytes / 512);
  let limits = `ulimit -S -t ${cpuSeconds} && ulimit -H -t ${cpuSeconds + 1} && ulimit -f ${fileBlocks} && ulimit -n 1024 && ulimit -c 0`;
  // Without a pids cgroup: RLIMIT_NPROC. The kernel counts it per host uid, the jail's user
  // namespace notwithstanding, so it is a per-sandbox limit only where each sandbox has its own
  // uid (the service runs as root); under a shared uid it would count the service's own
  // threads and every other sandbox's processes, and is not set. (-u in bash, -p in dash.)
  if (!run.cgroups.some((d) => d.includes("/pids/")) && run.uid !== undefined) {
    limits += ` && { ulimit -u ${run.limits.processes} 2>/dev/null || ulimit -p ${run.limits.processes}; }`;
  }
  // Without a memory cgroup: RLIMIT_AS, per process (not per sandbox) and of address space,
  // not resident memory; python3, node and git run under it at the profiles' 1 GiB (node needs
  // some 350 MB of address space to start).
  if (!run.cgroups.some((d) => d.includes("/memory/"))) limits += ` && ulimit -v ${run.limits.memoryMb * 1024}`;
  // The cgroups are joined by a shell that then execs bwrap, so not one process of
  // the command ever runs outside them (joining after spawn would race the first fork).
  const joinCgroups = run.cgroups.map((dir) => `echo $$ > '${dir}/cgroup.procs' && `).join("");
  const argv = ["/bin/sh", "-c", `${joinCgroups}${limits} && exec "$@"`, "sh", jail.bwrap, ...bwrapArgs];
  // An empty environment: bwrap's init is PID 1 in the jail and /proc/1/environ is its environment.
  return spawn(argv[0], argv.slice(1), {
    env: {},
    cwd: "/",
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    ...(run.uid === undefined ? {} : { uid: run.uid, gid: run.uid }),
  });
}

/** Kills a spawned jail's whole process group. */
export function killJailed(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Removes this jail host's cgroup parents once their sandboxes' cgroups are gone (on close). */
export function removeCgroupParents(jail) {
  const children = staleCgroups(jail);
  killCgroups(children);
  removeCgroups(children);
  removeCgroups(Object.values(jail.cgroups));
}

/** Lists the directory entries of the cgroups parent (for cleaning up after a crash). */
export function staleCgroups(jail) {
  const stale = [];
  for (const parent of Object.values(jail.cgroups)) {
    for (const entry of existsSync(parent) ? readdirSync(parent, { withFileTypes: true }) : []) {
      if (entry.isDirectory()) stale.push(join(parent, entry.name));
    }
  }
  return stale;
}
