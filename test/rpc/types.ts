// Compile-time checks (run by `npm run typecheck`): a caller's binding typed as
// `Service<import("sand-boxer").SandboxService>` gets the real signatures.
import type { SandboxService } from "sand-boxer";

export async function callerTypes(sandboxer: Service<SandboxService>): Promise<void> {
  const record = await sandboxer.create({ ttlSeconds: 60, metadata: { a: "b" } });
  const id: string = record.id;
  const state: "running" | "stopped" = (await sandboxer.get(id)).state;
  const result = await sandboxer.exec(id, { code: "1", onStdout: (text: string) => void text, tools: { t: async () => 1 } });
  const status: "ok" | "error" = result.status;
  const { entry } = await sandboxer.readFile(id, "a.txt");
  const size: number = entry.size;
  const command = await sandboxer.runCommand(id, { cmd: "echo hi", onStderr: (text: string) => void text });
  const exitCode: number = command.exitCode;
  const pid: string = (await sandboxer.startProcess(id, { argv: ["sleep", "9"] })).pid;
  const processes: string[] = (await sandboxer.listProcesses(id)).map((p) => p.status);
  // @ts-expect-error timeoutMs is a number
  await sandboxer.runCommand(id, { cmd: "true", timeoutMs: "1" });
  // @ts-expect-error ttlSeconds is a number
  await sandboxer.create({ ttlSeconds: "60" });
  // @ts-expect-error exec needs code
  await sandboxer.exec(id, { language: "js" });
  // @ts-expect-error there is no such method
  await sandboxer.nothing(id);
  void [state, status, size, exitCode, pid, processes];
}
