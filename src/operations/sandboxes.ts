import { planCreate } from "../../durable-objects/sandbox/lifecycle";
import { ErrorCode, SandboxerError } from "../errors";
import { chooseProvider } from "../providers";
import { admitSandbox } from "../../durable-objects/registry/admit";
import { newSandboxId, sha256Hex } from "../ids";
import {
  CreateSandboxBody,
  ListSandboxesInput,
  PatchSandboxBody,
  type CreateSandboxInput,
  type PatchSandboxInput,
  type SandboxList,
  type SandboxRecord,
} from "../schemas/sandbox";
import { z } from "zod";
import { registryOf, sandboxOf, type OperationContext } from "./context";
import { parseInput } from "./validate";
import { forkBody } from "./snapshots";

/** What `create` did: a new sandbox, or the one an earlier create with the same idempotency key made. */
export interface CreateOutcome {
  sandbox: SandboxRecord;
  /** True when `idempotencyKey` matched an earlier create with the same body (HTTP answers 200, not 201). */
  replayed: boolean;
}

/** Options of `create` that are not part of the sandbox itself. */
export interface CreateOptions {
  /** The same key and body within 24 h returns the same sandbox; another body → `idempotency_conflict`. */
  idempotencyKey?: string;
}

/** Options of `update`. */
export interface UpdateOptions {
  /** An entity tag (or `*`, or a comma-separated list): on mismatch → `precondition_failed`. */
  ifMatch?: string;
}

/** The options' contracts, checked once here for every door (HTTP checks its headers too). */
const CreateOptionsSchema = z.object({ idempotencyKey: z.string().min(1).max(255).optional() });
const UpdateOptionsSchema = z.object({ ifMatch: z.string().max(1024).optional() });

/** The sandbox lifecycle: create, read, list, patch, keep alive, stop. */
export function sandboxOperations(ctx: OperationContext) {
  return {
    /** Creates a sandbox (profile defaults and limits applied; bound secrets must exist); with `fromSnapshot`, a copy seeded from that snapshot. */
    async create(input: CreateSandboxInput = {}, options: CreateOptions = {}): Promise<CreateOutcome> {
      const parsed = parseInput(CreateSandboxBody, input ?? {}, "body");
      const fromSnapshot = parsed.fromSnapshot;
      const body = fromSnapshot ? await forkBody(ctx, { ...parsed, fromSnapshot }) : parsed;
      const id = newSandboxId();
      const initial = planCreate(body, ctx.tenant, id, Date.now());
      // Chosen once, at create: the backend that serves this sandbox for its whole life.
      initial.provider = chooseProvider(ctx.env, initial.profile);
      const bound = Object.entries(initial.secrets ?? {});
      if (bound.length > 0) {
        const missing = new Set(await registryOf(ctx).missingSecrets([...new Set(bound.map(([, b]) => b.secret))]));
        if (missing.size > 0) {
          throw new SandboxerError(
            ErrorCode.validationFailed,
            `No such secret: ${[...missing].join(", ")}. Store it first with PUT /v1/secrets/{name}.`,
            { errors: bound.filter(([, b]) => missing.has(b.secret)).map(([name]) => ({ path: `secrets.${name}.secret`, message: "no such secret" })) },
          );
        }
      }
      const key = parseInput(CreateOptionsSchema, options ?? {}, "options").idempotencyKey;
      if (key) {
        const claim = await registryOf(ctx).claimIdempotencyKey(key, await sha256Hex(JSON.stringify(body)), id);
        if (claim.outcome === "conflict") {
          throw new SandboxerError(
            ErrorCode.idempotencyConflict,
            "This Idempotency-Key was already used with a different request body within the last 24 hours.",
          );
        }
        if (claim.outcome === "replay") return { sandbox: await sandboxOf(ctx, claim.sandboxId).describe(), replayed: true };
      }
      try {
        // The tenant's sandboxesAlive quota (quota_exceeded, 429) before anything is stored.
        await admitSandbox(ctx.env, ctx.tenant, id);
        const sandbox = await sandboxOf(ctx, id).create(initial);
        if (!fromSnapshot) return { sandbox, replayed: false };
        try {
          return { sandbox: await sandboxOf(ctx, id).restore(fromSnapshot), replayed: false };
        } catch (error) {
          // A copy that could not be seeded is not handed out half-made.
          await sandboxOf(ctx, id).destroy().catch(() => undefined);
          throw error;
        }
      } catch (error) {
        if (key) await registryOf(ctx).releaseIdempotencyKey(key, id);
        throw error;
      }
    },

    /** The record; a stopped sandbox answers with its `endReason` for 24 h, then `not_found`. Not activity. */
    async get(id: string): Promise<SandboxRecord> {
      return sandboxOf(ctx, id).describe();
    },

    /** Newest first, filtered by state and metadata (all must match); page with `nextCursor`. */
    async list(input: ListSandboxesInput = {}): Promise<SandboxList> {
      const { state, limit, cursor, metadata } = parseInput(ListSandboxesInput, input ?? {}, "query");
      return registryOf(ctx).list({ state, limit, cursor, metadata: metadata ?? {} });
    },

    /** Changes TTL (from now, capped by the profile), idle timeout, metadata (merge patch) or keeps a subset of grants. */
    async update(id: string, patch: PatchSandboxInput, options: UpdateOptions = {}): Promise<SandboxRecord> {
      const body = parseInput(PatchSandboxBody, patch, "body");
      const { ifMatch } = parseInput(UpdateOptionsSchema, options ?? {}, "options");
      return sandboxOf(ctx, id).update(body, ifMatch);
    },

    /** Resets the idle clock. */
    async keepalive(id: string): Promise<SandboxRecord> {
      return sandboxOf(ctx, id).keepalive();
    },

    /** Stops the sandbox (reason `deleted`) and releases its files; stopping a stopped one is a no-op. */
    async destroy(id: string): Promise<void> {
      await sandboxOf(ctx, id).destroy();
    },
  };
}
