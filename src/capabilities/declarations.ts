import type { CapabilityGrant } from "../schemas/sandbox";
import { CAPABILITIES } from "./definitions";
import { toolsDeclaration } from "./tools";

/**
 * The `.d.ts` an agent reads before writing code for a sandbox: exactly the `env` its
 * code receives (plain values and granted capabilities), plus the snippet globals. This
 * is Code Mode's idea, for any capability set.
 */
export function sandboxDeclarations(envNames: string[], grants: CapabilityGrant[], secretNames: string[] = [], toolNames: string[] = []): string {
  const members: string[] = [];
  for (const name of [...envNames].sort()) members.push(`  ${name}: string;`);
  for (const name of [...secretNames].sort()) {
    members.push(`  /** A placeholder, not the secret: the egress gateway puts the real value in request headers to its allowed hosts. */
  ${name}: string;`);
  }
  for (const grant of grants) {
    const declaration = CAPABILITIES[grant.name]?.declaration;
    if (declaration) members.push(grant.name === "files" && grant.options?.readOnly ? `${declaration}\n  // read-only grant: write and delete reject` : declaration);
  }
  const egress = grants.some((g) => g.name === "fetch");
  return `// The environment of code run in this sandbox (generated; exact for its grants).
interface SandboxEnv {
${members.join("\n")}
}

/** Your sandbox's environment. */
declare const env: SandboxEnv;
/** The \`input\` value sent with the exec request. */
declare const input: unknown;
${toolNames.length > 0 ? toolsDeclaration(toolNames) : ""}${
  egress
    ? "// fetch() reaches only the hosts this sandbox's network policy allows; denials are 403 problem+json responses.\n"
    : "// fetch() and connect() are not available: this sandbox has no network access.\n"
}`;
}
