import { z } from "zod";

/** Trusted identity bound into every capability stub when an isolate is loaded. */
export interface CapabilityProps {
  tenant: string;
  sandboxId: string;
  executionId: string;
}

/** A call forwarded from a capability entrypoint to its sandbox's Durable Object. */
export type CapabilityCall =
  | { capability: "files"; method: "read" | "readBytes" | "delete"; path: string }
  | { capability: "files"; method: "list"; prefix?: string }
  | { capability: "files"; method: "write"; path: string; content: string | Uint8Array }
  | { capability: "state"; method: "get" | "delete"; key: string }
  | { capability: "state"; method: "put"; key: string; value: unknown }
  | { capability: "state"; method: "list"; prefix?: string };

interface CapabilityDefinition {
  /** Grant options, checked at create. */
  options: z.ZodType;
  /** The exported WorkerEntrypoint that code reaches as `env.<name>`, or null for egress. */
  entrypoint: "FilesCapability" | "StateCapability" | null;
  /** What code sees, as a TypeScript declaration (the body of an interface member). */
  declaration: string;
}

/** Every capability a profile may list. */
export const CAPABILITIES: Record<string, CapabilityDefinition> = {
  files: {
    options: z.object({ readOnly: z.boolean().default(false) }).strict(),
    entrypoint: "FilesCapability",
    declaration: `  /** The sandbox workspace (same paths, limits and quota as the HTTP files API). */
  files: {
    /** A file's text (UTF-8). Rejects if there is no such file. */
    read(path: string): Promise<string>;
    /** A file's bytes. */
    readBytes(path: string): Promise<Uint8Array>;
    /** Creates or replaces a file. Rejects with LimitExceeded past the profile's file size or quota. */
    write(path: string, content: string | Uint8Array): Promise<{ path: string; size: number; updatedAt: string }>;
    /** Files under an optional prefix, sorted by path. */
    list(prefix?: string): Promise<{ path: string; size: number; updatedAt: string }[]>;
    /** Deletes a file; false if there was none. */
    delete(path: string): Promise<boolean>;
  };`,
  },
  state: {
    options: z.object({}).strict(),
    entrypoint: "StateCapability",
    declaration: `  /** A small durable key-value store for this sandbox (JSON values up to 128 KiB each). */
  state: {
    get<T = unknown>(key: string): Promise<T | undefined>;
    put(key: string, value: unknown): Promise<void>;
    delete(key: string): Promise<boolean>;
    list(prefix?: string): Promise<string[]>;
  };`,
  },
  fetch: {
    options: z.object({}).strict(),
    entrypoint: null,
    declaration: "",
  },
};
