/**
 * What other Workers import: `SandboxService` (for `Service<import("sand-boxer").SandboxService>`),
 * the types of its arguments and results, `SandboxerError` to recover typed errors, and the
 * SSE reader for `execStream`.
 */
export { SandboxService, type SandboxServiceProps } from "./service";
export { SandboxHandle } from "./handle";
export type { RpcExecRequest, OutputLine } from "./exec";
export type { RpcCommandRequest } from "./commands";
export type { CommandRequest, CommandResult, ProcessInfo } from "../schemas/commands";
export { SandboxerError, ErrorCode, ERROR_STATUS } from "../errors";
export { readServerSentEvents, type ServerSentEvent } from "../../client/sse";
export type { HostTool, HostTools } from "../capabilities/tools";
export type { CreateOptions, CreateOutcome, UpdateOptions, FileContent, FileData, PutSecretOutcome, RunOnceInput } from "../operations";
export type { SandboxRecord, SandboxList, CreateSandboxInput, PatchSandboxInput, ListSandboxesInput } from "../schemas/sandbox";
export type { ExecRequest, ExecResult, ExecError, LogEntry } from "../schemas/exec";
export type { ExecutionPage, ExecutionsQuery } from "../schemas/executions";
export type { RunOnceRequest, RunOnceResult } from "../schemas/once";
export type { AuditPage, AuditQuery } from "../schemas/audit";
export type { FileEntry } from "../schemas/files";
export type { ProfileList, Profile } from "../schemas/profile";
export type { SecretList, PutSecretInput } from "../schemas/secrets";
