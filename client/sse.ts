/**
 * Reading the exec route's server-sent events (`event: <name>` + one `data:` line of JSON,
 * as durable-objects/sandbox/sse.ts writes them). Shared by the HTTP client and the RPC
 * entrypoint. No dependencies: runs in Node ≥ 18, Deno, Bun, browsers and Workers.
 */
import type { CommandResult } from "../src/schemas/commands";
import type { ExecResult, ExecSummary, OutputLine } from "../src/schemas/exec";

/** One event of the stream: `stdout`/`stderr` while the code runs, then `result` or `error`, then `done`. */
export interface ServerSentEvent {
  event: string;
  data: unknown;
}

/** Yields each event of `stream` as it arrives; malformed `data` is given as its raw text. */
export async function* readServerSentEvents(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<ServerSentEvent> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      buffer = buffer.replace(/\r\n?/g, "\n");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event) yield event;
      }
      if (done) break;
    }
    const last = parseBlock(buffer);
    if (last) yield last;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

function parseBlock(block: string): ServerSentEvent | undefined {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return undefined;
  const text = data.join("\n");
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}

/**
 * The whole exec result, put back together from the stream's events: the output lines (a line
 * not `cut` at the output limit ends with a newline), the `result` or `error` event, and the
 * `done` summary. Null when the stream ended before `done`.
 */
export class ExecutionCollector {
  private readonly output = { stdout: "", stderr: "" };
  private readonly logs: ExecResult["logs"] = [];
  private outcome: Pick<ExecResult, "result" | "resultType" | "error"> = { result: null };
  private summary: ExecSummary | undefined;

  /** Takes one event; answers the output line when it is one. */
  add({ event, data }: ServerSentEvent): OutputLine | undefined {
    if (event === "stdout" || event === "stderr") {
      const line = data as OutputLine;
      this.output[event] += line.cut ? line.message : `${line.message}\n`;
      this.logs.push({ level: line.level, message: line.message, ts: line.ts });
      return line;
    }
    if (event === "result") {
      const { result, resultType } = data as Pick<ExecResult, "result" | "resultType">;
      this.outcome = { result, ...(resultType ? { resultType } : {}) };
    } else if (event === "error") {
      this.outcome = { result: null, error: data as ExecResult["error"] };
    } else if (event === "done") {
      this.summary = data as ExecSummary;
    }
    return undefined;
  }

  result(): ExecResult | null {
    if (!this.summary || typeof this.summary.executionId !== "string" || !this.summary.cpu) return null;
    return { ...this.summary, ...this.outcome, stdout: this.output.stdout, stderr: this.output.stderr, logs: this.logs };
  }
}

/** A chunk of a command's output, as the command stream's `stdout`/`stderr` events carry it. */
export interface CommandOutput {
  stream: "stdout" | "stderr";
  data: string;
}

/**
 * A command's result, from its stream's events: `stdout`/`stderr` chunks (`{data}`), then
 * `exit` (the whole result) or `error` (`{name, message}`: it could not be run).
 */
export class CommandCollector {
  private exit: CommandResult | undefined;
  private failure: { name: string; message: string } | undefined;

  /** Takes one event; answers the output chunk when it is one. */
  add({ event, data }: ServerSentEvent): CommandOutput | undefined {
    if ((event === "stdout" || event === "stderr") && typeof (data as { data?: unknown })?.data === "string") {
      return { stream: event, data: (data as { data: string }).data };
    }
    if (event === "exit") this.exit = data as CommandResult;
    else if (event === "error") this.failure = data as { name: string; message: string };
    return undefined;
  }

  /** The result; `{ error }` when the stream said it could not be run; null when it ended before either. */
  result(): CommandResult | { error: { name: string; message: string } } | null {
    if (this.exit && typeof this.exit.commandId === "string") return this.exit;
    return this.failure ? { error: this.failure } : null;
  }
}
