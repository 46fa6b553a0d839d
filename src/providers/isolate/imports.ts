import { SandboxerError } from "../../errors";
import { normaliseWorkspacePath } from "../../workspace/paths";
import { CompileError } from "./compile";

const MODULE_EXTENSIONS = [".js", ".mjs", ".ts", ".mts", ".json"];

/**
 * Resolves an import specifier written in `from` (a workspace path, or "" for the
 * snippet at the workspace root) to the workspace path it names. Runtime modules
 * (`cloudflare:*`, `node:*`) resolve to null: the isolate provides them (and without
 * network, `cloudflare:sockets` cannot connect anywhere). Anything else is refused.
 */
export function resolveImport(from: string, specifier: string): string | null {
  if (/^(cloudflare|node):/.test(specifier)) return null;
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
    throw new CompileError(
      "ImportError",
      `Cannot import '${specifier}': only relative imports of workspace files ('./lib.js', '../data.json') and cloudflare:/node: modules are available.`,
    );
  }
  const segments = from.split("/").slice(0, -1);
  for (const segment of specifier.split("/")) {
    if (segment === "..") {
      if (segments.length === 0) throw new CompileError("ImportError", `Cannot import '${specifier}' from ${from || "the snippet"}: it leaves the workspace.`);
      segments.pop();
    } else if (segment !== "." && segment !== "") {
      segments.push(segment);
    }
  }
  let path: string;
  try {
    path = normaliseWorkspacePath(segments.join("/"));
  } catch (error) {
    throw new CompileError("ImportError", `Cannot import '${specifier}': ${error instanceof SandboxerError ? error.detail : "invalid path"}`);
  }
  if (!MODULE_EXTENSIONS.some((ext) => path.endsWith(ext))) {
    throw new CompileError("ImportError", `Cannot import '${specifier}': name the file with its extension (${MODULE_EXTENSIONS.join(", ")}).`);
  }
  if (path.split("/").some((segment) => segment.startsWith("__sbx_"))) {
    throw new CompileError("ImportError", `Cannot import '${specifier}': names starting with __sbx_ are reserved.`);
  }
  return path;
}
