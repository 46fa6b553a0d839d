import type { NetworkRule } from "../schemas/profile";

/**
 * The egress policy: default deny; a request goes out only if its URL passes the fixed checks
 * below and matches an allow rule of the sandbox (and of its profile). Everything is decided on
 * the WHATWG-parsed URL, which already turns every IPv4 spelling (`2130706433`, `0x7f.1`,
 * `0177.0.0.1`) into dotted decimal, IPv6 into its bracketed canonical form and IDN hosts into
 * punycode, so a look-alike host (`аpple.com` in Cyrillic) is a different host, not a match.
 */

export type EgressDecision =
  | { allowed: true; url: URL; host: string; port: number; method: string }
  | { allowed: false; reason: DenyReason; detail: string; host?: string; method: string };

export type DenyReason = "invalid_url" | "scheme" | "credentials" | "ip_literal" | "internal_host" | "not_allowed";

/** Host names that reach the machine itself or cloud metadata, whatever the allowlist says. */
const INTERNAL_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data", "metadata.azure.com"]);
const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".in-addr.arpa", ".ip6.arpa"];

/** A parsed URL's hostname in the form hosts are compared in: lower case, no trailing dot. */
function canonical(hostname: string): string {
  return hostname.replace(/\.+$/, "").toLowerCase();
}

/** Lower case, no trailing dot, punycode: the form hosts are compared in. Null if not a valid host. */
export function normaliseHost(host: string): string | null {
  const trimmed = host.trim();
  if (trimmed.length === 0 || /[/?#@\s]/.test(trimmed)) return null;
  let parsed: URL;
  try {
    parsed = new URL(`http://${trimmed}/`);
  } catch {
    return null;
  }
  if (parsed.port !== "") return null;
  return canonical(parsed.hostname) || null;
}

/** A rule's host: `*` (profiles only: any public host), `*.suffix`, or an exact host. */
export function parseRuleHost(host: string): { any: true } | { suffix: string } | { exact: string } | null {
  if (host === "*") return { any: true };
  if (host.startsWith("*.")) {
    const suffix = normaliseHost(host.slice(2));
    return suffix && !suffix.includes("*") && !isIpLiteral(suffix) ? { suffix } : null;
  }
  const exact = normaliseHost(host);
  return exact && !exact.includes("*") && !isIpLiteral(exact) ? { exact } : null;
}

/** Is the (normalised) hostname an IP address in any form the URL parser produces? */
export function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith("[") || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || /^[0-9.]+$/.test(hostname);
}

function isInternalName(hostname: string): boolean {
  // A single label (`intranet`, `metadata`) only resolves on a private network.
  if (!hostname.includes(".")) return true;
  return INTERNAL_NAMES.has(hostname) || INTERNAL_SUFFIXES.some((suffix) => hostname.endsWith(suffix));
}

export function defaultPort(protocol: string): number {
  return protocol === "https:" ? 443 : 80;
}

function ruleMatches(rule: NetworkRule, host: string, port: number, method: string): boolean {
  const parsed = parseRuleHost(rule.host);
  if (!parsed) return false;
  const hostOk = "any" in parsed ? true : "suffix" in parsed ? host.endsWith(`.${parsed.suffix}`) : host === parsed.exact;
  if (!hostOk) return false;
  if (rule.ports && !rule.ports.includes(port)) return false;
  if (rule.methods && !rule.methods.some((m) => m.toUpperCase() === method)) return false;
  return true;
}

/** Does `host` match one of the rule hosts (used for secret injection)? */
export function hostMatchesAny(host: string, ruleHosts: string[]): boolean {
  return ruleHosts.some((h) => ruleMatches({ host: h }, host, 0, "GET"));
}

/**
 * Decides one request. `allow` is the sandbox's rules; `profileAllow` bounds them (a request must
 * match both lists). The fixed denials come first: no allow rule can open them.
 */
export function decideEgress(rawUrl: string, rawMethod: string, allow: NetworkRule[], profileAllow: NetworkRule[]): EgressDecision {
  const method = rawMethod.toUpperCase();
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { allowed: false, reason: "invalid_url", detail: "The URL cannot be parsed.", method };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { allowed: false, reason: "scheme", detail: `Only http and https are allowed, not ${url.protocol.slice(0, -1)}.`, method };
  }
  const host = canonical(url.hostname);
  if (url.username !== "" || url.password !== "") {
    return { allowed: false, reason: "credentials", detail: "URLs with user:password@ are refused.", host, method };
  }
  if (host.split(".").some((label) => label === "")) {
    return { allowed: false, reason: "invalid_url", detail: `'${host}' has an empty label.`, host, method };
  }
  if (isIpLiteral(host)) {
    return { allowed: false, reason: "ip_literal", detail: `IP address hosts (${host}) are refused; use a host name.`, host, method };
  }
  if (isInternalName(host)) {
    return { allowed: false, reason: "internal_host", detail: `'${host}' is a local, private or metadata host.`, host, method };
  }
  const port = url.port === "" ? defaultPort(url.protocol) : Number(url.port);
  if (port === 0) return { allowed: false, reason: "invalid_url", detail: "Port 0 cannot be reached.", host, method };
  const inSandbox = allow.some((rule) => ruleMatches(rule, host, port, method));
  const inProfile = profileAllow.some((rule) => ruleMatches(rule, host, port, method));
  if (!inSandbox || !inProfile) {
    return { allowed: false, reason: "not_allowed", detail: `${method} ${host}:${port} is not in this sandbox's network allowlist.`, host, method };
  }
  return { allowed: true, url, host, port, method };
}

/**
 * Is every request `rule` allows also allowed by one of `bounds`? Used to check a sandbox's
 * rules against its profile's, and a secret's hosts against the sandbox's rules.
 */
export function ruleWithin(rule: NetworkRule, bounds: NetworkRule[]): boolean {
  const inner = parseRuleHost(rule.host);
  if (!inner || "any" in inner) return false;
  return bounds.some((bound) => {
    const outer = parseRuleHost(bound.host);
    if (!outer) return false;
    const hostOk =
      "any" in outer ||
      ("exact" in outer && "exact" in inner && inner.exact === outer.exact) ||
      ("suffix" in outer && ("exact" in inner ? inner.exact : `x.${inner.suffix}`).endsWith(`.${outer.suffix}`));
    if (!hostOk) return false;
    if (bound.ports && !(rule.ports ?? []).every((p) => bound.ports!.includes(p))) return false;
    if (bound.ports && !rule.ports) return false;
    const upper = (methods: string[]) => methods.map((m) => m.toUpperCase());
    if (bound.methods && (!rule.methods || !upper(rule.methods).every((m) => upper(bound.methods!).includes(m)))) return false;
    return true;
  });
}
