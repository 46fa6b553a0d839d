import { z } from "@hono/zod-openapi";
import { LimitName } from "./exec";

/** Largest stdin a command accepts (it travels base64-encoded in the command's environment). */
export const MAX_STDIN_BYTES = 64 * 1024;
/** Longest `cmd` (or `argv` once quoted) accepted. */
export const MAX_COMMAND_CHARS = 64 * 1024;

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "must be an identifier");
/** Command lines, arguments, paths and environment values reach execve, which cannot carry NUL. */
const NoNul = (max: number) => z.string().max(max).refine((s) => !s.includes("\0"), { message: "must not contain NUL characters" });

/** `POST /v1/sandboxes/:id/commands`: one command, run to completion, streamed, or in the background. */
export const CommandRequest = z
  .object({
    cmd: NoNul(MAX_COMMAND_CHARS).min(1).optional().openapi({ example: "echo hi && python3 -c 'print(6*7)'" }).describe("Run by `bash -lc`"),
    argv: z.array(NoNul(MAX_COMMAND_CHARS)).min(1).max(1024).optional().openapi({ example: ["python3", "-c", "print(42)"] }).describe("Run as is (no shell parsing of its words)"),
    cwd: NoNul(1024).min(1).optional().describe("Working directory: absolute, or relative to /workspace (the default)"),
    env: z
      .record(EnvName, NoNul(4096))
      .refine((e) => Object.keys(e).length <= 64, { message: "at most 64 variables" })
      .optional(),
    stdin: z.string().max(MAX_STDIN_BYTES).optional().describe(`Text given to the command on standard input (at most ${MAX_STDIN_BYTES} bytes)`),
    timeoutMs: z.number().int().positive().optional().describe("Wall-clock limit; at most the profile's"),
    background: z.boolean().optional().describe("Start it and answer at once with its process id"),
  })
  .strict()
  .refine((r) => (r.cmd === undefined) !== (r.argv === undefined), { message: "give exactly one of cmd or argv", path: ["cmd"] })
  .openapi("CommandRequest");

/** A command that ran to completion (or was stopped by a limit, named in `limit`). */
export const CommandResult = z
  .object({
    commandId: z.string(),
    exitCode: z.number().int().describe("128 + signal number when a signal ended it (137: killed)"),
    stdout: z.string(),
    stderr: z.string(),
    durationMs: z.number(),
    stdoutTruncated: z.boolean().optional(),
    stderrTruncated: z.boolean().optional(),
    limit: LimitName.optional().describe("The limit that stopped the command, if one did"),
  })
  .openapi("CommandResult");

export const ProcessStatus = z.enum(["running", "completed", "failed", "killed"]);

/** A background process: `GET …/processes/:pid` adds the output tails. */
export const ProcessInfo = z
  .object({
    pid: z.string().describe("The process id in this API (not a kernel pid)"),
    command: z.string(),
    status: ProcessStatus,
    startedAt: z.string().datetime(),
    endedAt: z.string().datetime().optional(),
    exitCode: z.number().int().optional(),
    limit: LimitName.optional(),
    stdoutTail: z.string().optional().describe("The last 64 KiB of its stdout (GET …/processes/:pid)"),
    stderrTail: z.string().optional(),
  })
  .openapi("ProcessInfo");

export const ProcessList = z.object({ processes: z.array(ProcessInfo) }).openapi("ProcessList");

export const ProcessIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" } }),
  pid: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .openapi({ param: { name: "pid", in: "path" }, example: "proc_3f9a0c1d2e4b5a6c" }),
});

export type CommandRequest = z.infer<typeof CommandRequest>;
export type CommandResult = z.infer<typeof CommandResult>;
export type ProcessInfo = z.infer<typeof ProcessInfo>;
