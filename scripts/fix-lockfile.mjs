// Run after `npm install`: records workerd's other-platform optional packages in
// package-lock.json. This machine's registry serves only the Linux builds, so npm leaves
// them out of the lockfile, and `npm ci` then refuses it as out of sync. On Linux these
// entries are skipped by os/cpu, so nothing is ever fetched for them.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;
const PLATFORMS = { "darwin-64": ["darwin", "x64"], "darwin-arm64": ["darwin", "arm64"], "windows-64": ["win32", "x64"], "linux-arm64": ["linux", "arm64"], "linux-64": ["linux", "x64"] };
let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const match = /^@cloudflare\/workerd-(.+)$/.exec(dep);
    if (!match || !PLATFORMS[match[1]]) continue;
    const location = `${key ? `${key}/` : ""}node_modules/${dep}`.replace(/^node_modules\/(.*node_modules\/)/, "$1");
    const hoisted = `node_modules/${dep}`;
    if (packages[location] || packages[hoisted]) continue;
    const [os, cpu] = PLATFORMS[match[1]];
    packages[hoisted] = { version, cpu: [cpu], dev: true, license: "Apache-2.0", optional: true, os: [os], engines: { node: ">=16" } };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
console.log(`fix-lockfile: added ${added} platform entries`);
