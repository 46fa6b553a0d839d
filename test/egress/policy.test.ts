import { describe, expect, it } from "vitest";
import { decideEgress, ruleWithin } from "../../src/egress/policy";
import type { NetworkRule } from "../../src/schemas/profile";

const ANY: NetworkRule[] = [{ host: "*" }];
const decide = (url: string, allow: NetworkRule[], method = "GET") => decideEgress(url, method, allow, ANY);
const reason = (url: string, allow: NetworkRule[] = [{ host: "allowed.com" }, { host: "*.example.org" }], method = "GET") => {
  const d = decide(url, allow, method);
  return d.allowed ? "allowed" : d.reason;
};

describe("egress policy: allow rules", () => {
  it("allows an exact host, case-insensitively, with or without a trailing dot", () => {
    expect(reason("https://allowed.com/x")).toBe("allowed");
    expect(reason("https://ALLOWED.Com/x")).toBe("allowed");
    expect(reason("https://allowed.com./x")).toBe("allowed");
  });

  it("denies by default", () => {
    expect(reason("https://other.com/")).toBe("not_allowed");
    expect(reason("https://sub.allowed.com/")).toBe("not_allowed");
    expect(reason("https://allowed.com.evil.com/")).toBe("not_allowed");
    expect(reason("https://notallowed.com/")).toBe("not_allowed");
  });

  it("*.suffix matches one or more labels but not the bare suffix", () => {
    expect(reason("https://a.example.org/")).toBe("allowed");
    expect(reason("https://a.b.example.org/")).toBe("allowed");
    expect(reason("https://example.org/")).toBe("not_allowed");
    expect(reason("https://badexample.org/")).toBe("not_allowed");
  });

  it("ports and methods narrow a rule", () => {
    const allow: NetworkRule[] = [{ host: "api.test.com", ports: [443], methods: ["get"] }];
    expect(reason("https://api.test.com/", allow)).toBe("allowed");
    expect(reason("https://api.test.com:443/", allow)).toBe("allowed");
    expect(reason("https://api.test.com:8443/", allow)).toBe("not_allowed");
    expect(reason("http://api.test.com/", allow)).toBe("not_allowed");
    expect(reason("https://api.test.com/", allow, "POST")).toBe("not_allowed");
  });

  it("full-width letters normalise to the host they spell (IDNA mapping)", () => {
    expect(reason("https://\uff41llowed.com/")).toBe("allowed");
  });

  it("a Cyrillic look-alike is a different (punycode) host", () => {
    // "аllowed.com" with a Cyrillic а (U+0430).
    const d = decide("https://\u0430llowed.com/", [{ host: "allowed.com" }]);
    expect(d).toMatchObject({ allowed: false, reason: "not_allowed" });
    expect(!d.allowed && d.host).toMatch(/^xn--/);
    // An IDN rule matches its own punycode form.
    expect(reason("https://xn--mnchen-3ya.de/", [{ host: "münchen.de" }])).toBe("allowed");
  });

  it("the profile's rules bound the sandbox's", () => {
    const d = decideEgress("https://allowed.com/", "GET", [{ host: "allowed.com" }], [{ host: "*.other.com" }]);
    expect(d).toMatchObject({ allowed: false, reason: "not_allowed" });
  });
});

describe("egress policy: always denied, whatever the allowlist", () => {
  const everything: NetworkRule[] = [{ host: "allowed.com" }, { host: "*.com" }];
  it.each([
    ["https://allowed.com@evil.com/", "credentials"],
    ["https://user:pass@allowed.com/", "credentials"],
    ["http://2130706433/", "ip_literal"],
    ["http://0x7f.1/", "ip_literal"],
    ["http://0177.0.0.1/", "ip_literal"],
    ["http://127.0.0.1/", "ip_literal"],
    ["http://127.1/", "ip_literal"],
    ["http://[::1]/", "ip_literal"],
    ["http://[::ffff:127.0.0.1]/", "ip_literal"],
    ["http://[::ffff:7f00:1]/", "ip_literal"],
    ["http://10.0.0.1/", "ip_literal"],
    ["http://192.168.1.1/", "ip_literal"],
    ["http://172.16.0.1/", "ip_literal"],
    ["http://100.64.0.1/", "ip_literal"],
    ["http://169.254.169.254/latest/meta-data/", "ip_literal"],
    ["http://[fd00::1]/", "ip_literal"],
    ["http://[fe80::1]/", "ip_literal"],
    ["http://localhost/", "internal_host"],
    ["http://api.localhost/", "internal_host"],
    ["http://metadata.google.internal/", "internal_host"],
    ["http://intranet/", "internal_host"],
    ["ftp://allowed.com/", "scheme"],
    ["file:///etc/passwd", "scheme"],
    ["ws://allowed.com/", "scheme"],
    ["data:text/plain,hi", "scheme"],
    ["not a url", "invalid_url"],
    ["https://.example.com/", "invalid_url"],
    ["https://a..example.com/", "invalid_url"],
    ["https://allowed.com:0/", "invalid_url"],
  ])("%s → %s", (url, expected) => {
    expect(reason(url, everything)).toBe(expected);
  });
});

describe("rule bounds", () => {
  it("checks a rule against wider ones", () => {
    expect(ruleWithin({ host: "a.example.com" }, [{ host: "*.example.com" }])).toBe(true);
    expect(ruleWithin({ host: "*.a.example.com" }, [{ host: "*.example.com" }])).toBe(true);
    expect(ruleWithin({ host: "*.example.com" }, [{ host: "*.example.com" }])).toBe(true);
    expect(ruleWithin({ host: "example.com" }, [{ host: "*.example.com" }])).toBe(false);
    expect(ruleWithin({ host: "x.com" }, [{ host: "*" }])).toBe(true);
    expect(ruleWithin({ host: "*" }, [{ host: "*" }])).toBe(false);
    expect(ruleWithin({ host: "x.com" }, [{ host: "x.com", ports: [443] }])).toBe(false);
    expect(ruleWithin({ host: "x.com", ports: [443] }, [{ host: "x.com", ports: [443, 8443] }])).toBe(true);
    expect(ruleWithin({ host: "x.com", methods: ["get"] }, [{ host: "x.com", methods: ["GET", "HEAD"] }])).toBe(true);
  });
});
