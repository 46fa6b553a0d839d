// The test upstream: every outbound fetch() of the Worker under test (the egress gateway's
// included) lands here instead of the internet, as Miniflare's `outboundService`. It plays a
// few hosts and keeps a log the tests read back through the special host `upstream.log`.

/** The value of the test secret `gh`, which must never reach a sandbox. */
export const SECRET_VALUE = "ghp_REAL_SECRET_VALUE_0123456789";
/** A test secret made of the characters that escaping changes: JSON, HTML and URL encodings all differ from it. */
export const ESCAPY_VALUE = `tok"en\\<a&b>!~()'/*%+=?#x`;

interface Hit {
  url: string;
  method: string;
  headers: Record<string, string>;
}

const hits: Hit[] = [];

export async function upstream(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname === "upstream.log") {
    if (request.method === "DELETE") hits.length = 0;
    return Response.json(hits);
  }
  hits.push({ url: request.url, method: request.method, headers: Object.fromEntries(request.headers) });
  const json = (value: unknown, init?: ResponseInit) => Response.json(value, init);
  switch (url.pathname) {
    case "/echo":
      // Echoes everything back, the way a debugging endpoint (httpbin) would.
      return json(
        { method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() },
        { headers: { "x-echo-authorization": request.headers.get("authorization") ?? "" } },
      );
    case "/echo-escaped": {
      // The echo as JSON encoders that escape more write it: `<`, `>`, `&` as `\u003c` (Go's
      // encoding/json), or (`style=all`) every character but letters and digits as `\u00XX`, upper-case hex.
      const token = request.headers.get("authorization") ?? "";
      const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
      const value =
        url.searchParams.get("style") === "all"
          ? token.replace(/[^A-Za-z0-9]/g, (c) => escape(c).toUpperCase().replace("\\U", "\\u"))
          : JSON.stringify(token).slice(1, -1).replace(/[<>&]/g, escape);
      return new Response(`{"authorization":"${value}"}`, { headers: { "content-type": "application/json" } });
    }
    case "/whoami":
      return json({ authorized: request.headers.get("authorization") === `Bearer ${SECRET_VALUE}` });
    case "/redirect":
      return new Response(null, { status: Number(url.searchParams.get("status") ?? 302), headers: { location: url.searchParams.get("to") ?? "/" } });
    case "/leaky-redirect": {
      // A careless API that puts the credential it got into the redirect URL, encoded as `enc` says.
      const token = (request.headers.get("authorization") ?? "").replace("Bearer ", "");
      const encoded = {
        uri: encodeURIComponent(token),
        lower: encodeURIComponent(token).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
        form: new URLSearchParams({ token }).toString().slice("token=".length),
        raw: token,
      }[url.searchParams.get("enc") ?? "uri"];
      return new Response(null, { status: 302, headers: { location: `https://img.cdn.test/next?token=${encoded}` } });
    }
    case "/html-fail": {
      // An HTML error page that quotes the credential, HTML-escaped.
      const quoted = (request.headers.get("authorization") ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/&#60;/g, "&lt;");
      return new Response(`<p>invalid token: ${quoted}</p>`, { status: 401, headers: { "content-type": "text/html" } });
    }
    case "/cookie":
      // A session cookie holding the credential, percent-encoded with lower-case hex.
      return new Response("ok", {
        headers: { "set-cookie": `t=${encodeURIComponent(request.headers.get("authorization") ?? "").replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())}; Path=/` },
      });
    case "/gzip-echo": {
      // The same echo, gzip-compressed on the wire, as most real APIs answer.
      const body = new Blob([JSON.stringify({ authorization: request.headers.get("authorization") })]).stream().pipeThrough(new CompressionStream("gzip"));
      return new Response(body, { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
    }
    case "/br-echo":
      // Bytes the gateway cannot decode, labelled as brotli (an upstream that ignores accept-encoding).
      return new Response(new Uint8Array([0x0b, 0x02, 0x80, request.headers.get("authorization")?.length ?? 0]), { headers: { "content-encoding": "br" } });
    case "/fail":
      // An error page that quotes the credential it was sent.
      return new Response(`invalid token: ${request.headers.get("authorization")}`, { status: 401 });
    default:
      return json({ host: url.hostname, path: url.pathname });
  }
}
