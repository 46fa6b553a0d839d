import type { Child } from "hono/jsx";
import type { AuditPage } from "../schemas/audit";
import type { ExecutionPage } from "../schemas/executions";
import type { FileEntry } from "../schemas/files";
import type { SandboxRecord } from "../schemas/sandbox";
import type { Snapshot } from "../schemas/snapshots";
import { formatBytes, formatSeconds, formatUtc } from "./format";
import { BASE, Countdown, Csrf, DurationField, Layout, profileLabel, StateBadge } from "./layout";

/** Everything the sandbox page shows, read without touching its clocks. */
export interface SandboxView {
  sandbox: SandboxRecord;
  files: FileEntry[];
  executions: ExecutionPage;
  audit: AuditPage;
  auditCursor?: string;
  /** The snapshots taken of this sandbox, newest first (they outlive it). */
  snapshots: Snapshot[];
}

/** Running and not paused: the only state in which its workspace and clocks can be changed. */
function active(s: SandboxRecord): boolean {
  return s.state === "running" && !s.paused;
}

function Record(props: { sandbox: SandboxRecord }) {
  const s = props.sandbox;
  const rows: [string, Child][] = [
    ["Id", <span class="mono">{s.id}</span>],
    ["Tenant", s.tenant],
    ["Profile", `${profileLabel(s)} (profile v${s.profileVersion})`],
    ["State", <StateBadge sandbox={s} />],
    ["Paused at", formatUtc(s.pausedAt)],
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
  // A paused sandbox's clocks cannot be changed (the operation refuses): resume it first.
  const running = active(s);
  const action = (what: string) => `${BASE}/sandboxes/${s.id}/${what}`;
  return (
    <div class="grid">
      <section class="card" aria-labelledby="ttl-heading">
        <h2 id="ttl-heading">Time to live</h2>
        <div class="clock">
          <Countdown sandbox={s} clock="ttl" label="TTL" />{" "}
          {s.state === "running" ? (
            <span class="muted small" data-hide-when-stopped>
              left
            </span>
          ) : null}
        </div>
        <p class="small muted">
          Absolute end of life: {formatUtc(s.expiresAt)}. Activity does not move it{s.paused ? ", and it keeps running while the sandbox is paused" : ""}.
        </p>
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
          {s.paused
            ? "The idle clock is stopped while the sandbox is paused; it starts again on resume."
            : s.idleTimeoutSeconds === null
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
  if (props.sandbox.paused) return <p class="muted">The workspace is kept with the paused sandbox; its files are back when it is resumed.</p>;
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

/**
 * Pause keeps the sandbox's state and releases its runtime (the idle clock stops, the TTL runs
 * on); Resume brings it back. One of the two buttons, as the sandbox is.
 */
function PauseControls(props: { sandbox: SandboxRecord; csrf: string }) {
  const s = props.sandbox;
  if (s.state !== "running") return null;
  return (
    <form method="post" action={`${BASE}/sandboxes/${s.id}/${s.paused ? "resume" : "pause"}`} data-running-only class="inline">
      <Csrf token={props.csrf} />
      {s.paused ? (
        <button type="submit">Resume sandbox</button>
      ) : (
        <button type="submit" class="secondary" title="Keep its files, state and contexts, release its runtime and stop its idle clock">
          Pause sandbox
        </button>
      )}
    </form>
  );
}

/** The snapshots taken of this sandbox: take one, restore one (after a confirmation), fork one into a new sandbox. */
function Snapshots(props: { sandbox: SandboxRecord; snapshots: Snapshot[]; csrf: string }) {
  const s = props.sandbox;
  const base = `${BASE}/sandboxes/${s.id}`;
  const canChange = active(s);
  return (
    <>
      {s.state === "running" ? (
        <form method="post" action={`${base}/snapshots`} data-running-only class="card">
          <Csrf token={props.csrf} />
          <div class="row">
            <div class="field">
              <label for="snapshot-name">Snapshot name (optional)</label>
              <input type="text" id="snapshot-name" name="name" maxlength={128} placeholder="before-upgrade" spellcheck={false} disabled={!canChange} />
            </div>
            <div>
              <button type="submit" disabled={!canChange}>
                Take snapshot
              </button>
            </div>
          </div>
          <p class="small muted">
            {s.paused
              ? "Resume the sandbox to take a snapshot or restore one."
              : "Saves the workspace files, state data, code contexts and settings (never secret values) for 7 days, even after the sandbox stops. Taking one is activity."}
          </p>
        </form>
      ) : null}
      {props.snapshots.length === 0 ? (
        <p class="muted">No snapshots of this sandbox.</p>
      ) : (
        <div class="table-wrap spaced">
          <table class="responsive">
            <caption class="skip">Snapshots of this sandbox, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Snapshot</th>
                <th scope="col">Size</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span class="skip">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.snapshots.map((snap) => (
                <tr data-snapshot-id={snap.snapshotId}>
                  <td data-label="Name">{snap.name}</td>
                  <td data-label="Snapshot" class="mono small">
                    {snap.snapshotId}
                  </td>
                  <td data-label="Size">{formatBytes(snap.size)}</td>
                  <td data-label="Created" class="small">
                    {formatUtc(snap.createdAt)}
                  </td>
                  <td data-label="Expires" class="small">
                    {formatUtc(snap.expiresAt)}
                  </td>
                  <td class="actions">
                    {canChange ? (
                      <a class="button secondary" href={`${base}/restore?snapshot=${snap.snapshotId}`} data-hide-when-stopped aria-label={`Restore ${snap.name} (${snap.snapshotId})…`}>
                        Restore…
                      </a>
                    ) : null}{" "}
                    <form method="post" action={`${base}/fork`} class="inline">
                      <Csrf token={props.csrf} />
                      <input type="hidden" name="snapshotId" value={snap.snapshotId} />
                      <button type="submit" class="secondary" aria-label={`Fork ${snap.name} (${snap.snapshotId}) into a new sandbox`}>
                        Fork
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="small muted">Fork makes a new, independent sandbox from a snapshot and opens it; Restore rolls this sandbox back to it.</p>
    </>
  );
}

/** One sandbox: record, both clocks with their controls, pause, stop, snapshots, files, executions, audit. */
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
        {s.paused ? (
          <div class="notice warn" role="status">
            {`This sandbox is paused (since ${formatUtc(s.pausedAt)}): its files, state and contexts are kept, code cannot run until it is resumed, and its TTL keeps running.`}
          </div>
        ) : null}
        <div class="spaced" data-hide-when-stopped>
          <PauseControls sandbox={s} csrf={props.csrf} />{" "}
          {s.state === "running" ? (
            <a class="button danger" href={`${BASE}/sandboxes/${s.id}/stop`}>
              Stop sandbox…
            </a>
          ) : null}
        </div>
        <h2>Record</h2>
        <div class="card">
          <Record sandbox={s} />
        </div>
        <h2 id="snapshots-heading">Snapshots</h2>
        <Snapshots sandbox={s} snapshots={props.view.snapshots} csrf={props.csrf} />
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

/** "Restore this snapshot?": the confirmation step before `restore`, which replaces the workspace. */
export function ConfirmRestorePage(props: { tenant: string; csrf: string; sandbox: SandboxRecord; snapshot: Snapshot }) {
  const { sandbox: s, snapshot: snap } = props;
  return (
    <Layout title={`Restore ${s.id}?`} tenant={props.tenant} csrf={props.csrf}>
      <h1>
        Restore <span class="mono">{s.id}</span> to {snap.name}?
      </h1>
      <p>
        {`Its workspace files, state data and code contexts are replaced by those of snapshot ${snap.snapshotId}, taken ${formatUtc(snap.createdAt)}. `}
        Files written since then are lost. Its id, clocks and audit log stay.
      </p>
      <form method="post" action={`${BASE}/sandboxes/${s.id}/restore`}>
        <Csrf token={props.csrf} />
        <input type="hidden" name="snapshotId" value={snap.snapshotId} />
        <button type="submit" class="danger">
          Restore snapshot
        </button>{" "}
        <a class="button secondary" href={`${BASE}/sandboxes/${s.id}`}>
          Cancel
        </a>
      </form>
    </Layout>
  );
}
