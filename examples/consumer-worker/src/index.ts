// A Worker that runs an agent's code in sand-boxer and lends it one tool of its own.
import { SandboxerError } from "sand-boxer";

interface Env {
  SANDBOXER: Service<import("sand-boxer").SandboxService>;
}

const DEFAULT_CODE = "console.log('asking the host…');\nawait tools.weather({ city: 'Lisbon' })";

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const code = request.method === "POST" ? await request.text() : DEFAULT_CODE;
    const sandbox = await env.SANDBOXER.create({ ttlSeconds: 120, metadata: { from: "consumer-worker" } });
    const lines: string[] = [];
    try {
      const result = await env.SANDBOXER.exec(sandbox.id, {
        code,
        onStdout: (text) => void lines.push(text),
        // Runs here, in this Worker, with its credentials; the sandbox only sees the answer.
        tools: { weather: async ({ city }: { city: string }) => ({ city, sky: "clear", celsius: 21 }) },
      });
      return Response.json({ sandbox: sandbox.id, lines, result });
    } catch (error) {
      const problem = SandboxerError.fromRpc(error);
      if (!problem) throw error;
      return Response.json({ code: problem.code, detail: problem.detail }, { status: problem.status });
    } finally {
      await env.SANDBOXER.destroy(sandbox.id);
    }
  },
};
