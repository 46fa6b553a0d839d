import { bodyLimit } from "hono/body-limit";
import { dashboard } from "../dashboard";
import { ErrorCode, SandboxerError } from "../errors";
import { createApp } from "./app";
import { requireTenant } from "./auth";
import { mountDocs } from "./docs";
import { inspect } from "./inspect";
import { exec } from "./exec";
import { once } from "./once";
import { commands } from "./commands";
import { contexts } from "./contexts";
import { files } from "./files";
import { openApiDocuments, rejectUnknownQueryParameters } from "./openapi";
import { mcp } from "../mcp";
import { notFoundHandler, onError } from "./problem";
import { profiles } from "./profiles";
import { sandboxes } from "./sandboxes";
import { secrets } from "./secrets";
import { snapshots } from "./snapshots";

/** Largest request body accepted on any route. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The HTTP API: public routes, then auth, then one sub-app per resource. */
export function buildApi() {
  const app = createApp();
  app.onError(onError);
  app.notFound(notFoundHandler(() => app.routes));

  app.get("/healthz", (c) => c.json({ ok: true, version: c.env.SANDBOXER_VERSION }));
  const openApiDocument = openApiDocuments(app);
  app.get("/v1/openapi.json", (c) => c.json(openApiDocument(new URL(c.req.url).origin, c.env.SANDBOXER_VERSION)));
  mountDocs(app);

  app.route("/mcp", mcp);

  app.route("/dashboard", dashboard);

  app.use("/v1/*", requireTenant);
  app.use("/v1/*", rejectUnknownQueryParameters(app));
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new SandboxerError(ErrorCode.payloadTooLarge, `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`, {
          max: MAX_BODY_BYTES,
        });
      },
    }),
  );

  app.route("/", sandboxes);
  app.route("/", files);
  app.route("/", exec);
  app.route("/", contexts);
  app.route("/", once);
  app.route("/", commands);
  app.route("/", inspect);
  app.route("/", profiles);
  app.route("/", secrets);
  app.route("/", snapshots);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });

  return app;
}
