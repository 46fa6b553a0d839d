import { SandboxerError } from "../errors";
import { BulkSandboxIds, type BulkOutcome } from "../schemas/bulk";
import type { PatchSandboxInput } from "../schemas/sandbox";
import { type OperationContext } from "./context";
import { sandboxOperations } from "./sandboxes";
import { parseInput } from "./validate";

/** Sandboxes acted on at once by a bulk action: enough to be quick, few enough not to flood the runtime. */
const BULK_CONCURRENCY = 8;

/**
 * One action applied to many sandboxes (the dashboard's selected rows). Each sandbox goes
 * through the single-sandbox operation, so the rules are the same; one failing does not stop
 * the others, and each outcome says what happened.
 */
export function bulkOperations(ctx: OperationContext) {
  const single = sandboxOperations(ctx);

  async function each(input: unknown, action: (id: string) => Promise<unknown>): Promise<BulkOutcome[]> {
    const ids = parseInput(BulkSandboxIds, input, "ids");
    const outcomes: BulkOutcome[] = new Array(ids.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const id = ids[i]!;
        try {
          await action(id);
          outcomes[i] = { id, ok: true };
        } catch (error) {
          const known = SandboxerError.fromRpc(error);
          if (!known) {
            console.error(`bulk action on ${id} failed:`, error);
            outcomes[i] = { id, ok: false, error: { code: "internal", detail: "Something went wrong on our side. It has been logged." } };
          } else {
            outcomes[i] = { id, ok: false, error: { code: known.code, detail: known.detail } };
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, ids.length) }, worker));
    return outcomes;
  }

  return {
    /** Stops each sandbox (reason `deleted`); stopping a stopped one is a success. */
    async stopMany(ids: string[]): Promise<BulkOutcome[]> {
      return each(ids, (id) => single.destroy(id));
    },

    /** Applies one patch (e.g. `{ ttlSeconds }`, from now) to each sandbox, without If-Match. */
    async updateMany(ids: string[], patch: PatchSandboxInput): Promise<BulkOutcome[]> {
      return each(ids, (id) => single.update(id, patch));
    },
  };
}
