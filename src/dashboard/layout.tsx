import type { Child } from "hono/jsx";
import { findProfile } from "../profiles";
import type { SandboxRecord } from "../schemas/sandbox";
import { formatRemaining } from "./format";

/** Where the dashboard is mounted; every link and form action starts here. */
export const BASE = "/dashboard";

/** The page frame: skip link, header with the tenant and Sign out, then the page. */
export function Layout(props: { title: string; tenant?: string; csrf?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${props.title} · sand-boxer`}</title>
        <link rel="stylesheet" href={`${BASE}/assets/dashboard.css`} />
        <script src={`${BASE}/assets/dashboard.js`} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={BASE}>
            sand-boxer dashboard
          </a>
          {props.tenant && props.csrf ? (
            <>
              <span class="who">
                Tenant <strong>{props.tenant}</strong>
              </span>
              <form method="post" action={`${BASE}/sign-out`}>
                <input type="hidden" name="csrf" value={props.csrf} />
                <button type="submit" class="secondary">
                  Sign out
                </button>
              </form>
            </>
          ) : null}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}

/** A message above the page: `ok` after an action, `error` for a refusal, `warn` for a conflict. */
export function Notice(props: { kind: "ok" | "error" | "warn"; children?: Child }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === "ok" ? "status" : "alert"}>
      {props.children}
    </div>
  );
}

/** The state badge, with the end reason of a stopped sandbox; a paused one (state `running`) says paused. */
export function StateBadge(props: { sandbox: SandboxRecord }) {
  const { state, endReason, paused } = props.sandbox;
  const shown = paused ? "paused" : state;
  return (
    <span class={`badge ${shown}`} data-field="state">
      {state === "stopped" ? `stopped (${endReason})` : shown}
    </span>
  );
}

/**
 * A deadline counting down: `<time datetime>` holds the instant, the text the time left
 * (the script keeps it ticking). A stopped sandbox's clocks say "ended".
 */
export function Countdown(props: { sandbox: SandboxRecord; clock: "ttl" | "idle"; label: string }) {
  const at = props.clock === "ttl" ? props.sandbox.expiresAt : props.sandbox.idleExpiresAt;
  // A clock that is switched off (no deadline) has nothing to count down; pausing stops the idle clock.
  if (!at) return <span class="muted" data-clock={props.clock}>{props.sandbox.paused && props.clock === "idle" ? "paused" : "off"}</span>;
  if (props.sandbox.state !== "running") {
    return (
      <time datetime={at} data-clock={props.clock} aria-label={`${props.label}: ended`}>
        ended
      </time>
    );
  }
  return (
    <time datetime={at} data-clock={props.clock} data-countdown title={`${props.label} runs out at ${at}`}>
      {formatRemaining(Date.parse(at) - Date.now())}
    </time>
  );
}

/** "js · v8-isolate": the profile and the isolation level it runs at. */
export function profileLabel(sandbox: SandboxRecord): string {
  const isolation = findProfile(sandbox.profile)?.isolation_level;
  return isolation ? `${sandbox.profile} · ${isolation}` : sandbox.profile;
}

/** The hidden CSRF field every mutating form carries. */
export function Csrf(props: { token: string }) {
  return <input type="hidden" name="csrf" value={props.token} />;
}

/** A duration input with its unit, e.g. "15 minutes": the pair every clock form uses. */
export function DurationField(props: { name: string; label: string; value?: number; unit?: "seconds" | "minutes" | "hours"; id: string }) {
  return (
    <>
      <div class="field">
        <label for={props.id}>{props.label}</label>
        <input type="number" id={props.id} name={props.name} min="1" step="1" required value={props.value === undefined ? "" : String(props.value)} />
      </div>
      <div class="field narrow">
        <label for={`${props.id}-unit`}>Unit</label>
        <select id={`${props.id}-unit`} name={`${props.name}Unit`}>
          {(["seconds", "minutes", "hours"] as const).map((unit) => (
            <option value={unit} selected={unit === (props.unit ?? "minutes")}>
              {unit}
            </option>
          ))}
        </select>
      </div>
    </>
  );
}
