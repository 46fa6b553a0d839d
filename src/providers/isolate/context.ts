import type { ImportDeclaration, Pattern, VariableDeclaration } from "acorn";
import MagicString from "magic-string";
import { parseModule, type Program } from "./ast";
import { insertChecks } from "./instrument";

/**
 * Code contexts, compile side: what a notebook-like cell carries to the next one. Dynamic
 * workers have no eval, so a cell is not run "inside" the previous ones; instead each cell is
 * compiled with a prelude that declares again what earlier cells left:
 * - value bindings (`let`, `const`, `var`, destructured names) get the values the previous
 *   isolate saved (structured-clone data, runtime/context.ts encodes and decodes it);
 * - `function` and `class` declarations, and `const f = () => …` / `const f = function …`, are
 *   carried as source and declared again, so they close over the restored bindings;
 * - import declarations are carried as statements and hoisted again.
 * The shape (names, kinds, sources) is computed here, on the host, from the user's own code;
 * only the values come back from the isolate, as a string the host stores and never evaluates.
 */

/** A value binding restored from saved data; `var` is restored as `let`. */
export interface ContextValueBinding {
  name: string;
  kind: "const" | "let";
}

/** A declaration carried as (type-stripped) JavaScript source. */
export interface ContextDeclaration {
  name: string;
  source: string;
}

/** An import carried to later cells: the statement and the local names it binds. */
export interface ContextImport {
  names: string[];
  statement: string;
  specifier: string;
}

/** Everything but the values that a context carries from cell to cell. */
export interface ContextShape {
  values: ContextValueBinding[];
  declarations: ContextDeclaration[];
  imports: ContextImport[];
}

export const EMPTY_CONTEXT_SHAPE: ContextShape = { values: [], declarations: [], imports: [] };

/** Identifiers the prelude and the capture use; random per run, so user code cannot name them. */
export interface ContextNames {
  /** Parameter holding the restored values (a null-prototype object, name → value). */
  state: string;
  /** Parameter the cell hands its capture function to. */
  save: string;
  /** The capture function declared at the end of the cell. */
  capture: string;
}

/** The top-level declarations of one cell (a parsed snippet), in the shape later cells need. */
export function cellShape(program: Program, js: string, importStatement: (node: ImportDeclaration) => string): ContextShape {
  const shape: ContextShape = { values: [], declarations: [], imports: [] };
  for (const statement of program.body) {
    if (statement.type === "ImportDeclaration") {
      const names = statement.specifiers.map((s) => s.local.name);
      if (names.length > 0) shape.imports.push({ names, statement: importStatement(statement), specifier: String(statement.source.value) });
    } else if (statement.type === "FunctionDeclaration" || statement.type === "ClassDeclaration") {
      shape.declarations.push({ name: statement.id.name, source: js.slice(statement.start, statement.end) });
    } else if (statement.type === "VariableDeclaration") {
      addVariables(statement, js, shape);
    }
  }
  return shape;
}

function addVariables(statement: VariableDeclaration, js: string, shape: ContextShape): void {
  for (const declarator of statement.declarations) {
    const init = declarator.init;
    const isFunction = init?.type === "ArrowFunctionExpression" || init?.type === "FunctionExpression";
    if (statement.kind === "const" && declarator.id.type === "Identifier" && init && isFunction) {
      // Functions cannot be structured-cloned: a const bound to one is carried like a declaration.
      shape.declarations.push({ name: declarator.id.name, source: `const ${declarator.id.name} = ${js.slice(init.start, init.end)};` });
      continue;
    }
    for (const name of patternNames(declarator.id)) shape.values.push({ name, kind: statement.kind === "const" ? "const" : "let" });
  }
}

function patternNames(pattern: Pattern): string[] {
  switch (pattern.type) {
    case "Identifier":
      return [pattern.name];
    case "ObjectPattern":
      return pattern.properties.flatMap((p) => patternNames(p.type === "RestElement" ? p.argument : p.value));
    case "ArrayPattern":
      return pattern.elements.flatMap((e) => (e ? patternNames(e) : []));
    case "RestElement":
      return patternNames(pattern.argument);
    case "AssignmentPattern":
      return patternNames(pattern.left);
    default:
      return [];
  }
}

/**
 * The shape after a cell: what the cell declares replaces whatever an earlier cell declared
 * under the same name (a cell may redefine a function or turn a value into a class).
 */
export function mergeShapes(before: ContextShape, cell: ContextShape): ContextShape {
  const declared = new Set([...cell.values.map((v) => v.name), ...cell.declarations.map((d) => d.name), ...cell.imports.flatMap((i) => i.names)]);
  return {
    values: [...before.values.filter((v) => !declared.has(v.name)), ...cell.values],
    declarations: [...before.declarations.filter((d) => !declared.has(d.name)), ...cell.declarations],
    imports: [...before.imports.filter((i) => !i.names.some((n) => declared.has(n))), ...cell.imports],
  };
}

/**
 * Source of the prelude: earlier cells' values and declarations, declared in the wrapper
 * function's scope. The cell itself runs in an inner function, so it may declare a name again
 * (its `var` included) without a redeclaration error, and its assignments to an earlier
 * binding reach the prelude's. Carried declarations get budget checks like any user code.
 */
export function contextPrelude(carried: ContextShape, names: ContextNames, check: string | null): string {
  const values = carried.values.map((v) => `${v.kind} ${v.name} = ${names.state}[${JSON.stringify(v.name)}];`).join("");
  const sources = carried.declarations.map((d) => d.source).join("\n");
  if (!sources || !check) return values + sources;
  // Sources were parsed from earlier cells, so they parse again; checks are inserted as in compile.ts.
  const program = parseModule(sources, { allowReturn: false });
  const edits = new MagicString(sources);
  insertChecks(program, edits, check);
  return values + edits.toString();
}

/**
 * The capture function, declared at the end of the cell's block (and so hoisted to its start):
 * hands each value binding in scope to the function it is given; one in its temporal dead zone (the cell returned
 * or threw before reaching it) is reported as not initialised.
 */
export function captureFunction(values: ContextValueBinding[], names: ContextNames): string {
  const puts = values.map((v) => {
    const name = JSON.stringify(v.name);
    return `try{${names.save}(${name},${v.name})}catch{${names.save}(${name},undefined,true)}`;
  });
  // Its parameter reuses the save name: a user binding named like any ordinary word stays visible.
  return `function ${names.capture}(${names.save}){${puts.join("")}}`;
}
