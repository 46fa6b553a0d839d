import { ErrorCode, SandboxerError } from "../errors";
import type { CodeOutcome, CodeRun, ProviderCapabilities, ProviderFiles, SandboxProvider } from "./contract";
import { runSnippet } from "./isolate";
import type { RunGuidance } from "./isolate/runtime/guards";

/** What the isolate provider needs from the SandboxDO for one execution. */
export interface IsolateProviderDeps {
  loader: WorkerLoader;
  /** The sandbox's workspace (kept in the DO's SQLite storage). */
  files: ProviderFiles;
  /** The snippet's `env`: plain values and capability stubs bound to this execution. */
  env: (executionId: string) => Record<string, unknown>;
  /** The isolate's network: the egress gateway bound to this execution, or null (none). */
  globalOutbound: (executionId: string) => Fetcher | null;
  /** What to tell code that reaches for a capability or network the sandbox lacks. */
  guidance?: () => RunGuidance;
}

/**
 * Profiles `js` and `js-net`: a fresh V8 isolate per execution (src/providers/isolate). Files
 * are the DO's; there are no processes, so nothing outlives an execution and `stop` has
 * nothing to release.
 */
export class IsolateProvider implements SandboxProvider {
  readonly name = "isolate";
  readonly isolationLevel = "v8-isolate";
  readonly capabilities: ProviderCapabilities = { commands: false, languages: ["js", "ts"], streaming: true, network: true, contexts: true, snapshots: false };
  readonly files: ProviderFiles;

  constructor(private readonly deps: IsolateProviderDeps) {
    this.files = deps.files;
  }

  async prepare(): Promise<void> {}

  runCode(run: CodeRun): Promise<CodeOutcome> {
    if (run.language !== "js" && run.language !== "ts") throw unsupported(`language '${run.language}'`);
    return runSnippet(this.deps.loader, {
      code: run.code,
      language: run.language,
      input: run.input,
      limits: run.limits,
      env: this.deps.env(run.executionId),
      globalOutbound: this.deps.globalOutbound(run.executionId),
      guidance: this.deps.guidance?.(),
      readModule: async (path) => {
        const file = await this.deps.files.read(path);
        return file ? new TextDecoder().decode(file.data) : null;
      },
      onOutput: run.onOutput,
      context: run.context,
    });
  }

  runCommand(): never {
    throw unsupported("commands");
  }
  startProcess(): never {
    throw unsupported("commands");
  }
  listProcesses(): never {
    throw unsupported("commands");
  }
  getProcess(): never {
    throw unsupported("commands");
  }
  killProcess(): never {
    throw unsupported("commands");
  }

  async stop(): Promise<void> {}
}

function unsupported(what: string): SandboxerError {
  return new SandboxerError(ErrorCode.limitExceeded, `V8-isolate sandboxes do not run ${what}; create the sandbox with profile 'linux' (or 'linux-net').`, {
    limit: "provider",
    profiles: ["linux", "linux-net"],
  });
}
