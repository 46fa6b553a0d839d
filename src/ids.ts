const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** Lower-case base32 of `bytes` random bytes (no padding). */
export function randomBase32(bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of random) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** A sandbox id: `sbx_` + 128 random bits (26 base32 characters). Unguessable by design. */
export function newSandboxId(): string {
  return `sbx_${randomBase32(16)}`;
}

/** An execution id: `exe_` + 96 random bits. */
export function newExecutionId(): string {
  return `exe_${randomBase32(12)}`;
}

export async function sha256Hex(data: string | ArrayBuffer | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
