// Secrets are not in wrangler.toml, so `wrangler types` cannot see them; they are
// declared here and merged into the generated `Env`.
interface Env {
  /** JSON `{ "<tenant>": ["<sha256 hex of key>", ...] }` (a Worker secret). */
  API_KEYS?: string;
  /** Key material for secrets at rest (a Worker secret, ≥ 16 characters); AES-256-GCM key = SHA-256 of it. */
  SECRETS_KEY?: string;
  /** Key material for signing dashboard session cookies (a Worker secret, ≥ 32 characters); without it `/dashboard` answers 503. */
  DASHBOARD_SESSION_KEY?: string;
}

// Set by the supervised local runtime (scripts/start.mjs) when it started the jail host.
interface Env {
  /** The local jail host serving linux sandboxes (loopback URL). */
  JAIL_URL?: string;
  /** The jail host's per-start secret (a Bearer token; new on every `npm start`). */
  JAIL_SECRET?: string;
  /** Set by the local supervisor: JSON `[{ at, reason, culprits }]` of earlier runtime restarts (durable-objects/sandbox/orphans.ts). */
  SANDBOXER_RESTARTS?: string;
  /** Per-tenant quotas, JSON (src/schemas/quotas.ts); defaults apply without it. */
  TENANT_QUOTAS?: string;
}
