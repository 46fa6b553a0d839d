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
