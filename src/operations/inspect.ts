import { TypesOptions } from "../schemas/tools";
import { AuditQuery, type AuditPage } from "../schemas/audit";
import { sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

/** What a sandbox did and what its code can see. Neither is activity. */
export function inspectOperations(ctx: OperationContext) {
  return {
    /** Every capability call, host-tool call and egress decision, oldest first. */
    async audit(id: string, query: AuditQuery = {}): Promise<AuditPage> {
      const { limit, cursor } = parseInput(AuditQuery, query ?? {}, "query");
      return sandboxOf(ctx, id).listAudit(limit, cursor);
    },

    /** The `.d.ts` of exactly the `env` this sandbox's code receives; `tools` also declares those host tools. */
    async types(id: string, options: TypesOptions = {}): Promise<string> {
      const tools = parseInput(TypesOptions, options ?? {}, "query").tools;
      return sandboxOf(ctx, id).typeDeclarations(tools);
    },
  };
}
