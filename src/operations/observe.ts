import type { FileEntry } from "../schemas/files";
import { FilesQuery } from "../schemas/files";
import type { SandboxList, SandboxRecord } from "../schemas/sandbox";
import { SearchSandboxesInput } from "../schemas/search";
import { normaliseWorkspacePrefix } from "../workspace/paths";
import { registryOf, sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";

/** When a running sandbox's first clock (TTL or idle) runs out, as an ISO string. */
function earlierDeadline(s: SandboxRecord): string {
  return s.idleExpiresAt !== null && s.idleExpiresAt < s.expiresAt ? s.idleExpiresAt : s.expiresAt;
}

/**
 * Reads for people watching sandboxes (the dashboard). None of them is activity: looking at a
 * sandbox must never keep it alive.
 */
export function observeOperations(ctx: OperationContext) {
  return {
    /**
     * Like `list`, plus search by id prefix, "expiring within N seconds" (running sandboxes
     * whose earlier clock runs out within the window) and paused or not. Newest first; page with `nextCursor`.
     */
    async search(input: SearchSandboxesInput = {}): Promise<SandboxList> {
      const { state, limit, cursor, metadata, idPrefix, expiringWithinSeconds, paused } = parseInput(SearchSandboxesInput, input ?? {}, "query");
      const deadlineBefore = expiringWithinSeconds === undefined ? undefined : new Date(Date.now() + expiringWithinSeconds * 1000).toISOString();
      const page = await registryOf(ctx).list({ state, limit, cursor, metadata: metadata ?? {}, idPrefix: idPrefix || undefined, deadlineBefore, paused });
      if (!deadlineBefore) return page;
      // The registry's idle clocks may lag recent activity (updates are coalesced), and a lagging
      // clock is only ever earlier: its candidates are a superset. Each is checked against its
      // own Durable Object (a read, not activity); the cursor stays the registry's.
      const fresh = await Promise.all(page.sandboxes.map((s) => sandboxOf(ctx, s.id).describe().catch(() => null)));
      const sandboxes = fresh.filter((s): s is SandboxRecord => s !== null && s.state === "running" && earlierDeadline(s) <= deadlineBefore);
      return { sandboxes, nextCursor: page.nextCursor };
    },

    /** Workspace files under an optional prefix, sorted by path, without touching the idle clock (`listFiles` does). */
    async peekFiles(id: string, prefix?: string): Promise<FileEntry[]> {
      const query = parseInput(FilesQuery, { prefix }, "query");
      return sandboxOf(ctx, id).peekFiles(normaliseWorkspacePrefix(query.prefix));
    },
  };
}
