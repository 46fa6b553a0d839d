import { Hono } from "hono";
import { DurableObject } from "cloudflare:workers";
export class SandboxDO extends DurableObject {}
export class RegistryDO extends DurableObject {}
const app = new Hono<{ Bindings: Env }>();
app.get("/healthz", (c) => c.json({ ok: true }));
app.get("/loader", async (c) => {
  const w = c.env.LOADER.load({
    compatibilityDate: "2026-11-01",
    mainModule: "m.js",
    modules: { "m.js": "export default { fetch() { return new Response(String(1+2)); } }" },
    globalOutbound: null,
  });
  return w.getEntrypoint().fetch("http://x/");
});
export default app;
