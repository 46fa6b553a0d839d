import type { FileEntry } from "../schemas/files";
import { FilesQuery } from "../schemas/files";
import type { SandboxList } from "../schemas/sandbox";
import { SearchSandboxesInput } from "../schemas/search";
import { normaliseWorkspacePrefix } from "../workspace/paths";
import { registryOf, sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

/**
 * Reads for people watching sandboxes (the dashboard). None of them is activity: looking at a
 * sandbox must never keep it alive.
 */
export function observeOperations(ctx: OperationContext) {
  return {
    /**
     * Like `list`, plus search by id prefix and "expiring within N seconds" (running sandboxes
     * whose earlier clock runs out within the window). Newest first; page with `nextCursor`.
     */
    async search(input: SearchSandboxesInput = {}): Promise<SandboxList> {
      const { state, limit, cursor, metadata, idPrefix, expiringWithinSeconds } = parseInput(SearchSandboxesInput, input ?? {}, "query");
      return registryOf(ctx).list({
        state,
        limit,
        cursor,
        metadata: metadata ?? {},
        idPrefix: idPrefix || undefined,
        deadlineBefore: expiringWithinSeconds === undefined ? undefined : new Date(Date.now() + expiringWithinSeconds * 1000).toISOString(),
      });
    },

    /** Workspace files under an optional prefix, sorted by path, without touching the idle clock (`listFiles` does). */
    async peekFiles(id: string, prefix?: string): Promise<FileEntry[]> {
      const query = parseInput(FilesQuery, { prefix }, "query");
      return sandboxOf(ctx, id).peekFiles(normaliseWorkspacePrefix(query.prefix));
    },
  };
}
