import MagicString from "magic-string";
import { parseModule, walk, type AnyNode, type Program } from "./ast";

/** Prefix of every identifier and module name we add to a run; workspace imports may not use it. */
export const RESERVED_PREFIX = "__sbx_";

/**
 * A fresh identifier: `__sbx_` and 16 random bytes in hex. Dynamic code has no `eval`, so user
 * code can only name identifiers written in its source, and it never sees this one.
 */
export function randomIdentifier(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return RESERVED_PREFIX + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Inserts a call to `check` wherever code can keep running:
 * - the start of every loop body (`for`, `for-in`, `for-of`, `for await`, `while`, `do-while`):
 *   every back-edge, a labelled `continue` included, enters the body again;
 * - the start of every function body (declarations, expressions, arrows, methods, accessors,
 *   constructors, generators, async functions), so recursion and callbacks handed to builtins
 *   (`map`, `then`, `queueMicrotask`) are counted; expression-bodied arrows become
 *   `(check(), body)`;
 * - class field initialisers and static blocks, which run without a function of their own;
 * - right after every `await` resumes, as `check(await x)`: the first code to run after an idle
 *   wait is then a check, which is how the budget tells waiting from computing.
 * Edits go into `edits`, a MagicString over the source `program` was parsed from. No insertion
 * contains a line break, so every line keeps its number.
 */
export function insertChecks(program: Program, edits: MagicString, check: string): void {
  // One pre-order pass. Openings are appended on the right of their index (outer first);
  // closings are prepended on the left of theirs, so an inner closing lands before an outer one
  // at the same index, and left-side text always precedes right-side text: whatever ends at an
  // index closes before whatever starts there opens, and insertions come out properly nested.
  //
  // Every inserted character can be told from the user's (see `stripChecks`): calls name the
  // check, and each other character we insert follows a `/*check*/` marker comment.
  const call = `${check}();`;
  const mark = (char: string) => `/*${check}*/${char}`;
  const wrap = (start: number, end: number, open: string, close: string) => {
    edits.appendRight(start, open);
    edits.prependLeft(end, close);
  };
  walk(program, (node) => {
    switch (node.type) {
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "WhileStatement":
      case "DoWhileStatement":
        if (node.body.type === "BlockStatement") edits.appendRight(node.body.start + 1, call);
        else wrap(node.body.start, node.body.end, `${mark("{")}${call}`, mark("}"));
        break;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        if (node.body.type === "BlockStatement") {
          const prologue = afterDirectives(node.body, edits.original);
          edits.appendRight(prologue.end, prologue.terminated ? call : `${mark(";")}${call}`);
        } else wrap(node.body.start, node.body.end, `${mark("(")}${check}(), `, mark(")"));
        break;
      case "PropertyDefinition":
        if (node.value && !namesItsValue(node.value)) wrap(node.value.start, node.value.end, `${mark("(")}${check}(), `, mark(")"));
        break;
      case "StaticBlock":
        if (node.body[0]) edits.appendRight(node.body[0].start, call);
        break;
      case "AwaitExpression":
        wrap(node.start, node.end, `${check}(`, mark(")"));
        break;
    }
  });
}

/**
 * Instruments standalone ES module source (top-level `return` allowed). The result calls
 * `checkName` as a free identifier: the caller supplies it, e.g. with an import. Used by tests
 * and benchmarks; runs go through `compileModule`.
 */
export function instrument(source: string, options: { checkName?: string } = {}): { code: string; checkName: string } {
  const checkName = options.checkName ?? randomIdentifier();
  const edits = new MagicString(source);
  insertChecks(parseModule(source, { allowReturn: true }), edits, checkName);
  return { code: edits.toString(), checkName };
}

/**
 * After the directive prologue: `"use strict"` must stay the first statement of its body. A
 * directive ended by a line break rather than a semicolon (`"use strict"\n return this`) is
 * not `terminated`: the check needs a `;` before it, or it would continue the directive's
 * expression (`"use strict"check()` does not parse).
 */
function afterDirectives(body: { start: number; body: AnyNode[] }, text: string): { end: number; terminated: boolean } {
  let end = body.start + 1;
  let terminated = true;
  for (const statement of body.body) {
    if (statement.type !== "ExpressionStatement" || statement.directive === undefined) break;
    end = statement.end;
    terminated = text[statement.end - 1] === ";";
  }
  return { end, terminated };
}

/**
 * An anonymous function or class initialiser takes the field's name (`x = () => 1` has
 * `name === "x"`); wrapping it in `(check(), …)` would lose that, and creating it runs no code.
 */
function namesItsValue(value: AnyNode): boolean {
  return value.type === "ArrowFunctionExpression" || value.type === "FunctionExpression" || value.type === "ClassExpression";
}
