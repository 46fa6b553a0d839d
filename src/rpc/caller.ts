/**
 * What a calling Worker's bundle imports at run time from "sand-boxer": the error class that
 * recovers a typed error from what crossed the binding, and the SSE reader for `execStream`.
 * Nothing here pulls in the service itself (the types come from `index.ts`).
 */
export { SandboxerError, ErrorCode, ERROR_STATUS } from "../errors";
export { readServerSentEvents, type ServerSentEvent } from "../../client/sse";
