export { runSnippet, type IsolateRunRequest, type IsolateRunResult, type OutputEvent } from "./run";
export { compileModule, type BudgetNames } from "./compile";
