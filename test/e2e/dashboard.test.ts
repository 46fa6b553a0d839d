import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { client, KEY, sleep, startService, type Client, type Service } from "./service";

/**
 * The operators' dashboard in a real browser: Debian's chromium (installed by .ci/run, never
 * downloaded at test time) driven by playwright-core against `npm start`.
 * `UPDATE_SCREENSHOTS=1` writes the README's screenshots into docs/screenshots/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const OTHER_KEY = "sbx_other_tenant_key";
const ROOT = join(import.meta.dirname, "..", "..");
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? join(ROOT, "docs", "screenshots") : mkdtempSync(join(tmpdir(), "sandboxer-shots-"));

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Seconds left as the countdown text says it ("4m 59s left" → 299). */
function secondsLeft(text: string): number {
  const parts = { d: 86400, h: 3600, m: 60, s: 1 } as Record<string, number>;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([dhms])/g)) total += Number(n) * parts[unit!]!;
  return total;
}

describe("the dashboard in a browser", () => {
  let service: Service;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let api: Client;
  let varsDir: string;

  beforeAll(async () => {
    // Two tenants: `local` (the usual key) and `other`, to prove a tenant sees only its own.
    varsDir = mkdtempSync(join(tmpdir(), "sandboxer-vars-"));
    const vars = join(varsDir, "dev.vars");
    writeFileSync(
      vars,
      [
        `API_KEYS=${JSON.stringify({ local: [sha256(KEY)], other: [sha256(OTHER_KEY)] })}`,
        "SECRETS_KEY=e2e-secrets-key-0123456789abcdef",
        "DASHBOARD_SESSION_KEY=e2e-dashboard-session-key-0123456789abcdef",
      ].join("\n"),
    );
    [service, browser] = await Promise.all([
      startService({ SANDBOXER_DEV_VARS: vars }),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    api = client(service.url);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    rmSync(varsDir, { recursive: true, force: true });
    if (process.env.UPDATE_SCREENSHOTS !== "1") rmSync(SCREENSHOTS, { recursive: true, force: true });
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
  });

  afterEach(async () => {
    await context?.close();
  });

  async function signIn(key = KEY) {
    await page.goto(`${service.url}/dashboard`);
    await expect.poll(() => page.url()).toContain("/dashboard/sign-in");
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForLoadState();
  }

  async function record(id: string, as: Client = api) {
    const res = await as.call("GET", `/v1/sandboxes/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  /** Every visible control has an accessible name (a label, aria-label or text). */
  async function unnamedControls(): Promise<string[]> {
    return page.evaluate(() => {
      const missing: string[] = [];
      for (const el of document.querySelectorAll<HTMLElement>("input:not([type=hidden]), select, textarea, button, a[href]")) {
        const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
        if (!labelled && !(el.textContent ?? "").trim()) missing.push(el.outerHTML.slice(0, 120));
      }
      return missing;
    });
  }

  it("refuses a wrong API key, and sets no session", async () => {
    await signIn("sbx_not_a_key");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("That API key is not valid");
    expect(page.url()).toContain("/dashboard/sign-in");
    expect(await context.cookies()).toEqual([]);
    const res = await page.goto(`${service.url}/dashboard`);
    expect(page.url()).toContain("/dashboard/sign-in");
    expect(res?.status()).toBe(200);
  });

  it("signs in with the keyboard alone into an HttpOnly, SameSite=Strict, expiring session, and signs out", async () => {
    await page.goto(`${service.url}/dashboard`);
    // The field takes focus on arrival; Chromium applies autofocus at its next rendering
    // step, which can come after the load event, so wait for it rather than race it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("api-key");
    await page.keyboard.type(KEY);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Sandboxes" }).waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "sbx_session", httpOnly: true, sameSite: "Strict", path: "/" });
    // Over plain http the cookie cannot be Secure; the in-runtime tests check https.
    expect(cookie!.secure).toBe(false);
    expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 7 * 3600_000);
    expect(cookie!.expires * 1000).toBeLessThanOrEqual(Date.now() + 8 * 3600_000 + 5000);
    expect(cookie!.value).not.toContain(KEY);
    expect(await unnamedControls()).toEqual([]);

    // A tampered cookie is no session.
    const [payload, signature] = cookie!.value.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), tenant: "other" })).toString("base64url");
    await context.addCookies([{ ...cookie!, value: `${forged}.${signature}` }]);
    await page.goto(`${service.url}/dashboard`);
    expect(page.url()).toContain("/dashboard/sign-in");
    await context.addCookies([cookie!]);

    await page.goto(`${service.url}/dashboard`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out.").waitFor();
    expect(await context.cookies()).toEqual([]);
  });

  it("refuses a form posted from another origin or without the session's token", async () => {
    const id = await api.createSandbox();
    await signIn();
    const cookie = (await context.cookies())[0]!;
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${service.url}/dashboard/sandboxes/${id}/stop`, {
        method: "POST",
        redirect: "manual",
        headers: { Cookie: `${cookie.name}=${cookie.value}`, "Content-Type": "application/x-www-form-urlencoded", ...headers },
        body,
      });
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    const token = await page.locator('input[name="csrf"]').first().inputValue();
    expect((await post({ Origin: "https://evil.example" }, `csrf=${token}`)).status).toBe(401);
    expect((await post({ Origin: service.url }, "csrf=wrong")).status).toBe(401);
    expect((await post({ Origin: service.url }, "")).status).toBe(401);
    expect((await record(id)).state).toBe("running");
    expect((await post({ Origin: service.url }, `csrf=${token}`)).status).toBe(303);
    expect((await record(id)).endReason).toBe("deleted");
  });

  it("lists a sandbox created through the API with both clocks counting down", async () => {
    const id = await api.createSandbox({ ttlSeconds: 600, idleTimeoutSeconds: 120, metadata: { agent: "countdown" } });
    const created = await record(id);
    await signIn();
    const row = page.locator(`tr[data-sandbox-id="${id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("agent=countdown");
    expect(await row.textContent()).toContain("js · v8-isolate");
    const ttl = row.locator("time[data-clock=ttl]");
    const idle = row.locator("time[data-clock=idle]");
    expect(await ttl.getAttribute("datetime")).toBe(created.expiresAt);
    expect(await idle.getAttribute("datetime")).toBe(created.idleExpiresAt);
    const ttlBefore = secondsLeft((await ttl.textContent())!);
    const idleBefore = secondsLeft((await idle.textContent())!);
    expect(ttlBefore).toBeGreaterThan(500);
    expect(ttlBefore).toBeLessThanOrEqual(600);
    await expect.poll(async () => secondsLeft((await ttl.textContent())!), { timeout: 5000 }).toBeLessThanOrEqual(ttlBefore - 2);
    expect(secondsLeft((await idle.textContent())!)).toBeLessThan(idleBefore);
  });

  it("extends the TTL from the sandbox page, shows the new deadline, and the API agrees", async () => {
    const id = await api.createSandbox({ ttlSeconds: 300 });
    await signIn();
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    await page.getByLabel("Set time left to (from now)").fill("2");
    await page.locator("#ttl-unit").selectOption("hours");
    const submitted = Date.now();
    await page.getByRole("button", { name: "Set TTL" }).click();
    await page.getByText("Time to live updated.").waitFor();
    const after = await record(id);
    expect(Date.parse(after.expiresAt)).toBeGreaterThanOrEqual(submitted + 2 * 3600_000 - 2000);
    expect(Date.parse(after.expiresAt)).toBeLessThanOrEqual(Date.now() + 2 * 3600_000);
    expect(await page.locator(".clock time[data-clock=ttl]").getAttribute("datetime")).toBe(after.expiresAt);
    expect(secondsLeft((await page.locator(".clock time[data-clock=ttl]").textContent())!)).toBeGreaterThan(7000);
  });

  it("shortens the idle timeout from the sandbox page", async () => {
    const id = await api.createSandbox({ idleTimeoutSeconds: 600 });
    await signIn();
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    await page.getByLabel("Idle timeout", { exact: true }).fill("45");
    await page.locator("#idle-unit").selectOption("seconds");
    await page.getByRole("button", { name: "Set idle timeout" }).click();
    await page.getByText("Idle timeout updated.").waitFor();
    const after = await record(id);
    expect(after.idleTimeoutSeconds).toBe(45);
    expect(await page.locator(".clock time[data-clock=idle]").getAttribute("datetime")).toBe(after.idleExpiresAt);
    expect(secondsLeft((await page.locator(".clock time[data-clock=idle]").textContent())!)).toBeLessThanOrEqual(45);
  });

  it("an open page follows the idle clock switched off and on elsewhere", async () => {
    const id = await api.createSandbox({ idleTimeoutSeconds: 600 });
    await signIn();
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    const idle = page.locator(".clock [data-clock=idle]");
    expect(await idle.getAttribute("datetime")).toBe((await record(id)).idleExpiresAt);
    expect((await api.call("PATCH", `/v1/sandboxes/${id}`, { idleTimeoutSeconds: null })).status).toBe(200);
    await expect.poll(() => idle.textContent(), { timeout: 10_000 }).toBe("off");
    expect(await idle.getAttribute("data-countdown")).toBeNull();
    const on = (await api.call("PATCH", `/v1/sandboxes/${id}`, { idleTimeoutSeconds: 120 })).body;
    await expect.poll(() => idle.getAttribute("datetime"), { timeout: 10_000 }).toBe(on.idleExpiresAt);
    expect(secondsLeft((await idle.textContent())!)).toBeLessThanOrEqual(120);
  });

  it("refuses a change made on a stale page as a conflict and shows the fresh values", async () => {
    const id = await api.createSandbox({ ttlSeconds: 600 });
    await signIn();
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    const changed = await api.call("PATCH", `/v1/sandboxes/${id}`, { ttlSeconds: 900, metadata: { by: "someone-else" } });
    expect(changed.status).toBe(200);
    await page.getByLabel("Set time left to (from now)").fill("1");
    await page.locator("#ttl-unit").selectOption("minutes");
    const response = page.waitForResponse((r) => r.url().endsWith("/ttl"));
    await page.getByRole("button", { name: "Set TTL" }).click();
    expect((await response).status()).toBe(412);
    const alert = page.locator(".notice.warn[role=alert]");
    expect(await alert.textContent()).toContain("Nothing was changed: this sandbox changed after you opened the page");
    const now = await record(id);
    expect(now.expiresAt).toBe(changed.body.expiresAt);
    expect(await page.locator(".clock time[data-clock=ttl]").getAttribute("datetime")).toBe(now.expiresAt);
    expect(await page.locator("dl.record").textContent()).toContain("someone-else");
    expect(await page.locator('input[name="etag"]').first().inputValue()).toBe(now.etag);
  });

  it("keeps a sandbox alive, and stops it after a confirmation, showing the tombstone with reason deleted", async () => {
    const id = await api.createSandbox();
    const before = await record(id);
    await signIn();
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    await sleep(1100);
    await page.getByRole("button", { name: "Keep alive (reset idle clock)" }).click();
    await page.getByText("Idle clock reset.").waitFor();
    expect(Date.parse((await record(id)).lastActiveAt)).toBeGreaterThan(Date.parse(before.lastActiveAt));

    await page.getByRole("link", { name: "Stop sandbox…" }).click();
    await page.getByRole("heading", { name: `Stop ${id}?` }).waitFor();
    expect((await record(id)).state).toBe("running");
    await page.getByRole("button", { name: "Stop sandbox" }).click();
    await page.getByText("Sandbox stopped.").waitFor();
    expect(await page.locator("h1 [data-field=state]").textContent()).toBe("stopped (deleted)");
    expect(await page.locator("[data-stopped-notice]").textContent()).toContain("This sandbox stopped (deleted)");
    expect(await page.getByRole("button", { name: "Set TTL" }).isDisabled()).toBe(true);
    expect(await record(id)).toMatchObject({ state: "stopped", endReason: "deleted" });
  });

  it("turns a sandbox with a 5-second TTL to ttl_expired on open pages, without a reload", async () => {
    const id = await api.createSandbox({ ttlSeconds: 5, metadata: { agent: "short-lived" } });
    await signIn();
    const list = await context.newPage();
    await Promise.all([page.goto(`${service.url}/dashboard/sandboxes/${id}`), list.goto(`${service.url}/dashboard?meta=agent%3Dshort-lived`)]);
    // A marker on each window: a reload would drop it.
    await page.evaluate(() => ((window as any).__noReload = true));
    await list.evaluate(() => ((window as any).__noReload = true));
    expect(await page.locator("h1 [data-field=state]").textContent()).toBe("running");
    const started = Date.now();
    await page.locator("h1 [data-field=state]", { hasText: "stopped (ttl_expired)" }).waitFor({ timeout: 15_000 });
    await list.locator(`tr[data-sandbox-id="${id}"] [data-field=state]`, { hasText: "stopped (ttl_expired)" }).waitFor({ timeout: 15_000 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    expect(await list.evaluate(() => (window as any).__noReload)).toBe(true);
    expect(await page.locator("[data-stopped-notice]").textContent()).toContain("stopped (ttl_expired)");
    expect(await page.locator(".clock time[data-clock=ttl]").textContent()).toBe("ended");
    expect(await record(id)).toMatchObject({ state: "stopped", endReason: "ttl_expired" });
  });

  it("never shows another tenant's sandbox, in the list or by its address", async () => {
    const other = client(service.url, OTHER_KEY);
    const theirs = await other.createSandbox({ metadata: { owner: "other" } });
    const mine = await api.createSandbox({ metadata: { owner: "local" } });
    await signIn();
    await page.goto(`${service.url}/dashboard?q=${theirs}`);
    expect(await page.locator(`tr[data-sandbox-id="${theirs}"]`).count()).toBe(0);
    await page.goto(`${service.url}/dashboard`);
    expect(await page.locator(`tr[data-sandbox-id="${mine}"]`).count()).toBe(1);
    expect(await page.locator(`tr[data-sandbox-id="${theirs}"]`).count()).toBe(0);
    const direct = await page.goto(`${service.url}/dashboard/sandboxes/${theirs}`);
    expect(direct?.status()).toBe(404);
    expect(await page.content()).not.toContain("owner");
    const status = await page.evaluate(async (id) => (await fetch(`/dashboard/api/status?ids=${id}`)).json(), theirs);
    expect(status.sandboxes).toEqual([{ id: theirs, state: "gone" }]);
    expect((await other.call("GET", `/v1/sandboxes/${theirs}`)).body.state).toBe("running");
  });

  it("filters by state, metadata, expiring window and id, and pages through many sandboxes", async () => {
    const batch = `batch-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 52; i++) ids.push(await api.createSandbox({ ttlSeconds: i === 0 ? 90 : 3600, idleTimeoutSeconds: 3600, metadata: { batch } }));
    await api.call("DELETE", `/v1/sandboxes/${ids[1]}`);
    await signIn();

    await page.goto(`${service.url}/dashboard`);
    await page.getByLabel("Metadata (key=value)").fill(`batch=${batch}`);
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/meta=/);
    expect(await page.locator("tbody tr[data-sandbox-id]").count()).toBe(50);
    await page.getByRole("link", { name: "Next page" }).click();
    expect(await page.locator("tbody tr[data-sandbox-id]").count()).toBe(2);
    const seen = await page.locator("tbody tr[data-sandbox-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-sandbox-id")));
    expect(seen.sort()).toEqual([ids[0], ids[1]].sort()); // newest first: the first two created are last

    await page.goto(`${service.url}/dashboard?meta=batch%3D${batch}&state=stopped`);
    expect(await page.locator("tbody tr[data-sandbox-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-sandbox-id")))).toEqual([ids[1]]);
    expect(await page.locator(`tr[data-sandbox-id="${ids[1]}"] [data-field=state]`).textContent()).toBe("stopped (deleted)");

    await page.goto(`${service.url}/dashboard?meta=batch%3D${batch}`);
    await page.getByLabel("Expiring within (minutes)").fill("5");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/expiring=5/);
    expect(await page.locator("tbody tr[data-sandbox-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-sandbox-id")))).toEqual([ids[0]]);

    await page.goto(`${service.url}/dashboard`);
    await page.getByLabel("Search by id").fill(ids[7]!.slice(0, 20).toUpperCase());
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/q=/);
    expect(await page.locator("tbody tr[data-sandbox-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-sandbox-id")))).toEqual([ids[7]]);

    const bad = await page.goto(`${service.url}/dashboard?meta=novalue`);
    expect(bad?.status()).toBe(400);
    expect(await page.getByRole("alert").textContent()).toContain("Write metadata filters as key=value");
  });

  it("extends and stops only the selected rows, stopping after a confirmation", async () => {
    const batch = `bulk-${Date.now()}`;
    const [a, b, c] = [
      await api.createSandbox({ ttlSeconds: 300, metadata: { batch } }),
      await api.createSandbox({ ttlSeconds: 300, metadata: { batch } }),
      await api.createSandbox({ ttlSeconds: 300, metadata: { batch } }),
    ];
    const cBefore = await record(c);
    await signIn();
    await page.goto(`${service.url}/dashboard?meta=batch%3D${batch}`);
    await page.getByLabel(`Select ${a}`).check();
    await page.getByLabel(`Select ${b}`).check();
    await page.getByLabel("Set time left of selected to").fill("3");
    await page.locator("#bulk-ttl-unit").selectOption("hours");
    await page.getByRole("button", { name: "Extend selected" }).click();
    await page.getByText("Set the time left of 2 of 2 sandboxes.").waitFor();
    for (const id of [a, b]) expect(Date.parse((await record(id)).expiresAt)).toBeGreaterThan(Date.now() + 3 * 3600_000 - 60_000);
    expect((await record(c)).expiresAt).toBe(cBefore.expiresAt);

    await page.getByLabel(`Select ${a}`).check();
    await page.getByLabel(`Select ${c}`).check();
    await page.getByRole("button", { name: "Stop selected…" }).click();
    await page.getByRole("heading", { name: "Stop 2 sandboxes?" }).waitFor();
    expect((await record(a)).state).toBe("running");
    await page.getByRole("button", { name: "Stop 2 sandboxes" }).click();
    await page.getByText("Stopped 2 of 2 sandboxes.").waitFor();
    expect(await record(a)).toMatchObject({ state: "stopped", endReason: "deleted" });
    expect(await record(c)).toMatchObject({ state: "stopped", endReason: "deleted" });
    expect((await record(b)).state).toBe("running");
    expect(await page.locator(`tr[data-sandbox-id="${a}"] [data-field=state]`).textContent()).toBe("stopped (deleted)");

    await page.getByRole("button", { name: "Stop selected…" }).click();
    expect(await page.getByRole("alert").textContent()).toContain("Select at least one sandbox");
  });

  it("shows files, recent executions with their output, and the audit log; a download is the file's bytes", async () => {
    const id = await api.createSandbox({ capabilities: [{ name: "files" }] });
    await api.call("PUT", `/v1/sandboxes/${id}/files/notes/hello.txt`, "hello from the workspace", { "Content-Type": "application/octet-stream" });
    const ran = await api.exec(id, 'console.log("printed by the snippet"); await env.files.write("out.json", "{}"); 6 * 7');
    expect(ran.body.status).toBe("ok");
    await signIn();
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    expect(await page.locator("table", { hasText: "notes/hello.txt" }).textContent()).toContain("out.json");
    await page.getByText(`Output of ${ran.body.executionId}`).click();
    const output = await page.locator("details", { hasText: ran.body.executionId }).textContent();
    expect(output).toContain("printed by the snippet");
    expect(output).toContain("42");
    expect(await page.locator("#audit-heading + .table-wrap").textContent()).toContain("files.write");
    expect(await unnamedControls()).toEqual([]);

    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download notes/hello.txt" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("hello.txt");
    expect(readFileSync((await file.path())!, "utf8")).toBe("hello from the workspace");
  });

  it("does not change lastActiveAt or the ETag when pages are viewed, refreshed and polled", async () => {
    const id = await api.createSandbox({ metadata: { agent: "watched" } });
    await api.call("PUT", `/v1/sandboxes/${id}/files/a.txt`, "x", { "Content-Type": "application/octet-stream" });
    const snapshot = await api.call("POST", `/v1/sandboxes/${id}/snapshots`, { name: "watched" });
    expect(snapshot.status).toBe(201);
    const before = await record(id);
    await signIn();
    await page.goto(`${service.url}/dashboard`);
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    expect(await page.locator(`tr[data-snapshot-id="${snapshot.body.snapshotId}"]`).count()).toBe(1);
    await page.reload();
    await page.goto(`${service.url}/dashboard/sandboxes/${id}/stop`); // the confirmation pages only read
    await page.goto(`${service.url}/dashboard/sandboxes/${id}/restore?snapshot=${snapshot.body.snapshotId}`);
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    await page.waitForResponse((r) => r.url().includes("/dashboard/api/status"), { timeout: 10_000 });
    await sleep(2500);
    const after = await record(id);
    expect(after.lastActiveAt).toBe(before.lastActiveAt);
    expect(after.idleExpiresAt).toBe(before.idleExpiresAt);
    expect(after.etag).toBe(before.etag);
  });

  it("pauses and resumes a sandbox from its page with the keyboard; the list shows it paused and filters by it", async () => {
    const id = await api.createSandbox({ metadata: { agent: "pausable" } });
    const other = await api.createSandbox({ metadata: { agent: "pausable" } });
    await api.call("PUT", `/v1/sandboxes/${id}/files/kept.txt`, "kept while paused", { "Content-Type": "application/octet-stream" });
    await signIn();
    // A list opened before the pause learns of it without a reload.
    const openList = await context.newPage();
    await openList.goto(`${service.url}/dashboard?meta=agent%3Dpausable`);
    await openList.evaluate(() => ((window as any).__noReload = true));
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    await page.getByRole("button", { name: "Pause sandbox" }).focus();
    await page.keyboard.press("Enter");
    await page.getByText("Sandbox paused.").waitFor();
    const paused = await record(id);
    expect(paused).toMatchObject({ state: "running", paused: true, idleExpiresAt: null });
    expect(await page.locator("h1 [data-field=state]").textContent()).toBe("paused");
    expect(await page.getByText("This sandbox is paused").textContent()).toContain("TTL keeps running");
    expect(await page.locator(".clock time[data-clock=ttl]").getAttribute("datetime")).toBe(paused.expiresAt);
    expect(await page.getByRole("button", { name: "Set TTL" }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Take snapshot" }).isDisabled()).toBe(true);
    expect((await api.exec(id, "1")).body).toMatchObject({ code: "sandbox_paused" });
    // The poller keeps the badge as it is: paused, not "running".
    await page.waitForResponse((r) => r.url().includes("/dashboard/api/status"), { timeout: 10_000 });
    expect(await page.locator("h1 [data-field=state]").textContent()).toBe("paused");
    expect(await unnamedControls()).toEqual([]);
    const listRow = openList.locator(`tr[data-sandbox-id="${id}"]`);
    await listRow.locator("[data-field=state]", { hasText: "paused" }).waitFor({ timeout: 10_000 });
    expect(await listRow.locator("time[data-clock=idle]").textContent()).toBe("paused");
    expect(await openList.evaluate(() => (window as any).__noReload)).toBe(true);
    await openList.close();

    await page.goto(`${service.url}/dashboard?meta=agent%3Dpausable`);
    expect(await page.locator(`tr[data-sandbox-id="${id}"] [data-field=state]`).textContent()).toBe("paused");
    expect(await page.locator(`tr[data-sandbox-id="${other}"] [data-field=state]`).textContent()).toBe("running");
    await page.locator("#state").selectOption("paused");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/state=paused/);
    expect(await page.locator("tbody tr[data-sandbox-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-sandbox-id")))).toEqual([id]);
    // "running" is still the API's state: paused sandboxes are running ones whose runtime is released.
    await page.goto(`${service.url}/dashboard?meta=agent%3Dpausable&state=running`);
    expect((await page.locator("tbody tr[data-sandbox-id]").count())).toBe(2);
    await page.goto(`${service.url}/dashboard?meta=agent%3Dpausable&state=stopped`);
    expect(await page.locator("tbody tr[data-sandbox-id]").count()).toBe(0);

    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    await page.getByRole("button", { name: "Resume sandbox" }).click();
    await page.getByText("Sandbox resumed.").waitFor();
    expect(await page.locator("h1 [data-field=state]").textContent()).toBe("running");
    const resumed = await record(id);
    expect(resumed.paused).toBeUndefined();
    expect(resumed.idleExpiresAt).not.toBeNull();
    expect((await api.exec(id, "6 * 7")).body).toMatchObject({ status: "ok", result: 42 });
    expect((await api.call("GET", `/v1/sandboxes/${id}/files/kept.txt`)).body).toBe("kept while paused");
    expect(await page.locator("table", { hasText: "kept.txt" }).count()).toBe(1);
  });

  it("takes a named snapshot, lists it, and restores it after a confirmation: the broken file is back", async () => {
    const id = await api.createSandbox();
    await api.call("PUT", `/v1/sandboxes/${id}/files/config.json`, '{"good":true}', { "Content-Type": "application/octet-stream" });
    await signIn();
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    expect(await page.getByText("No snapshots of this sandbox.").count()).toBe(1);
    await page.getByLabel("Snapshot name (optional)").fill("known-good");
    await page.getByRole("button", { name: "Take snapshot" }).click();
    await page.getByText("Snapshot taken.").waitFor();
    const listed = (await api.call("GET", "/v1/snapshots?limit=100")).body.snapshots.filter((s: { sourceSandboxId: string }) => s.sourceSandboxId === id);
    expect(listed).toHaveLength(1);
    const snap = listed[0];
    expect(snap.name).toBe("known-good");
    const row = page.locator(`tr[data-snapshot-id="${snap.snapshotId}"]`);
    const text = (await row.textContent())!;
    expect(text).toContain("known-good");
    expect(text).toContain(`${snap.size} B`);
    expect(text).toContain(`${snap.createdAt.slice(0, 10)} ${snap.createdAt.slice(11, 19)} UTC`);
    expect(text).toContain(`${snap.expiresAt.slice(0, 10)} ${snap.expiresAt.slice(11, 19)} UTC`);
    expect(await unnamedControls()).toEqual([]);

    await api.call("PUT", `/v1/sandboxes/${id}/files/config.json`, "broken", { "Content-Type": "application/octet-stream" });
    await api.call("PUT", `/v1/sandboxes/${id}/files/later.txt`, "written after", { "Content-Type": "application/octet-stream" });
    await page.getByRole("link", { name: `Restore known-good (${snap.snapshotId})` }).click();
    await page.getByRole("heading", { name: `Restore ${id} to known-good?` }).waitFor();
    // Nothing happens before the confirmation.
    expect((await api.call("GET", `/v1/sandboxes/${id}/files/config.json`)).body).toBe("broken");
    await page.getByRole("button", { name: "Restore snapshot" }).click();
    await page.getByText("Sandbox restored from the snapshot.").waitFor();
    expect(page.url()).toContain(`/dashboard/sandboxes/${id}`);
    expect((await api.call("GET", `/v1/sandboxes/${id}/files/config.json`)).body).toEqual({ good: true });
    expect((await api.call("GET", `/v1/sandboxes/${id}/files/later.txt`)).status).toBe(404);
    expect(await page.locator("#audit-heading + .table-wrap").textContent()).toContain("restore");

    // Cancel leaves it alone.
    await api.call("PUT", `/v1/sandboxes/${id}/files/config.json`, "broken again", { "Content-Type": "application/octet-stream" });
    await page.goto(`${service.url}/dashboard/sandboxes/${id}/restore?snapshot=${snap.snapshotId}`);
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.waitForURL(`${service.url}/dashboard/sandboxes/${id}`);
    expect((await api.call("GET", `/v1/sandboxes/${id}/files/config.json`)).body).toBe("broken again");
  });

  it("forks a snapshot into a new, independent sandbox and opens it, even after the source was stopped", async () => {
    const source = await api.createSandbox({ metadata: { agent: "forker" } });
    await api.call("PUT", `/v1/sandboxes/${source}/files/seed.txt`, "from the source", { "Content-Type": "application/octet-stream" });
    const snap = (await api.call("POST", `/v1/sandboxes/${source}/snapshots`, { name: "seed" })).body;
    await signIn();
    await page.goto(`${service.url}/dashboard/sandboxes/${source}`);
    await page.getByRole("button", { name: `Fork seed (${snap.snapshotId}) into a new sandbox` }).click();
    await page.getByText("This sandbox was forked from a snapshot.").waitFor();
    const fork = page.url().match(/\/dashboard\/sandboxes\/(sbx_[a-z2-7]+)\?done=forked$/)?.[1];
    expect(fork).toBeDefined();
    expect(fork).not.toBe(source);
    expect(await page.locator("h1 .mono").textContent()).toBe(fork);
    expect(await page.locator("table", { hasText: "seed.txt" }).count()).toBe(1);
    expect(await record(fork!)).toMatchObject({ state: "running", metadata: { agent: "forker" } });
    await api.call("PUT", `/v1/sandboxes/${fork}/files/seed.txt`, "changed in the fork", { "Content-Type": "application/octet-stream" });
    expect((await api.call("GET", `/v1/sandboxes/${source}/files/seed.txt`)).body).toBe("from the source");

    // Snapshots outlive their sandbox: a stopped source's page still forks them.
    await api.call("DELETE", `/v1/sandboxes/${source}`);
    await page.goto(`${service.url}/dashboard/sandboxes/${source}`);
    expect(await page.getByRole("link", { name: /^Restore seed/ }).count()).toBe(0);
    await page.getByRole("button", { name: `Fork seed (${snap.snapshotId}) into a new sandbox` }).click();
    await page.getByText("This sandbox was forked from a snapshot.").waitFor();
    const second = page.url().match(/\/dashboard\/sandboxes\/(sbx_[a-z2-7]+)\?done=forked$/)?.[1];
    expect(second).toBeDefined();
    expect([source, fork]).not.toContain(second);
    expect((await api.call("GET", `/v1/sandboxes/${second}/files/seed.txt`)).body).toBe("from the source");
  });

  it("is readable on a phone, and takes the README's screenshots", async () => {
    const team = `payments-${Date.now() % 1000}`;
    const stopped = await api.createSandbox({ ttlSeconds: 600, metadata: { team, agent: "refund-bot" } });
    await api.call("DELETE", `/v1/sandboxes/${stopped}`);
    await api.createSandbox({ ttlSeconds: 300, idleTimeoutSeconds: 120, metadata: { team, agent: "ledger-check" } });
    await api.createSandbox({ ttlSeconds: 7200, idleTimeoutSeconds: 900, metadata: { team, agent: "reconcile", run: "nightly" } });
    const id = await api.createSandbox({ ttlSeconds: 3600, idleTimeoutSeconds: 600, metadata: { team, agent: "support-bot", ticket: "T-1042" } });
    await api.call("PUT", `/v1/sandboxes/${id}/files/report.md`, "# Report\n", { "Content-Type": "application/octet-stream" });
    await api.exec(id, 'console.log("fetching invoices…"); ({ invoices: 3, total: 129.5 })');
    expect((await api.call("POST", `/v1/sandboxes/${id}/snapshots`, { name: "before-refunds" })).status).toBe(201);
    await signIn();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.goto(`${service.url}/dashboard?meta=team%3D${team}`);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-list.png") });
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    await page.getByText("Output of").click();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-sandbox.png"), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${service.url}/dashboard/sandboxes/${id}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-phone.png") });
    await page.goto(`${service.url}/dashboard?meta=team%3D${team}`);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-phone-list.png") });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    expect(await page.locator(`tr[data-sandbox-id="${id}"] time[data-clock=ttl]`).isVisible()).toBe(true);
  });
});
