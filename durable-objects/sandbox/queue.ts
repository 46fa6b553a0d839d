/**
 * A FIFO gate: at most `limit` tasks run at once, the rest wait in arrival order.
 * Cloudflare allows at most 10 dynamic workers in flight per Durable Object, so a
 * sandbox's executions queue here instead of fanning out.
 */
export class FairQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get depth(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
