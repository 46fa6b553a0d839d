import { describe, expect, it } from "vitest";
import { describeUpstreamFailure } from "../../src/egress/failures";

describe("upstream failures are named by kind", () => {
  it.each([
    [new Error("getaddrinfo ENOTFOUND api.example.com"), "dns"],
    [new Error("DNS lookup failed"), "dns"],
    [new Error("connect ECONNREFUSED 203.0.113.7:443"), "connect"],
    [new Error("TLS peer's certificate is not trusted"), "tls"],
    [Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" }), "timeout"],
    [new Error("Network connection lost."), "connection_lost"],
    [new Error("internal error; reference = 0123456789abcdef"), "unreachable"],
  ])("%s → %s", (error, kind) => {
    const failure = describeUpstreamFailure(error, "api.example.com");
    expect(failure.kind).toBe(kind);
    expect(failure.detail).toMatch(new RegExp(`^The request to api\\.example\\.com failed \\(${kind}\\): `));
  });

  it("never passes the runtime's own message on", () => {
    expect(describeUpstreamFailure(new Error("internal error; reference = 0123456789abcdef"), "h.test").detail).not.toContain("reference");
  });
});
