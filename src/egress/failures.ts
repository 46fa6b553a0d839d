/** Why a request the gateway let through got no response, as far as the runtime says. */
export type UpstreamFailureKind = "dns" | "connect" | "tls" | "timeout" | "connection_lost" | "unreachable";

export interface UpstreamFailure {
  kind: UpstreamFailureKind;
  /** For the code and its author: what happened and what to check, without the runtime's internals. */
  detail: string;
}

const KINDS: [UpstreamFailureKind, RegExp][] = [
  ["timeout", /timed? ?out|timeout|ETIMEDOUT/i],
  ["dns", /\bdns\b|getaddrinfo|ENOTFOUND|EAI_AGAIN|resolv|no such host|name not known/i],
  ["tls", /\btls\b|\bssl\b|certificate|handshake/i],
  ["connect", /ECONNREFUSED|refused|EHOSTUNREACH|ENETUNREACH|connect(ion)? failed|couldn't connect|unable to connect/i],
  ["connection_lost", /connection (was )?(lost|reset|closed)|ECONNRESET|socket hang up|network connection lost/i],
];

const ADVICE: Record<UpstreamFailureKind, string> = {
  dns: "its name did not resolve. Check the host name.",
  connect: "the connection was refused or the host is unreachable. Check the host and port.",
  tls: "the TLS handshake failed (certificate or protocol). Check that the host serves https with a valid certificate.",
  timeout: "it did not answer in time. Retry later, or with a smaller request.",
  connection_lost: "the connection closed before a response. Retry; if it persists, the host is dropping connections.",
  // workerd reports DNS, connect and TLS failures alike as an opaque internal error.
  unreachable: "no response came back (its name did not resolve, or the connection or TLS handshake failed; the runtime does not say which). Check the host name, port and that it serves https.",
};

/**
 * Names the kind of a failed upstream fetch from the runtime's error, so sandbox code gets
 * "dns" or "tls" instead of "internal error; reference = …". The runtime's message itself is
 * not passed on: it may name our internals.
 */
export function describeUpstreamFailure(error: unknown, host: string): UpstreamFailure {
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  const kind = name === "TimeoutError" ? "timeout" : (KINDS.find(([, pattern]) => pattern.test(message))?.[0] ?? "unreachable");
  return { kind, detail: `The request to ${host} failed (${kind}): ${ADVICE[kind]}` };
}
