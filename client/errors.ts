import type { z } from "zod";
import type { ErrorCode } from "../src/errors";
import type { Problem as ProblemSchema } from "../src/schemas/common";

/** The RFC 9457 problem document every sand-boxer error response carries (the server's own schema). */
export type Problem = z.infer<typeof ProblemSchema> & { code: ErrorCode };

/**
 * A failed call: `code` is the stable error code (`not_found`, `sandbox_stopped`,
 * `limit_exceeded`, `rate_limited`, …), `status` the HTTP status, `detail` what to do,
 * `retryAfter` (seconds) on 429 and 503, `problem` the whole problem document.
 */
export class SandboxerError extends Error {
  override readonly name = "SandboxerError";
  readonly code: ErrorCode | "network_error";
  readonly status: number;
  readonly detail: string;
  readonly retryAfter?: number;
  readonly problem?: Problem;

  constructor(code: ErrorCode | "network_error", status: number, detail: string, options: { retryAfter?: number; problem?: Problem; cause?: unknown } = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.detail = detail;
    this.retryAfter = options.retryAfter;
    this.problem = options.problem;
  }

  /** Extra members of the problem document (`errors`, `reason`, `limit`, `max`, …). */
  get extra(): Record<string, unknown> {
    const { type: _type, title: _title, status: _status, detail: _detail, code: _code, ...rest } = this.problem ?? ({} as Problem);
    return rest;
  }

  /** Reads an error response (problem+json, or anything else a proxy might have sent). */
  static async fromResponse(response: Response): Promise<SandboxerError> {
    const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
    const text = await response.text().catch(() => "");
    let problem: Problem | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object" && typeof (parsed as Problem).code === "string") problem = parsed as Problem;
    } catch {
      // Not JSON: described from the status below.
    }
    if (problem) return new SandboxerError(problem.code, response.status, problem.detail ?? problem.title ?? "", { retryAfter, problem });
    const code: ErrorCode = response.status === 429 ? "rate_limited" : response.status === 503 ? "runtime_unavailable" : response.status >= 500 ? "internal" : "not_found";
    return new SandboxerError(code, response.status, `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`, { retryAfter });
  }
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
