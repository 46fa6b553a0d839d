import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashSession, outputMatches, readmeBlocks } from "./readme";
import { startService, type Service } from "./service";

const ROOT = join(import.meta.dirname, "..", "..");
/** The address the README's examples use; the test's service listens elsewhere. */
const README_URL = "http://localhost:8787";

let service: Service;
let bash: ReturnType<typeof bashSession>;

beforeAll(async () => {
  service = await startService();
  bash = bashSession({}, ROOT);
});
afterAll(async () => {
  bash?.close();
  await service?.stop();
});

describe("the README, followed top to bottom", () => {
  const blocks = readmeBlocks(readFileSync(join(ROOT, "README.md"), "utf8"));

  it("has a walkthrough to run", () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  for (const block of blocks) {
    it(`the block at README.md:${block.line} does what it says`, async () => {
      const code = block.code.replaceAll(README_URL, service.url);
      const { stdout, stderr, status, failed } = await bash.run(code);
      expect(status, `exit status of:\n${block.code}\nstderr:\n${stderr}`).toBe(0);
      expect(failed, `commands that failed in:\n${block.code}\nstderr:\n${stderr}`).toEqual([]);
      if (block.expected) {
        const problem = outputMatches(block.expected, stdout.replaceAll(service.url, README_URL));
        expect(problem, `README.md:${block.line}\n${block.code}\nstderr:\n${stderr}`).toBeNull();
      }
    });
  }
});
