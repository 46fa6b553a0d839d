import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createSandbox, KEYS } from "../helpers";

// The dashboard's pause, resume, snapshot, restore and fork forms, in-process: each is a POST
// guarded by the session and its CSRF token, and calls the same operation as the API.
// The browser flows are in test/e2e/dashboard.test.ts.

const ORIGIN = "https://sandboxer.test";

function dashboard(path: string, init: RequestInit = {}) {
  return exports.default.fetch(new Request(`${ORIGIN}/dashboard${path}`, { redirect: "manual", ...init }));
}

/** A signed-in session of tenant A: its cookie and the CSRF token its pages carry. */
async function session(): Promise<{ cookie: string; csrf: string }> {
  const signedIn = await dashboard("/sign-in", {
    method: "POST",
    headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key: KEYS.a }).toString(),
  });
  const cookie = signedIn.headers.get("Set-Cookie")!.split(";")[0]!;
  const page = await (await dashboard("", { headers: { Cookie: cookie } })).text();
  return { cookie, csrf: page.match(/name="csrf" value="([^"]+)"/)![1]! };
}

function post(cookie: string, path: string, fields: Record<string, string>) {
  return dashboard(path, {
    method: "POST",
    headers: { Cookie: cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}

async function snapshotOf(id: string) {
  const res = await api("POST", `/v1/sandboxes/${id}/snapshots`, { json: { name: "base" } });
  expect(res.status).toBe(201);
  return res.json<{ snapshotId: string }>();
}

describe("dashboard snapshots, pause and resume", () => {
  beforeAll(() => dashboard("/assets/dashboard.css"), 60_000);

  it("refuses every new form without the session's token, and changes nothing", async () => {
    const { cookie } = await session();
    const { id } = await createSandbox();
    const { snapshotId } = await snapshotOf(id);
    const before = await (await api("GET", `/v1/sandboxes/${id}`)).json<{ etag: string }>();
    for (const [path, fields] of [
      [`/sandboxes/${id}/pause`, {}],
      [`/sandboxes/${id}/snapshots`, { name: "x" }],
      [`/sandboxes/${id}/restore`, { snapshotId }],
      [`/sandboxes/${id}/fork`, { snapshotId }],
    ] as const) {
      const res = await post(cookie, path, { ...fields, csrf: "not-the-token" });
      expect(res.status, path).toBe(401);
      expect(await res.text(), path).toContain("security token");
    }
    expect(await (await api("GET", `/v1/sandboxes/${id}`)).json()).toMatchObject({ etag: before.etag });
    const snapshots = await (await api("GET", "/v1/snapshots?limit=100")).json<{ snapshots: { sourceSandboxId: string }[] }>();
    expect(snapshots.snapshots.filter((s) => s.sourceSandboxId === id)).toHaveLength(1);
  });

  it("pauses and resumes through the forms, and shows the operation's refusal on the page", async () => {
    const { cookie, csrf } = await session();
    const { id } = await createSandbox();
    const paused = await post(cookie, `/sandboxes/${id}/pause`, { csrf });
    expect(paused.status).toBe(303);
    expect(paused.headers.get("Location")).toBe(`/dashboard/sandboxes/${id}?done=paused`);
    expect(await (await api("GET", `/v1/sandboxes/${id}`)).json()).toMatchObject({ paused: true });

    // A paused sandbox cannot be snapshotted: the operation says so, on the sandbox page.
    const refused = await post(cookie, `/sandboxes/${id}/snapshots`, { csrf });
    expect(refused.status).toBe(409);
    const page = await refused.text();
    expect(page).toContain("Nothing was changed: Sandbox");
    expect(page).toContain("resume it first");
    expect(page).toContain("Resume sandbox");

    expect((await post(cookie, `/sandboxes/${id}/resume`, { csrf })).headers.get("Location")).toBe(`/dashboard/sandboxes/${id}?done=resumed`);
    expect((await (await api("GET", `/v1/sandboxes/${id}`)).json<{ paused?: true }>()).paused).toBeUndefined();
  });

  it("forks into a new sandbox and sends the browser to it; a malformed or another tenant's snapshot id is refused on the page", async () => {
    const { cookie, csrf } = await session();
    const { id } = await createSandbox();
    await api("PUT", `/v1/sandboxes/${id}/files/seed.txt`, { body: "seed" });
    const { snapshotId } = await snapshotOf(id);
    const forked = await post(cookie, `/sandboxes/${id}/fork`, { csrf, snapshotId });
    expect(forked.status).toBe(303);
    const fork = forked.headers.get("Location")!.match(/^\/dashboard\/sandboxes\/(sbx_[a-z2-7]{26})\?done=forked$/)![1]!;
    expect(fork).not.toBe(id);
    expect(await (await api("GET", `/v1/sandboxes/${fork}/files/seed.txt`)).text()).toBe("seed");

    const malformed = await post(cookie, `/sandboxes/${id}/fork`, { csrf, snapshotId: "snap_nope" });
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain("No sandbox was created");

    const { id: theirs } = await createSandbox({}, "b");
    const foreign = (await (await api("POST", `/v1/sandboxes/${theirs}/snapshots`, { json: {}, as: "b" })).json<{ snapshotId: string }>()).snapshotId;
    const notFound = await post(cookie, `/sandboxes/${id}/fork`, { csrf, snapshotId: foreign });
    expect(notFound.status).toBe(404);
    expect(await notFound.text()).toContain(`No snapshot &#39;${foreign}&#39;`);
    const restoreForeign = await post(cookie, `/sandboxes/${id}/restore`, { csrf, snapshotId: foreign });
    expect(restoreForeign.status).toBe(404);
    expect((await dashboard(`/sandboxes/${id}/restore?snapshot=${foreign}`, { headers: { Cookie: cookie } })).status).toBe(404);
  });
});
