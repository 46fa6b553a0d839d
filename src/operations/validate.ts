import type { z, ZodError } from "zod";
import { ErrorCode, SandboxerError } from "../errors";

/** Every zod issue, with its dotted path, so a client can fix all fields at once. */
export function validationError(error: ZodError, where: string): SandboxerError {
  const errors = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].filter(Boolean).join("."),
    message: issue.message,
  }));
  const detail = `The request ${where} is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`;
  return new SandboxerError(ErrorCode.validationFailed, detail, { errors });
}

/**
 * Parses one input of an operation with its contract schema (src/schemas). Doors that
 * already validated (the HTTP routes) pass the parsed value, which parses to itself; doors
 * that did not (RPC, MCP, dashboard) get the same `validation_failed` errors as HTTP.
 * `where` prefixes each error path (`body`, `query`, `path`, …).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, where);
  return parsed.data;
}
