import { compileModule, type CompiledModule } from "./compile";
import { randomIdentifier } from "./instrument";

/** Most memory (estimated) that compiled modules may hold per Worker isolate. */
export const MAX_COMPILE_CACHE_BYTES = 64 * 1024 * 1024;

/** A compiled module, and its code bound to one run's budget module. */
export interface CompiledForRun {
  module: CompiledModule;
  /** The loadable code, importing `check` from `budgetModule` (a name made by `randomIdentifier`). */
  link(budgetModule: string): string;
  /** Milliseconds spent compiling now: 0 when the module came from the cache. */
  compileMs: number;
}

interface Entry {
  module: CompiledModule;
  /** The budget module name compiled in (a random placeholder of a run's name's length), or null. */
  placeholder: string | null;
  bytes: number;
}

const entries = new Map<string, Entry>();
let cachedBytes = 0;

/**
 * Compiles a snippet or workspace module, or takes it from a cache keyed by its exact text (and
 * kind, language and instrumentation), least recently used first out past
 * MAX_COMPILE_CACHE_BYTES. Re-importing an unchanged 759 KB bundle then costs a map lookup
 * instead of a parse and an instrumentation pass.
 *
 * A cached module keeps the check identifier it was compiled with: it is random, chosen after
 * the source was fixed, so the source cannot name it (a changed source is a new entry with a new
 * identifier). The budget module it imports is renamed per run by `link`, which swaps a
 * same-length placeholder, so every position (and the error-position map) stays valid.
 */
export function compileCached(source: string, kind: "snippet" | "module", language: "js" | "ts", instrumented: boolean): CompiledForRun {
  const key = `${kind}:${language}:${instrumented ? "i" : "u"}:${source}`;
  let entry = entries.get(key);
  let compileMs = 0;
  if (entry) {
    // Most recently used last.
    entries.delete(key);
    entries.set(key, entry);
  } else {
    const started = Date.now();
    const placeholder = instrumented ? `/${randomIdentifier()}_budget.js` : null;
    const module = compileModule(source, { kind, language, budget: placeholder ? { check: randomIdentifier(), module: placeholder } : null });
    compileMs = Date.now() - started;
    // Two bytes a character for the key and the code, and about as much again for the edit map
    // kept to map error positions back (an estimate: the heap does not say).
    entry = { module, placeholder, bytes: 4 * (key.length + module.code.length) };
    remember(key, entry);
  }
  const { module, placeholder } = entry;
  return {
    module,
    compileMs,
    link: (budgetModule) => {
      if (!placeholder) return module.code;
      if (budgetModule.length !== placeholder.length) throw new Error("A budget module name must come from randomIdentifier().");
      return module.code.replace(placeholder, budgetModule);
    },
  };
}

function remember(key: string, entry: Entry): void {
  if (entry.bytes > MAX_COMPILE_CACHE_BYTES) return;
  entries.set(key, entry);
  cachedBytes += entry.bytes;
  for (const [oldest, old] of entries) {
    if (cachedBytes <= MAX_COMPILE_CACHE_BYTES) break;
    entries.delete(oldest);
    cachedBytes -= old.bytes;
  }
}
