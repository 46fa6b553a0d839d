import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ErrorCode, SandboxerError } from "../errors";
import { SandboxIdParam } from "../schemas/common";
import { FileEntry, FileList, FilesQuery } from "../schemas/files";
import { createApp, ops, type AppEnv } from "./app";
import { BODY_ERRORS, json, LIVE_ERRORS, problem } from "./responses";

/** The sandbox workspace over HTTP: raw bodies in and out, paths after `/files/`. */
export const files = createApp();

const listFiles = createRoute({
  operationId: "listFiles",
  method: "get",
  path: "/v1/sandboxes/{id}/files",
  summary: "List workspace files",
  request: {
    params: SandboxIdParam,
    query: FilesQuery,
  },
  responses: { 200: json(FileList, "Files, sorted by path"), ...LIVE_ERRORS },
});

files.openapi(listFiles, async (c) => {
  return c.json(await ops(c).listFiles(c.req.valid("param").id, c.req.valid("query").prefix), 200);
});

/**
 * The file path is everything after `/files/`, percent-decoded, and may contain
 * slashes, which OpenAPI path parameters cannot express; the routes are registered
 * with Hono's wildcard and documented by hand below. Normalised by the operation.
 */
function filePath(c: Context<AppEnv>): string {
  const pathname = new URL(c.req.url).pathname;
  const marker = "/files/";
  const raw = pathname.slice(pathname.indexOf(marker) + marker.length);
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new SandboxerError(ErrorCode.validationFailed, "The file path is not valid percent-encoding.", {
      errors: [{ path: "path", message: "invalid percent-encoding" }],
    });
  }
  return decoded;
}

const FILE_ROUTE = "/v1/sandboxes/:id/files/*";

const TEXT_EXTENSIONS: Record<string, string> = {
  txt: "text/plain", md: "text/markdown", js: "text/javascript", mjs: "text/javascript", ts: "text/plain",
  json: "application/json", csv: "text/csv", html: "text/html", css: "text/css", yaml: "text/yaml", yml: "text/yaml",
};

/** Served as an attachment-safe type: text types only for well-known source/text extensions. */
function contentTypeOf(path: string): string {
  const type = TEXT_EXTENSIONS[path.slice(path.lastIndexOf(".") + 1).toLowerCase()];
  return type ? `${type}; charset=utf-8` : "application/octet-stream";
}

files.put(FILE_ROUTE, async (c) => {
  // A form upload would be stored as its multipart envelope, not as the file.
  if ((c.req.header("Content-Type") ?? "").toLowerCase().startsWith("multipart/")) {
    throw new SandboxerError(
      ErrorCode.unsupportedMediaType,
      "This route stores the request body as the file's bytes, and this body is a multipart form. Send the file itself: curl -X PUT --data-binary @file <url> (not -F).",
    );
  }
  const entry = await ops(c).writeFile(c.req.param("id"), filePath(c), await c.req.arrayBuffer());
  return c.json(entry, 201);
});

files.get(FILE_ROUTE, async (c) => {
  const { entry, data } = await ops(c).readFile(c.req.param("id"), filePath(c));
  return c.body(data as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": contentTypeOf(entry.path),
    "Content-Length": String(entry.size),
    "Last-Modified": new Date(entry.updatedAt).toUTCString(),
    // Never let a browser render workspace content as a page of our origin.
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
  });
});

files.delete(FILE_ROUTE, async (c) => {
  await ops(c).deleteFile(c.req.param("id"), filePath(c));
  return c.body(null, 204);
});

const FileParams = SandboxIdParam.extend({
  path: z.string().openapi({
    param: { name: "path", in: "path" },
    description: "Workspace path, may contain '/'. No '..', no leading '/', no NUL; at most 1024 bytes.",
    example: "src/main.ts",
  }),
});
const fileErrors = LIVE_ERRORS;

files.openAPIRegistry.registerPath({
  operationId: "writeFile",
  method: "put",
  path: "/v1/sandboxes/{id}/files/{path}",
  summary: "Write a workspace file (raw body)",
  request: {
    params: FileParams,
    body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
  },
  responses: {
    201: json(FileEntry, "Written"),
    ...fileErrors,
    ...BODY_ERRORS,
    413: problem("The file is larger than the profile allows, or the body over 10 MiB"),
    415: problem("A multipart form: send the file's raw bytes as the body (curl --data-binary @file)"),
    422: problem("The workspace quota or file count would be exceeded"),
  },
});
files.openAPIRegistry.registerPath({
  operationId: "readFile",
  method: "get",
  path: "/v1/sandboxes/{id}/files/{path}",
  summary: "Read a workspace file (raw body)",
  request: { params: FileParams },
  responses: {
    200: {
      description:
        "The file's bytes. `Content-Type` follows the extension: text types with charset=utf-8 for .txt .md .js .mjs .ts .json .csv .html .css .yaml .yml, `application/octet-stream` otherwise.",
      content: { "*/*": { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...fileErrors,
  },
});
files.openAPIRegistry.registerPath({
  operationId: "deleteFile",
  method: "delete",
  path: "/v1/sandboxes/{id}/files/{path}",
  summary: "Delete a workspace file",
  request: { params: FileParams },
  responses: { 204: { description: "Deleted" }, ...fileErrors },
});
