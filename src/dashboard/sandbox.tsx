import type { Child } from "hono/jsx";
import type { AuditPage } from "../schemas/audit";
import type { ExecutionPage } from "../schemas/executions";
import type { FileEntry } from "../schemas/files";
import type { SandboxRecord } from "../schemas/sandbox";
import { formatBytes, formatSeconds, formatUtc } from "./format";
import { BASE, Countdown, Csrf, DurationField, Layout, profileLabel, StateBadge } from "./layout";

/** Everything the sandbox page shows, read without touching its clocks. */
export interface SandboxView {
  sandbox: SandboxRecord;
  files: FileEntry[];
  executions: ExecutionPage;
  audit: AuditPage;
  auditCursor?: string;
}

function Record(props: { sandbox: SandboxRecord }) {
  const s = props.sandbox;
  const rows: [string, Child][] = [
    ["Id", <span class="mono">{s.id}</span>],
    ["Tenant", s.tenant],
    ["Profile", `${profileLabel(s)} (profile v${s.profileVersion})`],
    ["State", <StateBadge sandbox={s} />],
    ["End reason", s.endReason ?? "—"],
    ["Created", formatUtc(s.createdAt)],
    ["Last activity", <span data-field="lastActiveAt">{formatUtc(s.lastActiveAt)}</span>],
    ["Ended", formatUtc(s.endedAt)],
    ["Expires (TTL)", formatUtc(s.expiresAt)],
    ["Idle timeout", s.idleTimeoutSeconds === null ? "off (only the TTL ends it)" : formatSeconds(s.idleTimeoutSeconds)],
    ["Metadata", Object.keys(s.metadata).length ? <code>{JSON.stringify(s.metadata)}</code> : "—"],
    ["Network allow", s.network.allow.length ? s.network.allow.map((r) => r.host).join(", ") : "none"],
    ["Capabilities", s.capabilities.length ? s.capabilities.map((g) => g.name).join(", ") : "none"],
    ["Secrets", Object.keys(s.secrets).length ? Object.entries(s.secrets).map(([name, b]) => `${name} → ${b.secret}`).join(", ") : "none"],
    ["ETag", <span class="mono">{s.etag}</span>],
  ];
  return (
    <dl class="record">
      {rows.map(([name, value]) => (
        <>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}

/** The TTL form starts from the time left now, in whole minutes (edit it to extend or shorten). */
function minutesLeft(s: SandboxRecord): number {
  return Math.max(1, Math.ceil((Date.parse(s.expiresAt) - Date.now()) / 60_000));
}

function Clocks(props: { sandbox: SandboxRecord; csrf: string }) {
  const s = props.sandbox;
  const running = s.state === "running";
  const action = (what: string) => `${BASE}/sandboxes/${s.id}/${what}`;
  return (
    <div class="grid">
      <section class="card" aria-labelledby="ttl-heading">
        <h2 id="ttl-heading">Time to live</h2>
        <div class="clock">
          <Countdown sandbox={s} clock="ttl" label="TTL" />{" "}
          {running ? (
            <span class="muted small" data-hide-when-stopped>
              left
            </span>
          ) : null}
        </div>
        <p class="small muted">Absolute end of life: {formatUtc(s.expiresAt)}. Activity does not move it.</p>
        <form method="post" action={action("ttl")} data-running-only>
          <Csrf token={props.csrf} />
          <input type="hidden" name="etag" value={s.etag} />
          <div class="row">
            <DurationField id="ttl" name="ttl" label="Set time left to (from now)" value={minutesLeft(s)} unit="minutes" />
            <div>
              <button type="submit" disabled={!running}>
                Set TTL
              </button>
            </div>
          </div>
          <p class="small muted">Longer extends, shorter shortens; the profile caps a sandbox's whole life.</p>
        </form>
      </section>
      <section class="card" aria-labelledby="idle-heading">
        <h2 id="idle-heading">Idle clock</h2>
        <div class="clock">
          <Countdown sandbox={s} clock="idle" label="Idle timeout" />{" "}
          {running ? (
            <span class="muted small" data-hide-when-stopped>
              left
            </span>
          ) : null}
        </div>
        <p class="small muted">
          {s.idleTimeoutSeconds === null
            ? "The idle clock is off: only the TTL ends this sandbox. Setting an idle timeout turns it back on."
            : `Stops after ${formatSeconds(s.idleTimeoutSeconds)} without activity (code runs, file reads and writes, keepalive).`}{" "}
          Viewing this page is not activity.
        </p>
        <form method="post" action={action("idle")} data-running-only>
          <Csrf token={props.csrf} />
          <input type="hidden" name="etag" value={s.etag} />
          <div class="row">
            <DurationField id="idle" name="idle" label="Idle timeout" value={s.idleTimeoutSeconds ?? undefined} unit="seconds" />
            <div>
              <button type="submit" disabled={!running}>
                Set idle timeout
              </button>
            </div>
          </div>
        </form>
        {s.idleTimeoutSeconds === null ? null : (
          <form method="post" action={action("idle-off")} data-running-only class="spaced">
            <Csrf token={props.csrf} />
            <input type="hidden" name="etag" value={s.etag} />
            <button type="submit" class="secondary" disabled={!running}>
              Switch the idle clock off
            </button>
          </form>
        )}
        <form method="post" action={action("keepalive")} data-running-only class="spaced">
          <Csrf token={props.csrf} />
          <button type="submit" class="secondary" disabled={!running}>
            Keep alive (reset idle clock)
          </button>
        </form>
      </section>
    </div>
  );
}

function Files(props: { sandbox: SandboxRecord; files: FileEntry[]; csrf: string }) {
  if (props.files.length === 0) return <p class="muted">No files in the workspace.</p>;
  return (
    <>
      <p class="small muted">Downloading a file reads it, which is activity: it resets the idle clock (listing does not).</p>
      <div class="table-wrap">
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Size</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span class="skip">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.files.map((file) => (
              <tr>
                <td data-label="Path" class="mono">
                  {file.path}
                </td>
                <td data-label="Size">{formatBytes(file.size)}</td>
                <td data-label="Updated" class="small">
                  {formatUtc(file.updatedAt)}
                </td>
                <td data-running-only>
                  <form method="post" action={`${BASE}/sandboxes/${props.sandbox.id}/download`}>
                    <Csrf token={props.csrf} />
                    <input type="hidden" name="path" value={file.path} />
                    <button type="submit" class="secondary" aria-label={`Download ${file.path}`}>
                      Download
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Output(props: { label: string; text: string }) {
  if (!props.text) return null;
  return (
    <>
      <div class="small muted">{props.label}</div>
      <pre>{props.text}</pre>
    </>
  );
}

function Executions(props: { executions: ExecutionPage }) {
  const list = props.executions.executions;
  if (list.length === 0) return <p class="muted">No code has run in this sandbox.</p>;
  return (
    <div class="table-wrap">
      <table class="responsive">
        <thead>
          <tr>
            <th scope="col">Execution</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Output</th>
          </tr>
        </thead>
        <tbody>
          {list.map((e) => (
            <tr>
              <td data-label="Execution" class="mono small">
                {e.executionId}
                <div class="muted">{e.language}</div>
              </td>
              <td data-label="Status">
                <span class={`badge ${e.status === "error" ? "stopped" : "running"}`}>{e.status}</span>
                {e.errorName ? <div class="small">{e.limit ? `${e.errorName} (${e.limit})` : e.errorName}</div> : null}
              </td>
              <td data-label="Started" class="small">
                {formatUtc(e.startedAt)}
              </td>
              <td data-label="Duration" class="small">
                {e.durationMs === undefined ? "—" : `${Math.round(e.durationMs)} ms`}
                {e.cpuUsedMs === undefined ? null : <div class="muted">{`CPU ${Math.round(e.cpuUsedMs)} ms`}</div>}
              </td>
              <td data-label="Output">
                {e.output ? (
                  <details>
                    <summary>{`Output of ${e.executionId}`}</summary>
                    <Output label="result" text={e.output.result === undefined ? "" : JSON.stringify(e.output.result, null, 2)} />
                    <Output label="stdout" text={e.output.stdout} />
                    <Output label="stderr" text={e.output.stderr} />
                    <Output label="error" text={e.output.error === undefined ? "" : JSON.stringify(e.output.error, null, 2)} />
                  </details>
                ) : (
                  <span class="muted small">kept for an hour; expired</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Audit(props: { sandbox: SandboxRecord; audit: AuditPage; cursor?: string }) {
  const entries = props.audit.entries;
  const base = `${BASE}/sandboxes/${props.sandbox.id}`;
  return (
    <>
      {entries.length === 0 ? (
        <p class="muted">Nothing audited yet (capability calls and network requests appear here).</p>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Decision</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((a) => (
                <tr>
                  <td data-label="#">{a.seq}</td>
                  <td data-label="Time" class="small">
                    {formatUtc(a.ts)}
                  </td>
                  <td data-label="Action" class="mono small">
                    {a.action}
                    {a.host ? ` ${a.method ?? ""} ${a.host}` : ""}
                  </td>
                  <td data-label="Decision">
                    <span class={`badge ${a.decision === "allowed" ? "running" : "stopped"}`}>{a.decision}</span>
                  </td>
                  <td data-label="Detail" class="small">
                    {[a.status === undefined ? "" : `status ${a.status}`, a.bytes === undefined ? "" : formatBytes(a.bytes), a.detail ?? ""]
                      .filter(Boolean)
                      .join(" · ") || "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Audit log pages">
        {props.cursor ? (
          <a class="button secondary" href={`${base}#audit-heading`}>
            First entries
          </a>
        ) : null}
        {props.audit.nextCursor ? (
          <a class="button secondary" href={`${base}?audit=${encodeURIComponent(props.audit.nextCursor)}#audit-heading`}>
            Later entries
          </a>
        ) : null}
      </nav>
    </>
  );
}

/** One sandbox: record, both clocks with their controls, stop, files, executions, audit. */
export function SandboxPage(props: { tenant: string; csrf: string; view: SandboxView; notice?: Child }) {
  const { sandbox: s } = props.view;
  return (
    <Layout title={s.id} tenant={props.tenant} csrf={props.csrf}>
      <div data-sandbox-id={s.id} data-state={s.state}>
        <p class="small">
          <a href={BASE}>← All sandboxes</a>
        </p>
        <h1>
          <span class="mono">{s.id}</span> <StateBadge sandbox={s} />
        </h1>
        {props.notice}
        <div class="notice warn" role="status" data-stopped-notice>
          {s.state === "stopped" ? `This sandbox stopped (${s.endReason}) at ${formatUtc(s.endedAt)}.` : ""}
        </div>
        <Clocks sandbox={s} csrf={props.csrf} />
        <p data-hide-when-stopped>
          {s.state === "running" ? (
            <a class="button danger" href={`${BASE}/sandboxes/${s.id}/stop`}>
              Stop sandbox…
            </a>
          ) : null}
        </p>
        <h2>Record</h2>
        <div class="card">
          <Record sandbox={s} />
        </div>
        <h2>Files</h2>
        <Files sandbox={s} files={props.view.files} csrf={props.csrf} />
        <h2>Recent executions</h2>
        <Executions executions={props.view.executions} />
        <h2 id="audit-heading">Audit log</h2>
        <Audit sandbox={s} audit={props.view.audit} cursor={props.view.auditCursor} />
      </div>
    </Layout>
  );
}

/** "Stop this sandbox?": the confirmation step before `destroy`. */
export function ConfirmStopPage(props: { tenant: string; csrf: string; sandbox: SandboxRecord }) {
  const s = props.sandbox;
  return (
    <Layout title={`Stop ${s.id}?`} tenant={props.tenant} csrf={props.csrf}>
      <h1>
        Stop <span class="mono">{s.id}</span>?
      </h1>
      <p>Its files are released and it cannot be started again; its record stays visible for 24 hours with the reason "deleted".</p>
      <form method="post" action={`${BASE}/sandboxes/${s.id}/stop`}>
        <Csrf token={props.csrf} />
        <button type="submit" class="danger">
          Stop sandbox
        </button>{" "}
        <a class="button secondary" href={`${BASE}/sandboxes/${s.id}`}>
          Cancel
        </a>
      </form>
    </Layout>
  );
}
