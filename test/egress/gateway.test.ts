import { beforeAll, describe, expect, it } from "vitest";
import { api, createSandbox, problemOf } from "../helpers";
import { ESCAPY_VALUE, SECRET_VALUE } from "../upstream";

// Every exec below runs in a real dynamic isolate whose only network is the egress gateway; the
// gateway's own fetch() lands in the test upstream (test/upstream.ts, Miniflare's outboundService).

async function exec(id: string, code: string) {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code } });
  expect(res.status).toBe(200);
  return res.json<any>();
}

async function upstreamHits(): Promise<{ url: string; method: string; headers: Record<string, string> }[]> {
  return (await fetch("https://upstream.log/")).json();
}

/** The sandbox's egress audit rows, once `count` are there (a response's row is written when its body has been read). */
async function audit(id: string, count = 1) {
  for (let attempt = 0; ; attempt++) {
    const res = await api("GET", `/v1/sandboxes/${id}/audit?limit=1000`);
    const rows = (await res.json<any>()).entries.filter((e: any) => e.kind === "egress");
    if (rows.length >= count || attempt >= 50) return rows;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const NET = { profile: "js-net", network: { allow: [{ host: "api.allowed.test" }, { host: "*.cdn.test" }] } };
const WITH_SECRET = { ...NET, secrets: { GITHUB_TOKEN: { secret: "gh", hosts: ["api.allowed.test"] } } };

beforeAll(async () => {
  const res = await api("PUT", "/v1/secrets/gh", { json: { value: SECRET_VALUE } });
  expect([200, 201]).toContain(res.status);
});

describe("secrets API", () => {
  it("stores write-only: listing shows names and dates, never values", async () => {
    const put = await api("PUT", "/v1/secrets/list-me", { json: { value: "v1" } });
    expect(put.status).toBe(201);
    const again = await api("PUT", "/v1/secrets/list-me", { json: { value: "v2" } });
    expect(again.status).toBe(200);
    const list = await api("GET", "/v1/secrets");
    const text = await list.text();
    expect(text).toContain('"list-me"');
    expect(text).not.toContain("v2");
    expect(text).not.toContain(SECRET_VALUE);
    expect((await api("GET", "/v1/secrets/list-me")).status).toBe(405);
  });

  it("is per tenant", async () => {
    const list = await (await api("GET", "/v1/secrets", { as: "b" })).json<any>();
    expect(list.secrets.map((s: any) => s.name)).not.toContain("gh");
    const { status, body } = await problemOf(await api("POST", "/v1/sandboxes", { as: "b", json: WITH_SECRET }));
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ path: "secrets.GITHUB_TOKEN.secret", message: "no such secret" }]);
  });

  it("validates names and values, and deletes", async () => {
    expect((await api("PUT", "/v1/secrets/bad name", { json: { value: "x" } })).status).toBe(400);
    const { body } = await problemOf(await api("PUT", "/v1/secrets/ok", { json: { value: "line\nbreak", extra: 1 } }));
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["body", "body.value"]);
    await api("PUT", "/v1/secrets/gone", { json: { value: "x" } });
    expect((await api("DELETE", "/v1/secrets/gone")).status).toBe(204);
    expect((await api("DELETE", "/v1/secrets/gone")).status).toBe(404);
  });

  it("secret hosts must be inside the sandbox's allowlist, and names must be free", async () => {
    const { status, body } = await problemOf(
      await api("POST", "/v1/sandboxes", {
        json: { ...NET, env: { GITHUB_TOKEN: "x" }, secrets: { GITHUB_TOKEN: { secret: "gh", hosts: ["evil.test"] } } },
      }),
    );
    expect(status).toBe(400);
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["secrets.GITHUB_TOKEN", "secrets.GITHUB_TOKEN.hosts.0"]);
  });
});

describe("network rules at create", () => {
  it("the js profile has no network", async () => {
    const { status, body } = await problemOf(await api("POST", "/v1/sandboxes", { json: { network: NET.network } }));
    expect(status).toBe(422);
    expect(body.limit).toBe("network");
  });

  it("refuses IP addresses and a bare * as rule hosts", async () => {
    const { status, body } = await problemOf(
      await api("POST", "/v1/sandboxes", { json: { profile: "js-net", network: { allow: [{ host: "10.0.0.1" }, { host: "*" }, { host: "ok.test" }] } } }),
    );
    expect(status).toBe(400);
    expect(body.errors.map((e: any) => e.path)).toEqual(["network.allow.0.host", "network.allow.1.host"]);
  });

  it("a sandbox without network rules has no network at all", async () => {
    const { id } = await createSandbox({ profile: "js-net" });
    const out = await exec(id, `await fetch("https://api.allowed.test/")`);
    expect(out.status).toBe("error");
  });
});

describe("egress gateway", () => {
  it("lets an allowed request through and audits it", async () => {
    const { id } = await createSandbox(NET);
    const out = await exec(id, `const r = await fetch("https://api.allowed.test/hello"); [r.status, await r.json()]`);
    expect(out).toMatchObject({ status: "ok", result: [200, { host: "api.allowed.test", path: "/hello" }] });
    expect((await exec(id, `(await fetch("https://img.cdn.test/a.png")).status`)).result).toBe(200);
    const rows = await audit(id, 2);
    expect(rows[0]).toMatchObject({ decision: "allowed", host: "api.allowed.test", method: "GET", status: 200, action: "fetch" });
    expect(rows[0].executionId).toMatch(/^exe_/);
    expect(rows[0].bytes).toBeGreaterThan(0);
  });

  it.each([
    ["https://evil.test/", "not_allowed"],
    ["https://cdn.test/", "not_allowed"],
    // The runtime drops user:pass@ before the gateway sees the URL, so this is plain evil.test
    // (the policy's own `credentials` refusal is tested in policy.test.ts).
    ["https://api.allowed.test@evil.test/", "not_allowed"],
    ["http://2130706433/", "ip_literal"],
    ["http://0x7f.1/", "ip_literal"],
    ["http://[::ffff:127.0.0.1]/", "ip_literal"],
    ["http://169.254.169.254/latest/meta-data/", "ip_literal"],
    ["http://localhost:8787/", "internal_host"],
    ["https://\u0430pi.allowed.test/", "not_allowed"],
  ])("refuses %s with a readable 403 problem (%s) and nothing reaches the network", async (url, reason) => {
    const { id } = await createSandbox(NET);
    await fetch("https://upstream.log/", { method: "DELETE" });
    const out = await exec(id, `const r = await fetch(${JSON.stringify(url)}); [r.status, r.headers.get("content-type"), await r.json()]`);
    expect(out.status).toBe("ok");
    const [status, type, body] = out.result;
    expect(status).toBe(403);
    expect(type).toBe("application/problem+json");
    expect(body).toMatchObject({ code: "egress_denied", reason });
    expect(await upstreamHits()).toEqual([]);
    expect((await audit(id)).at(-1)).toMatchObject({ decision: "denied", detail: reason });
  });

  it("WebSocket upgrades and raw TCP connect() stay unavailable even with egress", async () => {
    const { id } = await createSandbox(NET);
    const ws = await exec(id, `const r = await fetch("https://api.allowed.test/ws", { headers: { upgrade: "websocket" } }); [r.status, (await r.json()).reason]`);
    expect(ws.result).toEqual([403, "upgrade"]);
    // Whatever connect() reports, no byte goes out or comes back: the gateway closes the socket.
    const tcp = await exec(
      id,
      `import { connect } from 'cloudflare:sockets';
       let r;
       try {
         const s = connect('api.allowed.test:80');
         const w = s.writable.getWriter();
         await w.write(new TextEncoder().encode("GET / HTTP/1.0\\r\\nHost: api.allowed.test\\r\\n\\r\\n"));
         const { done, value } = await s.readable.getReader().read();
         r = done ? 'closed' : 'data: ' + new TextDecoder().decode(value);
       } catch { r = 'blocked' }
       r`,
    );
    expect(["closed", "blocked"]).toContain(tcp.result);
    expect((await audit(id)).some((row: any) => row.action === "connect" && row.decision === "denied")).toBe(true);
  });

  it("a trailing-dot host is the same host", async () => {
    const { id } = await createSandbox(NET);
    expect((await exec(id, `(await fetch("https://api.allowed.test./x")).status`)).result).toBe(200);
  });

  it("follows redirects itself and re-checks every hop", async () => {
    const { id } = await createSandbox(NET);
    const ok = await exec(id, `const r = await fetch("https://api.allowed.test/redirect?to=https://img.cdn.test/final"); [r.status, (await r.json()).host]`);
    expect(ok.result).toEqual([200, "img.cdn.test"]);
    await fetch("https://upstream.log/", { method: "DELETE" });
    const denied = await exec(id, `const r = await fetch("https://api.allowed.test/redirect?to=http://169.254.169.254/"); [r.status, (await r.json()).detail]`);
    expect(denied.result[0]).toBe(403);
    expect(denied.result[1]).toContain("Redirect refused");
    expect((await upstreamHits()).map((h) => new URL(h.url).hostname)).toEqual(["api.allowed.test"]);
    const rows = await audit(id, 4);
    expect(rows.slice(-2)).toMatchObject([
      { decision: "allowed", status: 302, detail: "redirect" },
      { decision: "denied", detail: "ip_literal" },
    ]);
  });

  it("a 307 re-sends method and body; a 303 turns into a GET without body", async () => {
    const { id } = await createSandbox(NET);
    const out = await exec(
      id,
      `const post = (status) => fetch("https://api.allowed.test/redirect?status=" + status + "&to=/echo", { method: "POST", body: "payload" }).then((r) => r.json());
       const [a, b] = [await post(307), await post(303)];
       [a.method, a.body, b.method, b.body]`,
    );
    expect(out.result).toEqual(["POST", "payload", "GET", ""]);
  });

  it("a request body over 10 MiB is refused with 413, not buffered without bound", async () => {
    const { id } = await createSandbox(NET);
    const out = await exec(id, `(await fetch("https://api.allowed.test/echo", { method: "POST", body: "x".repeat(10 * 1024 * 1024 + 1) })).status`);
    expect(out.result).toBe(413);
  });

  it("a response body the code never reads is still audited, with the bytes delivered", async () => {
    const { id } = await createSandbox(NET);
    expect((await exec(id, `(await fetch("https://api.allowed.test/unread")).status`)).result).toBe(200);
    const [row] = await audit(id);
    expect(row).toMatchObject({ decision: "allowed", host: "api.allowed.test", status: 200 });
    expect(typeof row.bytes).toBe("number");
  });

  it("an execution gets at most the profile's subRequests outbound requests; the next exec starts afresh", async () => {
    const { id } = await createSandbox(NET);
    const code = `const statuses = [];
       for (let i = 0; i < 52; i++) statuses.push((await fetch("https://api.allowed.test/n" + i)).status);
       statuses`;
    const out = await exec(id, code + `;\nconsole.log(JSON.stringify(statuses))`);
    // Each request past the limit is a 403 the code can read; the execution then fails on it.
    const statuses = JSON.parse(out.stdout);
    expect(statuses.slice(0, 50)).toEqual(Array(50).fill(200));
    expect(statuses.slice(50)).toEqual([403, 403]);
    expect(out).toMatchObject({ status: "error", result: null, error: { name: "LimitExceeded", limit: "subrequests" } });
    // The two refusals are one audit row with a count (repeated failures are aggregated).
    const denied = (await audit(id, 51)).filter((row: any) => row.decision === "denied");
    expect(denied).toMatchObject([{ detail: "subrequest_limit", count: 2 }]);
    expect((await exec(id, `(await fetch("https://api.allowed.test/again")).status`)).result).toBe(200);
  });

  it("revoking fetch with PATCH cuts the network on the next exec", async () => {
    const { id } = await createSandbox({ ...NET, capabilities: [{ name: "files" }, { name: "fetch" }] });
    expect((await exec(id, `(await fetch("https://api.allowed.test/")).status`)).result).toBe(200);
    const patched = await api("PATCH", `/v1/sandboxes/${id}`, { json: { capabilities: [{ name: "files" }] } });
    expect(patched.status).toBe(200);
    const out = await exec(id, `await fetch("https://api.allowed.test/")`);
    expect(out.status).toBe("error");
  });
});

describe("secrets by placeholder", () => {
  it("the code sees a placeholder; the allowed host gets the real value in the header", async () => {
    const { id } = await createSandbox(WITH_SECRET);
    const out = await exec(
      id,
      `const r = await fetch("https://api.allowed.test/whoami", { headers: { authorization: "Bearer " + env.GITHUB_TOKEN } });
       [env.GITHUB_TOKEN, await r.json()]`,
    );
    expect(out.status).toBe("ok");
    expect(out.result[0]).toMatch(/^sbx_placeholder_[a-z2-7]+$/);
    expect(out.result[1]).toEqual({ authorized: true });
    const hits = await upstreamHits();
    expect(hits.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET_VALUE}`);
  });

  it("code that dumps env, echoes headers back or provokes errors never sees the value", async () => {
    const { id } = await createSandbox(WITH_SECRET);
    const out = await exec(
      id,
      `const auth = { authorization: "Bearer " + env.GITHUB_TOKEN };
       const echo = await fetch("https://api.allowed.test/echo", { method: "POST", headers: auth, body: "token=" + env.GITHUB_TOKEN });
       const fail = await fetch("https://api.allowed.test/fail", { headers: auth });
       let thrown = "";
       try { await fetch("https://api.allowed.test/redirect?to=ftp://x/", { headers: auth }).then((r) => r.text()).then((t) => { thrown = t; }); } catch (e) { thrown = String(e); }
       console.log(JSON.stringify(env), auth.authorization);
       ({ env: JSON.stringify(env), echo: await echo.text(), echoHeader: echo.headers.get("x-echo-authorization"), fail: await fail.text(), thrown })`,
    );
    expect(out.status).toBe("ok");
    const everything = JSON.stringify(out);
    expect(everything).not.toContain(SECRET_VALUE);
    expect(out.result.echo).toContain("Bearer sbx_placeholder_");
    expect(out.result.echoHeader).toMatch(/^Bearer sbx_placeholder_/);
    expect(out.result.fail).toMatch(/^invalid token: Bearer sbx_placeholder_/);
    // The upstream really did get the value (so the scrubbing above is what hid it).
    expect((await upstreamHits()).some((h) => h.headers.authorization === `Bearer ${SECRET_VALUE}`)).toBe(true);
    // Nor is it in anything the API shows about the sandbox.
    for (const path of ["", "/audit", "/executions", "/types"]) {
      expect(await (await api("GET", `/v1/sandboxes/${id}${path}`)).text()).not.toContain(SECRET_VALUE);
    }
  });

  it("a compressed response is decompressed and scrubbed (a scrubber cannot see into gzip)", async () => {
    const { id } = await createSandbox(WITH_SECRET);
    const out = await exec(
      id,
      `const r = await fetch("https://api.allowed.test/gzip-echo", { headers: { authorization: "Bearer " + env.GITHUB_TOKEN } });
       const raw = new Uint8Array(await r.arrayBuffer());
       // Even code that decompresses the bytes itself finds only the placeholder.
       const text = raw[0] === 0x1f ? await new Response(new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip"))).text() : new TextDecoder().decode(raw);
       [r.headers.get("content-encoding"), JSON.parse(text)]`,
    );
    expect(out.status, JSON.stringify(out.error)).toBe("ok");
    expect(out.result[0]).toBeNull();
    expect(out.result[1].authorization).toMatch(/^Bearer sbx_placeholder_/);
    expect(JSON.stringify(out)).not.toContain(SECRET_VALUE);
    // The gateway asked for an uncompressed answer in the first place.
    expect((await upstreamHits()).at(-1)!.headers["accept-encoding"]).toBe("identity");
  });

  it("a response in an encoding the gateway cannot decode is withheld when a secret was sent", async () => {
    const { id } = await createSandbox(WITH_SECRET);
    const out = await exec(id, `const r = await fetch("https://api.allowed.test/br-echo", { headers: { authorization: "Bearer " + env.GITHUB_TOKEN } }); [r.status, (await r.json()).code]`);
    expect(out.result).toEqual([502, "upstream_failed"]);
    expect((await audit(id)).at(-1)).toMatchObject({ decision: "denied", detail: "unscrubbable content-encoding br" });
  });

  it("a request to any other allowed host gets the placeholder removed, not the value", async () => {
    const { id } = await createSandbox(WITH_SECRET);
    await fetch("https://upstream.log/", { method: "DELETE" });
    await exec(id, `await fetch("https://img.cdn.test/x", { headers: { authorization: "Bearer " + env.GITHUB_TOKEN } })`);
    const [hit] = await upstreamHits();
    expect(hit!.headers.authorization).toBe("Bearer");
  });

  it("a request that carried a secret does not follow a redirect to a host outside the secret's hosts", async () => {
    const { id } = await createSandbox(WITH_SECRET);
    await fetch("https://upstream.log/", { method: "DELETE" });
    const out = await exec(
      id,
      `const r = await fetch("https://api.allowed.test/redirect?to=https://img.cdn.test/steal", { headers: { authorization: "Bearer " + env.GITHUB_TOKEN } }); [r.status, await r.json()]`,
    );
    expect(out.result[0]).toBe(403);
    expect(out.result[1]).toMatchObject({ code: "egress_denied", reason: "secret_redirect", host: "img.cdn.test" });
    const hits = await upstreamHits();
    expect(hits.map((h) => [new URL(h.url).hostname, h.headers.authorization])).toEqual([["api.allowed.test", `Bearer ${SECRET_VALUE}`]]);
  });

  it("without a secret, a redirect to another allowed host is followed, minus the credential headers", async () => {
    const { id } = await createSandbox(NET);
    await fetch("https://upstream.log/", { method: "DELETE" });
    await exec(id, `await fetch("https://api.allowed.test/redirect?to=https://img.cdn.test/next", { headers: { authorization: "Bearer mine" } })`);
    const hits = await upstreamHits();
    expect(hits.map((h) => [new URL(h.url).hostname, h.headers.authorization])).toEqual([
      ["api.allowed.test", "Bearer mine"],
      ["img.cdn.test", undefined],
    ]);
  });

  it("a redirect whose URL carries the value is refused, so the value does not travel to another host", async () => {
    const { id } = await createSandbox(WITH_SECRET);
    await fetch("https://upstream.log/", { method: "DELETE" });
    const out = await exec(id, `const r = await fetch("https://api.allowed.test/leaky-redirect", { headers: { authorization: "Bearer " + env.GITHUB_TOKEN } }); [r.status, await r.json()]`);
    expect(out.result[0]).toBe(403);
    expect(out.result[1]).toMatchObject({ reason: "secret_in_url" });
    expect(JSON.stringify(out)).not.toContain(SECRET_VALUE);
    expect((await upstreamHits()).map((h) => new URL(h.url).hostname)).toEqual(["api.allowed.test"]);
  });

  it("a secret is injected only over https to port 443, unless its binding sets allowInsecure", async () => {
    const rules = { allow: [{ host: "api.allowed.test" }] };
    const strict = await createSandbox({ profile: "js-net", network: rules, secrets: { T: { secret: "gh", hosts: ["api.allowed.test"] } } });
    const optIn = await createSandbox({ profile: "js-net", network: rules, secrets: { T: { secret: "gh", hosts: ["api.allowed.test"], allowInsecure: true } } });
    expect(optIn.secrets.T).toEqual({ secret: "gh", hosts: ["api.allowed.test"], allowInsecure: true });
    const urls = ["http://api.allowed.test/whoami", "https://api.allowed.test:8443/whoami", "https://api.allowed.test/whoami"];
    const code = `const out = []; for (const u of ${JSON.stringify(urls)}) { out.push((await (await fetch(u, { headers: { authorization: "Bearer " + env.T } })).json()).authorized); } out`;
    await fetch("https://upstream.log/", { method: "DELETE" });
    expect((await exec(strict.id, code)).result).toEqual([false, false, true]);
    expect((await upstreamHits()).map((h) => h.headers.authorization)).toEqual(["Bearer", "Bearer", `Bearer ${SECRET_VALUE}`]);
    expect((await exec(optIn.id, code)).result).toEqual([true, true, true]);
  });

  describe("a value full of characters that escaping changes", () => {
    const ESCAPY = { ...NET, secrets: { T: { secret: "escapy", hosts: ["api.allowed.test"] } } };
    beforeAll(async () => {
      expect([200, 201]).toContain((await api("PUT", "/v1/secrets/escapy", { json: { value: ESCAPY_VALUE } })).status);
    });

    /** Every form an upstream might echo the value in: none may reach the code. */
    const forms = (v: string) => [
      v,
      JSON.stringify(v).slice(1, -1),
      JSON.stringify(v).slice(1, -1).replace(/\//g, "\\/"),
      encodeURIComponent(v),
      encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
      new URLSearchParams({ v }).toString().slice(2),
      v.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!),
      v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
      JSON.stringify(v).slice(1, -1).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
      v.replace(/[^A-Za-z0-9]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`),
    ];

    it("the forms checked for are the ones escaping gives (each differs from the raw value)", () => {
      const all = forms(ESCAPY_VALUE);
      expect(new Set(all).size).toBe(all.length);
    });

    it("is scrubbed from JSON echoes, HTML error pages and percent-encoded cookies", async () => {
      const { id } = await createSandbox(ESCAPY);
      const out = await exec(
        id,
        `const auth = { authorization: "Bearer " + env.T };
         const echo = await fetch("https://api.allowed.test/echo", { method: "POST", headers: auth, body: JSON.stringify({ t: env.T }) });
         const html = await fetch("https://api.allowed.test/html-fail", { headers: auth });
         const cookie = await fetch("https://api.allowed.test/cookie", { headers: auth });
         const go = await fetch("https://api.allowed.test/echo-escaped", { headers: auth });
         const every = await fetch("https://api.allowed.test/echo-escaped?style=all", { headers: auth });
         ({ echo: await echo.text(), echoHeader: echo.headers.get("x-echo-authorization"), html: await html.text(),
            cookie: cookie.headers.get("set-cookie"), go: await go.text(), every: await every.text() })`,
      );
      expect(out.status).toBe("ok");
      // Each string as the code got it: searching their JSON encoding would re-escape `"` and `\`,
      // and no raw, JSON or HTML form could ever match.
      for (const [name, text] of Object.entries(out.result as Record<string, string>)) {
        expect(typeof text, name).toBe("string");
        for (const form of forms(ESCAPY_VALUE)) expect(text, `${name} carries ${form}`).not.toContain(form);
        expect(text, name).toMatch(/sbx_placeholder_/);
      }
      expect(out.result.echo).toContain("Bearer sbx_placeholder_");
      expect(out.result.html).toContain("invalid token: Bearer sbx_placeholder_");
      expect(out.result.cookie).toMatch(/^t=Bearer%20sbx_placeholder_[a-z2-7]+; Path=\/$/);
      expect((await upstreamHits()).some((h) => h.headers.authorization === `Bearer ${ESCAPY_VALUE}`)).toBe(true);
    });

    for (const enc of ["uri", "lower", "form", "raw"]) {
      it(`a redirect carrying the value ${enc}-encoded in its URL is refused`, async () => {
        const { id } = await createSandbox({ ...ESCAPY, secrets: { T: { secret: "escapy", hosts: ["api.allowed.test", "*.cdn.test"] } } });
        await fetch("https://upstream.log/", { method: "DELETE" });
        const out = await exec(id, `const r = await fetch("https://api.allowed.test/leaky-redirect?enc=${enc}", { headers: { authorization: "Bearer " + env.T } }); [r.status, await r.json()]`);
        expect(out.result[0]).toBe(403);
        expect(out.result[1]).toMatchObject({ reason: "secret_in_url" });
        expect((await upstreamHits()).map((h) => new URL(h.url).hostname)).toEqual(["api.allowed.test"]);
      });
    }

    it("PUT /v1/secrets accepts printable ASCII only", async () => {
      for (const value of ["has space", "tab\there", "naïve", "line\nbreak"]) {
        const { status, body } = await problemOf(await api("PUT", "/v1/secrets/bad-alphabet", { json: { value } }));
        expect(status).toBe(400);
        expect(body.errors[0].message).toMatch(/printable ASCII/);
      }
    });
  });

  it("GET /types declares the secret as a placeholder string", async () => {
    const { id } = await createSandbox(WITH_SECRET);
    const text = await (await api("GET", `/v1/sandboxes/${id}/types`)).text();
    expect(text).toMatch(/placeholder[\s\S]*GITHUB_TOKEN: string;/);
    expect(text).toContain("fetch() reaches only the hosts");
  });

  it("the sandbox record shows bindings, never placeholders or values", async () => {
    const record = await createSandbox(WITH_SECRET);
    expect(record.secrets).toEqual({ GITHUB_TOKEN: { secret: "gh", hosts: ["api.allowed.test"] } });
    expect(JSON.stringify(record)).not.toContain("sbx_placeholder_");
  });
});
