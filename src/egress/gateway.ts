import { WorkerEntrypoint } from "cloudflare:workers";
import type { EgressGrant } from "../../durable-objects/sandbox";
import { problemResponse } from "../api/problem";
import { registryStub, sandboxStub } from "../api/stubs";
import type { CapabilityProps } from "../capabilities/definitions";
import { ErrorCode, SandboxerError } from "../errors";
import type { AuditEntry } from "../schemas/audit";
import type { SecretBinding } from "../schemas/sandbox";
import { openSecret } from "../secrets/crypto";
import { decideEgress, hostMatchesAny } from "./policy";
import { carriesValue, scrubStream, scrubText } from "./scrub";
import { describeUpstreamFailure } from "./failures";

/** Redirects the gateway follows before giving up. */
export const MAX_REDIRECTS = 10;
/** Largest request body the gateway buffers (it must, to re-send it on a 307/308). */
export const MAX_EGRESS_BODY_BYTES = 10 * 1024 * 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type AuditRecorder = (entry: Omit<AuditEntry, "ts" | "kind" | "action" | "executionId">) => void;

/**
 * The only network a sandbox has: handed to its isolate as `globalOutbound`, so every `fetch()`
 * the code makes arrives here, with the sandbox's identity in `props` (set by us at load time).
 *
 * Per request: the sandbox's current grant is read (a revoked `fetch` applies at once); each
 * hop is decided by the policy (src/egress/policy.ts) before anything leaves; redirects are
 * followed here, manually, so every hop is checked again; secret placeholders in request
 * headers become the real value only for the secret's own hosts and are removed for any other;
 * the real value is scrubbed back to its placeholder from response headers, bodies and error
 * messages. Every decision is audited.
 */
export class EgressGateway extends WorkerEntrypoint<Env, CapabilityProps> {
  override async fetch(request: Request): Promise<Response> {
    const { tenant, sandboxId, executionId } = this.ctx.props;
    const record: AuditRecorder = (entry) => this.audit("fetch", entry);
    try {
      let grant: EgressGrant;
      try {
        grant = await sandboxStub(this.env, tenant, sandboxId).egressGrant(executionId);
      } catch (error) {
        // A stopped sandbox, or an execution that has already ended (its leftovers are refused).
        const ended = SandboxerError.fromRpc(error)?.code === ErrorCode.capabilityDenied;
        return deny(record, ended ? "This execution has ended." : "The sandbox is no longer running.", ended ? "execution_ended" : "not_running", request.method);
      }
      if (!grant.granted) return deny(record, "This sandbox's fetch capability was revoked.", "not_granted", request.method);
      if (request.headers.get("upgrade") !== null) {
        // A WebSocket's messages could not be checked or scrubbed.
        return deny(record, "Protocol upgrades (WebSocket) are not proxied.", "upgrade", request.method, safeHost(request.url));
      }
      if (grant.overLimit !== null) {
        return deny(record, `This execution has made its ${grant.overLimit} outbound requests (the profile's subRequests limit).`, "subrequest_limit", request.method);
      }
      return await this.forward(request, grant, record);
    } finally {
      // Hops decided so far; the final response's row is written once its body has been read.
      await this.flush();
    }
  }

  /**
   * Raw TCP (`connect()` from the sandbox) lands here too, since the gateway is the isolate's
   * whole outbound. Nothing can be checked or scrubbed in a byte stream: it is closed at once.
   */
  override async connect(socket: Socket): Promise<void> {
    this.audit("connect", { decision: "denied", detail: "raw TCP is not proxied" });
    await socket.close().catch(() => undefined);
    await this.flush();
  }

  /** Audit rows not yet written to the sandbox. */
  private pending: AuditEntry[] = [];

  private audit(action: "fetch" | "connect", entry: Parameters<AuditRecorder>[0]): void {
    const { executionId } = this.ctx.props;
    this.pending.push({ ts: new Date().toISOString(), kind: "egress", action, ...(executionId ? { executionId } : {}), ...entry });
  }

  private async flush(): Promise<void> {
    const entries = this.pending.splice(0);
    if (entries.length === 0) return;
    const { tenant, sandboxId } = this.ctx.props;
    await sandboxStub(this.env, tenant, sandboxId)
      .recordAudit(entries)
      .catch(() => {});
  }

  private async forward(request: Request, grant: EgressGrant, record: AuditRecorder): Promise<Response> {
    const { tenant } = this.ctx.props;
    let body = await readBounded(request, MAX_EGRESS_BODY_BYTES);
    if (body === TOO_LARGE) {
      record({ decision: "denied", method: request.method, detail: "request body too large" });
      return problemResponse(new SandboxerError(ErrorCode.payloadTooLarge, `Request bodies to the network are limited to ${MAX_EGRESS_BODY_BYTES} bytes.`));
    }

    // Secret values, opened at most once per request and only for a host they are bound to.
    const values = new Map<string, string | null>();
    const injected = new Map<string, string>(); // real value → placeholder
    const injectedHosts = new Map<string, string[]>(); // real value → the hosts it is bound to
    const secretValue = async (name: string): Promise<string | null> => {
      if (!values.has(name)) {
        const sealed = await registryStub(this.env, tenant).sealedSecret(name);
        // A secret that was deleted, or sealed under a key since rotated, is simply not injected.
        values.set(name, sealed ? await openSecret(this.env, tenant, name, sealed).catch(() => null) : null);
      }
      return values.get(name) ?? null;
    };
    const scrubPairs = () => [...injected];

    let url = request.url;
    let method = request.method;
    let headers = new Headers(request.headers);
    for (let hop = 0; ; hop++) {
      const decision = decideEgress(url, method, grant.allow, grant.profileAllow);
      if (!decision.allowed) {
        return deny(record, hop > 0 ? `Redirect refused: ${decision.detail}` : decision.detail, decision.reason, method, decision.host);
      }

      const outgoing = new Headers();
      for (const [name, value] of headers) {
        // The host is the one just decided on, never one the code names in a header.
        if (name === "host") continue;
        let next = value;
        for (const binding of grant.secrets) {
          if (!next.includes(binding.placeholder)) continue;
          const real = hostMatchesAny(decision.host, binding.hosts) && transportAllowed(decision, binding) ? await secretValue(binding.secret) : null;
          if (real) {
            injected.set(real, binding.placeholder);
            injectedHosts.set(real, binding.hosts);
          }
          next = next.split(binding.placeholder).join(real ?? "");
        }
        outgoing.set(name, next);
      }
      // What comes back must be scrubbable: ask for it uncompressed (see `scrubbed`).
      if (injected.size > 0) outgoing.set("accept-encoding", "identity");

      let response: Response;
      try {
        response = await fetch(decision.url, { method, headers: outgoing, body, redirect: "manual" });
      } catch (error) {
        const failure = describeUpstreamFailure(error, decision.host);
        record({ decision: "allowed", host: decision.host, method, detail: `failed: ${failure.kind}` });
        return problemResponse(new SandboxerError(ErrorCode.upstreamFailed, failure.detail, { host: decision.host, failure: failure.kind }));
      }

      // The runtime hands every request to the gateway in manual mode (and would follow a
      // redirect itself), so the gateway always follows: each hop is decided above.
      const location = response.headers.get("location");
      if (!REDIRECTS.has(response.status) || location === null) {
        const entry = { decision: "allowed", host: decision.host, method, status: response.status } as const;
        let delivered: Response;
        try {
          delivered = await scrubbed(response, scrubPairs());
        } catch (error) {
          if (!(error instanceof UnscrubbableEncoding)) throw error;
          await response.body?.cancel();
          record({ decision: "denied", host: decision.host, method, status: response.status, detail: `unscrubbable content-encoding ${error.encoding}` });
          return problemResponse(
            new SandboxerError(ErrorCode.upstreamFailed, `The response from ${decision.host} is ${error.encoding}-encoded, which cannot be checked for the secret it was sent; it was withheld.`, { host: decision.host }),
          );
        }
        return withByteCount(delivered, (bytes) => {
          record({ ...entry, bytes });
          this.ctx.waitUntil(this.flush());
        });
      }
      record({ decision: "allowed", host: decision.host, method, status: response.status, detail: "redirect" });

      if (hop + 1 >= MAX_REDIRECTS) {
        return problemResponse(new SandboxerError(ErrorCode.upstreamFailed, `More than ${MAX_REDIRECTS} redirects.`, { host: decision.host }));
      }
      await response.body?.cancel();
      try {
        url = new URL(location, decision.url).toString();
      } catch {
        return problemResponse(new SandboxerError(ErrorCode.upstreamFailed, "The upstream sent a redirect to an invalid URL.", { host: decision.host }));
      }
      // A redirect that carries an injected value in its URL, in any encoding (raw, percent-encoded
      // in either hex case, form-encoded, or characters the URL parser itself encoded), would hand
      // it to whichever host it names.
      if ([...injected.keys()].some((value) => carriesValue(url, value))) {
        url = scrubText(url, scrubPairs());
        return deny(record, "Redirect refused: its URL carries a secret's value.", "secret_in_url", method, new URL(url).hostname);
      }
      const next = new URL(url);
      // Belt and braces: once a secret was sent, the request follows redirects only within the
      // secret's own hosts, so no encoding of the value we failed to foresee reaches a host the
      // code can read.
      const nextHost = next.hostname.replace(/\.+$/, "").toLowerCase();
      if ([...injectedHosts.values()].some((hosts) => !hostMatchesAny(nextHost, hosts))) {
        return deny(record, `Redirect refused: this request carried a secret, and ${nextHost} is not one of the secret's hosts.`, "secret_redirect", method, nextHost);
      }
      if (next.origin !== decision.url.origin) {
        // As browsers do: credentials are not carried to another origin.
        headers = new Headers(headers);
        for (const name of ["authorization", "cookie", "proxy-authorization"]) headers.delete(name);
      }
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
        method = method === "HEAD" ? "HEAD" : "GET";
        body = null;
        headers = new Headers(headers);
        for (const name of ["content-type", "content-length", "content-encoding"]) headers.delete(name);
      }
    }
  }
}

/**
 * Secrets travel only encrypted to the standard port, unless their binding opts in with
 * `allowInsecure` (plain http:// or another port, e.g. an internal service on :8443).
 */
function transportAllowed(decision: { url: URL; port: number }, binding: SecretBinding): boolean {
  return binding.allowInsecure === true || (decision.url.protocol === "https:" && decision.port === 443);
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

const TOO_LARGE = Symbol("too large");

/** The request body, read up to `max` bytes (it must be replayable for 307/308), or TOO_LARGE. */
async function readBounded(request: Request, max: number): Promise<ArrayBuffer | null | typeof TOO_LARGE> {
  if (!request.body) return null;
  if (Number(request.headers.get("content-length") ?? 0) > max) {
    await request.body.cancel();
    return TOO_LARGE;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return TOO_LARGE;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}

function deny(record: AuditRecorder, detail: string, reason: string, method: string, host?: string): Response {
  record({ decision: "denied", method, ...(host ? { host } : {}), detail: reason });
  return problemResponse(new SandboxerError(ErrorCode.egressDenied, detail, { reason, ...(host ? { host } : {}) }));
}

/**
 * A stream over `reader`, beginning with a chunk already read from it (`first`), that reports
 * each chunk and, once, its end: read to the end, failed or cancelled.
 */
function readerStream(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  options: { first?: ReadableStreamReadResult<Uint8Array>; onChunk?: (chunk: Uint8Array) => void; onEnd?: () => void } = {},
): ReadableStream<Uint8Array> {
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      options.onEnd?.();
    }
  };
  const deliver = (result: ReadableStreamReadResult<Uint8Array>, controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (result.done) {
      end();
      controller.close();
    } else {
      options.onChunk?.(result.value);
      controller.enqueue(result.value);
    }
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (options.first) deliver(options.first, controller);
    },
    async pull(controller) {
      try {
        deliver(await reader.read(), controller);
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
}

/** The response, with `done(bytes)` called once its body has been read to the end, cancelled or failed. */
function withByteCount(response: Response, done: (bytes: number) => void): Response {
  if (!response.body) {
    done(0);
    return response;
  }
  let bytes = 0;
  const body = readerStream(response.body.getReader(), { onChunk: (chunk) => (bytes += chunk.byteLength), onEnd: () => done(bytes) });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

class UnscrubbableEncoding extends Error {
  constructor(readonly encoding: string) {
    super(encoding);
  }
}

/**
 * The response with every injected secret value replaced by its placeholder, in headers, status
 * text and body. A compressed body is decompressed first (a scrubber cannot see into gzip), so
 * what the code gets has no content-encoding; an encoding we cannot decode is refused.
 */
async function scrubbed(response: Response, pairs: [string, string][]): Promise<Response> {
  if (pairs.length === 0) return response;
  const encoding = (response.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  const format = encoding === "identity" || encoding === "" ? null : encoding === "gzip" || encoding === "x-gzip" ? "gzip" : encoding === "deflate" ? "deflate" : undefined;
  if (format === undefined) throw new UnscrubbableEncoding(encoding);
  const headers = new Headers();
  for (const [name, value] of response.headers) headers.append(name, scrubText(value, pairs));
  // The length and encoding change; let the runtime frame the body.
  headers.delete("content-length");
  headers.delete("content-encoding");
  const init = { status: response.status, statusText: scrubText(response.statusText, pairs), headers };
  if (!response.body) return new Response(null, init);
  const plain = format ? await decodedIfCompressed(response.body, format) : response.body;
  return new Response(plain.pipeThrough(scrubStream(pairs)), init);
}

/**
 * The body decoded, if its first bytes show it is still compressed: the runtime may already have
 * decoded it (Cloudflare's fetch does for gzip) while keeping the Content-Encoding header.
 */
async function decodedIfCompressed(body: ReadableStream<Uint8Array>, format: "gzip" | "deflate"): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  const first = await reader.read();
  const stream = readerStream(reader, { first });
  const head = first.value ?? new Uint8Array(0);
  const compressed =
    head.length >= 2 &&
    (format === "gzip" ? head[0] === 0x1f && head[1] === 0x8b : (head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0);
  return compressed ? stream.pipeThrough(new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>) : stream;
}
