import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ERROR_STATUS, ErrorCode, SandboxerError } from "../errors";

/** Moved to the operation layer (every door validates there); re-exported for existing imports. */
export { validationError } from "../operations/validate";

export const PROBLEM_TYPE_BASE = "https://sand-boxer.dev/errors/";

/** The one place a problem+json response is built (RFC 9457). */
export function problemResponse(error: SandboxerError, headers: Record<string, string> = {}): Response {
  const { status, title } = ERROR_STATUS[error.code];
  const body = {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title,
    status,
    detail: error.detail,
    code: error.code,
    ...error.extra,
  };
  const extraHeaders: Record<string, string> = { ...headers };
  if ((error.code === ErrorCode.rateLimited || error.code === ErrorCode.quotaExceeded || error.code === ErrorCode.runtimeUnavailable) && !extraHeaders["Retry-After"]) {
    extraHeaders["Retry-After"] = String(error.extra.retryAfterSeconds ?? 1);
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/problem+json", ...extraHeaders },
  });
}

/** Maps anything thrown to a SandboxerError: ours (also across RPC), Hono's, or an unexpected one. */
export function toSandboxerError(error: unknown): SandboxerError {
  const ours = SandboxerError.fromRpc(error);
  if (ours) return ours;
  if (error instanceof HTTPException) {
    switch (error.status) {
      case 400:
        return new SandboxerError(ErrorCode.validationFailed, `${error.message || "Bad request"}.`, {
          errors: [{ path: "body", message: error.message || "malformed body" }],
        });
      case 401:
        return new SandboxerError(ErrorCode.unauthorized, error.message || "Unauthorized.");
      case 413:
        return new SandboxerError(ErrorCode.payloadTooLarge, error.message || "The request body is too large.");
      case 415:
        return new SandboxerError(ErrorCode.unsupportedMediaType, "This route takes a JSON body: send Content-Type: application/json.");
    }
  }
  return new SandboxerError(ErrorCode.internal, "Something went wrong on our side. It has been logged.");
}

export const onError: ErrorHandler = (error, c) => {
  const problem = toSandboxerError(error);
  if (problem.code === ErrorCode.internal) {
    // Logged for operators; the client sees only the generic detail, never the stack.
    console.error(`internal error on ${c.req.method} ${new URL(c.req.url).pathname}:`, error);
  }
  return problemResponse(problem);
};

/**
 * Unknown route, or a known path with the wrong method (405 with `Allow`). The route
 * table is read from the app itself, so a new route needs no change here.
 */
export function notFoundHandler(routes: () => { method: string; path: string }[]): NotFoundHandler {
  return (c: Context) => {
    const path = new URL(c.req.url).pathname;
    const allowed = new Set<string>();
    for (const route of routes()) {
      if (route.method === "ALL" || !routePattern(route.path).test(path)) continue;
      allowed.add(route.method);
    }
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(", ");
      return problemResponse(
        new SandboxerError(ErrorCode.methodNotAllowed, `${c.req.method} is not allowed on ${path}. Allowed: ${allow}.`),
        { Allow: allow },
      );
    }
    return problemResponse(new SandboxerError(ErrorCode.notFound, `No route ${c.req.method} ${path}.`));
  };
}

const patterns = new Map<string, RegExp>();

function routePattern(path: string): RegExp {
  let re = patterns.get(path);
  if (!re) {
    const source = path
      .split("/")
      .map((part) => (part === "*" ? ".*" : part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    re = new RegExp(`^${source}/?$`);
    patterns.set(path, re);
  }
  return re;
}
