import { describe, expect, it } from "vitest";
import { normaliseWorkspacePath, normaliseWorkspacePrefix } from "../../src/workspace/paths";

describe("normaliseWorkspacePath", () => {
  it.each([
    ["a.txt", "a.txt"],
    ["./a.txt", "a.txt"],
    ["a//b/./c", "a/b/c"],
    ["dir/", "dir"],
    ["ünïcödé/файл.txt", "ünïcödé/файл.txt"],
  ])("%s → %s", (raw, expected) => {
    expect(normaliseWorkspacePath(raw)).toBe(expected);
  });

  it.each(["", "/etc/passwd", "../x", "a/../../x", "a/..", "a\u0000b", "a\\..\\b", "a\nb", ".", "./", "x".repeat(256), "ab/".repeat(400)])(
    "refuses %j",
    (raw) => {
      expect(() => normaliseWorkspacePath(raw)).toThrow(/validation_failed/);
    },
  );

  it("keeps a trailing slash on prefixes and treats empty as everything", () => {
    expect(normaliseWorkspacePrefix("src/")).toBe("src/");
    expect(normaliseWorkspacePrefix("src")).toBe("src");
    expect(normaliseWorkspacePrefix(undefined)).toBe("");
    expect(() => normaliseWorkspacePrefix("../")).toThrow();
  });
});
