// Secrets are not in wrangler.toml, so `wrangler types` cannot see them; they are
// declared here and merged into the generated `Env`.
interface Env {
  /** JSON `{ "<tenant>": ["<sha256 hex of key>", ...] }` (a Worker secret). */
  API_KEYS?: string;
  /** Key material for secrets at rest (a Worker secret, ≥ 16 characters); AES-256-GCM key = SHA-256 of it. */
  SECRETS_KEY?: string;
  /** Set by the local supervisor: JSON `[{ at, reason, culprits }]` of earlier runtime restarts (durable-objects/sandbox/orphans.ts). */
  SANDBOXER_RESTARTS?: string;
  /** Per-tenant quotas, JSON (src/schemas/quotas.ts); defaults apply without it. */
  TENANT_QUOTAS?: string;
}
