/**
 * The TypeScript client of sand-boxer's HTTP API (`import { Sandboxer } from "sand-boxer/client"`).
 * Only `fetch`, so it runs in Node ≥ 18, Deno, Bun, browsers and Workers. Types are the
 * server's own (z.infer of src/schemas), imported as types only.
 *
 * ```ts
 * const sbx = new Sandboxer({ baseUrl: "http://localhost:8787", apiKey: "sbx_local_dev_key" });
 * const sandbox = await sbx.sandboxes.create({ ttlSeconds: 600 });
 * const run = await sandbox.exec("console.log('hi'); 1 + 2", { onStdout: (line) => console.log(line) });
 * await sandbox.kill();
 * ```
 */
import type { ProfileList } from "../src/schemas/profile";
import type { CreateSandboxInput, ListSandboxesInput, SandboxList, SandboxRecord } from "../src/schemas/sandbox";
import type { RunOnceRequest, RunOnceResult } from "../src/schemas/once";
import type { SecretInfo, SecretList } from "../src/schemas/secrets";
import type { Snapshot, SnapshotList } from "../src/schemas/snapshots";
import { Transport, type ClientOptions } from "./http.ts";
import { Sandbox, search } from "./sandbox.ts";

export { SandboxerError, type Problem } from "./errors.ts";
export type { ClientOptions, RetryPolicy } from "./http.ts";
export { Sandbox, type CommandRunOptions, type CommandSpec, type ExecOptions, type FileBody, type OutputLine } from "./sandbox.ts";
export { readServerSentEvents, type ServerSentEvent } from "./sse.ts";
export type { SandboxRecord, SandboxList, CreateSandboxInput } from "../src/schemas/sandbox";
export type { ExecResult, ExecError, LogEntry } from "../src/schemas/exec";
export type { CommandRequest, CommandResult, ProcessInfo } from "../src/schemas/commands";
export type { RunOnceRequest, RunOnceResult } from "../src/schemas/once";
export type { Snapshot, SnapshotList } from "../src/schemas/snapshots";
export type { FileEntry } from "../src/schemas/files";
export type { ExecutionPage } from "../src/schemas/executions";
export type { AuditPage } from "../src/schemas/audit";
export type { ProfileList, Profile } from "../src/schemas/profile";

/** A listing query (the server's own schema): `state`, `metadata` entries that must all match, `limit` (1–100, default 50), `cursor` (from `nextCursor`). */
export type ListQuery = Omit<ListSandboxesInput, "limit"> & { limit?: number };

/** The entry point: one per API key. */
export class Sandboxer {
  readonly #http: Transport;

  constructor(options: ClientOptions) {
    this.#http = new Transport(options);
  }

  /** Creating, finding and listing sandboxes. */
  readonly sandboxes = {
    /** A new sandbox; with `idempotencyKey`, a retry returns the same one. */
    create: async (body: CreateSandboxInput = {}, options: { idempotencyKey?: string; signal?: AbortSignal } = {}): Promise<Sandbox> => {
      const headers: Record<string, string> = options.idempotencyKey ? { "Idempotency-Key": options.idempotencyKey } : {};
      const record = await this.#http.json<SandboxRecord>("POST", "/v1/sandboxes", {
        json: body,
        headers,
        signal: options.signal,
        idempotent: Boolean(options.idempotencyKey),
      });
      return new Sandbox(this.#http, record);
    },
    /** An existing sandbox (`not_found` if the key's tenant has none by that id). */
    get: async (id: string): Promise<Sandbox> =>
      new Sandbox(this.#http, await this.#http.json<SandboxRecord>("GET", `/v1/sandboxes/${encodeURIComponent(id)}`)),
    /** One page of sandboxes, newest first. */
    page: async (query: ListQuery = {}): Promise<SandboxList> => {
      const { metadata, ...rest } = query;
      const params = search(rest);
      const filters = Object.entries(metadata ?? {}).map(([k, v]) => `metadata.${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
      const qs = [params.slice(1), ...filters].filter(Boolean).join("&");
      return this.#http.json<SandboxList>("GET", `/v1/sandboxes${qs ? `?${qs}` : ""}`);
    },
    /**
     * Every matching sandbox, newest first, fetching pages as the loop goes:
     * `for await (const record of sbx.sandboxes.list({ state: "running" })) …`.
     * `.pages()` walks the pages themselves.
     */
    list: (query: ListQuery = {}) => {
      const page = this.sandboxes.page;
      async function* pages(): AsyncGenerator<SandboxList> {
        let cursor = query.cursor;
        do {
          const next = await page({ ...query, cursor });
          yield next;
          cursor = next.nextCursor ?? undefined;
        } while (cursor);
      }
      return {
        pages,
        async *[Symbol.asyncIterator](): AsyncGenerator<SandboxRecord> {
          for await (const p of pages()) yield* p.sandboxes;
        },
      };
    },
  };

  /** Tenant secrets (write-only: values never come back). */
  readonly secrets = {
    put: async (name: string, value: string): Promise<SecretInfo> =>
      this.#http.json<SecretInfo>("PUT", `/v1/secrets/${encodeURIComponent(name)}`, { json: { value } }),
    list: async (): Promise<SecretList> => this.#http.json<SecretList>("GET", "/v1/secrets"),
    delete: async (name: string): Promise<void> => {
      await this.#http.request("DELETE", `/v1/secrets/${encodeURIComponent(name)}`);
    },
  };

  /**
   * The tenant's snapshots (take one with `sandbox.snapshot()`; fork one with
   * `sandboxes.create({ fromSnapshot })`, as many times as you like).
   */
  readonly snapshots = {
    /** One page of snapshots. */
    list: async (query: { limit?: number; cursor?: string } = {}): Promise<SnapshotList> =>
      this.#http.json<SnapshotList>("GET", `/v1/snapshots${search(query)}`),
    get: async (snapshotId: string): Promise<Snapshot> => this.#http.json<Snapshot>("GET", `/v1/snapshots/${encodeURIComponent(snapshotId)}`),
    delete: async (snapshotId: string): Promise<void> => {
      await this.#http.request("DELETE", `/v1/snapshots/${encodeURIComponent(snapshotId)}`);
    },
  };

  /**
   * Runs `code` once in an ephemeral sandbox (`POST /v1/exec`): one request, no create or
   * delete. `files` (path → text) are written to its workspace first. The result carries the
   * stopped sandbox's id (its audit and history stay readable for 24 h).
   */
  async run(code: string, options: Omit<RunOnceRequest, "code"> = {}, init: { signal?: AbortSignal } = {}): Promise<RunOnceResult> {
    return this.#http.json<RunOnceResult>("POST", "/v1/exec", { json: { ...options, code }, signal: init.signal });
  }

  /** The profiles sandboxes can be created from. */
  async profiles(): Promise<ProfileList> {
    return this.#http.json<ProfileList>("GET", "/v1/profiles");
  }
}
