/**
 * Outbound requests and capability calls made by each running execution, counted against the
 * profile's `subRequests` (as its description says: "Outbound requests and RPC calls per
 * execution"). Counted here as well as by the platform: local workerd enforces no limit, and on
 * Cloudflare a call to a capability is an RPC the platform counts too.
 */
export class SubrequestCounter {
  private readonly counts = new Map<string, number>();

  /** Counts one request or call; true if it is past `limit` (and must be refused). */
  take(executionId: string, limit: number): boolean {
    const used = (this.counts.get(executionId) ?? 0) + 1;
    if (executionId) this.counts.set(executionId, used);
    return used > limit;
  }

  /** Whether any of the execution's requests or calls was refused for the limit. */
  exceeded(executionId: string, limit: number): boolean {
    return (this.counts.get(executionId) ?? 0) > limit;
  }

  forget(executionId: string): void {
    this.counts.delete(executionId);
  }
}
