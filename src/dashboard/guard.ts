import type { Context, MiddlewareHandler } from "hono";
import { ErrorCode, SandboxerError } from "../errors";
import { operations, type Operations } from "../operations";
import { BASE } from "./layout";
import { readSession, sameToken, type Session } from "./session";

/** The dashboard's Hono environment: the signed-in session once `requireSession` ran. */
export type DashEnv = { Bindings: Env; Variables: { session: Session; form: FormFields } };

/** A parsed form body: repeated fields (the selected rows' `ids`) keep every value. */
export type FormFields = Record<string, string | string[]>;

/** Largest form body the dashboard reads (forms carry ids, numbers and a token, never files). */
const MAX_FORM_BYTES = 64 * 1024;

/** The operations of the signed-in tenant: what every dashboard page calls. */
export function ops(c: Context<DashEnv>): Operations {
  return operations(c.env, c.get("session").tenant);
}

/** A form field as one string ("" when absent; the last value when repeated). */
export function field(form: FormFields, name: string): string {
  const value = form[name];
  return (Array.isArray(value) ? value.at(-1) : value) ?? "";
}

/** A form field as a list (checkboxes). */
export function fields(form: FormFields, name: string): string[] {
  const value = form[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * Refuses a cross-site POST: the `Origin` (or, failing that, the `Referer`) must be this
 * dashboard's own origin. Browsers always send one of them on a form POST; a request with
 * neither is not a browser form and has no business here.
 */
export function checkSameOrigin(c: Context): void {
  const expected = new URL(c.req.url).origin;
  const origin = c.req.header("Origin");
  let actual: string | undefined = origin && origin !== "null" ? origin : undefined;
  if (!actual) {
    try {
      actual = new URL(c.req.header("Referer") ?? "").origin;
    } catch {
      actual = undefined;
    }
  }
  if (actual !== expected) {
    throw new SandboxerError(
      ErrorCode.unauthorized,
      "This form was not sent from this dashboard (its Origin does not match). Reload the dashboard page and submit the form again.",
    );
  }
}

/** Reads the form body once (URL-encoded or multipart), bounded in size. */
async function readForm(c: Context): Promise<FormFields> {
  const length = Number(c.req.header("Content-Length") ?? "0");
  if (length > MAX_FORM_BYTES) {
    throw new SandboxerError(ErrorCode.payloadTooLarge, `Dashboard forms are limited to ${MAX_FORM_BYTES} bytes.`, { max: MAX_FORM_BYTES });
  }
  const type = c.req.header("Content-Type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
    throw new SandboxerError(ErrorCode.unsupportedMediaType, "Dashboard actions take an HTML form body (application/x-www-form-urlencoded).");
  }
  const body = await c.req.parseBody({ all: true });
  const form: FormFields = {};
  for (const [name, value] of Object.entries(body)) {
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
    form[name] = values.length === 1 ? values[0]! : values;
  }
  return form;
}

/** Parses a sign-in form: same-origin only (no login CSRF), then the body. */
export const signInForm: MiddlewareHandler<DashEnv> = async (c, next) => {
  checkSameOrigin(c);
  c.set("form", await readForm(c));
  await next();
};

/**
 * Every page after sign-in: a valid session or no entry. A page view goes to the sign-in form
 * (and comes back after it); the JSON endpoint and form posts answer 401.
 */
export const requireSession: MiddlewareHandler<DashEnv> = async (c, next) => {
  const session = await readSession(c);
  if (!session) {
    const url = new URL(c.req.url);
    if (c.req.method === "GET" && !url.pathname.startsWith(`${BASE}/api/`)) {
      return c.redirect(`${BASE}/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    throw new SandboxerError(ErrorCode.unauthorized, "Your dashboard session has ended. Sign in again with your API key.");
  }
  c.set("session", session);
  await next();
};

/**
 * CSRF protection on every mutation: the request must come from our own origin AND carry this
 * session's token in its form. SameSite=Strict already keeps the cookie off cross-site
 * requests; these two checks hold even where it does not (old browsers, same-site subdomains).
 */
export const requireCsrf: MiddlewareHandler<DashEnv> = async (c, next) => {
  if (c.req.method !== "POST") return next();
  checkSameOrigin(c);
  const form = await readForm(c);
  if (!sameToken(field(form, "csrf"), c.get("session").csrf)) {
    throw new SandboxerError(ErrorCode.unauthorized, "This form's security token is missing or from another session. Reload the page and try again.");
  }
  c.set("form", form);
  await next();
};

/** Only paths inside the dashboard are valid places to return to after sign-in (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && next.startsWith(`${BASE}`) && !next.startsWith("//") && !/[\\\r\n]/.test(next) ? next : BASE;
}
