import { ErrorCode, SandboxerError } from "../errors";

/**
 * What an RPC method throws: a `SandboxerError` whose message encodes code, detail and extra
 * (only the message of an Error crosses a binding; callers recover the typed error with
 * `SandboxerError.fromRpc`). Anything unexpected becomes `internal`, logged here, so no
 * stack or internal message reaches the caller.
 */
export function toRpcError(error: unknown): SandboxerError {
  const known = SandboxerError.fromRpc(error);
  if (known) return known;
  console.error("internal error in SandboxService:", error);
  return new SandboxerError(ErrorCode.internal, "Something went wrong on our side. It has been logged.");
}

/** Runs one RPC method body, rethrowing failures as `toRpcError` does. */
export async function rpcCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toRpcError(error);
  }
}
