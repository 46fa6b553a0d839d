// The runtime's own output (workerd and Miniflare: uncaught errors, warnings, console output of
// the Worker) passes through here on its way to our stderr. Sandbox code can make the runtime
// write (an error per call, a warning per isolate), so without a bound one payload could fill
// the disk: measured at ~195 MB in 15 s. Repeated lines are collapsed, and past a byte budget
// per window the rest is counted, not written.

/** Bytes of runtime output written per window; the rest is summarised. */
export const LOG_BUDGET_BYTES = 1024 * 1024;
/** The window the budget applies to. */
export const LOG_WINDOW_MS = 60_000;
/** Longest line written; longer ones are cut with a note. */
const MAX_LINE_CHARS = 4096;

export class LogLimiter {
  /** @param {(text: string) => void} write */
  constructor(write, { budgetBytes = LOG_BUDGET_BYTES, windowMs = LOG_WINDOW_MS } = {}) {
    this.write = write;
    this.budgetBytes = budgetBytes;
    this.windowMs = windowMs;
    this.windowStart = Date.now();
    this.written = 0;
    this.suppressedBytes = 0;
    this.suppressedLines = 0;
    this.partial = "";
    this.lastLine = undefined;
    this.repeats = 0;
  }

  /** Feeds a chunk of output (any split into lines). */
  push(chunk) {
    const text = this.partial + chunk.toString();
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    // A runaway line without newlines is cut rather than buffered without bound.
    if (this.partial.length > MAX_LINE_CHARS) {
      lines.push(this.partial);
      this.partial = "";
    }
    for (const line of lines) this.line(line);
  }

  line(raw) {
    this.roll();
    const line = raw.length > MAX_LINE_CHARS ? `${raw.slice(0, MAX_LINE_CHARS)}… [${raw.length - MAX_LINE_CHARS} more characters]` : raw;
    if (line === this.lastLine) {
      this.repeats++;
      return;
    }
    this.flushRepeats();
    this.lastLine = line;
    this.emit(`${line}\n`);
  }

  flushRepeats() {
    if (this.repeats > 0) this.emit(`[sand-boxer] (previous runtime line repeated ${this.repeats} more times)\n`);
    this.repeats = 0;
  }

  emit(text) {
    const bytes = Buffer.byteLength(text);
    if (this.written + bytes > this.budgetBytes) {
      this.suppressedBytes += bytes;
      this.suppressedLines++;
      return;
    }
    this.written += bytes;
    this.write(text);
  }

  /** Starts a new window, saying what the last one suppressed. */
  roll(now = Date.now()) {
    if (now - this.windowStart < this.windowMs) return;
    this.flushRepeats();
    if (this.suppressedLines > 0) {
      this.write(
        `[sand-boxer] runtime output over ${this.budgetBytes} bytes in ${Math.round(this.windowMs / 1000)} s: ${this.suppressedLines} lines (${this.suppressedBytes} bytes) not written\n`,
      );
    }
    this.windowStart = now;
    this.written = 0;
    this.suppressedBytes = 0;
    this.suppressedLines = 0;
  }
}
