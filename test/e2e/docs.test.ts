import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startService, type Service } from "./service";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
let service: Service;

beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

describe("the API reference", () => {
  it("Redocly's recommended ruleset finds no error in the OpenAPI document", async () => {
    const document = await (await fetch(`${service.url}/v1/openapi.json`)).text();
    const file = join(mkdtempSync(join(tmpdir(), "sandboxer-openapi-")), "openapi.json");
    writeFileSync(file, document);
    const { stdout } = await run(process.execPath, [join(ROOT, "node_modules/@redocly/cli/bin/cli.js"), "lint", "--extends", "recommended", "--format", "json", file], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    }).catch((error) => error);
    const report = JSON.parse(stdout);
    const errors = report.problems.filter((p: { severity: string }) => p.severity === "error");
    expect(errors, JSON.stringify(errors, null, 2)).toEqual([]);
    // Accepted warnings: no license is declared (the project has none yet), and a local server URL.
    const warnings = report.problems.map((p: { ruleId: string }) => p.ruleId);
    expect(warnings.filter((rule: string) => !["info-license", "no-server-example.com"].includes(rule))).toEqual([]);
  });

  it("/docs renders the operations in a real browser, loading nothing from another origin", async () => {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      const requested: string[] = [];
      page.on("request", (request) => void requested.push(request.url()));
      await page.goto(`${service.url}/docs`);
      for (const summary of ["Create a sandbox", "List sandboxes", "Execution history", "Store a secret"]) {
        await page.getByText(summary, { exact: false }).first().waitFor({ timeout: 20_000 });
      }
      const origins = new Set(requested.filter((url) => !url.startsWith("data:") && !url.startsWith("blob:")).map((url) => new URL(url).origin));
      expect([...origins]).toEqual([service.url]);
    } finally {
      await browser.close();
    }
  });
});
