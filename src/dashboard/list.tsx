import type { Child } from "hono/jsx";
import { ErrorCode, SandboxerError } from "../errors";
import type { BulkOutcome } from "../schemas/bulk";
import type { SandboxList, SandboxRecord } from "../schemas/sandbox";
import type { SearchSandboxesInput } from "../schemas/search";
import { formatUtc } from "./format";
import { BASE, Countdown, Csrf, DurationField, Layout, Notice, profileLabel, StateBadge } from "./layout";

/** Rows per page of the list. */
export const PAGE_SIZE = 50;

/** The list's filters as they appear in its URL (and in its form). */
export interface ListFilters {
  state: string;
  meta: string;
  expiring: string;
  q: string;
  cursor: string;
}

/** The filters from a query string (missing ones empty). */
export function filtersFrom(query: URLSearchParams): ListFilters {
  return {
    state: query.get("state") ?? "",
    meta: query.get("meta") ?? "",
    expiring: query.get("expiring") ?? "",
    q: query.get("q") ?? "",
    cursor: query.get("cursor") ?? "",
  };
}

/** The list URL for some filters (empty ones left out). */
export function listUrl(filters: Partial<ListFilters>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `${BASE}?${text}` : BASE;
}

/**
 * The form's text turned into a search: `meta` is `key=value` pairs separated by commas,
 * `expiring` minutes, `q` an id or its beginning. Everything else is the operation's to check.
 */
export function searchInput(filters: ListFilters): SearchSandboxesInput {
  const metadata: Record<string, string> = {};
  for (const pair of filters.meta.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf("=");
    if (at <= 0) {
      throw new SandboxerError(ErrorCode.validationFailed, `Write metadata filters as key=value (several separated by commas); '${pair}' has no key.`, {
        errors: [{ path: "query.meta", message: "key=value" }],
      });
    }
    metadata[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  const minutes = filters.expiring.trim();
  // "paused" is not a state of its own: a paused sandbox is running with its runtime released.
  const paused = filters.state === "paused";
  return {
    state: (paused ? "running" : filters.state || undefined) as SearchSandboxesInput["state"],
    paused: paused || undefined,
    metadata,
    idPrefix: filters.q.trim().toLowerCase() || undefined,
    expiringWithinSeconds: minutes === "" ? undefined : Math.round(Number(minutes) * 60),
    cursor: filters.cursor || undefined,
    limit: PAGE_SIZE,
  };
}

function Filters(props: { filters: ListFilters }) {
  const f = props.filters;
  return (
    <form method="get" action={BASE} class="card filters" role="search" aria-label="Filter sandboxes">
      <div class="row">
        <div class="field">
          <label for="q">Search by id</label>
          <input type="search" id="q" name="q" value={f.q} placeholder="sbx_…" spellcheck={false} />
        </div>
        <div class="field narrow">
          <label for="state">State</label>
          <select id="state" name="state">
            <option value="" selected={f.state === ""}>
              any
            </option>
            <option value="running" selected={f.state === "running"}>
              running
            </option>
            <option value="paused" selected={f.state === "paused"}>
              paused
            </option>
            <option value="stopped" selected={f.state === "stopped"}>
              stopped
            </option>
          </select>
        </div>
        <div class="field">
          <label for="meta">Metadata (key=value)</label>
          <input type="text" id="meta" name="meta" value={f.meta} placeholder="agent=demo, stage=review" spellcheck={false} />
        </div>
        <div class="field narrow">
          <label for="expiring">Expiring within (minutes)</label>
          <input type="number" id="expiring" name="expiring" min="0" step="1" value={f.expiring} />
        </div>
        <div>
          <button type="submit">Apply filters</button>{" "}
          <a class="button secondary" href={BASE}>
            Clear
          </a>
        </div>
      </div>
    </form>
  );
}

function Metadata(props: { metadata: Record<string, string> }) {
  const entries = Object.entries(props.metadata);
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <>
      {entries.map(([key, value]) => (
        <span class="chip">
          {key}={value}
        </span>
      ))}
    </>
  );
}

/** A time on two short lines (date, then time) so table columns stay narrow. */
function When(props: { iso: string }) {
  const [date, time] = formatUtc(props.iso).split(" ", 2);
  return (
    <>
      <span>{date}</span> <span>{`${time} UTC`}</span>
    </>
  );
}

function Row(props: { sandbox: SandboxRecord }) {
  const s = props.sandbox;
  return (
    <tr data-sandbox-id={s.id} data-state={s.state}>
      <td data-running-only data-label="Select">
        <input type="checkbox" name="ids" value={s.id} aria-label={`Select ${s.id}`} disabled={s.state !== "running"} />
      </td>
      <td data-label="Id">
        <a class="mono" href={`${BASE}/sandboxes/${s.id}`}>
          {s.id}
        </a>
      </td>
      <td data-label="Profile" class="nowrap">
        {profileLabel(s)}
      </td>
      <td data-label="State">
        <StateBadge sandbox={s} />
      </td>
      <td data-label="Metadata">
        <Metadata metadata={s.metadata} />
      </td>
      <td data-label="Created" class="small when">
        <When iso={s.createdAt} />
      </td>
      <td data-label="Last activity" class="small when" data-field="lastActiveAt">
        <When iso={s.lastActiveAt} />
      </td>
      <td data-label="TTL left">
        <Countdown sandbox={s} clock="ttl" label="TTL" />
      </td>
      <td data-label="Idle left">
        <Countdown sandbox={s} clock="idle" label="Idle timeout" />
      </td>
    </tr>
  );
}

/** A summary of a bulk action: how many worked, and each failure with its reason. */
export function BulkSummary(props: { verb: string; outcomes: BulkOutcome[] }) {
  const failed = props.outcomes.filter((o) => !o.ok);
  const done = props.outcomes.length - failed.length;
  return (
    <Notice kind={failed.length ? "error" : "ok"}>
      {`${props.verb} ${done} of ${props.outcomes.length} sandbox${props.outcomes.length === 1 ? "" : "es"}.`}
      {failed.length ? (
        <ul>
          {failed.map((o) => (
            <li>
              <span class="mono">{o.id}</span>: {o.error?.detail}
            </li>
          ))}
        </ul>
      ) : null}
    </Notice>
  );
}

/** The sandboxes list: filters, the table with live clocks, bulk actions and paging. */
export function ListPage(props: {
  tenant: string;
  csrf: string;
  filters: ListFilters;
  page: SandboxList;
  notice?: Child;
}) {
  const { filters, page } = props;
  const here = listUrl(filters);
  return (
    <Layout title="Sandboxes" tenant={props.tenant} csrf={props.csrf}>
      <h1>Sandboxes</h1>
      {props.notice}
      <Filters filters={filters} />
      <form method="post" action={`${BASE}/bulk`} aria-label="Selected sandboxes">
        <Csrf token={props.csrf} />
        <input type="hidden" name="back" value={here} />
        <div class="table-wrap">
          <table class="responsive">
            <caption class="skip">Sandboxes, newest first</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input type="checkbox" data-select-all aria-label="Select all running sandboxes on this page" />
                </th>
                <th scope="col">Id</th>
                <th scope="col">Profile</th>
                <th scope="col">State</th>
                <th scope="col">Metadata</th>
                <th scope="col">Created</th>
                <th scope="col">Last activity</th>
                <th scope="col">TTL left</th>
                <th scope="col">Idle left</th>
              </tr>
            </thead>
            <tbody>
              {page.sandboxes.length === 0 ? (
                <tr>
                  <td colspan={9} class="muted">
                    No sandboxes match.
                  </td>
                </tr>
              ) : (
                page.sandboxes.map((s) => <Row sandbox={s} />)
              )}
            </tbody>
          </table>
        </div>
        <div class="card bulk">
          <div class="row">
            <DurationField id="bulk-ttl" name="ttl" label="Set time left of selected to" value={60} unit="minutes" />
            <div>
              <button type="submit" name="action" value="extend">
                Extend selected
              </button>
            </div>
            <div>
              <button type="submit" name="action" value="stop" class="danger" formnovalidate>
                Stop selected…
              </button>
            </div>
          </div>
          <p class="small muted">
            Extending sets each selected sandbox's time left, counted from now (capped by its profile). Stopping asks for confirmation.
          </p>
        </div>
      </form>
      <nav class="pager" aria-label="Pages">
        {filters.cursor ? (
          <a class="button secondary" href={listUrl({ ...filters, cursor: "" })}>
            First page
          </a>
        ) : null}
        {page.nextCursor ? (
          <a class="button secondary" href={listUrl({ ...filters, cursor: page.nextCursor })} rel="next">
            Next page
          </a>
        ) : null}
      </nav>
    </Layout>
  );
}

/** "Stop these N sandboxes?" before a bulk stop. */
export function ConfirmBulkStopPage(props: { tenant: string; csrf: string; ids: string[]; back: string }) {
  return (
    <Layout title="Stop sandboxes?" tenant={props.tenant} csrf={props.csrf}>
      <h1>{`Stop ${props.ids.length} sandbox${props.ids.length === 1 ? "" : "es"}?`}</h1>
      <p>Their files are released and they cannot be started again. This cannot be undone.</p>
      <ul>
        {props.ids.map((id) => (
          <li class="mono">{id}</li>
        ))}
      </ul>
      <form method="post" action={`${BASE}/bulk`}>
        <Csrf token={props.csrf} />
        <input type="hidden" name="back" value={props.back} />
        {props.ids.map((id) => (
          <input type="hidden" name="ids" value={id} />
        ))}
        <button type="submit" name="action" value="stop-confirmed" class="danger">
          {`Stop ${props.ids.length} sandbox${props.ids.length === 1 ? "" : "es"}`}
        </button>{" "}
        <a class="button secondary" href={props.back}>
          Cancel
        </a>
      </form>
    </Layout>
  );
}
