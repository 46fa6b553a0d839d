/**
 * One error type for the whole service. Every failure a client can see is a
 * `SandboxerError` with a stable `code`; the HTTP status comes from one map and the
 * problem+json body is rendered in one place (`src/api/problem.ts`).
 */
export const ErrorCode = {
  unauthorized: "unauthorized",
  notFound: "not_found",
  methodNotAllowed: "method_not_allowed",
  validationFailed: "validation_failed",
  unsupportedMediaType: "unsupported_media_type",
  sandboxStopped: "sandbox_stopped",
  preconditionFailed: "precondition_failed",
  payloadTooLarge: "payload_too_large",
  rateLimited: "rate_limited",
  limitExceeded: "limit_exceeded",
  idempotencyConflict: "idempotency_conflict",
  egressDenied: "egress_denied",
  runtimeUnavailable: "runtime_unavailable",
  internal: "internal",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status and RFC 9457 `title` for each code. */
export const ERROR_STATUS: Record<ErrorCode, { status: number; title: string }> = {
  unauthorized: { status: 401, title: "Unauthorized" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  validation_failed: { status: 400, title: "Validation failed" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  sandbox_stopped: { status: 410, title: "Sandbox stopped" },
  precondition_failed: { status: 412, title: "Precondition failed" },
  payload_too_large: { status: 413, title: "Payload too large" },
  rate_limited: { status: 429, title: "Too many requests" },
  limit_exceeded: { status: 422, title: "Limit exceeded" },
  idempotency_conflict: { status: 422, title: "Idempotency key reused with a different body" },
  egress_denied: { status: 403, title: "Egress denied" },
  runtime_unavailable: { status: 503, title: "Runtime unavailable" },
  internal: { status: 500, title: "Internal error" },
};

/** Extra members of the problem document (e.g. `errors`, `reason`, `limit`). */
export type ProblemExtra = Record<string, unknown>;

export class SandboxerError extends Error {
  override readonly name = "SandboxerError";
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: ProblemExtra = {},
  ) {
    // The message carries the whole error so it survives an RPC boundary: a Durable
    // Object's thrown error reaches the Worker as a plain Error with this message.
    super(`${RPC_PREFIX}${JSON.stringify({ code, detail, extra })}`);
  }

  get status(): number {
    return ERROR_STATUS[this.code].status;
  }

  /** Rebuilds a `SandboxerError` that crossed an RPC boundary, or returns undefined. */
  static fromRpc(error: unknown): SandboxerError | undefined {
    if (error instanceof SandboxerError) return error;
    if (!(error instanceof Error)) return undefined;
    const at = error.message.indexOf(RPC_PREFIX);
    if (at < 0) return undefined;
    try {
      const { code, detail, extra } = JSON.parse(error.message.slice(at + RPC_PREFIX.length)) as {
        code: ErrorCode;
        detail: string;
        extra: ProblemExtra;
      };
      return code in ERROR_STATUS ? new SandboxerError(code, detail, extra) : undefined;
    } catch {
      return undefined;
    }
  }
}

const RPC_PREFIX = "sandboxer-error:";
