import type { Position } from "./sourcemap";

/** A problem found before anything runs, with its position in the user's source (1-based). */
export class CompileError extends Error {
  override name: "SyntaxError" | "ImportError";
  readonly line?: number;
  readonly column?: number;
  /** The workspace path of the module at fault; undefined for the snippet itself. */
  readonly file?: string;
  // Plain fields rather than parameter properties: Node's type stripping (used by the
  // benchmark) does not accept those.
  constructor(name: "SyntaxError" | "ImportError", message: string, position?: Position, file?: string) {
    super(message);
    this.name = name;
    this.line = position?.line;
    this.column = position?.column;
    this.file = file;
  }
}
