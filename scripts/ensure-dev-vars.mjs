// Creates .dev.vars from .dev.vars.example on first run, so `npm run dev` and `npm start`
// work on a fresh clone with the local key `sbx_local_dev_key` (tenant `local`); on later runs
// adds any variable the example has gained since (an existing value is never changed).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const names = (text) => new Set(text.split("\n").map((line) => /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1]).filter(Boolean));

export function ensureDevVars() {
  const example = readFileSync(`${root}.dev.vars.example`, "utf8");
  const path = `${root}.dev.vars`;
  if (!existsSync(path)) return writeFileSync(path, example);
  const current = readFileSync(path, "utf8");
  const have = names(current);
  const missing = example.split("\n").filter((line) => {
    const name = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    return name && !have.has(name);
  });
  if (missing.length > 0) appendFileSync(path, `${current.endsWith("\n") || current === "" ? "" : "\n"}${missing.join("\n")}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) ensureDevVars();
