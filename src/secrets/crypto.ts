import { ErrorCode, SandboxerError } from "../errors";
import { randomBase32 } from "../ids";

/** A secret as stored: AES-GCM ciphertext and its IV, base64. The plaintext is never stored. */
export interface SealedSecret {
  iv: string;
  ciphertext: string;
}

/** The prefix of the stand-in value a sandbox sees instead of a secret. */
export const PLACEHOLDER_PREFIX = "sbx_placeholder_";

export function newPlaceholder(): string {
  return `${PLACEHOLDER_PREFIX}${randomBase32(20)}`;
}

const keys = new Map<string, Promise<CryptoKey>>();

/**
 * The AES-256-GCM key: SHA-256 of the `SECRETS_KEY` Worker secret. Without it the secrets
 * API answers 503 rather than storing anything in a weaker form.
 */
function secretsKey(env: Env): Promise<CryptoKey> {
  const material = env.SECRETS_KEY;
  if (!material || material.length < 16) {
    throw new SandboxerError(ErrorCode.runtimeUnavailable, "Secrets are not configured on this deployment (SECRETS_KEY is missing or shorter than 16 characters).");
  }
  let key = keys.get(material);
  if (!key) {
    key = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(material))
      .then((raw) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
    keys.set(material, key);
  }
  return key;
}

/** The tenant and name are bound in as associated data: a row copied to another name or tenant does not decrypt. */
function associatedData(tenant: string, name: string): Uint8Array {
  return new TextEncoder().encode(`sand-boxer secret v1\0${tenant}\0${name}`);
}

export async function sealSecret(env: Env, tenant: string, name: string, value: string): Promise<SealedSecret> {
  const key = await secretsKey(env);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: associatedData(tenant, name) }, key, new TextEncoder().encode(value));
  return { iv: toBase64(iv), ciphertext: toBase64(new Uint8Array(ciphertext)) };
}

export async function openSecret(env: Env, tenant: string, name: string, sealed: SealedSecret): Promise<string> {
  const key = await secretsKey(env);
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: associatedData(tenant, name) },
    key,
    fromBase64(sealed.ciphertext),
  );
  return new TextDecoder().decode(plaintext);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
