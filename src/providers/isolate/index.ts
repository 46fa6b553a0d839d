export { runSnippet, ISOLATE_COMPATIBILITY_DATE, type IsolateRunRequest, type IsolateRunResult } from "./run";
export { compileModule, CompileError, type BudgetNames, type CompiledModule, type CompileOptions } from "./compile";
export { instrument, randomIdentifier } from "./instrument";
export { type OutputEvent } from "./output";
export { SNIPPET_FILE } from "./stack";
