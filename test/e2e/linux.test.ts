import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cgroupV1Writable, client, KEY, livePids, sleep, startService, type Client, type Service } from "./service";

/**
 * Linux sandboxes end to end: the supervised service (`npm start`) with its real jail host,
 * real bubblewrap jails, real processes. Nothing here is faked.
 */

/** Host processes running exactly `sleep <seconds>` (the host sees every jail's processes). */
function hostProcesses(seconds: string): number[] {
  return livePids((cmd) => cmd === `sleep\0${seconds}\0`);
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

let service: Service;
let api: Client;

async function linuxSandbox(body: Record<string, unknown> = {}): Promise<string> {
  return api.createSandbox({ profile: "linux", ...body });
}

async function run(id: string, body: Record<string, unknown>) {
  return api.call("POST", `/v1/sandboxes/${id}/commands`, body);
}

async function rawFile(id: string, path: string, init: RequestInit = {}) {
  return fetch(`${service.url}/v1/sandboxes/${id}/files/${path}`, { ...init, headers: { Authorization: `Bearer ${KEY}`, ...(init.headers ?? {}) } });
}

beforeAll(async () => {
  service = await startService();
  api = client(service.url);
});

afterAll(async () => {
  await service?.stop();
});

describe("linux sandboxes: commands", () => {
  it("runs the newcomer's first command: hi and 42 with exit code 0, on the local jail", async () => {
    const created = await api.call("POST", "/v1/sandboxes", { profile: "linux" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ profile: "linux", provider: "linux-jail", isolationLevel: "linux-namespaces" });
    const res = await run(created.body.id, { cmd: "echo hi && python3 -c 'print(6*7)'" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ exitCode: 0, stdout: "hi\n42\n", stderr: "" });
    expect(res.body.commandId).toMatch(/^exe_/);
  });

  it("has bash, coreutils, python3, node and git", async () => {
    const id = await linuxSandbox();
    const res = await run(id, { cmd: "bash --version | head -1 && ls --version | head -1 && python3 --version && node --version && git --version" });
    expect(res.body.exitCode).toBe(0);
    expect(res.body.stdout).toMatch(/GNU bash/);
    expect(res.body.stdout).toMatch(/Python 3\./);
    expect(res.body.stdout).toMatch(/v\d+\./);
    expect(res.body.stdout).toMatch(/git version/);
  });

  it("reports exit codes, runs argv without a shell, and honours cwd, env and stdin", async () => {
    const id = await linuxSandbox({ env: { FROM_SANDBOX: "yes" } });
    expect((await run(id, { cmd: "exit 7" })).body.exitCode).toBe(7);
    const argv = await run(id, { argv: ["printf", "%s|", "a b", "$HOME", "'q'"] });
    expect(argv.body.stdout).toBe("a b|$HOME|'q'|");
    await run(id, { cmd: "mkdir -p sub" });
    const cwd = await run(id, { cmd: "pwd; echo $FROM_SANDBOX $FROM_CALL", cwd: "sub", env: { FROM_CALL: "too" } });
    expect(cwd.body.stdout).toBe("/workspace/sub\nyes too\n");
    const stdin = await run(id, { cmd: "wc -c; cat | od -An -tx1 | head -1", stdin: "hello" });
    expect(stdin.body.stdout.split("\n")[0].trim()).toBe("5");
  });

  it("a command runs in a login bash (bash -lc, as documented), without the client's wrapping variables", async () => {
    const id = await linuxSandbox();
    const res = await run(id, { cmd: 'shopt -q login_shell && echo login; echo "${SANDBOXER_CMD-none} ${SANDBOXER_STDIN_B64-none}"; cat', stdin: "in" });
    expect(res.body).toMatchObject({ exitCode: 0, stdout: "login\nnone none\nin" });
  });

  it("binary garbage on stdin is harmless", async () => {
    const id = await linuxSandbox();
    const garbage = String.fromCharCode(...Array.from({ length: 2000 }, (_, i) => (i * 7919) % 0xd7ff));
    const res = await run(id, { cmd: "wc -c", stdin: garbage });
    expect(res.status).toBe(200);
    expect(Number(res.body.stdout.trim())).toBe(Buffer.byteLength(garbage));
  });

  it("streams stdout and stderr in the order they are produced, then exit", async () => {
    const id = await linuxSandbox();
    const res = await fetch(`${service.url}/v1/sandboxes/${id}/commands`, {
      method: "POST",
      headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ cmd: "echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three; exit 4" }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const arrivals: { event: string; at: number; data: any }[] = [];
    const started = Date.now();
    const reader = res.body!.getReader();
    let buffered = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += new TextDecoder().decode(value);
      let end;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1] ?? "";
        const data = JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? "null");
        arrivals.push({ event, at: Date.now() - started, data });
      }
    }
    expect(arrivals.map((a) => `${a.event}:${a.data.data ?? a.data.exitCode}`)).toEqual(["stdout:one\n", "stderr:two\n", "stdout:three\n", "exit:4"]);
    // Each chunk arrived while the command ran, not all at the end.
    expect(arrivals[1]!.at - arrivals[0]!.at).toBeGreaterThan(200);
    expect(arrivals[3]!.data).toMatchObject({ exitCode: 4, stdout: "one\nthree\n", stderr: "two\n" });
  });

  it("commands go into the execution history", async () => {
    const id = await linuxSandbox();
    await run(id, { cmd: "true" });
    await run(id, { cmd: "false" });
    const history = await api.call("GET", `/v1/sandboxes/${id}/executions`);
    expect(history.body.executions.map((e: any) => [e.language, e.status])).toEqual([
      ["command", "error"],
      ["command", "ok"],
    ]);
  });

  it("exec runs python and bash on linux; js on linux and python on js are 422s naming the profile to use", async () => {
    const id = await linuxSandbox();
    const py = await api.exec(id, "import json\nprint(json.dumps({'n': 6*7}))", { language: "python" });
    expect(py.body).toMatchObject({ status: "ok", stdout: '{"n": 42}\n', exitCode: 0 });
    // Code past what the environment carries runs from a file, removed afterwards.
    const big = await api.exec(id, `x = "${"a".repeat(100_000)}"\nprint(len(x))`, { language: "python" });
    expect(big.body).toMatchObject({ status: "ok", stdout: "100000\n" });
    expect((await api.call("GET", `/v1/sandboxes/${id}/files`)).body).toEqual([]);
    const sh = await api.exec(id, "echo $((6*7)); exit 3", { language: "bash" });
    expect(sh.body).toMatchObject({ status: "error", stdout: "42\n", exitCode: 3, error: { name: "NonZeroExit" } });
    const jsOnLinux = await api.exec(id, "1+1", { language: "js" });
    expect(jsOnLinux.status).toBe(422);
    expect(jsOnLinux.body.detail).toContain("profile 'js'");
    const js = await api.createSandbox();
    const pyOnJs = await api.exec(js, "print(1)", { language: "python" });
    expect(pyOnJs.status).toBe(422);
    expect(pyOnJs.body).toMatchObject({ code: "limit_exceeded", profile: "linux" });
    expect(pyOnJs.body.detail).toContain("profile 'linux'");
    const cmdOnJs = await run(js, { cmd: "ls" });
    expect(cmdOnJs.status).toBe(422);
    expect(cmdOnJs.body.detail).toContain("profile 'linux'");
  });

  it("bad command bodies are 400s that name the field", async () => {
    const id = await linuxSandbox();
    const both = await run(id, { cmd: "ls", argv: ["ls"] });
    expect(both.status).toBe(400);
    expect(both.body.errors[0].path).toBe("body.cmd");
    const nul = await run(id, { cmd: "echo a\u0000b" });
    expect(nul.status).toBe(400);
    expect(nul.body.errors[0]).toMatchObject({ path: "body.cmd", message: "must not contain NUL characters" });
    const envNul = await api.call("POST", "/v1/sandboxes", { profile: "linux", env: { BAD: "a\u0000b" } });
    const badEnv = await run(envNul.body.id, { cmd: "true" });
    expect(badEnv.status).toBe(400);
    expect(badEnv.headers.get("content-type")).toContain("application/problem+json");
    const tooLong = await run(id, { cmd: "true", timeoutMs: 10_000_000 });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({ limit: "timeoutMs" });
  });
});

describe("linux sandboxes: files", () => {
  it("a file uploaded through the API is readable by a command at once, byte for byte, and the reverse", async () => {
    const id = await linuxSandbox();
    const bytes = new Uint8Array(256).map((_, i) => i);
    expect((await rawFile(id, "data/all-bytes.bin", { method: "PUT", body: bytes })).status).toBe(201);
    const seen = await run(id, { cmd: "sha256sum data/all-bytes.bin | cut -d' ' -f1; python3 -c \"import sys; d=open('data/all-bytes.bin','rb').read(); print(len(d), d==bytes(range(256)))\"" });
    const { createHash } = await import("node:crypto");
    expect(seen.body.stdout).toBe(`${createHash("sha256").update(bytes).digest("hex")}\n256 True\n`);
    await run(id, { cmd: "python3 -c \"open('made.bin','wb').write(bytes(range(255,-1,-1)))\"" });
    const back = await rawFile(id, "made.bin");
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(new Uint8Array(256).map((_, i) => 255 - i));
    const list = await api.call("GET", `/v1/sandboxes/${id}/files?prefix=data/`);
    expect(list.body).toEqual([expect.objectContaining({ path: "data/all-bytes.bin", size: 256 })]);
    expect((await rawFile(id, "made.bin", { method: "DELETE" })).status).toBe(204);
    expect((await run(id, { cmd: "test -e made.bin" })).body.exitCode).toBe(1);
    expect((await rawFile(id, "made.bin")).status).toBe(404);
  });

  it("the files API does not follow a symlink out of the workspace", async () => {
    const id = await linuxSandbox();
    await run(id, { cmd: "ln -s /etc/passwd passwd-link && ln -s / rootdir && ln -s /proc/1/environ env-link" });
    for (const path of ["passwd-link", "rootdir/etc/passwd", "env-link"]) {
      const res = await rawFile(id, path);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as any).code).toBe("validation_failed");
    }
    const write = await rawFile(id, "rootdir/tmp/x", { method: "PUT", body: "x" });
    expect(write.status).toBe(400);
  });
});

describe("linux sandboxes: snapshots", () => {
  it("a workspace with symlinks (one out of /workspace) snapshots, forks, pauses and resumes; the links are left out, by name", async () => {
    const id = await linuxSandbox();
    await run(id, { cmd: "mkdir -p venv/bin && echo kept > kept.txt && ln -s /usr/bin/python3 venv/bin/python && ln -s kept.txt inside-link && ln -s /etc/passwd passwd-link" });
    const listed = await api.call("GET", `/v1/sandboxes/${id}/files?prefix=passwd`);
    expect(listed.body).toEqual([expect.objectContaining({ path: "passwd-link", symlink: true })]);
    const snap = await api.call("POST", `/v1/sandboxes/${id}/snapshots`, {});
    expect(snap.status).toBe(201);
    expect(snap.body.skippedSymlinks).toEqual(["inside-link", "passwd-link", "venv/bin/python"]);
    const fork = await api.call("POST", "/v1/sandboxes", { fromSnapshot: snap.body.snapshotId });
    expect(fork.status).toBe(201);
    // Only the regular file came along: no link, and no copy of what a link pointed at.
    expect((await run(fork.body.id, { cmd: "find . -mindepth 1 -not -type d" })).body.stdout).toBe("./kept.txt\n");
    const paused = await api.call("POST", `/v1/sandboxes/${id}/pause`);
    expect(paused.status).toBe(200);
    const audit = await api.call("GET", `/v1/sandboxes/${id}/audit`);
    expect(audit.body.entries.find((e: any) => e.action === "pause").detail).toContain("passwd-link");
    expect((await api.call("POST", `/v1/sandboxes/${id}/resume`)).status).toBe(200);
    expect((await run(id, { cmd: "cat kept.txt; find . -mindepth 1 -not -type d" })).body.stdout).toBe("kept\n./kept.txt\n");
  });
});

describe("linux sandboxes: background processes", () => {
  it("starts, lists, inspects (with the output tail) and kills a process tree", async () => {
    const id = await linuxSandbox();
    const started = await run(id, { cmd: "echo started; sleep 987651 & sleep 987652 & wait", background: true });
    expect(started.status).toBe(202);
    const pid = started.body.pid;
    expect(await waitFor(() => hostProcesses("987651").length === 1 && hostProcesses("987652").length === 1, 5000)).toBe(true);
    const list = await api.call("GET", `/v1/sandboxes/${id}/processes`);
    expect(list.body.processes).toEqual([expect.objectContaining({ pid, status: "running" })]);
    expect(list.body.processes[0].command).toContain("987651");
    await waitFor(async () => (await api.call("GET", `/v1/sandboxes/${id}/processes/${pid}`)).body.stdoutTail === "started\n", 3000);
    const one = await api.call("GET", `/v1/sandboxes/${id}/processes/${pid}`);
    expect(one.body).toMatchObject({ pid, status: "running", stdoutTail: "started\n" });
    const killed = await api.call("DELETE", `/v1/sandboxes/${id}/processes/${pid}`);
    expect(killed.status).toBe(200);
    expect(killed.body).toMatchObject({ pid, status: "killed", exitCode: 137 });
    expect(await waitFor(() => hostProcesses("987651").length + hostProcesses("987652").length === 0, 5000)).toBe(true);
    const after = await api.call("GET", `/v1/sandboxes/${id}/processes/${pid}`);
    expect(after.body).toMatchObject({ status: "killed" });
    expect((await api.call("GET", `/v1/sandboxes/${id}/processes/proc_nope`)).status).toBe(404);
  });
});

describe("linux sandboxes: what one command leaves to the next", () => {
  it("each command has its own PID and network namespace and /tmp: only /workspace carries over, a background server is not reachable from a later command", async () => {
    const id = await linuxSandbox();
    const probe = "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8765/";
    const code = `${probe}; echo " rc=$?"`;
    // Within one command the server answers (the check itself works)...
    const same = await run(id, { cmd: `python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 & for i in $(seq 50); do [ "$(${probe})" = 200 ] && break; sleep 0.1; done; ${code}` });
    expect(same.body.stdout).toBe("200 rc=0\n");
    // ...from a background process, a later command cannot reach it or see it.
    const started = await run(id, { cmd: "python3 -u -m http.server 8765 --bind 127.0.0.1", background: true });
    const serving = async () => ((await api.call("GET", `/v1/sandboxes/${id}/processes/${started.body.pid}`)).body.stdoutTail ?? "").includes("Serving HTTP");
    expect(await waitFor(serving, 5000)).toBe(true);
    const later = await run(id, { cmd: `${code}; ps ax -o cmd | grep -c '[h]ttp.server' || true` });
    expect(later.body.stdout).toBe("000 rc=7\n0\n");
    await run(id, { cmd: "echo x > /tmp/mark && echo y > /workspace/mark" });
    const next = await run(id, { cmd: "ls /tmp; cat /workspace/mark" });
    expect(next.body.stdout).toBe("y\n");
    await api.call("DELETE", `/v1/sandboxes/${id}/processes/${started.body.pid}`);
  });
});

describe("linux sandboxes: limits and hostile code", () => {
  it("a command past its timeout is killed, even one that ignores SIGTERM", async () => {
    const id = await linuxSandbox();
    const started = Date.now();
    const res = await run(id, { cmd: "trap '' TERM; sleep 987653", timeoutMs: 800 });
    expect(res.body).toMatchObject({ limit: "wall", exitCode: 137 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await waitFor(() => hostProcesses("987653").length === 0, 3000)).toBe(true);
  });

  it("an output flood stops at the output limit, flagged, and the sandbox keeps answering", async () => {
    const id = await linuxSandbox();
    const res = await run(id, { cmd: "yes flood" });
    expect(res.body).toMatchObject({ limit: "output", stdoutTruncated: true });
    expect(Buffer.byteLength(res.body.stdout)).toBeLessThanOrEqual(1024 * 1024);
    expect((await run(id, { cmd: "echo still here" })).body.stdout).toBe("still here\n");
  });

  it.skipIf(!cgroupV1Writable("pids"))("a fork bomb ends harmlessly at the process limit, named in the answer, and other sandboxes keep answering [needs root and a cgroups v1 pids controller]", async () => {
    const id = await linuxSandbox();
    const other = await linuxSandbox();
    const res = await run(id, { cmd: "bomb() { bomb | bomb & }; bomb; sleep 2; echo survived", timeoutMs: 10_000 });
    expect(res.status).toBe(200);
    expect(res.body.limit).toBe("processes");
    expect((await run(other, { cmd: "echo fine" })).body.stdout).toBe("fine\n");
    const after = await run(id, { cmd: "echo after" });
    expect(after.body.stdout).toBe("after\n");
    expect(after.body.limit).toBeUndefined();
  });

  it.skipIf(!cgroupV1Writable("memory"))("a memory bomb is stopped by the memory limit, named in the answer [needs root and a cgroups v1 memory controller]", async () => {
    const id = await linuxSandbox();
    const res = await run(id, { cmd: "python3 -c 'b = bytearray(3 * 1024 ** 3); print(len(b))'" });
    expect(res.body).toMatchObject({ limit: "memory", exitCode: 137, stdout: "" });
    expect((await run(id, { cmd: "echo ok" })).body.stdout).toBe("ok\n");
  });

  it("sees no host: not the supervisor's environment, not /etc/shadow's secrets, not the service's files, no network", async () => {
    const id = await linuxSandbox();
    const res = await run(id, {
      cmd: [
        "tr '\\0' '\\n' < /proc/1/environ | grep -c . || true",
        `ls ${service.stateDir} 2>&1 | head -1`,
        `ls ${process.cwd()} 2>&1 | head -1`,
        "cat /etc/shadow 2>&1 | head -1",
        "id -u",
        "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 80), timeout=2)' 2>&1 | tail -1",
        "ls /proc | grep -cE '^[0-9]+$'",
      ].join("; "),
    });
    const lines = res.body.stdout.split("\n");
    expect(Number(lines[0])).toBeLessThanOrEqual(1); // bwrap's init has (at most) PWD=/
    expect(lines[1]).toMatch(/No such file or directory/);
    expect(lines[2]).toMatch(/No such file or directory/);
    expect(lines[3]).toMatch(/Permission denied|No such file/);
    expect(lines[4]).toBe("1000");
    expect(lines[5]).toMatch(/Network is unreachable|OSError|Errno/);
    expect(Number(lines[6])).toBeLessThan(10); // its own PID namespace: a handful of processes
    const env = await run(id, { cmd: "cat /proc/1/environ" });
    expect(env.body.stdout).not.toContain(KEY);
    expect(env.body.stdout).not.toContain("PATH=");
  });

  it("two sandboxes cannot see each other's files or processes", async () => {
    const a = await linuxSandbox();
    const b = await linuxSandbox();
    await run(a, { cmd: "echo mine > secret-a.txt" });
    await run(a, { cmd: "sleep 987654", background: true });
    expect(await waitFor(() => hostProcesses("987654").length === 1, 5000)).toBe(true);
    const look = await run(b, { cmd: "ls -a /workspace; find / -name 'secret-a.txt' 2>/dev/null; ps ax -o cmd 2>/dev/null | grep -c '[9]87654' || true" });
    expect(look.body.stdout).not.toContain("secret-a.txt");
    expect(look.body.stdout.trim().split("\n").at(-1)).toBe("0");
    expect((await rawFile(b, "secret-a.txt")).status).toBe(404);
    await api.call("DELETE", `/v1/sandboxes/${a}`);
  });
});

describe("linux sandboxes: clocks and lifetime", () => {
  it("deleting a sandbox kills every process in it", async () => {
    const id = await linuxSandbox();
    await run(id, { cmd: "sleep 987655 & sleep 987656 & wait", background: true });
    await run(id, { cmd: "nohup setsid sleep 987657 > /dev/null 2>&1 &" });
    expect(await waitFor(() => hostProcesses("987655").length === 1, 5000)).toBe(true);
    expect((await api.call("DELETE", `/v1/sandboxes/${id}`)).status).toBe(204);
    expect(await waitFor(() => ["987655", "987656", "987657"].every((m) => hostProcesses(m).length === 0), 5000)).toBe(true);
    expect((await run(id, { cmd: "true" })).status).toBe(410);
  });

  it("a sandbox stopped by its TTL kills every process in it", async () => {
    const id = await linuxSandbox({ ttlSeconds: 2 });
    await run(id, { cmd: "sleep 987658", background: true });
    expect(await waitFor(() => hostProcesses("987658").length === 1, 5000)).toBe(true);
    // The alarm fires on its own: no request reaches the sandbox meanwhile.
    expect(await waitFor(() => hostProcesses("987658").length === 0, 10_000)).toBe(true);
    const record = await api.call("GET", `/v1/sandboxes/${id}`);
    expect(record.body).toMatchObject({ state: "stopped", endReason: "ttl_expired" });
  });

  it("a running command is activity: the idle clock does not stop the sandbox under it", async () => {
    const id = await linuxSandbox({ idleTimeoutSeconds: 1 });
    const res = await run(id, { cmd: "sleep 2.5; echo done" });
    expect(res.body.stdout).toBe("done\n");
    const record = await api.call("GET", `/v1/sandboxes/${id}`);
    expect(record.body.state).toBe("running");
  });
});

describe("linux sandboxes: restarts and a missing jail", () => {
  it("the workspace survives a restart of the service", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sandboxer-linux-restart-"));
    const first = await startService({ SANDBOXER_STATE_DIR: stateDir });
    let id: string;
    try {
      id = await client(first.url).createSandbox({ profile: "linux" });
      await client(first.url).call("POST", `/v1/sandboxes/${id}/commands`, { cmd: "echo kept > kept.txt" });
    } finally {
      await first.stop();
    }
    const second = await startService({ SANDBOXER_STATE_DIR: stateDir });
    try {
      const res = await client(second.url).call("POST", `/v1/sandboxes/${id}/commands`, { cmd: "cat kept.txt" });
      expect(res.body).toMatchObject({ exitCode: 0, stdout: "kept\n" });
    } finally {
      await second.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("where the jail cannot start, a linux sandbox is a 503 that says what is missing", async () => {
    const broken = await startService({ SANDBOXER_BWRAP: "/nonexistent/bwrap" });
    try {
      const res = await client(broken.url).call("POST", "/v1/sandboxes", { profile: "linux" });
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.body.code).toBe("runtime_unavailable");
      expect(res.body.detail).toContain("bubblewrap");
      expect(res.headers.get("retry-after")).toBeTruthy();
      // Isolate sandboxes are unaffected.
      expect((await client(broken.url).call("POST", "/v1/sandboxes", {})).status).toBe(201);
    } finally {
      await broken.stop();
    }
  });
});

describe("linux-net: egress through the proxy", () => {
  const status = "curl -sS -o /dev/null -w '%{http_code}' --max-time 20";

  it("reaches an allowlisted host, is refused any other (and internal addresses), and every decision is audited", async () => {
    const id = await api.createSandbox({ profile: "linux-net", network: { allow: [{ host: "registry.npmjs.org" }] } });
    // -k: CI machines may reach the internet through a TLS-inspecting proxy whose CA the
    // jail's Debian root does not carry; what is tested here is the tunnel, not the CA.
    const allowed = await run(id, { cmd: `${status} -k https://registry.npmjs.org/-/ping` });
    expect(allowed.body).toMatchObject({ exitCode: 0, stdout: "200" });
    const denied = await run(id, { cmd: `${status} https://example.com/; echo " rc=$?"` });
    expect(denied.body.stdout).toMatch(/rc=56/); // curl: the proxy refused the CONNECT
    const plain = await run(id, { cmd: `${status} http://example.com/` });
    expect(plain.body.stdout).toBe("403");
    const metadata = await run(id, { cmd: `${status} http://169.254.169.254/latest/meta-data/` });
    expect(metadata.body.stdout).toBe("403");
    // Around the proxy there is no way out: no interface but loopback.
    const direct = await run(id, { cmd: "python3 -c 'import socket; socket.create_connection((\"registry.npmjs.org\", 443), timeout=3)' 2>&1 | tail -1" });
    expect(direct.body.stdout).toMatch(/Errno|error/);
    const audit = await api.call("GET", `/v1/sandboxes/${id}/audit`);
    const egress = audit.body.entries.filter((e: any) => e.kind === "egress");
    expect(egress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ decision: "allowed", host: "registry.npmjs.org", method: "CONNECT" }),
        expect.objectContaining({ decision: "denied", host: "example.com", method: "CONNECT" }),
        expect.objectContaining({ decision: "denied", host: "example.com", method: "GET" }),
      ]),
    );
  });

  it("without network rules a linux-net sandbox has no network at all", async () => {
    const id = await api.createSandbox({ profile: "linux-net" });
    const res = await run(id, { cmd: `${status} https://registry.npmjs.org/-/ping; echo " rc=$?"` });
    expect(res.body.stdout).not.toMatch(/^200/);
  });

  it("secrets cannot be bound to a linux sandbox (the proxy cannot see inside HTTPS)", async () => {
    const res = await api.call("POST", "/v1/sandboxes", {
      profile: "linux-net",
      network: { allow: [{ host: "api.example.com" }] },
      secrets: { TOKEN: { secret: "token", hosts: ["api.example.com"] } },
    });
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain("js-net");
  });
});
