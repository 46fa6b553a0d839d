import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, KEY, startService, type Client, type Service } from "./service";

// Issue 18's bench load against the supervised service: a 10 MiB / 1,000-file workspace,
// snapshotted, then forked ten ways at once. Locally every sandbox shares one workerd event
// loop with the supervisor's health probe; this load once held it long enough for the
// supervisor to restart the runtime (503 to every fork). Legitimate API use must never do that.

const FILES = 1000;
const FILE_BYTES = 10 * 1024;
const COPIES = 10;

let service: Service;
let api: Client;
let sourceId: string;
let snapshotId: string;

/** File i's bytes: its index in the first two bytes, so a file mixed up with another is caught. */
function fileBody(i: number): Uint8Array {
  const body = new Uint8Array(FILE_BYTES).fill(i % 251);
  body[0] = i >> 8;
  body[1] = i & 0xff;
  return body;
}

async function putFile(id: string, path: string, body: Uint8Array): Promise<void> {
  const res = await fetch(`${service.url}/v1/sandboxes/${id}/files/${path}`, { method: "PUT", headers: { Authorization: `Bearer ${KEY}` }, body });
  expect(res.status).toBe(201);
  await res.arrayBuffer();
}

async function readFile(id: string, path: string): Promise<Uint8Array> {
  const res = await fetch(`${service.url}/v1/sandboxes/${id}/files/${path}`, { headers: { Authorization: `Bearer ${KEY}` } });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

async function restarts(): Promise<number> {
  return ((await (await fetch(`${service.url}/healthz`)).json()) as any).runtime.restarts.total;
}

beforeAll(async () => {
  service = await startService();
  api = client(service.url);
  sourceId = await api.createSandbox({ ttlSeconds: 600 });
  for (let i = 0; i < FILES; i += 25) {
    await Promise.all(Array.from({ length: 25 }, (_, k) => putFile(sourceId, `data/f${i + k}.bin`, fileBody(i + k))));
  }
  const snap = await api.call("POST", `/v1/sandboxes/${sourceId}/snapshots`, {});
  expect(snap.status).toBe(201);
  snapshotId = snap.body.snapshotId;
});

afterAll(async () => {
  await service?.stop();
});

describe("snapshots under load on the supervised service", () => {
  let forks: string[] = [];

  it("ten concurrent forks of a 10 MiB / 1,000-file snapshot all answer 201, hold every file, and the runtime is not restarted", async () => {
    const before = await restarts();
    const answers = await Promise.all(Array.from({ length: COPIES }, () => api.call("POST", "/v1/sandboxes", { fromSnapshot: snapshotId, ttlSeconds: 600 })));
    expect(answers.map((a) => a.status)).toEqual(Array(COPIES).fill(201));
    forks = answers.map((a) => a.body.id);
    expect(await restarts()).toBe(before);
    for (const id of forks) {
      const listed = await api.call("GET", `/v1/sandboxes/${id}/files`);
      expect(listed.status).toBe(200);
      expect(listed.body).toHaveLength(FILES);
      expect(listed.body.every((entry: { size: number }) => entry.size === FILE_BYTES)).toBe(true);
    }
    for (const [n, id] of forks.entries()) {
      const i = (n * 97) % FILES;
      expect(await readFile(id, `data/f${i}.bin`)).toEqual(fileBody(i));
    }
  });

  it("ten concurrent snapshots of those copies all answer 201 and the runtime is not restarted", async () => {
    expect(forks).toHaveLength(COPIES);
    const before = await restarts();
    const answers = await Promise.all(forks.map((id) => api.call("POST", `/v1/sandboxes/${id}/snapshots`, {})));
    expect(answers.map((a) => a.status)).toEqual(Array(COPIES).fill(201));
    expect(await restarts()).toBe(before);
  });
});
