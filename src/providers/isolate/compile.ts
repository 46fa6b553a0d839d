import { Parser, type Node } from "acorn";
import MagicString from "magic-string";
import { transform } from "sucrase";

/**
 * Turns user source (a snippet or a workspace module) into the module we load, in one
 * pass of edits over the original text:
 * - TypeScript types are stripped first with sucrase, which keeps line numbers;
 * - a snippet's body is wrapped in `export default async function (env, input) { … }`
 *   with its static imports hoisted above it, and its last expression statement becomes
 *   the `return` value;
 * - every loop back-edge and function entry gets a CPU-budget check, every `await`
 *   is bracketed so time spent suspended is not counted (see budget.ts).
 * No edit adds a line break, so lines stay exact; columns are mapped back through the
 * magic-string map.
 */

/** Identifiers and module path of the budget runtime, random per load so user code cannot name them. */
export interface BudgetNames {
  check: string;
  pause: string;
  resume: string;
  module: string;
}

export interface CompiledModule {
  code: string;
  /** Static import specifiers, in order. */
  imports: string[];
  /** Maps a 1-based line and column of `code` back to the user's source. */
  originalPosition(line: number, column: number): { line: number; column: number };
}

/** A problem in the user's source, reported with its position in that source (1-based). */
export class CompileError extends Error {
  override name: string;
  constructor(
    name: "SyntaxError" | "ImportError",
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = name;
  }
}

export interface CompileOptions {
  kind: "snippet" | "module";
  language: "js" | "ts";
  /** Null: no budget checks (the benchmark's uninstrumented baseline). */
  budget: BudgetNames | null;
}

type AnyNode = Node & Record<string, any>;

const LOOPS = new Set(["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"]);
const FUNCTIONS = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

export function compileModule(source: string, options: CompileOptions): CompiledModule {
  const js = options.language === "ts" ? stripTypes(source) : source;
  let program: AnyNode;
  try {
    program = Parser.parse(js, {
      ecmaVersion: "latest",
      sourceType: "module",
      allowAwaitOutsideFunction: options.kind === "snippet",
      allowReturnOutsideFunction: options.kind === "snippet",
      locations: true,
    }) as AnyNode;
  } catch (error) {
    throw syntaxError(error);
  }

  const ms = new MagicString(js);
  const imports: string[] = [];
  const hoisted: string[] = [];
  for (const statement of program.body as AnyNode[]) {
    if (statement.source?.value !== undefined) imports.push(String(statement.source.value));
    if (options.kind !== "snippet") continue;
    if (statement.type === "ImportDeclaration") {
      // Imports must be at module level: hoist them onto the header line, keeping the
      // line breaks they spanned so every later line keeps its number.
      const text = js.slice(statement.start, statement.end);
      hoisted.push(text.replace(/\s*\n\s*/g, " ").replace(/;?$/, ";"));
      ms.overwrite(statement.start, statement.end, "\n".repeat(text.split("\n").length - 1) || " ");
    } else if (statement.type.startsWith("Export")) {
      throw new CompileError("SyntaxError", "A snippet cannot export; put shared code in a workspace module and import it.", statement.loc!.start.line, statement.loc!.start.column + 1);
    }
  }

  if (options.budget) instrument(program, ms, options.budget);
  else rejectDynamicImport(program);

  if (options.kind === "snippet") {
    const last = [...(program.body as AnyNode[])].reverse().find((s) => s.type !== "EmptyStatement" && s.type !== "ImportDeclaration");
    // A lone string literal parses as a directive; as a snippet's last line it is a value.
    if (last?.type === "ExpressionStatement") {
      // From the statement's start, not the expression's: `({ a: 1 })` parses to an
      // expression that starts inside the parentheses.
      // Outermost at both ends: before every other opening at the start, after every
      // other closing at the end (see `instrument` for which side each kind goes on).
      const end = js[last.end - 1] === ";" ? last.end - 1 : last.end;
      ms.prependRight(last.start, "return (");
      ms.appendLeft(end, ")");
    }
  }

  const budgetImport = options.budget
    ? `import { check as ${options.budget.check}, pause as ${options.budget.pause}, resume as ${options.budget.resume} } from "${options.budget.module}";`
    : "";
  const header = options.kind === "snippet" ? `${budgetImport}${hoisted.join("")}export default async function (env, input) {` : budgetImport;
  ms.prepend(header);
  if (options.kind === "snippet") ms.append("\n}");

  const code = ms.toString();
  const map = ms.generateDecodedMap({ hires: true });
  return {
    code,
    imports,
    originalPosition(line, column) {
      // `hires` maps every original character, so the nearest segment at or before the
      // column is the character itself (or, inside inserted text, the one before it).
      const segments = map.mappings[line - 1] ?? [];
      let best: number[] | undefined;
      for (const segment of segments) {
        if (segment[0]! > column - 1) break;
        if (segment.length >= 4) best = segment;
      }
      if (!best) return { line, column: 1 };
      return { line: best[2]! + 1, column: best[3]! + 1 };
    },
  };
}

function stripTypes(source: string): string {
  try {
    return transform(source, { transforms: ["typescript"], disableESTransforms: true, keepUnusedImports: true }).code;
  } catch (error) {
    throw syntaxError(error);
  }
}

/** acorn and sucrase both end their messages with "(line:column)", 0-based column. */
function syntaxError(error: unknown): CompileError {
  const message = error instanceof Error ? error.message : String(error);
  const position = /\((\d+):(\d+)\)\s*$/.exec(message);
  const clean = message.replace(/^Error transforming [^:]*:\s*/, "").replace(/\s*\(\d+:\d+\)\s*$/, "");
  return new CompileError("SyntaxError", clean, position ? Number(position[1]) : undefined, position ? Number(position[2]) + 1 : undefined);
}

function rejectDynamicImport(program: AnyNode): void {
  walk(program, (node) => {
    if (node.type === "ImportExpression") throw dynamicImport(node);
  });
}

function dynamicImport(node: AnyNode): CompileError {
  return new CompileError(
    "SyntaxError",
    "Dynamic import() is not supported; use a static import of a workspace file.",
    node.loc!.start.line,
    node.loc!.start.column + 1,
  );
}

/**
 * Inserts the budget checks. Openings go on the right side of their index, in
 * pre-order (outer first); closings on the left side, in post-order (inner first). At
 * one index every closing of what ends there precedes every opening of what starts
 * there, and nested insertions come out properly nested.
 */
function instrument(program: AnyNode, ms: MagicString, names: BudgetNames): void {
  const check = `${names.check}();`;
  walk(
    program,
    (node) => {
      if (node.type === "ImportExpression") throw dynamicImport(node);
      if (LOOPS.has(node.type)) {
        const body = node.body as AnyNode;
        if (body.type === "BlockStatement") ms.appendRight(body.start + 1, check);
        else ms.appendRight(body.start, `{${check}`);
      } else if (FUNCTIONS.has(node.type)) {
        const body = node.body as AnyNode;
        if (body.type === "BlockStatement") {
          // After any directive prologue ("use strict" must stay first).
          const directives = (body.body as AnyNode[]).filter((s, i, all) => s.directive !== undefined && all.slice(0, i).every((p) => p.directive !== undefined));
          ms.appendRight(directives.length ? directives[directives.length - 1]!.end : body.start + 1, check);
        } else {
          ms.appendRight(body.start, `(${names.check}(), `);
        }
      } else if (node.type === "AwaitExpression") {
        ms.appendRight(node.start, `${names.resume}(`);
        ms.appendRight(node.argument.start, `${names.pause}(`);
      }
    },
    (node) => {
      if (LOOPS.has(node.type) && node.body.type !== "BlockStatement") ms.appendLeft(node.body.end, "}");
      else if (FUNCTIONS.has(node.type) && node.body.type !== "BlockStatement") ms.appendLeft(node.body.end, ")");
      else if (node.type === "AwaitExpression") {
        ms.appendLeft(node.argument.end, ")");
        ms.appendLeft(node.end, ")");
      }
    },
  );
}

function walk(node: AnyNode, enter: (node: AnyNode) => void, leave?: (node: AnyNode) => void): void {
  enter(node);
  for (const key of Object.keys(node)) {
    if (key === "loc" || key === "start" || key === "end" || key === "type") continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const child of value) if (child && typeof child.type === "string") walk(child, enter, leave);
    } else if (value && typeof value.type === "string") {
      walk(value, enter, leave);
    }
  }
  leave?.(node);
}
