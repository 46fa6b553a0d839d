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
  sandboxPaused: "sandbox_paused",
  preconditionFailed: "precondition_failed",
  payloadTooLarge: "payload_too_large",
  rateLimited: "rate_limited",
  quotaExceeded: "quota_exceeded",
  limitExceeded: "limit_exceeded",
  idempotencyConflict: "idempotency_conflict",
  egressDenied: "egress_denied",
  upstreamFailed: "upstream_failed",
  capabilityDenied: "capability_denied",
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
  sandbox_paused: { status: 409, title: "Sandbox paused" },
  precondition_failed: { status: 412, title: "Precondition failed" },
  payload_too_large: { status: 413, title: "Payload too large" },
  rate_limited: { status: 429, title: "Too many requests" },
  quota_exceeded: { status: 429, title: "Tenant quota exceeded" },
  limit_exceeded: { status: 422, title: "Limit exceeded" },
  idempotency_conflict: { status: 422, title: "Idempotency key reused with a different body" },
  egress_denied: { status: 403, title: "Egress denied" },
  upstream_failed: { status: 502, title: "Upstream request failed" },
  capability_denied: { status: 403, title: "Capability not granted" },
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
    // The message carries the whole error so it survives an RPC boundary: a thrown error
    // reaches the other side as a plain Error with only its message (`fromRpc` reads it
    // back). It starts with "code: detail" so a caller that only logs it reads something.
    super(`${code}: ${detail} ${RPC_PREFIX}${JSON.stringify({ code, detail, extra })}`);
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

/**
 * What a Durable Object's RPC method returns: a value or one of our errors. Errors a
 * client caused (404, 410, 412, …) travel as data rather than as thrown exceptions,
 * which the runtime would log as "Uncaught" at error level for every one of them.
 */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; detail: string; extra: ProblemExtra } };

/** Runs `fn`, turning a thrown SandboxerError into `{ ok: false }`; anything else still throws. */
export async function settle<T>(fn: () => T | Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (error instanceof SandboxerError) return { ok: false, error: { code: error.code, detail: error.detail, extra: error.extra } };
    throw error;
  }
}

/** The caller's side of `settle`: the value, or the SandboxerError rethrown. */
export function unsettle<T>(settled: Settled<T>): T {
  if (settled.ok) return settled.value;
  throw new SandboxerError(settled.error.code, settled.error.detail, settled.error.extra);
}
