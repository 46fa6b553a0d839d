import { describe, expect, it } from "vitest";
import { LOG_BUDGET_BYTES, LOG_WINDOW_MS, LogLimiter } from "../../scripts/supervisor/logs.mjs";

// The supervisor passes everything the runtime prints (stdout and stderr of workerd and
// Miniflare) through this limiter (scripts/supervisor/supervisor.mjs, spawnRuntime). Measured
// before: one payload made the runtime write ~195 MB in 15 s.

function collect() {
  const chunks: string[] = [];
  return { chunks, write: (text: string) => void chunks.push(text), bytes: () => Buffer.byteLength(chunks.join("")) };
}

describe("runtime output limiter", () => {
  it("195 MB of distinct lines in one window come out as at most ~1 MB, then one summary line", () => {
    const out = collect();
    const limiter = new LogLimiter(out.write);
    const line = (i: number) => `uncaught exception; source = Uncaught (in promise); stack = Error #${i} ${"x".repeat(1000)}\n`;
    let fed = 0;
    for (let i = 0; fed < 195 * 1024 * 1024; i++) {
      const text = line(i);
      limiter.push(text);
      fed += text.length;
    }
    expect(out.bytes()).toBeLessThanOrEqual(LOG_BUDGET_BYTES);
    expect(out.bytes()).toBeGreaterThan(LOG_BUDGET_BYTES - 2000);
    limiter.roll(Date.now() + LOG_WINDOW_MS);
    const summary = out.chunks.at(-1)!;
    expect(summary).toMatch(/^\[sand-boxer\] runtime output over 1048576 bytes in 60 s: \d+ lines \(\d+ bytes\) not written\n$/);
    // A new window writes again.
    limiter.push("after\n");
    expect(out.chunks.at(-1)).toBe("after\n");
  });

  it("collapses a repeated line into one line and a count", () => {
    const out = collect();
    const limiter = new LogLimiter(out.write);
    for (let i = 0; i < 100_000; i++) limiter.push("the same warning\n");
    limiter.push("something else\n");
    expect(out.chunks).toEqual(["the same warning\n", "[sand-boxer] (previous runtime line repeated 99999 more times)\n", "something else\n"]);
  });

  it("cuts a runaway line with no newline instead of buffering it without bound", () => {
    const out = collect();
    const limiter = new LogLimiter(out.write);
    for (let i = 0; i < 1000; i++) limiter.push("y".repeat(10_000));
    expect(out.bytes()).toBeLessThanOrEqual(LOG_BUDGET_BYTES);
    expect(out.chunks[0]).toMatch(/^y{4096}… \[\d+ more characters\]\n$/);
  });
});
