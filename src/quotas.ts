import { QuotaConfig, type TenantQuotas } from "./schemas/quotas";

/** Built-in per-tenant quotas, when `TENANT_QUOTAS` says nothing else. */
export const DEFAULT_TENANT_QUOTAS: TenantQuotas = {
  sandboxesAlive: 1000,
  executionsInFlight: 64,
  storageBytes: 1024 * 1024 * 1024,
};

let cached: { source: string | undefined; config: QuotaConfig } | undefined;

/** The quotas of `tenant`: built-in defaults, then `TENANT_QUOTAS.default`, then its own entry. */
export function quotasFor(env: { TENANT_QUOTAS?: string }, tenant: string): TenantQuotas {
  if (cached?.source !== env.TENANT_QUOTAS) cached = { source: env.TENANT_QUOTAS, config: parse(env.TENANT_QUOTAS) };
  const config = cached?.config ?? {};
  return { ...DEFAULT_TENANT_QUOTAS, ...config.default, ...config.tenants?.[tenant] };
}

function parse(source: string | undefined): QuotaConfig {
  if (!source) return {};
  try {
    const parsed = QuotaConfig.safeParse(JSON.parse(source));
    if (parsed.success) return parsed.data;
    console.error(`TENANT_QUOTAS is not valid (${parsed.error.issues[0]?.message}); the built-in quotas apply.`);
  } catch {
    console.error("TENANT_QUOTAS is not valid JSON; the built-in quotas apply.");
  }
  return {};
}
