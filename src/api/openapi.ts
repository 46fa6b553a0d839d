import type { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ErrorCode, SandboxerError } from "../errors";
import type { AppEnv } from "./app";

type Document = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

/** Query parameters whose name is a family (`metadata.<key>` or `metadata[<key>]`). */
const PARAMETER_FAMILIES = ["metadata"];

/**
 * The OpenAPI document, with `servers` naming the origin it was fetched from (the deployed
 * URL when deployed, localhost under `npm start`), so generated clients and the reference
 * page's examples point at this service. Built once per origin.
 */
export function openApiDocuments(app: OpenAPIHono<AppEnv>) {
  const byOrigin = new Map<string, Document>();
  return (origin: string, version: string): Document => {
    let document = byOrigin.get(origin);
    if (!document) {
      document = app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "sand-boxer",
          version,
          description:
            "Sandboxes for AI agents' code on Cloudflare Workers: isolated, limited, on a clock, never holding a raw credential. Every `/v1` route takes `Authorization: Bearer <api key>`; errors are RFC 9457 `application/problem+json` with a stable `code`.",
        },
        servers: [{ url: origin, description: "This service" }],
        security: [{ bearer: [] }],
      });
      if (byOrigin.size > 16) byOrigin.clear();
      byOrigin.set(origin, document);
    }
    return document;
  };
}

/**
 * Refuses query parameters a route does not declare (a typo such as `?lmit=5` would
 * otherwise be ignored silently). The declared names come from the routes' own OpenAPI
 * definitions, so a new route needs no change here.
 */
export function rejectUnknownQueryParameters(app: OpenAPIHono<AppEnv>): MiddlewareHandler<AppEnv> {
  let routes: { method: string; pattern: RegExp; names: Set<string> }[] | undefined;
  return async (c, next) => {
    routes ??= declaredQueries(app);
    const url = new URL(c.req.url);
    if (url.search.length > 1) {
      const path = url.pathname.replace(/\/+$/, "");
      const route = routes.find((r) => r.method === c.req.method.toLowerCase() && r.pattern.test(path));
      const names = route?.names ?? new Set<string>();
      const unknown = [...new Set(url.searchParams.keys())].filter((name) => !names.has(name) && !isFamilyMember(name, names));
      if (route && unknown.length > 0) {
        const allowed = [...names].map((n) => (PARAMETER_FAMILIES.includes(n) ? `${n}.<key>` : n));
        throw new SandboxerError(
          ErrorCode.validationFailed,
          `Unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `'${n}'`).join(", ")}. ${
            allowed.length > 0 ? `This route takes: ${allowed.join(", ")}.` : "This route takes no query parameters."
          }`,
          { errors: unknown.map((name) => ({ path: `query.${name}`, message: "unknown query parameter" })) },
        );
      }
    }
    await next();
  };
}

function isFamilyMember(name: string, declared: Set<string>): boolean {
  return PARAMETER_FAMILIES.some((family) => declared.has(family) && (name.startsWith(`${family}.`) || name.startsWith(`${family}[`)));
}

function declaredQueries(app: OpenAPIHono<AppEnv>) {
  const document = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "", version: "" } });
  const routes: { method: string; pattern: RegExp; names: Set<string> }[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const source = path
      .split("/")
      .map((part) => (part === "{path}" ? ".+" : part.startsWith("{") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    for (const [method, operation] of Object.entries(item as Record<string, { parameters?: { in: string; name: string }[] }>)) {
      const names = new Set((operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name));
      routes.push({ method, pattern: new RegExp(`^${source}$`), names });
    }
  }
  return routes;
}
