import type { ExecError } from "../../schemas/exec";
import type { CompiledModule } from "./compile";
import type { Position } from "./sourcemap";

/** The name errors and stacks use for the snippet itself. */
export const SNIPPET_FILE = "<snippet>";
const MAX_STACK_FRAMES = 20;

/** An error as the isolate describes it (or as we parse it from a failure of the isolate itself). */
export interface RawError {
  name: string;
  message: string;
  stack?: string;
  limit?: ExecError["limit"];
}

/** What a run loaded, to map stack positions back and to recognise (and hide) our own names. */
export interface ErrorContext {
  /** The run's reserved identifier (`__sbx_` + hex): the check's name and every runtime module's prefix. */
  reserved: string;
  /** Loader module name of the snippet. */
  snippetModule: string;
  snippet: CompiledModule;
  /** Compiled workspace modules by path. */
  workspace: Map<string, CompiledModule>;
}

interface Frame {
  isAsync: boolean;
  functionName?: string;
  file: string;
  position: Position;
}

/**
 * Keeps only the stack frames in the user's own modules, with positions mapped back to the
 * user's source and our module names replaced by `<snippet>` or the workspace path; the first
 * such frame gives `line`, `column` and `file`. Our identifiers are scrubbed from the message.
 */
export function mapError(error: RawError, context: ErrorContext): ExecError {
  const frames: string[] = [];
  let origin: { file: string; position: Position } | undefined;
  for (const line of (error.stack ?? "").split("\n")) {
    const frame = parseFrame(line);
    const file = frame && userFile(frame.file, context);
    if (!frame || !file) continue;
    const compiled = file === SNIPPET_FILE ? context.snippet : context.workspace.get(file)!;
    const position = compiled.originalPosition(frame.position);
    origin ??= { file, position };
    if (frames.length >= MAX_STACK_FRAMES) continue;
    const location = `${file}:${position.line}:${position.column}`;
    // The snippet's wrapper is an anonymous default export, which V8 calls "default".
    const name = frame.functionName && !(file === SNIPPET_FILE && frame.functionName === "default") ? scrub(frame.functionName, context) : undefined;
    frames.push(`    at ${frame.isAsync ? "async " : ""}${name ? `${name} (${location})` : location}`);
  }
  const name = scrub(error.name, context);
  const message = scrub(error.message, context);
  return {
    name,
    message,
    stack: [`${name}: ${message}`, ...frames].join("\n"),
    ...(origin ? { line: origin.position.line, column: origin.position.column, file: origin.file } : {}),
    ...(error.limit ? { limit: error.limit } : {}),
  };
}

const HUNG = /hung and would never generate a response/;
const STARTUP = /^Failed to start Worker:\s*\n/;

/**
 * Describes a failure of the isolate itself: `run` rejected instead of returning. Only the
 * message is used: the rejection's own stack holds the host's frames.
 */
export function describeIsolateFailure(error: unknown, context: ErrorContext): ExecError {
  const message = error instanceof Error ? error.message : String(error);
  if (HUNG.test(message)) {
    return {
      name: "Hang",
      message: "The code is waiting for something that can never happen (a promise nothing will settle, with no timer or I/O pending).",
    };
  }
  if (STARTUP.test(message)) {
    // A module threw while loading: "Uncaught <Name>: <message>" and its frames.
    const [header = "", ...frames] = message.replace(STARTUP, "").split("\n");
    let [, name = "Error", text = header] = /^(?:Uncaught )?(\w+): ([\s\S]*)$/.exec(header) ?? [];
    // Errors of classes the runtime does not know arrive as "Error: <name>: <message>".
    const inner = /^(\w*Error|LimitExceeded): ([\s\S]*)$/.exec(text);
    if (name === "Error" && inner) [, name = "Error", text = ""] = inner;
    const limit = name === "LimitExceeded" ? ("cpu" as const) : undefined;
    return mapError({ name, message: text, stack: `${name}: ${text}\n${frames.join("\n")}`, limit }, context);
  }
  if (/too many subrequests/i.test(message)) return { name: "LimitExceeded", message: scrub(message, context), limit: "subrequests" };
  if (/exceeded (its )?CPU/i.test(message)) return { name: "LimitExceeded", message: scrub(message, context), limit: "cpu" };
  if (/exceeded (its )?memory/i.test(message)) return { name: "LimitExceeded", message: scrub(message, context), limit: "memory" };
  return { name: error instanceof Error ? scrub(error.name, context) : "Error", message: scrub(message, context) };
}

function parseFrame(line: string): Frame | undefined {
  const at = /^\s*at (.*)$/.exec(line);
  if (!at) return undefined;
  let rest = at[1]!;
  const isAsync = rest.startsWith("async ");
  if (isAsync) rest = rest.slice("async ".length);
  let functionName: string | undefined;
  const call = /^(.*?) \((.*)\)$/.exec(rest);
  if (call) [, functionName, rest = ""] = call;
  const location = /^(.*):(\d+):(\d+)$/.exec(rest);
  if (!location) return undefined;
  return { isAsync, functionName, file: location[1]!.replace(/^\/+/, ""), position: { line: Number(location[2]), column: Number(location[3]) } };
}

function userFile(moduleName: string, context: ErrorContext): string | undefined {
  if (moduleName === context.snippetModule) return SNIPPET_FILE;
  return context.workspace.has(moduleName) ? moduleName : undefined;
}

/**
 * Removes our identifiers from text V8 wrote. Messages quote the code around an error, and
 * instrumented code holds calls to the check (`check(await x)` shows as `__sbx_…(...)`); each
 * module has its own check identifier (see cache.ts), so any of them is matched.
 */
function scrub(text: string, context: ErrorContext): string {
  return text
    .replaceAll(context.snippetModule, SNIPPET_FILE)
    .replace(/__sbx_[0-9a-f]{32} is not a function or its return value is not iterable/g, "(intermediate value) is not iterable")
    .replace(/__sbx_[0-9a-f]{32}\(\.\.\.\)/g, "(intermediate value)")
    .replace(/\/?__sbx_[0-9a-f]{32}\w*(\.js)?/g, "(internal)");
}
