import { ErrorCode, SandboxerError } from "../errors";
import { PutSecretBody, SecretName, type PutSecretInput, type SecretInfo, type SecretList } from "../schemas/secrets";
import { sealSecret } from "../secrets/crypto";
import { registryOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

const iso = (ms: number) => new Date(ms).toISOString();

/** What `putSecret` did. */
export interface PutSecretOutcome {
  secret: SecretInfo;
  /** False when an existing secret was replaced. */
  created: boolean;
}

/**
 * Tenant secrets: write-only. Sealed (AES-GCM) here in the Worker before they reach storage;
 * a sandbox only ever sees a placeholder, swapped for the value by the egress gateway.
 */
export function secretOperations(ctx: OperationContext) {
  return {
    /** Creates or replaces a secret; `runtime_unavailable` when the deployment has no SECRETS_KEY. */
    async putSecret(name: string, input: PutSecretInput): Promise<PutSecretOutcome> {
      const secretName = parseInput(SecretName, name, "path.name");
      const { value } = parseInput(PutSecretBody, input, "body");
      const sealed = await sealSecret(ctx.env, ctx.tenant, secretName, value);
      const stored = await registryOf(ctx).putSecret(secretName, sealed, Date.now());
      return { secret: { name: secretName, createdAt: iso(stored.createdAt), updatedAt: iso(stored.updatedAt) }, created: stored.created };
    },

    /** Names and dates only: values can never be read back. */
    async listSecrets(): Promise<SecretList> {
      const rows = await registryOf(ctx).listSecrets();
      return { secrets: rows.map((r) => ({ name: r.name, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt) })) };
    },

    /** Deletes a secret; `not_found` if there is none. */
    async deleteSecret(name: string): Promise<void> {
      const secretName = parseInput(SecretName, name, "path.name");
      if (!(await registryOf(ctx).deleteSecret(secretName))) throw new SandboxerError(ErrorCode.notFound, `No secret '${secretName}'.`);
    },
  };
}
