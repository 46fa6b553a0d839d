import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./app";

type OpenApiDocument = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

const HTTP_METHODS = ["get", "post", "put", "patch", "delete"] as const;

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch);

/**
 * A self-contained API reference page rendered from the OpenAPI document: no CDN
 * scripts, so it works offline and on a locked-down network.
 */
export function renderDocsPage(doc: OpenApiDocument): string {
  const sections: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = (item as Record<string, any>)[method];
      if (!op) continue;
      const params = (op.parameters ?? [])
        .map((p: any) => `<li><code>${escape(p.name)}</code> (${escape(p.in)})${p.required ? " required" : ""}${p.description ? ` — ${escape(p.description)}` : ""}</li>`)
        .join("");
      const body = op.requestBody?.content
        ? Object.entries(op.requestBody.content as Record<string, { schema?: unknown }>)
            .map(([type, media]) => `<p>Body <code>${escape(type)}</code></p><pre>${escape(JSON.stringify(media.schema ?? {}, null, 2))}</pre>`)
            .join("")
        : "";
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]: [string, any]) => `<li><code>${status}</code> ${escape(r.description ?? "")}</li>`)
        .join("");
      sections.push(`<section id="${method}-${escape(path)}">
<h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2>
${op.summary ? `<p><strong>${escape(op.summary)}</strong></p>` : ""}${op.description ? `<p>${escape(op.description)}</p>` : ""}
${params ? `<p>Parameters</p><ul>${params}</ul>` : ""}${body}
<p>Responses</p><ul>${responses}</ul></section>`);
    }
  }
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .map(([name, schema]) => `<section id="schema-${escape(name)}"><h3>${escape(name)}</h3><pre>${escape(JSON.stringify(schema, null, 2))}</pre></section>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(doc.info.title)} API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
section{border-top:1px solid #ddd;padding:.5rem 0}pre{background:#f6f6f6;padding:.75rem;overflow:auto;font-size:13px}
.m{display:inline-block;min-width:4.5rem;font-size:13px;padding:2px 6px;border-radius:4px;color:#fff;background:#555}
.get{background:#2b7a0b}.post{background:#0b57d0}.patch{background:#8a5a00}.put{background:#6b3fa0}.delete{background:#b3261e}
</style></head><body>
<h1>${escape(doc.info.title)} <small>v${escape(doc.info.version)}</small></h1>
<p>${escape(doc.info.description ?? "")}</p>
<p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a>. Every <code>/v1</code> route except that one takes <code>Authorization: Bearer &lt;api key&gt;</code>; errors are RFC 9457 <code>application/problem+json</code>.</p>
${sections.join("\n")}
<h2>Schemas</h2>
${schemas}
</body></html>`;
}
