import { formatRemaining, formatUtc } from "./format";

/**
 * The dashboard's only two assets, served by the Worker itself (no CDN, works offline). The
 * script is progressive: every page works without it; with it, countdowns tick and a sandbox
 * that stops while its page is open shows so within a few seconds.
 */

/** How often an open page asks whether its running sandboxes are still running. */
export const POLL_INTERVAL_MS = 2000;

export const DASHBOARD_CSS = `
:root { color-scheme: light dark; --bg: #f7f7f8; --fg: #1b1b1f; --muted: #5b5b66; --card: #fff; --line: #d9d9e0;
  --accent: #1d4ed8; --accent-fg: #fff; --ok: #166534; --ok-bg: #dcfce7; --stop: #991b1b; --stop-bg: #fee2e2; --warn-bg: #fef3c7; --warn: #854d0e; }
@media (prefers-color-scheme: dark) { :root { --bg: #111114; --fg: #ececf1; --muted: #a1a1ad; --card: #1b1b20; --line: #33333b;
  --accent: #7aa2ff; --accent-fg: #0b0b10; --ok: #86efac; --ok-bg: #10331d; --stop: #fca5a5; --stop-bg: #3b1414; --warn-bg: #3a2e0b; --warn: #fde68a; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
.skip { position: absolute; left: -9999px; } .skip:focus { left: 8px; top: 8px; background: var(--card); padding: 6px 10px; z-index: 10; }
header.top { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 10px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--fg); margin-right: auto; }
header.top .who { color: var(--muted); }
main { max-width: 1280px; margin: 0 auto; padding: 16px 20px 48px; }
h1 { font-size: 1.5rem; margin: 8px 0 16px; word-break: break-all; } h2 { font-size: 1.15rem; margin: 28px 0 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.grid { display: grid; gap: 14px; grid-template-columns: repeat(auto-fit, minmax(290px, 1fr)); }
label { display: block; font-weight: 600; margin-bottom: 4px; font-size: 0.9rem; }
input, select, button, textarea { font: inherit; color: inherit; }
input[type=text], input[type=search], input[type=number], input[type=password], select {
  padding: 7px 9px; border: 1px solid var(--line); border-radius: 7px; background: var(--bg); min-width: 0; width: 100%; }
button, .button { display: inline-block; padding: 7px 14px; border-radius: 7px; border: 1px solid var(--accent); background: var(--accent);
  color: var(--accent-fg); cursor: pointer; text-decoration: none; font-weight: 600; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.danger, .button.danger { background: var(--stop); border-color: var(--stop); color: var(--card); }
button:disabled { opacity: 0.45; cursor: not-allowed; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.row { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; }
.row > .field { flex: 1 1 150px; }
.row > .field.narrow { flex: 0 1 150px; }
.card h2 { margin-top: 0; }
.nowrap { white-space: nowrap; }
.filters { margin-bottom: 14px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.85rem; font-weight: 600; white-space: nowrap; }
.badge.running { background: var(--ok-bg); color: var(--ok); }
.badge.stopped, .badge.gone { background: var(--stop-bg); color: var(--stop); }
.badge.paused { background: var(--warn-bg); color: var(--warn); }
.notice { padding: 10px 14px; border-radius: 8px; margin: 0 0 14px; border: 1px solid var(--line); }
.notice.ok { background: var(--ok-bg); color: var(--ok); } .notice.error { background: var(--stop-bg); color: var(--stop); }
.notice.warn { background: var(--warn-bg); color: var(--warn); }
.notice:empty { display: none; }
.muted { color: var(--muted); } .small { font-size: 0.85rem; }
.chip { display: inline-block; white-space: nowrap; border: 1px solid var(--line); border-radius: 6px; padding: 0 6px; margin: 1px 2px; font-size: 0.82rem; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 8px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.82rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
time[data-countdown] { font-variant-numeric: tabular-nums; white-space: nowrap; }
.clock { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; margin: 2px 0 4px; }
dl.record { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.record dt { font-weight: 600; color: var(--muted); } dl.record dd { margin: 0; word-break: break-all; }
pre { white-space: pre-wrap; word-break: break-word; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px; max-height: 320px; overflow: auto; margin: 4px 0; }
.spaced { margin-top: 10px; }
form.inline { display: inline-block; margin: 0; }
td.actions { white-space: nowrap; }
.pager { display: flex; gap: 10px; margin-top: 12px; }
.bulk { margin: 10px 0; }
.bulk .row > .field { flex: 0 1 220px; }
.bulk .row > .field.narrow { flex: 0 1 130px; }
.when span { display: block; white-space: nowrap; }
.signin { max-width: 420px; margin: 10vh auto; }
@media (max-width: 760px) {
  main { padding: 12px; }
  table.responsive thead { position: absolute; left: -9999px; }
  table.responsive, table.responsive tbody, table.responsive tr, table.responsive td { display: block; width: 100%; }
  table.responsive tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
  table.responsive td { border: 0; padding: 3px 12px; }
  table.responsive td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
  dl.record { grid-template-columns: 1fr; } dl.record dd { margin-bottom: 6px; }
  .when span { display: inline; }
}
`;

export const DASHBOARD_JS = `"use strict";
(function () {
  var formatRemaining = ${formatRemaining.toString()};
  var formatUtc = ${formatUtc.toString()};
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      el.textContent = formatRemaining(Date.parse(el.getAttribute("datetime")) - now);
    });
  }
  function running() {
    var ids = [];
    document.querySelectorAll("[data-sandbox-id][data-state=running]").forEach(function (el) {
      var id = el.getAttribute("data-sandbox-id");
      if (ids.indexOf(id) < 0) ids.push(id);
    });
    return ids;
  }
  function apply(s) {
    document.querySelectorAll('[data-sandbox-id="' + s.id + '"]').forEach(function (root) {
      root.querySelectorAll("[data-field=state]").forEach(function (el) {
        var shown = s.paused ? "paused" : s.state;
        el.textContent = s.state === "stopped" ? "stopped (" + s.endReason + ")" : s.state === "gone" ? "gone (purged)" : shown;
        el.className = "badge " + shown;
      });
      if (s.state === "running") {
        root.querySelectorAll("time[data-clock=ttl]").forEach(function (el) { el.setAttribute("datetime", s.expiresAt); });
        root.querySelectorAll("[data-clock=idle]").forEach(function (el) {
          if (s.idleExpiresAt) {
            // Switched on or resumed elsewhere: a clock shown as "off" or "paused" counts down again.
            if (el.tagName !== "TIME") {
              var time = document.createElement("time");
              time.setAttribute("data-clock", "idle");
              el.replaceWith(time);
              el = time;
            }
            el.setAttribute("datetime", s.idleExpiresAt);
            el.setAttribute("data-countdown", "");
            el.setAttribute("title", "Idle timeout runs out at " + s.idleExpiresAt);
          } else {
            // Paused, or the idle clock switched off, elsewhere while this page is open: it no longer runs.
            el.removeAttribute("data-countdown");
            el.textContent = s.paused ? "paused" : "off";
          }
        });
        root.querySelectorAll("[data-field=lastActiveAt]").forEach(function (el) {
          var text = formatUtc(s.lastActiveAt);
          var parts = el.querySelectorAll("span");
          if (parts.length === 2) {
            parts[0].textContent = text.slice(0, 10);
            parts[1].textContent = text.slice(11);
          } else {
            el.textContent = text;
          }
        });
        return;
      }
      root.setAttribute("data-state", s.state);
      root.querySelectorAll("time[data-countdown]").forEach(function (el) {
        el.removeAttribute("data-countdown");
        el.textContent = "ended";
      });
      root.querySelectorAll("[data-running-only] button, [data-running-only] input, [data-running-only] select").forEach(function (el) {
        el.disabled = true;
      });
      root.querySelectorAll("[data-hide-when-stopped]").forEach(function (el) { el.hidden = true; });
      root.querySelectorAll("[data-stopped-notice]").forEach(function (el) {
        el.textContent = s.state === "stopped"
          ? "This sandbox stopped (" + s.endReason + ") at " + formatUtc(s.endedAt) + "."
          : "This sandbox no longer exists.";
      });
    });
  }
  var polling = false;
  function poll() {
    var ids = running();
    if (polling || ids.length === 0) return;
    polling = true;
    fetch("${"/dashboard/api/status"}?ids=" + encodeURIComponent(ids.join(",")), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) { if (body) body.sandboxes.forEach(apply); tick(); })
      .catch(function () {})
      .then(function () { polling = false; });
  }
  function selectAll() {
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        document.querySelectorAll('input[name="ids"]').forEach(function (el) { el.checked = box.checked; });
      });
    });
  }
  tick();
  selectAll();
  setInterval(tick, 1000);
  setInterval(poll, ${POLL_INTERVAL_MS});
})();
`;
