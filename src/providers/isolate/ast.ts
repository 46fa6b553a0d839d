import { parse, type AnyNode, type Program } from "acorn";

export type { AnyNode, Program };

/**
 * Parses ES module source with positions. A snippet may also `return` at top level; top-level
 * `await` is standard module syntax.
 */
export function parseModule(source: string, options: { allowReturn: boolean }): Program {
  return parse(source, {
    ecmaVersion: "latest",
    sourceType: "module",
    allowReturnOutsideFunction: options.allowReturn,
    locations: true,
  });
}

/** Depth-first walk: `enter` in pre-order, `leave` in post-order. */
export function walk(node: AnyNode, enter: (node: AnyNode) => void, leave?: (node: AnyNode) => void): void {
  enter(node);
  for (const [key, value] of Object.entries(node)) {
    if (key === "loc") continue;
    if (Array.isArray(value)) {
      for (const child of value) if (isNode(child)) walk(child, enter, leave);
    } else if (isNode(value)) {
      walk(value, enter, leave);
    }
  }
  leave?.(node);
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}
