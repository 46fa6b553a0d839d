import type { MiddlewareHandler } from "hono";
import { ErrorCode, SandboxerError } from "../errors";
import { sha256Hex } from "../ids";
import type { AppEnv } from "./app";

/** Parsed `API_KEYS`, cached per isolate for as long as the secret's text is unchanged. */
let cached: { source: string; tenantByHash: Map<string, string> } | undefined;

function tenantsByKeyHash(source: string | undefined): Map<string, string> {
  if (!source) return new Map();
  if (cached?.source === source) return cached.tenantByHash;
  const tenantByHash = new Map<string, string>();
  try {
    const parsed: unknown = JSON.parse(source);
    if (parsed && typeof parsed === "object") {
      for (const [tenant, hashes] of Object.entries(parsed)) {
        if (!Array.isArray(hashes)) continue;
        for (const hash of hashes) if (typeof hash === "string") tenantByHash.set(hash.toLowerCase(), tenant);
      }
    }
  } catch {
    console.error("API_KEYS is not valid JSON; every request will be refused.");
  }
  cached = { source, tenantByHash };
  return tenantByHash;
}

/** The tenant whose key hashes to `keyHash` (sha256 hex) in `API_KEYS`, or undefined. */
export function tenantOfKeyHash(env: Env, keyHash: string): string | undefined {
  return tenantsByKeyHash(env.API_KEYS).get(keyHash.toLowerCase());
}

/**
 * The tenant an API key belongs to, with the key's hash (what a dashboard session keeps so
 * that removing the key from `API_KEYS` also ends the sessions it opened), or undefined.
 */
export async function tenantOfKey(env: Env, key: string): Promise<{ tenant: string; keyHash: string } | undefined> {
  const keyHash = await sha256Hex(key);
  const tenant = tenantOfKeyHash(env, keyHash);
  return tenant ? { tenant, keyHash } : undefined;
}

/**
 * Bearer auth: the key is hashed and looked up in `API_KEYS`
 * (`{ "<tenant>": ["<sha256 hex>", ...] }`); the raw key is never stored or logged.
 */
export const requireTenant: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    throw new SandboxerError(ErrorCode.unauthorized, "Send your API key as 'Authorization: Bearer <key>'.");
  }
  const known = await tenantOfKey(c.env, match[1]);
  if (!known) throw new SandboxerError(ErrorCode.unauthorized, "The API key is not valid.");
  c.set("tenant", known.tenant);
  await next();
};
