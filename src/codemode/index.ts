/**
 * `sand-boxer/codemode`: a `@cloudflare/codemode` executor for Workers bound to sand-boxer's
 * `SandboxService`. Import it in the Worker that runs codemode; it pulls in nothing of the
 * service beyond its types and error codes.
 */
export { SandboxerExecutor, type SandboxerBinding, type SandboxerExecutorOptions } from "./executor";
