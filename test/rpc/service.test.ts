import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SandboxerError } from "../../src/errors";
import type { SandboxRecord } from "../../src/schemas/sandbox";
import { api, createSandbox } from "../helpers";

/** The caller Worker's scenarios (test/rpc/caller-worker.mjs), reached over its own binding. */
interface Caller {
  call(method: string, ...args: unknown[]): Promise<Outcome<any>>;
  execWithCallbacks(id: string, code: string): Promise<Outcome<{ result: any; lines: [string, string][] }>>;
  execWithTools(id: string, code: string, options?: { stream?: boolean }): Promise<Outcome<{ result?: any; text?: string; calls: unknown[][] }>>;
  execStreamText(id: string, code: string): Promise<Outcome<string>>;
  viaHandle(id: string): Promise<Outcome<any>>;
  roundTripBytes(id: string, bytes: number[]): Promise<Outcome<{ entry: any; bytes: number[] }>>;
  commandWithCallbacks(id: string, request: Record<string, unknown>): Promise<Outcome<{ result: any; chunks: [string, string][] }>>;
  processesViaHandle(id: string): Promise<Outcome<any>>;
}
type Outcome<T> = { value: T; error?: undefined } | { value?: undefined; error: { name: string; message: string } };

const callers = env as unknown as { CALLER_A: Caller; CALLER_B: Caller; CALLER_NO_TENANT: Caller };
const A = callers.CALLER_A;

/** The value, or a failure that shows what crossed the binding. */
function valueOf<T>(outcome: Outcome<T>): T {
  if (outcome.error) throw new Error(`RPC call failed: ${outcome.error.name}: ${outcome.error.message}`);
  return outcome.value as T;
}

/** The typed error a caller recovers from what crossed the binding. */
function errorOf(outcome: Outcome<unknown>): SandboxerError {
  expect(outcome.error, "expected the call to fail").toBeDefined();
  const crossed = Object.assign(new Error(outcome.error!.message), { name: outcome.error!.name });
  const error = SandboxerError.fromRpc(crossed);
  expect(error, `not a SandboxerError: ${outcome.error!.message}`).toBeDefined();
  return error!;
}

describe("SandboxService over a service binding", () => {
  it("snapshots, forks and restores over RPC, and another tenant's binding cannot see the snapshot", async () => {
    const source = valueOf<SandboxRecord>(await A.call("create", { capabilities: [{ name: "files" }] }));
    valueOf(await A.call("writeFile", source.id, "seed.txt", "v1"));
    const snap = valueOf<any>(await A.call("createSnapshot", source.id, { name: "rpc" }));
    expect(snap).toMatchObject({ name: "rpc", sourceSandboxId: source.id });
    const copy = valueOf<SandboxRecord>(await A.call("create", { fromSnapshot: snap.snapshotId }));
    valueOf(await A.call("writeFile", copy.id, "seed.txt", "v2"));
    valueOf(await A.call("restore", copy.id, { snapshotId: snap.snapshotId }));
    const file = valueOf<any>(await A.call("readFile", copy.id, "seed.txt"));
    expect(new TextDecoder().decode(file.data)).toBe("v1");
    expect(valueOf<any>(await A.call("getSnapshot", snap.snapshotId))).toEqual(snap);
    expect(errorOf(await callers.CALLER_B.call("getSnapshot", snap.snapshotId)).code).toBe("not_found");
    valueOf(await A.call("deleteSnapshot", snap.snapshotId));
    expect(valueOf<any>(await A.call("listSnapshots", { limit: 100 })).snapshots.map((s: any) => s.snapshotId)).not.toContain(snap.snapshotId);
  });

  it("creates, reads and lists a sandbox for the binding's tenant", async () => {
    const created = valueOf<SandboxRecord>(await A.call("create", { ttlSeconds: 600, metadata: { via: "rpc" } }));
    expect(created).toMatchObject({ tenant: "tenant-a", state: "running", metadata: { via: "rpc" } });
    expect(valueOf<SandboxRecord>(await A.call("get", created.id)).id).toBe(created.id);
    const page = valueOf<{ sandboxes: SandboxRecord[] }>(await A.call("list", { metadata: { via: "rpc" } }));
    expect(page.sandboxes.map((s) => s.id)).toContain(created.id);
    // The HTTP API sees the same sandbox for the same tenant.
    expect((await api("GET", `/v1/sandboxes/${created.id}`)).status).toBe(200);
  });
});

describe("exec over RPC", () => {
  it("runOnce runs a snippet in an ephemeral sandbox of the binding's tenant, with files", async () => {
    const result = valueOf(await A.call("runOnce", { code: 'import { n } from "./n.js"; n * 2', files: { "n.js": "export const n = 21;" } }));
    expect(result).toMatchObject({ status: "ok", result: 42, sandboxId: expect.stringMatching(/^sbx_/) });
    expect(await (await api("GET", `/v1/sandboxes/${result.sandboxId}`)).json()).toMatchObject({ state: "stopped", tenant: "tenant-a" });
    expect(errorOf(await A.call("runOnce", { code: "1", profile: "nope" }))).toMatchObject({ code: "validation_failed" });
  });

  it("streams console lines to the caller's callbacks in order and returns the whole result", async () => {
    const { id } = await createSandbox();
    const code = "console.log('one'); console.error('oops'); await new Promise((r) => setTimeout(r, 20)); console.log('two'); 40 + 2";
    const { result, lines } = valueOf(await A.execWithCallbacks(id, code));
    expect(lines).toEqual([
      ["stdout", "one"],
      ["stderr", "oops"],
      ["stdout", "two"],
    ]);
    expect(result).toMatchObject({ status: "ok", result: 42, stdout: "one\ntwo\n", stderr: "oops\n" });
    expect(result.executionId).toMatch(/^exe_/);
  });

  it("execStream gives the same server-sent events as the HTTP route", async () => {
    const { id } = await createSandbox();
    const text = valueOf(await A.execStreamText(id, "console.log('x'); 7"));
    expect(text).toMatch(/^event: stdout\ndata: .*"message":"x"/);
    expect(text).toContain('event: result\ndata: {"result":7}');
    expect(text).toMatch(/event: done\ndata: \{.*"status":"ok"/);
  });

  it("host tools are the caller's functions, called from the snippet as tools.name(args)", async () => {
    const { id } = await createSandbox();
    const { result, calls } = valueOf(await A.execWithTools(id, "const sum = await tools.add({ a: 40, b: 2 });\nconst me = await tools.whoami();\n({ sum, me })"));
    expect(result).toMatchObject({ status: "ok", result: { sum: 42, me: { authorised: true } } });
    expect(calls).toEqual([["add", 40, 2], ["whoami"]]);
  });

  it("host tools work with execStream, where the stubs outlive the call that brought them", async () => {
    const { id } = await createSandbox();
    const { text, calls } = valueOf(await A.execWithTools(id, "await new Promise((r) => setTimeout(r, 50));\nawait tools.add({ a: 1, b: 2 })", { stream: true }));
    expect(text).toContain('event: result\ndata: {"result":3}');
    expect(calls).toEqual([["add", 1, 2]]);
  });

  it("every host-tool call is in the audit log", async () => {
    const { id } = await createSandbox();
    const { result } = valueOf(await A.execWithTools(id, "await tools.add({ a: 1, b: 1 }); await tools.broken().catch(() => 0); 'done'"));
    const audit = await (await api("GET", `/v1/sandboxes/${id}/audit`)).json<any>();
    expect(audit.entries).toEqual([
      expect.objectContaining({ kind: "capability", action: "tools.add", decision: "allowed", executionId: result.executionId }),
      expect.objectContaining({ kind: "capability", action: "tools.broken", decision: "allowed", detail: "failed", executionId: result.executionId }),
    ]);
  });

  it("a tool that throws rejects in the snippet with its message", async () => {
    const { id } = await createSandbox();
    const { result } = valueOf(await A.execWithTools(id, "await tools.broken().catch((e) => e.message)"));
    expect(result).toMatchObject({ status: "ok", result: "upstream_failed: Host tool 'broken' failed: the tool broke" });
  });

  it("host-tool calls count against the subrequest limit: past it the execution is LimitExceeded (subrequests)", async () => {
    const { id } = await createSandbox();
    const { result, calls } = valueOf(
      await A.execWithTools(id, "let n = 0;\nfor (let i = 0; i < 60; i++) { try { await tools.add({ a: i, b: 0 }); n++; } catch {} }\nn"),
    );
    expect(calls).toHaveLength(50);
    expect(result).toMatchObject({ status: "error", error: { name: "LimitExceeded", limit: "subrequests" } });
    const audit = await (await api("GET", `/v1/sandboxes/${id}/audit?limit=1000`)).json<any>();
    // The ten refusals are one aggregated row (repeated failures cannot flood the audit log).
    const refused = audit.entries.filter((e: any) => e.decision === "denied" && e.detail === "subrequest limit");
    expect(refused).toHaveLength(1);
    expect(refused[0].count).toBe(10);
  });

  it("with host tools, error positions on the first line are the same as without", async () => {
    const { id } = await createSandbox();
    for (const code of ["null.x", "let a = 1; a.b.c", "throw new Error('x')", "1 +* 2"]) {
      const plain = await (await api("POST", `/v1/sandboxes/${id}/exec`, { json: { code } })).json<any>();
      const { result } = valueOf(await A.execWithTools(id, code));
      expect(plain.error.line).toBe(1);
      expect({ line: result.error.line, column: result.error.column, stack: result.error.stack }).toEqual({
        line: plain.error.line,
        column: plain.error.column,
        stack: plain.error.stack,
      });
    }
  });

  it("a snippet may declare its own `tools` even when host tools are given", async () => {
    const { id } = await createSandbox();
    const { result } = valueOf(await A.execWithTools(id, "const tools = 5; tools + 1"));
    expect(result).toMatchObject({ status: "ok", result: 6 });
  });

  it("the .d.ts declares the named host tools", async () => {
    const { id } = await createSandbox();
    const text = valueOf<string>(await A.call("types", id, { tools: ["add", "whoami"] }));
    expect(text).toContain("declare const tools: {\n  add(args?: unknown): Promise<unknown>;\n  whoami(args?: unknown): Promise<unknown>;\n};");
  });
});

// Linux sandboxes here run on the container backend against the stand-in container server
// (test/providers/linux/container-standin.mjs); the real jail is covered by test/e2e.
describe("commands and processes over RPC", () => {
  it("runCommand answers the command's result, a non-zero exit included, as over HTTP", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    expect(valueOf(await A.call("runCommand", id, { cmd: "echo hi", env: { A: "1" } }))).toMatchObject({ exitCode: 0, stdout: "hi\n", stderr: "" });
    const failed = valueOf<any>(await A.call("runCommand", id, { cmd: "nosuch" }));
    expect(failed).toMatchObject({ exitCode: 127, stderr: "nosuch: command not found\n" });
    expect(failed.commandId).toMatch(/^exe_/);
  });

  it("streams output chunks to the caller's callbacks and returns the whole result", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const { result, chunks } = valueOf(await A.commandWithCallbacks(id, { cmd: "echo streamed" }));
    expect(chunks).toEqual([["stdout", "streamed\n"]]);
    expect(result).toMatchObject({ exitCode: 0, stdout: "streamed\n" });
  });

  it("starts, lists, inspects and kills a background process, through the service and a handle", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const started = valueOf<any>(await A.call("startProcess", id, { cmd: "sleep 100" }));
    expect(started).toMatchObject({ status: "running", command: "sleep 100" });
    expect(valueOf<any[]>(await A.call("listProcesses", id))).toEqual([expect.objectContaining({ pid: started.pid })]);
    expect(valueOf(await A.call("getProcess", id, started.pid))).toMatchObject({ pid: started.pid, stdoutTail: "tail of stdout\n" });
    expect(valueOf(await A.call("killProcess", id, started.pid))).toMatchObject({ pid: started.pid, status: "killed", exitCode: 137 });
    const viaHandle = valueOf(await A.processesViaHandle(id));
    expect(viaHandle.run).toMatchObject({ exitCode: 0, stdout: "from a handle\n" });
    expect(viaHandle.one).toMatchObject({ pid: viaHandle.started.pid, status: "running" });
    expect(viaHandle.killed).toMatchObject({ status: "killed" });
  });

  it("errors cross with their codes: a bad body, an unknown process, a sandbox without a shell", async () => {
    const { id } = await createSandbox({ profile: "linux" });
    const bad = errorOf(await A.call("runCommand", id, { cmd: "true", argv: ["true"] }));
    expect(bad).toMatchObject({ code: "validation_failed", status: 400 });
    expect(bad.extra.errors).toEqual([{ path: "body.cmd", message: "give exactly one of cmd or argv" }]);
    expect(errorOf(await A.call("getProcess", id, "proc_none"))).toMatchObject({ code: "not_found", status: 404 });
    expect(errorOf(await A.call("startProcess", id, { cmd: "sleep 1", onStdout: "no" }))).toMatchObject({ code: "validation_failed" });
    const js = await createSandbox();
    expect(errorOf(await A.call("runCommand", js.id, { cmd: "echo hi" }))).toMatchObject({ code: "limit_exceeded", status: 422 });
  });
});

describe("files and handles over RPC", () => {
  it("writes and reads bytes unchanged", async () => {
    const { id } = await createSandbox();
    const bytes = [0, 255, 1, 254, 0, 10, 13, 128];
    const out = valueOf(await A.roundTripBytes(id, bytes));
    expect(out.bytes).toEqual(bytes);
    expect(out.entry).toMatchObject({ path: "bin/data.bin", size: 8 });
  });

  it("sandbox(id) hands out an RpcTarget with the same methods bound to one sandbox", async () => {
    const { id } = await createSandbox();
    const out = valueOf(await A.viaHandle(id));
    expect(out).toMatchObject({ id, state: "running", run: { status: "ok", result: 42, stdout: "hi\n" } });
    expect(out.files).toEqual([expect.objectContaining({ path: "notes/a.txt", size: 13 })]);
  });
});

describe("code contexts over RPC", () => {
  it("createContext, exec with context, listContexts and deleteContext work over the binding", async () => {
    const { id } = await createSandbox();
    const { contextId } = valueOf<{ contextId: string }>(await A.call("createContext", id));
    valueOf(await A.call("exec", id, { code: "const greeting = 'hi'; function shout(s) { return s.toUpperCase() }", context: contextId }));
    expect(valueOf<any>(await A.call("exec", id, { code: "shout(greeting)", context: contextId }))).toMatchObject({ status: "ok", result: "HI", contextDropped: [] });
    expect(valueOf<any[]>(await A.call("listContexts", id))).toEqual([expect.objectContaining({ contextId, cells: 2, bindings: ["greeting", "shout"] })]);
    valueOf(await A.call("deleteContext", id, contextId));
    expect(errorOf(await A.call("deleteContext", id, contextId))).toMatchObject({ code: "not_found", status: 404 });
  });
});

describe("errors cross the binding with their code", () => {
  it("an unknown sandbox is not_found (404)", async () => {
    const error = errorOf(await A.call("get", "sbx_aaaaaaaaaaaaaaaaaaaaaaaaaa"));
    expect(error).toMatchObject({ code: "not_found", status: 404, detail: "No such sandbox." });
  });

  it("a stopped sandbox is sandbox_stopped (410) with its reason", async () => {
    const { id } = await createSandbox();
    valueOf(await A.call("destroy", id));
    const error = errorOf(await A.call("exec", id, { code: "1" }));
    expect(error).toMatchObject({ code: "sandbox_stopped", status: 410, extra: { reason: "deleted" } });
  });

  it("a limit above the profile's is limit_exceeded (422)", async () => {
    const error = errorOf(await A.call("create", { ttlSeconds: 10_000_000 }));
    expect(error).toMatchObject({ code: "limit_exceeded", status: 422, extra: { limit: "ttlSeconds", max: 86400 } });
  });

  it("a bad argument is validation_failed (400) listing each field, as over HTTP", async () => {
    const { id } = await createSandbox();
    const error = errorOf(await A.call("exec", id, { code: "", language: "cobol" }));
    expect(error.code).toBe("validation_failed");
    expect((error.extra.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(["body.code", "body.language"]);
    expect(errorOf(await A.call("readFile", id, "../etc/passwd")).code).toBe("validation_failed");
  });

  it("the message alone reads as code and detail", async () => {
    const outcome = await A.call("get", "sbx_aaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect(outcome.error?.message).toMatch(/^not_found: No such sandbox\. /);
  });

  it("malformed options are validation_failed (400), never an internal error", async () => {
    const { id } = await createSandbox();
    for (const options of [{ ifMatch: 42 }, { ifMatch: ["*"] }]) {
      const error = errorOf(await A.call("update", id, { metadata: { a: "1" } }, options));
      expect(error).toMatchObject({ code: "validation_failed", status: 400 });
      expect((error.extra.errors as { path: string }[]).map((e) => e.path)).toEqual(["options.ifMatch"]);
    }
    expect(errorOf(await A.call("create", {}, { idempotencyKey: 7 }))).toMatchObject({ code: "validation_failed", status: 400 });
    expect(errorOf(await A.call("create", {}, { idempotencyKey: "" }))).toMatchObject({ code: "validation_failed", status: 400 });
    // null options mean none, as undefined does.
    expect(valueOf<SandboxRecord>(await A.call("update", id, { metadata: { a: "2" } }, null)).metadata).toEqual({ a: "2" });
    expect(valueOf<SandboxRecord>(await A.call("create", {}, null)).state).toBe("running");
  });

  it("a stale ifMatch is precondition_failed (412)", async () => {
    const { id } = await createSandbox();
    const error = errorOf(await A.call("update", id, { metadata: { a: "1" } }, { ifMatch: '"999"' }));
    expect(error).toMatchObject({ code: "precondition_failed", status: 412 });
  });
});

describe("tenants over RPC", () => {
  it("a binding sees only its own tenant's sandboxes", async () => {
    const mine = valueOf<SandboxRecord>(await callers.CALLER_B.call("create", {}));
    expect(mine.tenant).toBe("tenant-b");
    expect(errorOf(await A.call("get", mine.id)).code).toBe("not_found");
    expect(errorOf(await A.call("exec", mine.id, { code: "1" })).code).toBe("not_found");
    const page = valueOf<{ sandboxes: SandboxRecord[] }>(await A.call("list", {}));
    expect(page.sandboxes.map((s) => s.id)).not.toContain(mine.id);
    // And HTTP with tenant A's key agrees.
    expect((await api("GET", `/v1/sandboxes/${mine.id}`)).status).toBe(404);
  });

  it("a binding without a tenant is refused with unauthorized", async () => {
    const none = callers.CALLER_NO_TENANT;
    expect(errorOf(await none.call("create", {}))).toMatchObject({ code: "unauthorized", status: 401 });
    expect(errorOf(await none.call("profiles"))).toMatchObject({ code: "unauthorized" });
    const { id } = await createSandbox();
    expect(errorOf(await none.call("get", id)).code).toBe("unauthorized");
  });
});

describe("every door stays in step with HTTP", () => {
  /**
   * Each HTTP operation and the SandboxService method that does the same. A route added
   * without its RPC method (or a method renamed) fails here, not in a caller's Worker.
   * `runCommand` also starts background processes (`background: true`), as over HTTP.
   */
  const RPC_METHOD_OF: Record<string, string> = {
    createSandbox: "create", getSandbox: "get", listSandboxes: "list", updateSandbox: "update",
    keepaliveSandbox: "keepalive", deleteSandbox: "destroy", execCode: "exec", execCodeStream: "execStream",
    runOnce: "runOnce", runCommand: "runCommand", runCommandStream: "runCommand", listProcesses: "listProcesses",
    getProcess: "getProcess", killProcess: "killProcess", createContext: "createContext", listContexts: "listContexts",
    deleteContext: "deleteContext", createSnapshot: "createSnapshot", restoreSandbox: "restore", pauseSandbox: "pause",
    resumeSandbox: "resume", listSnapshots: "listSnapshots", getSnapshot: "getSnapshot", deleteSnapshot: "deleteSnapshot",
    readFile: "readFile", writeFile: "writeFile", listFiles: "listFiles", deleteFile: "deleteFile",
    listExecutions: "executions", listAudit: "audit", getTypes: "types", putSecret: "putSecret",
    listSecrets: "listSecrets", deleteSecret: "deleteSecret", listProfiles: "profiles",
  };

  it("each OpenAPI operation has its SandboxService method, and each per-sandbox one its SandboxHandle method", async () => {
    const { SandboxService } = await import("../../src/rpc/service");
    const { SandboxHandle } = await import("../../src/rpc/handle");
    const doc = await (await api("GET", "/v1/openapi.json", { as: null })).json<any>();
    const operations = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
      Object.values(item).map((op: any) => ({ path, operationId: op.operationId as string })),
    );
    expect(operations.map((o) => o.operationId).filter((id) => !(id in RPC_METHOD_OF))).toEqual([]);
    for (const { path, operationId } of operations) {
      const method = RPC_METHOD_OF[operationId]!;
      expect(typeof (SandboxService.prototype as any)[method], `SandboxService.${method} for ${operationId}`).toBe("function");
      if (path.startsWith("/v1/sandboxes/{id}")) {
        expect(typeof (SandboxHandle.prototype as any)[method], `SandboxHandle.${method} for ${operationId}`).toBe("function");
      }
    }
  });
});
