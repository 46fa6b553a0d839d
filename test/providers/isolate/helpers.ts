import { env } from "cloudflare:workers";
import { runSnippet, type IsolateRunRequest } from "../../../src/providers/isolate";

export const LIMITS: IsolateRunRequest["limits"] = { cpuMs: 100, wallMs: 5000, outputBytes: 1 << 20, codeBytes: 1 << 20, subRequests: 10 };

/** Runs a snippet directly through the provider, with a small CPU budget by default. */
export function run(
  code: string,
  options: Omit<Partial<IsolateRunRequest>, "limits"> & { limits?: Partial<IsolateRunRequest["limits"]>; files?: Record<string, string> } = {},
) {
  const { files = {}, ...rest } = options;
  return runSnippet(env.LOADER, {
    code,
    language: "js",
    env: {},
    globalOutbound: null,
    readModule: async (path) => files[path] ?? null,
    ...rest,
    limits: { ...LIMITS, ...rest.limits },
  });
}
