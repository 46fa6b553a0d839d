import { ErrorCode, SandboxerError } from "../../errors";
import { normaliseWorkspacePath } from "../../workspace/paths";
import { CompileError, type CompiledModule } from "./compile";
import { RESERVED_PREFIX } from "./instrument";

const MODULE_EXTENSIONS = [".js", ".mjs", ".ts", ".mts", ".json"];
/** Most workspace modules one snippet may load, transitively. */
export const MAX_WORKSPACE_MODULES = 256;
/** Deepest nesting of an imported JSON file (the loader copies it into the isolate recursively). */
export const MAX_JSON_MODULE_DEPTH = 1000;

/**
 * Resolves an import specifier written in module `from` (a workspace path, or "" for the
 * snippet, which sits at the workspace root) to the workspace path it names. Runtime modules
 * (`cloudflare:*`, `node:*`) resolve to null: the isolate provides them. Anything else, and
 * anything leaving the workspace, is an ImportError.
 */
export function resolveImport(from: string, specifier: string): string | null {
  if (/^(cloudflare|node):/.test(specifier)) return null;
  const where = from || "the snippet";
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
    throw new CompileError(
      "ImportError",
      `Cannot import '${specifier}' in ${where}: only relative imports of workspace files ('./lib.js', '../data.json') and cloudflare:/node: modules are available.`,
    );
  }
  const segments = from.split("/").slice(0, -1);
  for (const segment of specifier.split("/")) {
    if (segment === "..") {
      if (segments.length === 0) throw new CompileError("ImportError", `Cannot import '${specifier}' in ${where}: it leaves the workspace.`);
      segments.pop();
    } else if (segment !== "." && segment !== "") {
      segments.push(segment);
    }
  }
  let path: string;
  try {
    path = normaliseWorkspacePath(segments.join("/"));
  } catch (error) {
    throw new CompileError("ImportError", `Cannot import '${specifier}' in ${where}: ${error instanceof SandboxerError ? error.detail : "invalid path"}`);
  }
  if (!MODULE_EXTENSIONS.some((extension) => path.endsWith(extension))) {
    throw new CompileError("ImportError", `Cannot import '${specifier}' in ${where}: name the file with its extension (${MODULE_EXTENSIONS.join(", ")}).`);
  }
  // Our own modules in the isolate carry this prefix; user code must not reach them.
  if (path.split("/").some((segment) => segment.startsWith(RESERVED_PREFIX))) {
    throw new CompileError("ImportError", `Cannot import '${specifier}' in ${where}: names starting with ${RESERVED_PREFIX} are reserved.`);
  }
  return path;
}

export interface WorkspaceModules {
  /** Loader modules keyed by workspace path. */
  modules: Record<string, WorkerLoaderModule>;
  /** The compiled JS/TS modules by workspace path, for mapping error positions. */
  compiled: Map<string, CompiledModule>;
  /** Milliseconds spent compiling (modules found in the compile cache cost none). */
  compileMs: number;
}

/** A compiled module and the code to load for it. */
export interface LoadableModule {
  module: CompiledModule;
  code: string;
  compileMs: number;
}

/**
 * Reads and compiles every workspace module `imports` reach, transitively (JSON files become
 * JSON modules). Together with the snippet's `snippetBytes` they must fit in `codeBytes`.
 */
export async function loadWorkspaceModules(
  imports: string[],
  readModule: (path: string) => Promise<string | null>,
  compile: (source: string, language: "js" | "ts") => LoadableModule,
  size: { codeBytes: number; snippetBytes: number },
): Promise<WorkspaceModules> {
  const modules: Record<string, WorkerLoaderModule> = {};
  const compiled = new Map<string, CompiledModule>();
  const encoder = new TextEncoder();
  let totalBytes = size.snippetBytes;
  let compileMs = 0;
  const queue: { from: string; imports: string[] }[] = [{ from: "", imports }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    for (const specifier of next.imports) {
      const path = resolveImport(next.from, specifier);
      if (path === null || path in modules) continue;
      if (Object.keys(modules).length >= MAX_WORKSPACE_MODULES) {
        throw new CompileError("ImportError", `A snippet may load at most ${MAX_WORKSPACE_MODULES} workspace modules.`);
      }
      const source = await readModule(path);
      if (source === null) {
        throw new CompileError("ImportError", `Cannot find module '${specifier}' imported in ${next.from || "the snippet"}: there is no workspace file '${path}'.`);
      }
      totalBytes += encoder.encode(source).length;
      if (totalBytes > size.codeBytes) {
        throw new SandboxerError(ErrorCode.limitExceeded, `The snippet and the modules it imports exceed the code-size limit of ${size.codeBytes} bytes.`, {
          limit: "code",
          max: size.codeBytes,
        });
      }
      if (path.endsWith(".json")) {
        if (jsonDepth(source) > MAX_JSON_MODULE_DEPTH) {
          throw new CompileError("ImportError", `Cannot import '${specifier}': the JSON nests deeper than ${MAX_JSON_MODULE_DEPTH} levels; read it with env.files.read and JSON.parse instead.`, undefined, path);
        }
        try {
          modules[path] = { json: JSON.parse(source) };
        } catch (error) {
          throw new CompileError("SyntaxError", `Invalid JSON: ${(error as Error).message}`, undefined, path);
        }
        continue;
      }
      let loadable: LoadableModule;
      try {
        loadable = compile(source, path.endsWith(".ts") || path.endsWith(".mts") ? "ts" : "js");
      } catch (error) {
        if (error instanceof CompileError) {
          throw new CompileError(error.name, error.message, error.line === undefined ? undefined : { line: error.line, column: error.column ?? 1 }, path);
        }
        throw error;
      }
      compileMs += loadable.compileMs;
      compiled.set(path, loadable.module);
      modules[path] = { js: loadable.code };
      queue.push({ from: path, imports: loadable.module.imports });
    }
  }
  return { modules, compiled, compileMs };
}

/** How deeply JSON text nests arrays and objects (brackets inside strings do not count). */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
