import { CONTEXT_ID_PATTERN, CreateContextBody, type CodeContext } from "../schemas/contexts";
import { z } from "zod";
import { sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

const ContextId = z.string().regex(CONTEXT_ID_PATTERN, "a context id looks like ctx_ and 24 hex digits");

/** Code contexts: notebook-like state carried from one `exec` cell to the next (js/ts sandboxes). */
export function contextOperations(ctx: OperationContext) {
  return {
    /** A new, empty context; run cells in it with `exec(id, { code, context: contextId })`. Activity. */
    async createContext(id: string, body: CreateContextBody = {}): Promise<CodeContext> {
      parseInput(CreateContextBody, body ?? {}, "body");
      return sandboxOf(ctx, id).createContext();
    },

    /** The sandbox's contexts, oldest first, with the names each carries and its size. */
    async listContexts(id: string): Promise<CodeContext[]> {
      return sandboxOf(ctx, id).listContexts();
    },

    /** Forgets a context and everything it carried. */
    async deleteContext(id: string, contextId: string): Promise<void> {
      return sandboxOf(ctx, id).deleteContext(parseInput(ContextId, contextId, "path.contextId"));
    },
  };
}
