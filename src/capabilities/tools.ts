import { ErrorCode, SandboxerError } from "../errors";
import { HOST_TOOL_NAME, MAX_HOST_TOOLS } from "../schemas/tools";

/**
 * Host tools: functions of an RPC caller (a Worker bound to `SandboxService`) that the
 * snippet of one execution can call as `tools.<name>(args)`. They arrive as RPC function
 * stubs; the SandboxDO holds them for the execution's lifetime and routes each call from the
 * isolate (through `ToolsCapability`) back to the caller, audited and counted against the
 * subrequest limit. The caller's credentials stay with the caller.
 */
export type HostTool = (args: any) => unknown;
export type HostTools = Record<string, HostTool>;

export { HOST_TOOL_NAME, MAX_HOST_TOOLS };
/** Where the isolate's `env` carries the ToolsCapability stub the prelude wraps. */
export const TOOLS_ENV_KEY = "__sandboxerTools";

/** The tool names, or `validation_failed` naming each bad entry. Undefined when there are none. */
export function hostToolNames(tools: unknown): string[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (typeof tools !== "object" || Array.isArray(tools)) {
    throw new SandboxerError(ErrorCode.validationFailed, "tools must be an object of functions: { name: async (args) => … }.", {
      errors: [{ path: "tools", message: "expected an object of functions" }],
    });
  }
  const entries = Object.entries(tools as Record<string, unknown>);
  const errors = entries.flatMap(([name, fn]) => [
    ...(HOST_TOOL_NAME.test(name) ? [] : [{ path: `tools.${name}`, message: "the name must be a JavaScript identifier (at most 64 characters)" }]),
    ...(typeof fn === "function" ? [] : [{ path: `tools.${name}`, message: "expected a function" }]),
  ]);
  if (entries.length > MAX_HOST_TOOLS) errors.push({ path: "tools", message: `at most ${MAX_HOST_TOOLS} tools` });
  if (errors.length > 0) {
    throw new SandboxerError(ErrorCode.validationFailed, `Invalid host tools: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, { errors });
  }
  return entries.length > 0 ? entries.map(([name]) => name) : undefined;
}

/**
 * Code put in front of the snippet, on its first line (no line break, so every line number
 * stays the user's; `withoutPrelude` gives line 1's columns back). It defines a global, not
 * a binding, so a snippet that declares its own `tools` still compiles.
 */
export function toolsPrelude(names: string[]): string {
  const members = names.map((name) => `${JSON.stringify(name)}:(a)=>env.${TOOLS_ENV_KEY}.call(${JSON.stringify(name)},a)`);
  return `globalThis.tools=Object.freeze({${members.join(",")}});`;
}

/** The declaration of `tools` for the `.d.ts` of an execution handed these host tools. */
export function toolsDeclaration(names: string[]): string {
  const members = names.map((name) => `  ${name}(args?: unknown): Promise<unknown>;`);
  return `/** Host tools of this execution's caller: each call is audited and counts against the subrequest limit. */
declare const tools: {
${members.join("\n")}
};
`;
}
