import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, sleep, startService, type Client, type Service } from "./service";

let service: Service;
let api: Client;
const MAX_RSS_MB = 1024;

beforeAll(async () => {
  service = await startService({ SANDBOXER_MAX_RSS_MB: String(MAX_RSS_MB) });
  api = client(service.url);
});
afterAll(async () => {
  if (process.env.SANDBOXER_DEBUG) console.log(service?.stderr());
  await service?.stop();
});

/** One exec, retried once on 503 after Retry-After (the documented client behaviour). */
async function execOnce(id: string, code: string) {
  let res = await api.exec(id, code);
  if (res.status === 503) {
    await sleep(Number(res.headers?.get?.("retry-after") ?? 1) * 1000);
    res = await api.exec(id, code);
  }
  return res;
}

describe("load", () => {
  it.runIf(process.env.SANDBOXER_SKIP_LONG !== "1")("3,000 execs in a row are all answered and the runtime stays under its memory ceiling", async () => {
    const id = await api.createSandbox({ ttlSeconds: 3600 });
    let maxRss = 0;
    for (let i = 0; i < 3000; i++) {
      const res = await execOnce(id, `${i} + 1`);
      expect(res.status, `exec ${i}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.body.result).toBe(i + 1);
      if (i % 100 === 0) {
        const health = await (await fetch(`${service.url}/healthz`)).json();
        maxRss = Math.max(maxRss, health.runtime.rssMb);
      }
    }
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(MAX_RSS_MB);
  }, 600_000);

  it("200 concurrent execs across 50 sandboxes: none lost, none duplicated", async () => {
    const ids = await Promise.all(Array.from({ length: 50 }, () => api.createSandbox()));
    const jobs = Array.from({ length: 200 }, (_, n) => ({ n, id: ids[n % 50]! }));
    const results = await Promise.all(jobs.map(({ n, id }) => execOnce(id, `await new Promise((r) => setTimeout(r, 10)); ${n}`)));
    for (const [i, res] of results.entries()) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.result).toBe(i);
    }
    expect(new Set(results.map((r) => r.body.executionId)).size).toBe(200);
    for (const id of ids) {
      const history = await api.call("GET", `/v1/sandboxes/${id}/executions`);
      expect(history.body.executions.filter((e: any) => e.status === "ok")).toHaveLength(4);
    }
  }, 300_000);
});
