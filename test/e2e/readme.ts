import { spawn } from "node:child_process";

/** One runnable shell block of the README and the output it promises, if any. */
export interface ReadmeBlock {
  line: number;
  code: string;
  expected?: { kind: "json" | "text"; body: string };
}

/**
 * The README's walkthrough: every ```bash block, in order, each with the ```json or
 * ```text block that directly follows it (only blank lines between) as its expected
 * output. Blocks in other languages (```shell for commands such as `npm start`) are
 * shown to the reader but not run.
 */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const fence = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  const fences: { lang: string; body: string; start: number; end: number }[] = [];
  for (let m; (m = fence.exec(markdown)); ) fences.push({ lang: m[1]!, body: m[2]!, start: m.index, end: m.index + m[0].length });
  const blocks: ReadmeBlock[] = [];
  fences.forEach((f, i) => {
    if (f.lang !== "bash") return;
    const next = fences[i + 1];
    const adjacent = next && /^\s*$/.test(markdown.slice(f.end, next.start)) && (next.lang === "json" || next.lang === "text");
    blocks.push({
      line: markdown.slice(0, f.start).split("\n").length,
      code: f.body,
      expected: adjacent ? { kind: next.lang as "json" | "text", body: next.body } : undefined,
    });
  });
  return blocks;
}

/** `…` in an expected string stands for any run of characters. */
function globMatch(expected: string, actual: string): boolean {
  const source = expected
    .split("…")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[\\s\\S]*");
  return new RegExp(`^${source}$`).test(actual);
}

/**
 * Whether `actual` shows what `expected` promises: for JSON, every key and value shown is
 * there (objects may hold more keys, arrays are compared element by element, strings may use
 * `…`); for text, line by line with `…` as a wildcard (a line of only `…` stands for any lines).
 */
export function outputMatches(expected: ReadmeBlock["expected"] & object, actual: string): string | null {
  if (expected.kind === "json") {
    let value: unknown;
    try {
      value = JSON.parse(actual);
    } catch {
      return `output is not JSON: ${actual.slice(0, 300)}`;
    }
    return subset(JSON.parse(expected.body), value, "$");
  }
  // Trailing blank lines are not shown (an event stream ends with one).
  const want = expected.body.trimEnd();
  const got = actual.trimEnd();
  const source = want
    .split("\n")
    .map((line) => (line === "…" ? "[\\s\\S]*?" : line.split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")))
    .join("\n");
  return new RegExp(`^${source}$`).test(got) ? null : `text differs:\n--- expected\n${want}\n--- actual\n${got}`;
}

function subset(expected: unknown, actual: unknown, path: string): string | null {
  if (typeof expected === "string" && typeof actual === "string") return globMatch(expected, actual) ? null : `${path}: ${JSON.stringify(actual)} does not match ${JSON.stringify(expected)}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: expected an array of ${expected.length}, got ${JSON.stringify(actual)?.slice(0, 200)}`;
    for (let i = 0; i < expected.length; i++) {
      const problem = subset(expected[i], actual[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (expected && typeof expected === "object") {
    if (!actual || typeof actual !== "object") return `${path}: expected an object, got ${JSON.stringify(actual)?.slice(0, 200)}`;
    for (const [key, value] of Object.entries(expected)) {
      const problem = subset(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (problem) return problem;
    }
    return null;
  }
  return Object.is(expected, actual) ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/** One bash process for the whole walkthrough, so variables set by a block reach later ones. */
export function bashSession(env: Record<string, string>, cwd: string) {
  const child = spawn("bash", ["--noprofile", "--norc"], { cwd, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  let n = 0;
  return {
    /**
     * Runs a block; resolves with its stdout, stderr, the status of its last command, and the
     * commands of the block that failed on the way (an ERR trap: a failing line in the middle
     * of a block counts, not only the last one; commands tested by `if`, `&&` or `||` do not).
     */
    run(code: string, timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; status: number; failed: string[] }> {
      const marker = `__readme_block_${++n}__`;
      const failure = `__readme_failed_${n}__`;
      stdout = "";
      stderr = "";
      // The marker ends the block on stdout (with its status) and on stderr (so every failure
      // reported there has been read when the block is taken as done).
      child.stdin.write(
        `trap 'echo "${failure} $BASH_COMMAND" >&2' ERR\n${code}\n__readme_status=$?; trap - ERR; printf '\\n${marker} %s\\n' "$__readme_status"; printf '${marker}\\n' >&2\n`,
      );
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          const at = stdout.indexOf(`\n${marker} `);
          if (at >= 0 && stderr.includes(`${marker}\n`)) {
            clearInterval(poll);
            const status = Number(stdout.slice(at + marker.length + 2).trim());
            const failed = stderr.split("\n").filter((line) => line.startsWith(`${failure} `)).map((line) => line.slice(failure.length + 1));
            resolve({ stdout: stdout.slice(0, at), stderr, status, failed });
          } else if (Date.now() - started > timeoutMs) {
            clearInterval(poll);
            reject(new Error(`block did not finish in ${timeoutMs} ms; stdout so far:\n${stdout}\nstderr:\n${stderr}`));
          }
        }, 20);
      });
    },
    close: () => child.kill(),
  };
}
