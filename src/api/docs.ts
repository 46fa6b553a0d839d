import type { Hono } from "hono";
// The package does not export its browser bundle, so it is imported by path (as text: see wrangler.toml rules).
import scalarBundle from "../../node_modules/@scalar/api-reference/dist/browser/standalone.js";
import type { AppEnv } from "./app";

/** Where the reference page loads its renderer from: our own Worker, never a CDN. */
export const DOCS_SCRIPT_PATH = "/docs/scalar.js";

/** The renderer is part of the deployed code, so its bytes change only with a deploy. */
const SCRIPT_ETAG = `"scalar-${scalarBundle.length.toString(36)}"`;

/**
 * The API reference at `/docs`: Scalar (MIT, bundled from npm and served by this Worker,
 * so the page works offline and on a locked-down network) rendering `/v1/openapi.json`.
 * Everything that would reach a third party is switched off: default fonts (a font CDN),
 * telemetry, the request proxy and the hosted agent chat.
 */
export function mountDocs(app: Hono<AppEnv>): void {
  app.get("/docs", (c) => c.html(docsPage(c.env.SANDBOXER_VERSION)));
  app.get(DOCS_SCRIPT_PATH, (c) => {
    if (c.req.header("If-None-Match") === SCRIPT_ETAG) return c.body(null, 304);
    return c.body(scalarBundle, 200, {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "public, max-age=3600",
      ETag: SCRIPT_ETAG,
    });
  });
  app.get("/", (c) => c.html(landingPage(c.env.SANDBOXER_VERSION)));
}

function docsPage(version: string): string {
  const configuration = {
    url: "/v1/openapi.json",
    withDefaultFonts: false,
    telemetry: false,
    hideClientButton: false,
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: "never",
    documentDownloadType: "json",
    defaultHttpClient: { targetKey: "shell", clientKey: "curl" },
    authentication: { preferredSecurityScheme: "bearer" },
    metaData: { title: `sand-boxer ${version} API reference` },
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>sand-boxer ${version} API reference</title>
<style>body{margin:0;font-family:system-ui,sans-serif}</style></head>
<body><noscript>The reference needs JavaScript. The raw document is at <a href="/v1/openapi.json">/v1/openapi.json</a>.</noscript>
<div id="app"></div>
<script src="${DOCS_SCRIPT_PATH}"></script>
<script>Scalar.createApiReference("#app", ${JSON.stringify(configuration)});</script>
</body></html>`;
}

function landingPage(version: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>sand-boxer</title>
<style>body{font:16px/1.6 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
a{color:#0b57d0}li{margin:.4rem 0}code{background:#f3f3f3;padding:1px 4px;border-radius:3px}</style></head>
<body><h1>sand-boxer <small>${version}</small></h1>
<p>Sandboxes for AI agents' code: isolated, limited, on a clock, never holding a raw credential.</p>
<ul>
<li><a href="/docs">API reference</a>: every operation with examples</li>
<li><a href="/dashboard">Dashboard</a>: sandboxes and their clocks, for operators</li>
<li><a href="/v1/openapi.json">OpenAPI document</a> (<code>/v1/openapi.json</code>) for code generators</li>
<li><a href="/healthz">Health</a></li>
</ul>
<p>Every <code>/v1</code> route takes <code>Authorization: Bearer &lt;api key&gt;</code>.</p>
</body></html>`;
}
