/**
 * Time left on a clock, as "1h 04m 05s" (the column or heading around it says "left").
 * Also sent to the browser as source (`assets.ts` embeds `formatRemaining.toString()`), so
 * server-rendered and live countdowns read the same: keep it self-contained (no imports, no
 * helpers outside it).
 */
export function formatRemaining(ms: number): string {
  if (!(ms > 0)) return "due now";
  const total = Math.ceil(ms / 1000);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  // No inner named functions: the bundler would wrap them in a helper the browser lacks.
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  if (d > 0) return `${d}d ${h}h ${mm}m`;
  if (h > 0) return `${h}h ${mm}m ${ss}s`;
  if (m > 0) return `${m}m ${ss}s`;
  return `${s}s`;
}

/** A duration in seconds, as people say it ("5 min", "1 h 30 min", "45 s"). */
export function formatSeconds(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h} h` : "", m ? `${m} min` : "", s || (!h && !m) ? `${s} s` : ""].filter(Boolean).join(" ");
}

/** An ISO time as "2026-11-25 10:15:03 UTC": unambiguous for operators in any time zone. */
export function formatUtc(iso: string | undefined): string {
  if (!iso) return "—";
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** Bytes as "512 B", "3.2 KiB", "1.0 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
