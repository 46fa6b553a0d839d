import type { ExecResult, LogEntry } from "../../schemas/exec";
import { CONSOLE_LEVELS, STDERR_LEVELS } from "./runtime/console";

/** One console line, delivered while the code runs. */
export interface OutputEvent {
  stream: "stdout" | "stderr";
  level: LogEntry["level"];
  message: string;
  ts: string;
  /** The line was cut at the output limit: no newline follows it. */
  cut?: true;
}

/** What a log entry costs beyond its message, against the logs' own allowance of twice outputBytes. */
export const LOG_ENTRY_OVERHEAD_BYTES = 64;

/** The largest time a Date can hold. */
const MAX_EPOCH_MS = 8.64e15;
const LEVELS = new Set<string>(Object.values(CONSOLE_LEVELS));
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type CollectedOutput = Pick<ExecResult, "stdout" | "stderr" | "stdoutTruncated" | "stderrTruncated" | "logs">;

/**
 * Collects a run's console output on the host side, as the isolate streams it: what arrived
 * before a wall-clock stop is kept. The isolate already keeps each stream within outputBytes;
 * the limits are applied again here because the isolate runs untrusted code.
 */
export class OutputCollector {
  private readonly streams = {
    stdout: { text: "", bytes: 0, truncated: false },
    stderr: { text: "", bytes: 0, truncated: false },
  };
  private readonly logs: LogEntry[] = [];
  private logBytes = 0;
  private closed = false;
  private readonly outputBytes: number;
  private readonly onOutput?: (event: OutputEvent) => void;

  constructor(outputBytes: number, onOutput?: (event: OutputEvent) => void) {
    this.outputBytes = outputBytes;
    this.onOutput = onOutput;
  }

  /** Handed to the isolate: receives batches of `[level, text, epochMs, cut]`. */
  readonly sink = (batch: unknown): void => {
    if (this.closed || !Array.isArray(batch)) return;
    for (const event of batch) {
      if (!Array.isArray(event)) continue;
      const [level, text, epochMs, cut] = event as unknown[];
      if (typeof level !== "string" || !LEVELS.has(level) || typeof text !== "string") continue;
      const validTime = typeof epochMs === "number" && Math.abs(epochMs) <= MAX_EPOCH_MS;
      this.add(level as LogEntry["level"], text, validTime ? epochMs : Date.now(), cut === true);
    }
  };

  /** Stops accepting output (the run is over, or the host stopped waiting). */
  close(): CollectedOutput {
    this.closed = true;
    const { stdout, stderr } = this.streams;
    return {
      stdout: stdout.text,
      stderr: stderr.text,
      ...(stdout.truncated ? { stdoutTruncated: true } : {}),
      ...(stderr.truncated ? { stderrTruncated: true } : {}),
      logs: this.logs,
    };
  }

  private add(level: LogEntry["level"], text: string, epochMs: number, cut: boolean): void {
    const stream = STDERR_LEVELS.includes(level) ? "stderr" : "stdout";
    const state = this.streams[stream];
    if (state.truncated) return;
    let written = cut ? text : `${text}\n`;
    let bytes = encoder.encode(written).length;
    if (state.bytes + bytes > this.outputBytes) {
      written = truncateUtf8(written, this.outputBytes - state.bytes);
      bytes = encoder.encode(written).length;
      cut = true;
    }
    state.text += written;
    state.bytes += bytes;
    state.truncated = cut;
    const message = cut ? written : text;
    if (cut && message === "") return;
    const ts = new Date(epochMs).toISOString();
    const cost = bytes + LOG_ENTRY_OVERHEAD_BYTES;
    if (this.logBytes + cost <= 2 * this.outputBytes) {
      this.logs.push({ level, message, ts });
      this.logBytes += cost;
    }
    try {
      this.onOutput?.(cut ? { stream, level, message, ts, cut } : { stream, level, message, ts });
    } catch {
      // A failing listener must not end the run; it only loses its own events.
    }
  }
}

/** The longest prefix of text that fits in maxBytes of UTF-8, cut at a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}
