// Creates .dev.vars from .dev.vars.example on first run, so `npm run dev` and `npm start`
// work on a fresh clone with the local key `sbx_local_dev_key` (tenant `local`).
import { copyFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
if (!existsSync(`${root}.dev.vars`)) copyFileSync(`${root}.dev.vars.example`, `${root}.dev.vars`);
