import { transform } from "sucrase";
import { parse } from "sucrase/dist/esm/parser/index.js";
import { CompileError } from "./compile-error";
import { decodeMappings, originalPosition, type Position } from "./sourcemap";

/**
 * TypeScript to JavaScript with sucrase (type stripping: it keeps every line where it was, and
 * its source map gives columns back), refusing what sucrase would silently drop.
 */
export function stripTypes(source: string, syntaxError: (error: unknown, toSource: (p: Position) => Position) => CompileError) {
  let output: ReturnType<typeof transform>;
  try {
    output = transform(source, {
      transforms: ["typescript"],
      disableESTransforms: true,
      filePath: "source.ts",
      sourceMapOptions: { compiledFilename: "source.js" },
    });
  } catch (error) {
    throw syntaxError(error, (p) => p);
  }
  refuseValueNamespaces(source);
  const mappings = decodeMappings(output.sourceMap?.mappings ?? "");
  return {
    js: output.code,
    // Sucrase keeps lines; only columns move, and each token's text is copied unchanged.
    toSource: (position: Position) => ({ line: position.line, column: originalPosition(mappings, position, true)?.column ?? position.column }),
  };
}

const VALUE_KEYWORDS = new Set(["const", "let", "var", "function", "class", "enum"]);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Sucrase parses a `namespace N { … }` (or `module N { … }`) as a type and drops it, values
 * included, which would leave `N` undefined at run time. A namespace holding only types is
 * dropped by tsc too and is fine; one that declares values is refused, naming the construct.
 * (`declare namespace` and `declare module "x"` are types by definition.)
 */
function refuseValueNamespaces(source: string): void {
  if (!/\b(?:namespace|module)\b/.test(source)) return;
  const { tokens } = parse(source, false, true, false);
  const text = (i: number) => (tokens[i] ? source.slice(tokens[i]!.start, tokens[i]!.end) : "");
  for (let i = 0; i < tokens.length; i++) {
    const keyword = text(i);
    if ((keyword !== "namespace" && keyword !== "module") || !tokens[i]!.isType || !IDENTIFIER.test(text(i + 1))) continue;
    if (text(i - 1) === "declare") continue;
    let open = i + 1;
    while (open < tokens.length && text(open) !== "{") open++;
    for (let j = open + 1, depth = 1; j < tokens.length && depth > 0; j++) {
      const token = text(j);
      if (token === "{") depth++;
      else if (token === "}") depth--;
      else if (token === "declare") j++;
      else if (VALUE_KEYWORDS.has(token)) {
        const before = source.slice(0, tokens[i]!.start).split("\n");
        throw new CompileError(
          "SyntaxError",
          `TypeScript ${keyword} '${text(i + 1)}' declares values, and ${keyword}s are not supported here (type stripping would drop it): use a module (export from a workspace file) or a plain object.`,
          { line: before.length, column: before.at(-1)!.length + 1 },
        );
      }
    }
  }
}
