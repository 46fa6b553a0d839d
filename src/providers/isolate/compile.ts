import type { ImportDeclaration } from "acorn";
import MagicString from "magic-string";
import { parseModule, walk, type AnyNode, type Program } from "./ast";
import { CompileError } from "./compile-error";
import { captureFunction, cellShape, contextPrelude, mergeShapes, type ContextNames, type ContextShape } from "./context";
import { insertChecks, randomIdentifier } from "./instrument";
import { originalPosition, type DecodedMappings, type Position } from "./sourcemap";
import { stripTypes } from "./typescript";

export { CompileError };

/**
 * Turns user source (a snippet or a workspace module) into the module we load:
 * - TypeScript types are stripped first with sucrase, which keeps line numbers (its source map
 *   gives columns back);
 * - a snippet's body is wrapped into `export default async (env, input) => { … }`, so
 *   top-level `await`, `return`, `env` and `input` work, with its static imports hoisted above
 *   and its last expression statement returned;
 * - budget checks are inserted (see instrument.ts).
 * No edit adds a line break, so lines stay exact; columns map back through the edits' map.
 */

/** Where compiled code finds the budget check: the identifier it calls and the module exporting `check`. */
export interface BudgetNames {
  check: string;
  module: string;
}

export interface CompileOptions {
  /** A snippet is wrapped into the default-exported function; a module is compiled as it is. */
  kind: "snippet" | "module";
  language: "js" | "ts";
  /** Null: no budget checks (the uninstrumented baseline benchmarks compare against). */
  budget: BudgetNames | null;
  /** A context cell (snippets only): what earlier cells carried, and this run's reserved names. */
  context?: { carried: ContextShape; names: ContextNames };
}

export interface CompiledModule {
  code: string;
  /** Specifiers of the static `import` and `export … from` declarations, in order. */
  imports: string[];
  /** Maps a 1-based position in `code` to the user's own source. */
  originalPosition(position: Position): Position;
  /** For a context cell: the context's shape if the cell succeeds (earlier cells' and its own declarations). */
  context?: ContextShape;
}

export function compileModule(source: string, options: CompileOptions): CompiledModule {
  const { js, toSource } = options.language === "ts" ? stripTypes(source, syntaxError) : { js: source, toSource: (p: Position) => p };
  let program: Program;
  try {
    program = parseModule(js, { allowReturn: options.kind === "snippet" });
  } catch (error) {
    throw syntaxError(error, toSource);
  }

  const edits = new MagicString(js);
  const imports: string[] = [];
  const hoisted: string[] = [];
  for (const statement of program.body) {
    if ("source" in statement && statement.source) {
      imports.push(String(statement.source.value));
      refuseRuntimeInternals(statement, toSource);
      const rebuilt = options.kind === "module" && statement.type === "ImportDeclaration" ? timersImport(statement) : undefined;
      if (rebuilt) edits.overwrite(statement.start, statement.end, rebuilt);
    }
    if (options.kind !== "snippet") continue;
    if (statement.type === "ImportDeclaration") {
      // Imports must sit at module level, outside the wrapper function: rebuilt on the header
      // line, with blank space (and the same line breaks) left where they were.
      hoisted.push(hoistedImport(statement));
      edits.overwrite(statement.start, statement.end, js.slice(statement.start, statement.end).replace(/[^\n]/g, " "));
    } else if (statement.type.startsWith("Export")) {
      throw new CompileError("SyntaxError", "A snippet cannot export; put shared code in a workspace module and import it.", toSource(startOf(statement)));
    }
  }
  walk(program, (node) => {
    if (node.type === "ImportExpression") {
      throw new CompileError("SyntaxError", "Dynamic import() is not supported; use a static import of a workspace file.", toSource(startOf(node)));
    }
  });
  if (options.budget) insertChecks(program, edits, options.budget.check);
  // A hashbang is only valid as the very first characters, and we prepend a header line's text.
  if (js.startsWith("#!")) edits.overwrite(0, 2, "//");

  if (options.kind === "snippet") {
    const last = program.body.findLast((s) => s.type !== "EmptyStatement" && s.type !== "ImportDeclaration");
    if (last?.type === "ExpressionStatement") {
      // Outermost at both ends, so after the checks: before every other insertion at the start
      // (prependRight), after every other at the end. From the statement's start, not the
      // expression's: `({ a: 1 })` parses to an expression that starts inside the parentheses.
      const end = js[last.end - 1] === ";" ? last.end - 1 : last.end;
      edits.prependRight(last.start, "return (");
      edits.appendLeft(end, ")");
    }
  }

  const budgetImport = options.budget ? `import { check as ${options.budget.check} } from "${options.budget.module}";` : "";
  let context: ContextShape | undefined;
  if (options.kind === "snippet" && options.context) {
    const { carried, names } = options.context;
    const cell = cellShape(program, js, hoistedImport);
    context = mergeShapes(carried, cell);
    // Earlier cells' imports are hoisted again, unless this cell imports the same name itself.
    const imported = new Set(cell.imports.flatMap((i) => i.names));
    const carriedImports = carried.imports.filter((i) => !i.names.some((n) => imported.has(n)));
    for (const i of carriedImports) imports.push(i.specifier);
    const prelude = contextPrelude(carried, names, options.budget?.check ?? null);
    // The cell runs in an inner function under the prelude (see context.ts); its capture
    // function is declared last in its block and handed over first. The prelude sits in a
    // block of its own, so an earlier cell's `env` or `input` may shadow the parameters.
    edits.prepend(
      `${budgetImport}${carriedImports.map((i) => i.statement).join("")}${hoisted.join("")}export default async (env, input, ${names.state}, ${names.save}) => {{${prelude}\nreturn (async () => {{${names.save}(${names.capture});`,
    );
    edits.append(`\n;${captureFunction(context.values, names)}}})();}}`);
  } else if (options.kind === "snippet") {
    // The body goes in a block of its own so it may declare its own `env` or `input`. An arrow
    // function, so that the top level has no `arguments` and `this` is undefined, as in a module.
    edits.prepend(`${budgetImport}${hoisted.join("")}export default async (env, input) => {{`);
    edits.append("\n}}");
  } else {
    edits.prepend(budgetImport);
  }

  let mappings: DecodedMappings | undefined;
  return {
    code: edits.toString(),
    imports,
    ...(context ? { context } : {}),
    originalPosition(position) {
      // Built on first use: only errors need it.
      mappings ??= edits.generateDecodedMap({ hires: true }).mappings as DecodedMappings;
      const inJs = originalPosition(mappings, position, false) ?? { line: 1, column: 1 };
      return toSource(inJs);
    },
  };
}

/** acorn and sucrase errors carry `loc` (1-based line, 0-based column) and end their message with it. */
function syntaxError(error: unknown, toSource: (position: Position) => Position): CompileError {
  if (error instanceof RangeError) return new CompileError("SyntaxError", "The code is nested too deeply to compile.");
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\(\d+:\d+\)\s*$/, "");
  const loc = (error as { loc?: { line?: unknown; column?: unknown } }).loc;
  if (typeof loc?.line !== "number" || typeof loc.column !== "number") return new CompileError("SyntaxError", message);
  return new CompileError("SyntaxError", message, toSource({ line: loc.line, column: loc.column + 1 }));
}

/**
 * Names of `cloudflare:workers` that user code may import. The rest reach our own entrypoint
 * (`exports`, `withExports`, `withEnvAndExports`), outlive the run (`waitUntil`), or end the
 * isolate under the host (`abortIsolate`); a namespace import or re-export would carry them too.
 */
export const CLOUDFLARE_WORKERS_IMPORTS = ["env", "DurableObject", "RpcPromise", "RpcProperty", "RpcStub", "RpcTarget", "ServiceStub", "WorkerEntrypoint", "WorkflowEntrypoint", "withEnv"];
/**
 * Names of `node:process` user code may not import: its own `getBuiltinModule` loads
 * `node:module`, whose createRequire loads `cloudflare:workers` whole. The process object (the
 * global, the default export) has a guarded one instead (runtime/budget.ts); the module's
 * export is a binding of its own that no code in the isolate can replace.
 */
export const NODE_PROCESS_REFUSED_IMPORTS = ["getBuiltinModule"];
/**
 * Names of `node:timers` and `node:timers/promises` user code may import. The modules' own named
 * exports are the runtime's timers as they were before the budget wrapped them (a bare builtin
 * scheduled through them would run uncounted); their default exports hold the wrapped ones
 * (runtime/budget.ts; node:timers' are the globals, as in Node). So an import of these names, or
 * of the module as a namespace, is rewritten to read them from the default export
 * (`timersImport`): Node code that writes `import { setTimeout } from "node:timers/promises"`
 * runs unchanged, through the wrapped timers. Other names (node:timers' `Timeout` class,
 * `active`, `enroll`) are refused.
 */
export const NODE_TIMERS_IMPORTS = ["default", "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "clearImmediate", "promises"];
export const NODE_TIMERS_PROMISES_IMPORTS = ["default", "setTimeout", "setInterval", "setImmediate", "scheduler"];
const TIMERS_MODULES = new Set(["node:timers", "node:timers/promises"]);
/** Runtime modules closed to user code: `node:module`'s createRequire loads any of them, `cloudflare:workers` included. */
const CLOSED_MODULES = ["node:module", "module"];

/** Runtime modules open to user code only in part: which of their names it may import, and the hint its refusals carry. */
const PARTLY_OPEN_MODULES: Record<string, { isOpen: (name: string) => boolean; hint: string; namespace?: true }> = {
  "cloudflare:workers": { isOpen: (name) => CLOUDFLARE_WORKERS_IMPORTS.includes(name), hint: ` (available: ${CLOUDFLARE_WORKERS_IMPORTS.join(", ")})` },
  "node:process": { isOpen: (name) => !NODE_PROCESS_REFUSED_IMPORTS.includes(name), hint: " (import its other names, or use the process object)" },
  process: { isOpen: (name) => !NODE_PROCESS_REFUSED_IMPORTS.includes(name), hint: " (import its other names, or use the process object)" },
  "node:timers": { isOpen: (name) => NODE_TIMERS_IMPORTS.includes(name), namespace: true, hint: ` (available: ${NODE_TIMERS_IMPORTS.join(", ")})` },
  "node:timers/promises": { isOpen: (name) => NODE_TIMERS_PROMISES_IMPORTS.includes(name), namespace: true, hint: ` (available: ${NODE_TIMERS_PROMISES_IMPORTS.join(", ")})` },
};

type ModuleDeclaration = Extract<Program["body"][number], { source?: unknown }>;

function refuseRuntimeInternals(statement: ModuleDeclaration, toSource: (position: Position) => Position): void {
  const module = String(statement.source?.value);
  const refuse: (what: string) => never = (what) => {
    throw new CompileError("ImportError", `Cannot import ${what}: it is not available in a sandbox.`, toSource(startOf(statement)));
  };
  if (CLOSED_MODULES.includes(module)) refuse(`'${module}'`);
  if (!Object.hasOwn(PARTLY_OPEN_MODULES, module)) return;
  const { isOpen, hint, namespace } = PARTLY_OPEN_MODULES[module]!;
  if (statement.type === "ExportAllDeclaration") refuse(`everything from '${module}'${hint}`);
  // Re-exports cannot be rewritten to read the default export: only the default may pass.
  const reexport = statement.type === "ExportNamedDeclaration";
  const specifiers = "specifiers" in statement ? statement.specifiers : [];
  for (const specifier of specifiers) {
    if (specifier.type === "ImportNamespaceSpecifier") {
      if (!namespace) refuse(`'${module}' as a namespace${hint}`);
      continue;
    }
    if (specifier.type === "ImportDefaultSpecifier") {
      if (!isOpen("default")) refuse(`a default export of '${module}'${hint}`);
      continue;
    }
    const imported = specifier.type === "ExportSpecifier" ? specifier.local : specifier.imported;
    const name = imported.type === "Identifier" ? imported.name : String(imported.value);
    if (!isOpen(name) || (reexport && TIMERS_MODULES.has(module) && name !== "default")) refuse(`'${name}' from '${module}'${hint}`);
  }
}

/**
 * An import of node:timers or node:timers/promises that names more than the default export,
 * rebuilt to take every name from the default export (which holds the budget's wrapped timers):
 * `import d, { setTimeout as sleep } from "node:timers/promises"` becomes
 * `import t from "node:timers/promises"; const d = t, { setTimeout: sleep } = t;`. Undefined
 * for any other import. One line, so the positions of the code after it keep their lines.
 */
function timersImport(node: ImportDeclaration): string | undefined {
  const module = String(node.source.value);
  if (!TIMERS_MODULES.has(module) || node.specifiers.every((s) => s.type === "ImportDefaultSpecifier")) return undefined;
  const whole = randomIdentifier();
  const bindings: string[] = [];
  const named: string[] = [];
  for (const specifier of node.specifiers) {
    if (specifier.type === "ImportSpecifier") {
      const imported = specifier.imported.type === "Identifier" ? specifier.imported.name : JSON.stringify(specifier.imported.value);
      if (imported === "default") bindings.push(`${specifier.local.name} = ${whole}`);
      else named.push(`${imported}: ${specifier.local.name}`);
    } else {
      bindings.push(`${specifier.local.name} = ${whole}`);
    }
  }
  if (named.length > 0) bindings.push(`{ ${named.join(", ")} } = ${whole}`);
  return `import ${whole} from ${JSON.stringify(module)}; const ${bindings.join(", ")};`;
}

/** An import as it goes into the compiled code: node:timers' named imports rebuilt, the rest as they are. */
function hoistedImport(node: ImportDeclaration): string {
  return timersImport(node) ?? importStatement(node);
}

function startOf(node: AnyNode): Position {
  return { line: node.loc!.start.line, column: node.loc!.start.column + 1 };
}

/** An import declaration rebuilt on one line from its parts (its own text may hold comments). */
function importStatement(node: ImportDeclaration): string {
  const clauses: string[] = [];
  const named: string[] = [];
  for (const specifier of node.specifiers) {
    if (specifier.type === "ImportDefaultSpecifier") clauses.push(specifier.local.name);
    else if (specifier.type === "ImportNamespaceSpecifier") clauses.push(`* as ${specifier.local.name}`);
    else {
      const imported = specifier.imported.type === "Identifier" ? specifier.imported.name : JSON.stringify(specifier.imported.value);
      named.push(`${imported} as ${specifier.local.name}`);
    }
  }
  if (named.length > 0) clauses.push(`{ ${named.join(", ")} }`);
  const attributes = (node.attributes ?? []).map((a) => `${a.key.type === "Identifier" ? a.key.name : JSON.stringify(a.key.value)}: ${JSON.stringify(a.value.value)}`);
  const from = clauses.length > 0 ? `${clauses.join(", ")} from ` : "";
  const attributesText = attributes.length > 0 ? ` with { ${attributes.join(", ")} }` : "";
  return `import ${from}${JSON.stringify(node.source.value)}${attributesText};`;
}
