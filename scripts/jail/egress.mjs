// linux-net egress: a jail has no network interface but loopback. Inside it, a tiny forwarder
// listens on 127.0.0.1:3128 (HTTP_PROXY / HTTPS_PROXY point there) and relays each connection
// over a Unix socket bound into the jail to this proxy, which decides every request with the
// same policy function as the isolate's egress gateway (src/egress/policy.ts), refuses hosts
// that resolve to private, loopback or link-local addresses, and audits each decision.
//
// What the proxy can see: plain-HTTP requests whole; HTTPS only as `CONNECT host:port` (the
// TLS inside the tunnel is the client's own), so policy applies to the host and port, and
// secrets cannot be injected into HTTPS requests by placeholder (we never hold a CA in the jail).
import { lookup } from "node:dns/promises";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decideEgress } from "../../src/egress/policy.ts";

/** Most audit entries held per sandbox between two drains. */
const MAX_PENDING_AUDIT = 1000;

/** The forwarder run inside the jail: listen, daemonise, relay to the Unix socket. */
export const FORWARDER_SOURCE = `import os, socket, sys, threading
port, path = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(64)
if os.fork() > 0: os._exit(0)
os.setsid()
for fd in (0, 1, 2):
    try: os.close(fd)
    except OSError: pass
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
def serve(c):
    u = socket.socket(socket.AF_UNIX)
    try: u.connect(path)
    except OSError: c.close(); return
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    pipe(u, c)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** Addresses a host name must not resolve to (DNS rebinding into the machine or its network). */
function privateAddress(address) {
  if (net.isIPv4(address)) {
    const [a, b] = address.split(".").map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  const lower = address.toLowerCase();
  return lower === "::1" || lower === "::" || lower.startsWith("fe80") || lower.startsWith("fc") || lower.startsWith("fd") || lower.startsWith("::ffff:");
}

export class EgressProxy {
  constructor(network) {
    this.network = network;
    /** Short path: Unix socket paths are limited to 108 bytes. */
    this.dir = mkdtempSync(join(tmpdir(), "sbx-egress-"));
    writeFileSync(join(this.dir, "forward.py"), FORWARDER_SOURCE);
    chmodSync(this.dir, 0o755);
    this.pending = [];
    this.server = http.createServer((req, res) => void this.forward(req, res));
    this.server.on("connect", (req, socket, head) => void this.tunnel(req, socket, head));
    this.server.listen(join(this.dir, "egress.sock"), () => chmodSync(join(this.dir, "egress.sock"), 0o777));
  }

  /** Audit entries since the last drain (the SandboxDO appends them to the sandbox's audit log). */
  drain() {
    const entries = this.pending;
    this.pending = [];
    return entries;
  }

  audit(entry) {
    if (this.pending.length < MAX_PENDING_AUDIT) this.pending.push({ ts: new Date().toISOString(), kind: "egress", action: "proxy", ...entry });
  }

  /** The policy decision plus a resolution check; returns the address to connect to or null. */
  async decide(url, method) {
    const decision = decideEgress(url, method, this.network.allow, this.network.profileAllow);
    if (!decision.allowed) {
      this.audit({ decision: "denied", host: decision.host, method, detail: decision.detail });
      return null;
    }
    let address;
    try {
      ({ address } = await lookup(decision.host));
    } catch {
      this.audit({ decision: "denied", host: decision.host, method, detail: "The host name does not resolve." });
      return null;
    }
    if (privateAddress(address)) {
      this.audit({ decision: "denied", host: decision.host, method, detail: `${decision.host} resolves to a private address.` });
      return null;
    }
    return { address, host: decision.host, port: decision.port, url: decision.url };
  }

  async forward(req, res) {
    const method = req.method ?? "GET";
    const target = await this.decide(req.url ?? "", method);
    if (!target) {
      res.writeHead(403, { "Content-Type": "text/plain" }).end("sand-boxer egress: this host is not in the sandbox's network allowlist\n");
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    delete headers["proxy-authorization"];
    const upstream = http.request(
      { host: target.address, port: target.port, method, path: `${target.url.pathname}${target.url.search}`, headers: { ...headers, host: target.url.host } },
      (up) => {
        let bytes = 0;
        up.on("data", (c) => (bytes += c.length));
        up.on("end", () => this.audit({ decision: "allowed", host: target.host, method, status: up.statusCode, bytes }));
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      this.audit({ decision: "allowed", host: target.host, method, detail: "upstream connection failed" });
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  }

  async tunnel(req, socket, head) {
    socket.on("error", () => undefined);
    const target = await this.decide(`https://${req.url}/`, "CONNECT");
    if (!target) {
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = net.connect(target.port, target.address, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    let bytes = 0;
    upstream.on("data", (c) => (bytes += c.length));
    upstream.on("close", () => this.audit({ decision: "allowed", host: target.host, method: "CONNECT", bytes }));
    upstream.on("error", () => socket.destroy());
  }

  close() {
    this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
