import type { CapabilityCall } from "../../src/capabilities/definitions";
import { ErrorCode, SandboxerError } from "../../src/errors";
import type { AuditEntry } from "../../src/schemas/audit";
import { normaliseWorkspacePath, normaliseWorkspacePrefix } from "../../src/workspace/paths";
import type { AuditLog } from "./audit";
import type { StoredSandbox } from "./record";
import type { StateStore } from "./state-store";
import type { SubrequestCounter } from "./subrequests";
import type { Workspace } from "./workspace";

export interface CapabilityHost {
  workspace: Workspace;
  state: StateStore;
  audit: AuditLog;
  subrequests: SubrequestCounter;
}

/**
 * Runs one capability call inside the sandbox's Durable Object. The grant is read from
 * the stored record at call time, so a revocation (PATCH) applies to the very next call,
 * even within an execution already running. Every call counts against the profile's
 * `subRequests` (shared with outbound requests) and is audited, allowed or not.
 */
export function invokeCapability(host: CapabilityHost, s: StoredSandbox, call: CapabilityCall, executionId: string): unknown {
  const action = `${call.capability}.${call.method}`;
  const audit = (decision: AuditEntry["decision"], detail?: string, bytes?: number) =>
    host.audit.append([
      {
        ts: new Date().toISOString(),
        kind: "capability",
        action,
        decision,
        executionId,
        ...(detail ? { detail } : {}),
        ...(bytes !== undefined ? { bytes } : {}),
      },
    ]);
  const limit = s.profile.limits.subRequests;
  if (host.subrequests.take(executionId, limit)) {
    audit("denied", "subrequest_limit");
    throw new SandboxerError(ErrorCode.limitExceeded, `This execution has made its ${limit} outbound requests and capability calls (the profile's subRequests limit).`, {
      limit: "subrequests",
      max: limit,
    });
  }
  const grant = s.capabilities.find((g) => g.name === call.capability);
  if (!grant) {
    audit("denied", "not granted");
    throw new SandboxerError(ErrorCode.capabilityDenied, `This sandbox has no '${call.capability}' capability (never granted, or revoked).`);
  }
  if (call.capability === "files" && (call.method === "write" || call.method === "delete") && grant.options?.readOnly) {
    audit("denied", "read-only grant");
    throw new SandboxerError(ErrorCode.capabilityDenied, "The files capability of this sandbox is read-only.");
  }
  try {
    const { value, bytes, target } = dispatch(host, call);
    audit("allowed", target, bytes);
    return value;
  } catch (error) {
    const known = SandboxerError.fromRpc(error);
    audit("allowed", known ? `failed: ${known.code}` : "failed");
    throw error;
  }
}

/** For a `files.write` call: the workspace bytes it would lead to (checked against the tenant's storage quota first); else null. */
export function projectedWriteBytes(workspace: Workspace, s: StoredSandbox, call: CapabilityCall): number | null {
  if (call.capability !== "files" || call.method !== "write") return null;
  const grant = s.capabilities.find((g) => g.name === "files");
  if (!grant || grant.options?.readOnly) return null; // refused anyway, and audited as such
  const size = typeof call.content === "string" ? new TextEncoder().encode(call.content).byteLength : call.content instanceof Uint8Array ? call.content.byteLength : null;
  if (size === null) return null;
  try {
    return workspace.projectedUsage(normaliseWorkspacePath(call.path), size);
  } catch {
    return null; // an invalid path: the call itself fails with the reason
  }
}

function dispatch(host: CapabilityHost, call: CapabilityCall): { value: unknown; bytes?: number; target?: string } {
  switch (call.capability) {
    case "files": {
      if (call.method === "list") {
        const prefix = normaliseWorkspacePrefix(call.prefix);
        return { value: host.workspace.list(prefix), target: prefix };
      }
      const path = normaliseWorkspacePath(call.path);
      switch (call.method) {
        case "read":
        case "readBytes": {
          const file = host.workspace.read(path);
          if (!file) throw new SandboxerError(ErrorCode.notFound, `No file '${path}' in this sandbox's workspace.`);
          return { value: call.method === "read" ? new TextDecoder().decode(file.data) : file.data, bytes: file.entry.size, target: path };
        }
        case "write": {
          const bytes = typeof call.content === "string" ? new TextEncoder().encode(call.content) : call.content;
          if (!(bytes instanceof Uint8Array)) throw new SandboxerError(ErrorCode.validationFailed, "content must be a string or a Uint8Array.");
          const data = bytes.slice().buffer;
          return { value: host.workspace.write(path, data, Date.now()), bytes: data.byteLength, target: path };
        }
        case "delete":
          return { value: host.workspace.delete(path), target: path };
      }
      break;
    }
    case "state":
      switch (call.method) {
        case "get":
          return { value: host.state.get(call.key), target: call.key };
        case "put":
          host.state.put(call.key, call.value);
          return { value: undefined, target: call.key };
        case "delete":
          return { value: host.state.delete(call.key), target: call.key };
        case "list":
          return { value: host.state.list(call.prefix) };
      }
  }
  throw new SandboxerError(ErrorCode.validationFailed, "Unknown capability call.");
}
