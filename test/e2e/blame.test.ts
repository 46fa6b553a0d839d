import { describe, expect, it } from "vitest";
import { hangCulprits } from "../../scripts/supervisor/blame.mjs";

// Whom the supervisor names when the runtime freezes (the service-level cases are in supervisor.test.ts).

describe("hang culprits", () => {
  const one = [
    { tenant: "a", sandboxId: "sbx_1" },
    { tenant: "a", sandboxId: "sbx_1" },
  ];

  it("names the one sandbox with executions in flight when nothing else runs", () => {
    expect(hangCulprits(one, false)).toEqual(["a:sbx_1"]);
    expect(hangCulprits(one, false, 0)).toEqual(["a:sbx_1"]);
  });

  it("names no one when several sandboxes, a one-shot, a stopped runtime or none are in question", () => {
    expect(hangCulprits([...one, { tenant: "b", sandboxId: "sbx_2" }], false)).toEqual([]);
    expect(hangCulprits([...one, { tenant: "a", sandboxId: "" }], false)).toEqual([]);
    expect(hangCulprits(one, true)).toEqual([]);
    expect(hangCulprits([], false)).toEqual([]);
  });

  it("names no one while a write (snapshot, restore, fork, upload) is in flight: it may be what held the loop", () => {
    expect(hangCulprits(one, false, 1)).toEqual([]);
  });
});
