// Linux sandboxes: sand-boxer over HTTP (create + first command, warm command) against the
// same command spawned in a bare bubblewrap jail from Node (no HTTP, no Worker, no cgroups).
import { spawn } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** bwrap arguments for a jail with the same namespaces and root as the jail host's. */
function bareArgs(rootfs) {
  const root = rootfs && existsSync(join(rootfs, "usr/bin/bash"))
    ? ["--ro-bind", rootfs, "/"]
    : [
        "--ro-bind", "/usr", "/usr",
        ...["bin", "sbin", "lib", "lib64"].flatMap((d) =>
          !existsSync(`/${d}`) ? [] : lstatSync(`/${d}`).isSymbolicLink() ? ["--symlink", readlinkSync(`/${d}`), `/${d}`] : ["--ro-bind", `/${d}`, `/${d}`],
        ),
      ];
  return ["--unshare-all", "--die-with-parent", ...root, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin"];
}

/** Runs `command` in a bare bwrap jail and resolves when it exits. */
export function bareBwrap(rootfs) {
  const args = bareArgs(rootfs);
  return (command) =>
    new Promise((resolve, reject) => {
      const child = spawn("bwrap", [...args, "/bin/bash", "-lc", command], { env: {}, stdio: ["ignore", "pipe", "ignore"] });
      child.stdout.resume();
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`bwrap exited ${code}`))));
    });
}
