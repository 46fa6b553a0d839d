import { z } from "zod";
import { HOST_TOOL_NAME, MAX_HOST_TOOLS } from "../capabilities/tools";
import { AuditQuery, type AuditPage } from "../schemas/audit";
import { sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

const TypesOptions = z.object({ tools: z.array(z.string().regex(HOST_TOOL_NAME, "must be a JavaScript identifier")).max(MAX_HOST_TOOLS).optional() });

/** What a sandbox did and what its code can see. Neither is activity. */
export function inspectOperations(ctx: OperationContext) {
  return {
    /** Every capability call, host-tool call and egress decision, oldest first. */
    async audit(id: string, query: AuditQuery = {}): Promise<AuditPage> {
      const { limit, cursor } = parseInput(AuditQuery, query ?? {}, "query");
      return sandboxOf(ctx, id).listAudit(limit, cursor);
    },

    /** The `.d.ts` of exactly the `env` this sandbox's code receives; `tools` also declares those host tools. */
    async types(id: string, options: { tools?: string[] } = {}): Promise<string> {
      const tools = parseInput(TypesOptions, options ?? {}, "query").tools;
      return sandboxOf(ctx, id).typeDeclarations(tools);
    },
  };
}
