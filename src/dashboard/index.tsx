import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Child } from "hono/jsx";
import { tenantOfKey } from "../api/auth";
import { problemResponse, toSandboxerError } from "../api/problem";
import { ErrorCode, SandboxerError } from "../errors";
import { parseInput, type FileContent } from "../operations";
import { BulkSandboxIds } from "../schemas/bulk";
import type { PatchSandboxInput, SandboxList } from "../schemas/sandbox";
import { DASHBOARD_CSS, DASHBOARD_JS } from "./assets";
import { field, fields, ops, requireCsrf, requireSession, safeNext, signInForm, type DashEnv, type FormFields } from "./guard";
import { BASE, Layout, Notice } from "./layout";
import { BulkSummary, ConfirmBulkStopPage, filtersFrom, ListPage, searchInput, type ListFilters } from "./list";
import { ConfirmRestorePage, ConfirmStopPage, SandboxPage, type SandboxView } from "./sandbox";
import { endSession, readSession, requireSessionKey, startSession } from "./session";
import { SignInPage } from "./signin";

/** Recent executions shown on a sandbox page. */
const RECENT_EXECUTIONS = 20;
/** Audit entries per page on a sandbox page. */
const AUDIT_PAGE = 100;

/**
 * The operators' dashboard, mounted at `/dashboard`: server-rendered pages (Hono JSX) that call
 * the same operations as the API, a session cookie instead of a Bearer key, and CSRF checks on
 * every form. GET pages only read (never activity); every change is a POST.
 */
export const dashboard = new Hono<DashEnv>();

dashboard.onError((error, c) => {
  const problem = toSandboxerError(error);
  if (problem.code === ErrorCode.internal) console.error(`dashboard error on ${c.req.method} ${new URL(c.req.url).pathname}:`, error);
  if (new URL(c.req.url).pathname.startsWith(`${BASE}/api/`)) return problemResponse(problem);
  const session = c.get("session");
  const signIn = problem.code === ErrorCode.unauthorized;
  return c.html(
    <Layout title={problem.code} tenant={session?.tenant} csrf={session?.csrf}>
      <h1>{signIn ? "Please sign in again" : "That did not work"}</h1>
      <Notice kind="error">{problem.detail}</Notice>
      <p>
        <a href={signIn ? `${BASE}/sign-in` : BASE}>{signIn ? "Sign in" : "Back to the sandboxes"}</a>
      </p>
    </Layout>,
    problem.status as ContentfulStatusCode,
  );
});

// Pages of our own only: scripts and styles from this Worker, forms posting back to it, never framed.
dashboard.use("*", async (c, next) => {
  await next();
  c.header(
    "Content-Security-Policy",
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "same-origin");
  if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
});

dashboard.get("/assets/dashboard.css", (c) => c.body(DASHBOARD_CSS, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300" }));
dashboard.get("/assets/dashboard.js", (c) =>
  c.body(DASHBOARD_JS, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300" }),
);

// Without a signing key there are no sessions: say so before showing any form.
dashboard.use("*", async (c, next) => {
  await requireSessionKey(c.env);
  await next();
});

function isLocal(c: Context): boolean {
  return ["localhost", "127.0.0.1", "[::1]"].includes(new URL(c.req.url).hostname);
}

dashboard.get("/sign-in", async (c) => {
  if (await readSession(c)) return c.redirect(safeNext(c.req.query("next")), 303);
  const notice = c.req.query("signed-out") === "1" ? "You are signed out." : undefined;
  return c.html(<SignInPage next={safeNext(c.req.query("next"))} notice={notice} local={isLocal(c)} />);
});

dashboard.post("/sign-in", signInForm, async (c) => {
  const form = c.get("form");
  const known = await tenantOfKey(c.env, field(form, "key").trim());
  if (!known) {
    return c.html(
      <SignInPage next={safeNext(field(form, "next"))} error="That API key is not valid. Check it and try again." local={isLocal(c)} />,
      401,
    );
  }
  await startSession(c, known.tenant, known.keyHash);
  return c.redirect(safeNext(field(form, "next")), 303);
});

dashboard.use("*", requireSession, requireCsrf);

dashboard.post("/sign-out", (c) => {
  endSession(c);
  return c.redirect(`${BASE}/sign-in?signed-out=1`, 303);
});

// -- the list ------------------------------------------------------------------

async function renderList(c: Context<DashEnv>, filters: ListFilters, notice?: Child, status: 200 | 400 = 200) {
  let page: SandboxList = { sandboxes: [], nextCursor: null };
  try {
    page = await ops(c).search(searchInput(filters));
  } catch (error) {
    const refusal = SandboxerError.fromRpc(error);
    if (refusal?.code !== ErrorCode.validationFailed) throw error;
    notice = <Notice kind="error">{refusal.detail}</Notice>;
    status = 400;
  }
  const { tenant, csrf } = c.get("session");
  return c.html(<ListPage tenant={tenant} csrf={csrf} filters={filters} page={page} notice={notice} />, status);
}

dashboard.get("/", (c) => renderList(c, filtersFrom(new URL(c.req.url).searchParams)));

const SECONDS_PER_UNIT = new Map([
  ["seconds", 1],
  ["minutes", 60],
  ["hours", 3600],
]);

/** A duration field and its unit select (`<name>` and `<name>Unit`) as seconds. */
function durationSeconds(form: FormFields, name: string): number {
  const text = field(form, name).trim();
  const multiplier = SECONDS_PER_UNIT.get(field(form, `${name}Unit`) || "seconds");
  const value = Number(text);
  if (text === "" || !Number.isFinite(value) || multiplier === undefined) {
    throw new SandboxerError(ErrorCode.validationFailed, "Enter the duration as a number with its unit (seconds, minutes or hours), e.g. 15 minutes.", {
      errors: [{ path: `form.${name}`, message: "a number and a unit" }],
    });
  }
  return Math.round(value * multiplier);
}

dashboard.post("/bulk", async (c) => {
  const form = c.get("form");
  const back = safeNext(field(form, "back"));
  const filters = filtersFrom(new URL(back, c.req.url).searchParams);
  const { tenant, csrf } = c.get("session");
  try {
    switch (field(form, "action")) {
      case "stop": {
        const ids = parseInput(BulkSandboxIds, fields(form, "ids"), "ids");
        return c.html(<ConfirmBulkStopPage tenant={tenant} csrf={csrf} ids={ids} back={back} />);
      }
      case "stop-confirmed":
        return renderList(c, filters, <BulkSummary verb="Stopped" outcomes={await ops(c).stopMany(fields(form, "ids"))} />);
      case "extend": {
        const patch: PatchSandboxInput = { ttlSeconds: durationSeconds(form, "ttl") };
        return renderList(c, filters, <BulkSummary verb="Set the time left of" outcomes={await ops(c).updateMany(fields(form, "ids"), patch)} />);
      }
      default:
        throw new SandboxerError(ErrorCode.validationFailed, "Choose an action: Extend selected or Stop selected.", {
          errors: [{ path: "form.action", message: "extend or stop" }],
        });
    }
  } catch (error) {
    const refusal = SandboxerError.fromRpc(error);
    if (refusal?.code !== ErrorCode.validationFailed) throw error;
    const errors = (refusal.extra.errors ?? []) as { path: string }[];
    const detail = errors.some((e) => e.path.startsWith("ids")) ? "Select at least one sandbox (at most 100) first." : refusal.detail;
    return renderList(c, filters, <Notice kind="error">{detail}</Notice>, 400);
  }
});

// -- one sandbox ---------------------------------------------------------------

/** Everything the sandbox page shows; none of these reads is activity. */
async function loadView(c: Context<DashEnv>, id: string, auditCursor?: string): Promise<SandboxView> {
  const o = ops(c);
  const sandbox = await o.get(id);
  const [files, executions, audit, snapshots] = await Promise.all([
    o.peekFiles(id),
    o.executions(id, { limit: RECENT_EXECUTIONS }),
    o.audit(id, { limit: AUDIT_PAGE, cursor: auditCursor }),
    o.sandboxSnapshots(id),
  ]);
  return { sandbox, files, executions, audit, auditCursor, snapshots };
}

/** What the page says after a change redirected back to it (`?done=`): fixed texts, nothing reflected. */
const DONE = new Map([
  ["ttl", "Time to live updated."],
  ["idle", "Idle timeout updated."],
  ["keepalive", "Idle clock reset."],
  ["stopped", "Sandbox stopped."],
  ["paused", "Sandbox paused."],
  ["resumed", "Sandbox resumed."],
  ["snapshot", "Snapshot taken."],
  ["restored", "Sandbox restored from the snapshot."],
  ["forked", "This sandbox was forked from a snapshot."],
]);

dashboard.get("/sandboxes/:id", async (c) => {
  const view = await loadView(c, c.req.param("id"), c.req.query("audit"));
  const done = DONE.get(c.req.query("done") ?? "");
  const { tenant, csrf } = c.get("session");
  return c.html(<SandboxPage tenant={tenant} csrf={csrf} view={view} notice={done ? <Notice kind="ok">{done}</Notice> : undefined} />);
});

/** Refusals shown on the sandbox page itself, next to its fresh values, rather than on an error page. */
const SHOWN_ON_PAGE = new Set<string>([
  ErrorCode.preconditionFailed,
  ErrorCode.validationFailed,
  ErrorCode.limitExceeded,
  ErrorCode.sandboxStopped,
  ErrorCode.sandboxPaused,
  ErrorCode.notFound,
  ErrorCode.quotaExceeded,
]);

/** The sandbox page with why a change was refused, next to its fresh values; other errors go to the error page. */
async function showRefusal(c: Context<DashEnv>, error: unknown, outcome = "Nothing was changed"): Promise<Response> {
  const refusal = SandboxerError.fromRpc(error);
  if (!refusal || !SHOWN_ON_PAGE.has(refusal.code)) throw error;
  // A sandbox that is gone (or another tenant's) has no page: loadView throws not_found.
  const view = await loadView(c, c.req.param("id")!);
  const conflict = refusal.code === ErrorCode.preconditionFailed;
  const message = conflict
    ? `${outcome}: this sandbox changed after you opened the page (it is now version ${view.sandbox.etag}), by activity or by someone else. The values below are the fresh ones; check them and submit again.`
    : `${outcome}: ${refusal.detail}`;
  const { tenant, csrf } = c.get("session");
  return c.html(
    <SandboxPage tenant={tenant} csrf={csrf} view={view} notice={<Notice kind={conflict ? "warn" : "error"}>{message}</Notice>} />,
    refusal.status as ContentfulStatusCode,
  );
}

/** Runs one change to a sandbox; on success back to its page (a GET: reloading repeats nothing). */
async function change(c: Context<DashEnv>, done: string, action: () => Promise<unknown>): Promise<Response> {
  try {
    await action();
  } catch (error) {
    return showRefusal(c, error);
  }
  return c.redirect(`${BASE}/sandboxes/${c.req.param("id")}?done=${done}`, 303);
}

/** The page's ETag, sent as If-Match so a change based on stale values is refused. */
function ifMatch(form: FormFields): string | undefined {
  return field(form, "etag") || undefined;
}

dashboard.post("/sandboxes/:id/ttl", (c) =>
  change(c, "ttl", () => ops(c).update(c.req.param("id"), { ttlSeconds: durationSeconds(c.get("form"), "ttl") }, { ifMatch: ifMatch(c.get("form")) })),
);

dashboard.post("/sandboxes/:id/idle", (c) =>
  change(c, "idle", () =>
    ops(c).update(c.req.param("id"), { idleTimeoutSeconds: durationSeconds(c.get("form"), "idle") }, { ifMatch: ifMatch(c.get("form")) }),
  ),
);

/** No idle clock: only the TTL ends the sandbox. */
dashboard.post("/sandboxes/:id/idle-off", (c) =>
  change(c, "idle", () => ops(c).update(c.req.param("id"), { idleTimeoutSeconds: null }, { ifMatch: ifMatch(c.get("form")) })),
);

dashboard.post("/sandboxes/:id/keepalive", (c) => change(c, "keepalive", () => ops(c).keepalive(c.req.param("id"))));

dashboard.get("/sandboxes/:id/stop", async (c) => {
  const sandbox = await ops(c).get(c.req.param("id"));
  const { tenant, csrf } = c.get("session");
  return c.html(<ConfirmStopPage tenant={tenant} csrf={csrf} sandbox={sandbox} />);
});

dashboard.post("/sandboxes/:id/stop", (c) => change(c, "stopped", () => ops(c).destroy(c.req.param("id"))));

dashboard.post("/sandboxes/:id/pause", (c) => change(c, "paused", () => ops(c).pause(c.req.param("id"))));

dashboard.post("/sandboxes/:id/resume", (c) => change(c, "resumed", () => ops(c).resume(c.req.param("id"))));

dashboard.post("/sandboxes/:id/snapshots", (c) =>
  change(c, "snapshot", () => ops(c).createSnapshot(c.req.param("id"), { name: field(c.get("form"), "name").trim() || undefined })),
);

dashboard.get("/sandboxes/:id/restore", async (c) => {
  const o = ops(c);
  const [sandbox, snapshot] = await Promise.all([o.get(c.req.param("id")), o.getSnapshot(c.req.query("snapshot") ?? "")]);
  const { tenant, csrf } = c.get("session");
  return c.html(<ConfirmRestorePage tenant={tenant} csrf={csrf} sandbox={sandbox} snapshot={snapshot} />);
});

dashboard.post("/sandboxes/:id/restore", (c) =>
  change(c, "restored", () => ops(c).restore(c.req.param("id"), { snapshotId: field(c.get("form"), "snapshotId") })),
);

/** A new sandbox from one of this sandbox's snapshots; its page opens. */
dashboard.post("/sandboxes/:id/fork", async (c) => {
  let forked: string;
  try {
    forked = (await ops(c).create({ fromSnapshot: field(c.get("form"), "snapshotId") })).sandbox.id;
  } catch (error) {
    return showRefusal(c, error, "No sandbox was created");
  }
  return c.redirect(`${BASE}/sandboxes/${forked}?done=forked`, 303);
});

/** A workspace file as a download. Reading a file is activity (API contract), so it is a POST. */
dashboard.post("/sandboxes/:id/download", async (c) => {
  let file: FileContent;
  try {
    file = await ops(c).readFile(c.req.param("id"), field(c.get("form"), "path"));
  } catch (error) {
    return showRefusal(c, error, "Could not download the file");
  }
  const name = file.entry.path.slice(file.entry.path.lastIndexOf("/") + 1);
  return c.body(file.data as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(file.entry.size),
    // RFC 6266 / 5987: an ASCII fallback and the exact UTF-8 name.
    "Content-Disposition": `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(name)}`,
  });
});

// -- live updates --------------------------------------------------------------

/**
 * The state and clocks of up to 100 sandboxes (`?ids=a,b`), for open pages to poll. Reading a
 * record is not activity; a sandbox that is due is stopped by the read itself, so an open page
 * learns of an expiry even before the alarm has run. A purged one answers `state: "gone"`.
 */
dashboard.get("/api/status", async (c) => {
  const ids = parseInput(BulkSandboxIds, (c.req.query("ids") ?? "").split(",").filter(Boolean), "query.ids");
  const o = ops(c);
  const sandboxes = await Promise.all(
    ids.map(async (id) => {
      try {
        return await o.get(id);
      } catch (error) {
        if (SandboxerError.fromRpc(error)?.code === ErrorCode.notFound) return { id, state: "gone" as const };
        throw error;
      }
    }),
  );
  return c.json({ sandboxes });
});

// Last: an unknown dashboard path is a page, not JSON (`/dashboard/` is the list: routes ignore a trailing slash).
dashboard.all("*", () => {
  throw new SandboxerError(ErrorCode.notFound, "There is no such dashboard page.");
});
