import { env, exports } from "cloudflare:workers";
import type { SandboxRecord } from "../src/schemas/sandbox";

export const KEYS = { a: "test-key-a", b: "test-key-b", q: "test-key-q" } as const;
export type Tenant = keyof typeof KEYS;
export const TENANT_NAMES: Record<Tenant, string> = { a: "tenant-a", b: "tenant-b", q: "tenant-q" };

export interface CallOptions {
  as?: Tenant | null;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

/** Calls the Worker's HTTP API in-process, as tenant A unless told otherwise. */
export function api(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const as = options.as === undefined ? "a" : options.as;
  if (as) headers.Authorization = `Bearer ${KEYS[as]}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] ??= "application/json";
    body = JSON.stringify(options.json);
  }
  return exports.default.fetch(new Request(`http://sandboxer.test${path}`, { method, headers, body }));
}

export async function createSandbox(json: Record<string, unknown> = {}, as: Tenant = "a"): Promise<SandboxRecord> {
  const res = await api("POST", "/v1/sandboxes", { json, as });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The SandboxDO stub behind a sandbox, for alarm-driven tests. */
export function sandboxObject(id: string, as: Tenant = "a") {
  return env.SANDBOX.get(env.SANDBOX.idFromName(`${TENANT_NAMES[as]}:${id}`));
}

export async function problemOf(res: Response) {
  return { status: res.status, contentType: res.headers.get("content-type"), body: (await res.json()) as Record<string, any> };
}
