import { describe, expect, it } from "vitest";
import { PROFILES } from "../src/profiles";
import { Profile } from "../src/schemas/profile";

describe("profiles", () => {
  it("every shipped profile satisfies the one schema", () => {
    for (const profile of PROFILES.values()) expect(Profile.safeParse(profile).success).toBe(true);
  });

  it("the schema refuses a profile with an allow-by-default network or a default TTL above its max", () => {
    const js = PROFILES.get("js")!;
    expect(Profile.safeParse({ ...js, network: { default: "allow", allow: [] } }).success).toBe(false);
    expect(Profile.safeParse({ ...js, ttl: { default: 100, max: 10, idleDefault: 5 } }).success).toBe(false);
    expect(Profile.safeParse({ ...js, extra: 1 }).success).toBe(false);
  });
});
