import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { tenantOfKeyHash } from "../api/auth";
import { ErrorCode, SandboxerError } from "../errors";
import { randomBase32 } from "../ids";

/** How long a dashboard session lasts after sign-in. */
export const SESSION_SECONDS = 8 * 60 * 60;

/** Shortest `DASHBOARD_SESSION_KEY` accepted. */
const MIN_SESSION_KEY_CHARS = 32;

/** What a signed session cookie carries. Not secret (signed, not encrypted): no key, only its hash. */
export interface Session {
  /** The tenant the API key belongs to. */
  tenant: string;
  /** SHA-256 of the API key: removing the key from `API_KEYS` ends its sessions at once. */
  keyHash: string;
  /** Epoch milliseconds after which the session is refused. */
  expiresAt: number;
  /** The per-session CSRF token every form carries. */
  csrf: string;
}

/**
 * `__Host-` (Secure, Path=/, no Domain: no subdomain or plain-http page can set it) on https;
 * browsers refuse that prefix on plain http, so `npm start` uses a plain name.
 */
function cookieName(c: Context): string {
  return isHttps(c) ? "__Host-sbx_session" : "sbx_session";
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:";
}

const keys = new Map<string, Promise<CryptoKey>>();

/**
 * The HMAC-SHA256 key: derived from the `DASHBOARD_SESSION_KEY` secret with a purpose label, so
 * the same material reused elsewhere would not sign dashboard sessions. Missing → 503, never an
 * unsigned or weakly signed session.
 */
function signingKey(env: Env): Promise<CryptoKey> {
  const material = env.DASHBOARD_SESSION_KEY;
  if (!material || material.length < MIN_SESSION_KEY_CHARS) {
    throw new SandboxerError(
      ErrorCode.runtimeUnavailable,
      `The dashboard is not configured on this deployment: set the Worker secret DASHBOARD_SESSION_KEY (at least ${MIN_SESSION_KEY_CHARS} random characters) with \`npx wrangler secret put DASHBOARD_SESSION_KEY\`.`,
    );
  }
  let key = keys.get(material);
  if (!key) {
    key = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(`sand-boxer dashboard session v1\0${material}`))
      .then((raw) => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
    keys.set(material, key);
  }
  return key;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded + "=".repeat((4 - (padded.length % 4)) % 4)), (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Fails early (503) when the deployment has no session key, before anything else is shown. */
export async function requireSessionKey(env: Env): Promise<void> {
  await signingKey(env);
}

/** Signs a new session for `tenant` and sets its cookie (HttpOnly, SameSite=Strict, Secure on https). */
export async function startSession<E extends { Bindings: Env }>(c: Context<E>, tenant: string, keyHash: string): Promise<void> {
  const session: Session = { tenant, keyHash, expiresAt: Date.now() + SESSION_SECONDS * 1000, csrf: randomBase32(20) };
  const payload = base64url(new TextEncoder().encode(JSON.stringify(session)));
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", await signingKey(c.env), new TextEncoder().encode(payload)));
  setCookie(c, cookieName(c), `${payload}.${base64url(signature)}`, {
    httpOnly: true,
    secure: isHttps(c),
    sameSite: "Strict",
    path: "/",
    maxAge: SESSION_SECONDS,
  });
}

/** Clears the session cookie. */
export function endSession(c: Context): void {
  deleteCookie(c, cookieName(c), { path: "/", secure: isHttps(c) });
}

/**
 * The request's session if its cookie is well signed, unexpired, and its key still belongs to
 * its tenant in `API_KEYS`; otherwise undefined.
 */
export async function readSession<E extends { Bindings: Env }>(c: Context<E>): Promise<Session | undefined> {
  const cookie = getCookie(c, cookieName(c));
  if (!cookie) return undefined;
  const [payload, signature, ...rest] = cookie.split(".");
  if (!payload || !signature || rest.length > 0) return undefined;
  const signatureBytes = fromBase64url(signature);
  if (!signatureBytes) return undefined;
  // crypto.subtle.verify compares in constant time.
  const valid = await crypto.subtle.verify("HMAC", await signingKey(c.env), signatureBytes, new TextEncoder().encode(payload));
  if (!valid) return undefined;
  let session: Session;
  try {
    session = JSON.parse(new TextDecoder().decode(fromBase64url(payload))) as Session;
  } catch {
    return undefined;
  }
  if (typeof session.expiresAt !== "number" || session.expiresAt <= Date.now()) return undefined;
  if (typeof session.keyHash !== "string" || tenantOfKeyHash(c.env, session.keyHash) !== session.tenant) return undefined;
  return session;
}

/** Constant-time string comparison (the CSRF token). */
export function sameToken(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
