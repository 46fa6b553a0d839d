import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { requireSessionKey } from "../../src/dashboard/session";
import { KEYS } from "../helpers";

const ORIGIN = "https://sandboxer.test";

function dashboard(path: string, init: RequestInit = {}) {
  return exports.default.fetch(new Request(`${ORIGIN}/dashboard${path}`, { redirect: "manual", ...init }));
}

async function signIn(key: string = KEYS.a) {
  return dashboard("/sign-in", {
    method: "POST",
    headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key }).toString(),
  });
}

describe("dashboard sessions", () => {
  // The first request loads the whole Worker (slow on a busy machine): not part of any test's time.
  beforeAll(() => dashboard("/assets/dashboard.css"), 60_000);

  it("over https sets a __Host- cookie that is Secure, HttpOnly, SameSite=Strict and expiring", async () => {
    const res = await signIn();
    expect(res.status).toBe(303);
    const cookie = res.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(/^__Host-sbx_session=[\w-]+\.[\w-]+;/);
    expect(cookie).toContain("Max-Age=28800");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).not.toContain(KEYS.a);
  });

  it("lets the session in, and refuses a forged or foreign cookie", async () => {
    const cookie = (await signIn()).headers.get("Set-Cookie")!.split(";")[0]!;
    expect((await dashboard("", { headers: { Cookie: cookie } })).status).toBe(200);
    const [name, value] = cookie.split("=");
    const [payload, signature] = value!.split(".");
    const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    const forged = btoa(JSON.stringify({ ...claims, tenant: "tenant-b" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const refused = await dashboard("", { headers: { Cookie: `${name}=${forged}.${signature}` } });
    expect(refused.status).toBe(303);
    expect(refused.headers.get("Location")).toBe("/dashboard/sign-in?next=%2Fdashboard");
    const poll = await dashboard("/api/status?ids=sbx_aaaaaaaaaaaaaaaaaaaaaaaaaa", { headers: { Cookie: `${name}=${forged}.${signature}` } });
    expect(poll.status).toBe(401);
    expect(poll.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("shows the list at /dashboard/ and answers an unknown dashboard path with a 404 page", async () => {
    const cookie = (await signIn()).headers.get("Set-Cookie")!.split(";")[0]!;
    const slash = await dashboard("/", { headers: { Cookie: cookie } });
    expect(slash.status).toBe(200);
    expect(await slash.text()).toContain("Sandboxes");
    const unknown = await dashboard("/no-such-page", { headers: { Cookie: cookie } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("Content-Type")).toContain("text/html");
    expect(await unknown.text()).toContain("There is no such dashboard page.");
  });

  it("refuses a sign-in posted from another origin (login CSRF)", async () => {
    const res = await dashboard("/sign-in", {
      method: "POST",
      headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
      body: `key=${KEYS.a}`,
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect(await res.text()).toContain("Origin does not match");
  });

  it("serves its pages with a strict Content-Security-Policy and its assets from the Worker", async () => {
    const page = await dashboard("/sign-in");
    expect(page.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    expect(page.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).toContain('<label for="api-key">API key</label>');
    expect(html).not.toMatch(/https?:\/\//);
    const script = await dashboard("/assets/dashboard.js");
    expect(script.headers.get("Content-Type")).toContain("text/javascript");
    expect(await script.text()).toContain("function formatRemaining");
  });

  it("answers 503 with what to set when the deployment has no DASHBOARD_SESSION_KEY", async () => {
    await expect(requireSessionKey({ ...env, DASHBOARD_SESSION_KEY: undefined })).rejects.toMatchObject({
      code: "runtime_unavailable",
      detail: expect.stringContaining("wrangler secret put DASHBOARD_SESSION_KEY"),
    });
  });
});
