import { describe, expect, it } from "vitest";
import { api, createSandbox } from "../helpers";

/** The provider contract as the API shows it: which backend serves a sandbox, and what it refuses. */
describe("providers", () => {
  it("a js sandbox says it runs in a V8 isolate, and its exec behaves as before", async () => {
    const created = await createSandbox();
    expect(created).toMatchObject({ provider: "isolate", isolationLevel: "v8-isolate" });
    const res = await api("POST", `/v1/sandboxes/${created.id}/exec`, { json: { code: "1+2" } });
    expect(await res.json()).toMatchObject({ status: "ok", result: 3 });
  });

  it("python on a js sandbox is a 422 naming the linux profile", async () => {
    const { id } = await createSandbox();
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code: "print(1)", language: "python" } });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: "limit_exceeded", limit: "language", profile: "linux" });
  });

  it("commands and processes on a js sandbox are 422s naming the linux profiles", async () => {
    const { id } = await createSandbox();
    const run = await api("POST", `/v1/sandboxes/${id}/commands`, { json: { cmd: "ls" } });
    expect(run.status).toBe(422);
    expect(((await run.json()) as any).detail).toContain("profile 'linux'");
    expect((await api("GET", `/v1/sandboxes/${id}/processes`)).status).toBe(422);
  });

  it("a command body needs exactly one of cmd and argv", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const res = await api("POST", `/v1/sandboxes/${id}/commands`, { json: { cwd: "x" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].path).toBe("body.cmd");
  });

  it("the profiles list includes linux and linux-net with their provider", async () => {
    const { profiles } = await (await api("GET", "/v1/profiles")).json<any>();
    expect(profiles.map((p: any) => [p.name, p.provider])).toEqual(
      expect.arrayContaining([
        ["linux", "linux"],
        ["linux-net", "linux"],
      ]),
    );
  });
});
