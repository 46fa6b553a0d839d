/**
 * What the code may be missing, said in words that direct: for each capability name the
 * sandbox was not granted, what to grant (and with which profile); for a sandbox without
 * network, which profile and allowlist give it one. Computed by the host (it knows the
 * profile and the grants) and shown by the isolate where the code trips over the gap.
 */
export interface RunGuidance {
  /** `env.<name>` → why it is missing and how to get it. */
  env?: Record<string, string>;
  /** Set when the sandbox has no network: why, and how to get one. */
  network?: string;
}

/**
 * Source of the guards module, evaluated before any user module: `fetch` and `connect` without
 * a network reject with the guidance instead of the runtime's own message, and `guardEnv`
 * gives the snippet an `env` whose missing capabilities explain themselves when touched.
 */
export function guardsModuleSource(primordials: string, guidance: RunGuidance): string {
  return String.raw`
import { ObjectDefineProperty, ObjectHasOwn, ReflectGet, ProxyCtor, TypeErrorCtor, PromiseCtor, globalObject } from "${primordials}";

const ENV_GUIDANCE = { __proto__: null, ...${JSON.stringify(guidance.env ?? {})} };
const NETWORK_GUIDANCE = ${JSON.stringify(guidance.network ?? null)};

if (NETWORK_GUIDANCE !== null) {
  const reject = () => new PromiseCtor((_resolve, rejectWith) => rejectWith(new TypeErrorCtor(NETWORK_GUIDANCE)));
  ObjectDefineProperty(globalObject, "fetch", { value: function fetch() { return reject(); }, writable: true, configurable: true });
}

/**
 * The snippet's env: the same values; reading a capability the sandbox lacks throws its
 * guidance, while \`"state" in env\` and \`Object.keys(env)\` still show only what is there.
 */
export function guardEnv(env) {
  const handler = {
    __proto__: null,
    get(target, key, receiver) {
      if (typeof key === "string" && !ObjectHasOwn(target, key) && ObjectHasOwn(ENV_GUIDANCE, key)) throw new TypeErrorCtor(ENV_GUIDANCE[key]);
      return ReflectGet(target, key, receiver);
    },
  };
  return new ProxyCtor(env, handler);
}
`;
}
