import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SandboxerError } from "../../src/errors";
import { operations } from "../../src/operations";
import { api, problemOf } from "../helpers";

/** What an operation threw, as a SandboxerError. */
async function thrown(promise: Promise<unknown>): Promise<SandboxerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SandboxerError);
  return error as SandboxerError;
}

describe("the operation layer", () => {
  it("refuses to run without a tenant, whatever the door", () => {
    expect(() => operations(env, "")).toThrow(SandboxerError);
    expect(() => operations(env, undefined as unknown as string)).toThrow(/unauthorized/);
  });

  it("validates with the same schemas as HTTP: the same codes and error paths", async () => {
    const body = { ttlSeconds: "soon", profile: 7 };
    const direct = await thrown(operations(env, "tenant-a").create(body as never));
    const overHttp = await (await api("POST", "/v1/sandboxes", { json: body })).json<any>();
    expect(direct.code).toBe(overHttp.code);
    expect(direct.extra.errors).toEqual(overHttp.errors);
  });

  it("a sandbox created by an operation is the tenant's over HTTP, and only that tenant's", async () => {
    const { sandbox, replayed } = await operations(env, "tenant-a").create({ metadata: { via: "ops" } });
    expect(replayed).toBe(false);
    expect((await api("GET", `/v1/sandboxes/${sandbox.id}`)).status).toBe(200);
    expect((await api("GET", `/v1/sandboxes/${sandbox.id}`, { as: "b" })).status).toBe(404);
    expect((await thrown(operations(env, "tenant-b").get(sandbox.id))).code).toBe("not_found");
  });

  it("an idempotency key replays the same sandbox and refuses another body", async () => {
    const ops = operations(env, "tenant-a");
    const first = await ops.create({ ttlSeconds: 60 }, { idempotencyKey: "ops-key-1" });
    const again = await ops.create({ ttlSeconds: 60 }, { idempotencyKey: "ops-key-1" });
    expect(again).toEqual({ sandbox: expect.objectContaining({ id: first.sandbox.id }), replayed: true });
    expect((await thrown(ops.create({ ttlSeconds: 61 }, { idempotencyKey: "ops-key-1" }))).code).toBe("idempotency_conflict");
  });

  it("files take text or bytes and normalise paths", async () => {
    const ops = operations(env, "tenant-a");
    const { sandbox } = await ops.create();
    await ops.writeFile(sandbox.id, "a//b/./c.txt", "hé");
    await ops.writeFile(sandbox.id, "raw.bin", new Uint8Array([0, 255]));
    expect(new TextDecoder().decode((await ops.readFile(sandbox.id, "a/b/c.txt")).data)).toBe("hé");
    expect([...(await ops.readFile(sandbox.id, "raw.bin")).data]).toEqual([0, 255]);
    expect((await thrown(ops.readFile(sandbox.id, "../x"))).code).toBe("validation_failed");
    expect((await thrown(ops.writeFile(sandbox.id, "x", 5 as never))).code).toBe("validation_failed");
  });

  it("host tools must be named functions", async () => {
    const ops = operations(env, "tenant-a");
    const { sandbox } = await ops.create();
    const error = await thrown(ops.exec(sandbox.id, { code: "1" }, { tools: { "not a name": () => 1, ok: 5 } as never }));
    expect(error.code).toBe("validation_failed");
    expect((error.extra.errors as { path: string }[]).map((e) => e.path)).toEqual(["tools.not a name", "tools.ok"]);
  });

  it("the HTTP door leaves checks to the operation: an empty metadata filter key is the operation's 400", async () => {
    const direct = await thrown(operations(env, "tenant-a").list({ metadata: { "": "x" } }));
    const { status, body } = await problemOf(await api("GET", "/v1/sandboxes?metadata.=x"));
    expect(status).toBe(400);
    expect(body.code).toBe(direct.code);
    expect(body.errors).toEqual(direct.extra.errors);
    expect(body.errors[0].path).toMatch(/^query\.metadata/);
  });
});

describe("commands and processes in the operation layer", () => {
  it("a bad command body is the same validation_failed, with the same paths, as over HTTP", async () => {
    const { sandbox } = await operations(env, "tenant-a").create({ profile: "linux" });
    const body = { cmd: "echo hi", argv: ["echo"], timeoutMs: -1, env: { "1BAD": "x" } };
    const direct = await thrown(operations(env, "tenant-a").runCommand(sandbox.id, body as never));
    const overHttp = await (await api("POST", `/v1/sandboxes/${sandbox.id}/commands`, { json: body })).json<any>();
    expect(direct.code).toBe("validation_failed");
    expect(overHttp.code).toBe("validation_failed");
    expect(direct.extra.errors).toEqual(overHttp.errors);
    expect((direct.extra.errors as { path: string }[]).map((e) => e.path)).toEqual(expect.arrayContaining(["body.timeoutMs", "body.env.1BAD"]));
  });

  it("a malformed process id is refused before any sandbox is asked, on every method that takes one", async () => {
    const ops = operations(env, "tenant-a");
    for (const call of [() => ops.getProcess("sbx_none", "../etc"), () => ops.killProcess("sbx_none", "")]) {
      const error = await thrown(call());
      expect(error.code).toBe("validation_failed");
      expect((error.extra.errors as { path: string }[])[0]!.path).toBe("path.pid");
    }
  });

  it("runCommand refuses background: true and names startProcess", async () => {
    const { sandbox } = await operations(env, "tenant-a").create({ profile: "linux" });
    const error = await thrown(operations(env, "tenant-a").runCommand(sandbox.id, { cmd: "sleep 1", background: true }));
    expect(error.code).toBe("validation_failed");
    expect(error.detail).toContain("startProcess");
    expect(error.extra.errors).toEqual([{ path: "body.background", message: "use startProcess for a background command" }]);
  });

  it("a js sandbox has no shell: limit_exceeded naming the linux profiles", async () => {
    const { sandbox } = await operations(env, "tenant-a").create({});
    const error = await thrown(operations(env, "tenant-a").runCommand(sandbox.id, { cmd: "echo hi" }));
    expect(error.code).toBe("limit_exceeded");
    expect(error.extra).toMatchObject({ limit: "commands", profiles: ["linux", "linux-net"] });
  });
});
