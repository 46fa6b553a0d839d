import { describe, expect, it } from "vitest";
import { orphanError, parseRestarts } from "../../durable-objects/sandbox/orphans";

describe("executions cut off by a runtime restart", () => {
  const restarts = parseRestarts(
    JSON.stringify([
      { at: 1000, reason: "hang", culprits: ["t:sbx_culprit"] },
      { at: 5000, reason: "crash", culprits: [] },
    ]),
  );

  it("the named culprit's execution ran past its CPU budget", () => {
    expect(orphanError(restarts, "t:sbx_culprit", 900)).toMatchObject({ name: "LimitExceeded", limit: "cpu" });
  });

  it("everyone else's, and the culprit's later ones, were interrupted, with the restart's reason", () => {
    expect(orphanError(restarts, "t:sbx_other", 900)).toEqual({
      name: "Interrupted",
      message: "The runtime was restarted (hang) while this execution ran, for a reason outside this sandbox's code; it did not finish. Run it again.",
    });
    expect(orphanError(restarts, "t:sbx_culprit", 2000)).toMatchObject({ name: "Interrupted", message: expect.stringContaining("(crash)") });
  });

  it("without a report from a supervisor (deployed, or lost), an execution is interrupted, not blamed", () => {
    expect(orphanError(parseRestarts(undefined), "t:sbx_x", 1)).toMatchObject({ name: "Interrupted" });
    expect(parseRestarts("not json")).toEqual([]);
    expect(parseRestarts('[{"at":"x"}]')).toEqual([]);
  });
});
