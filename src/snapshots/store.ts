import { ErrorCode, SandboxerError } from "../errors";
import { SNAPSHOT_RETENTION, type Snapshot, type SnapshotList } from "../schemas/snapshots";
import type { CapabilityGrant, SandboxRecord, SecretBinding } from "../schemas/sandbox";

/** How long a snapshot is kept (it outlives its sandbox). */
export const SNAPSHOT_RETENTION_MS = SNAPSHOT_RETENTION.defaultSeconds * 1000;

/** What a snapshot carries besides the file bodies: the archive's header. */
export interface SnapshotContent {
  format: 1;
  /** What a sandbox seeded from it is created with. Secret bindings by name only: values stay in the secret store. */
  sandbox: {
    profile: string;
    metadata: Record<string, string>;
    env: Record<string, string>;
    network: SandboxRecord["network"];
    capabilities: CapabilityGrant[];
    secrets: Record<string, SecretBinding>;
  };
  /** Workspace files in archive order: each body follows the header, in this order. */
  files: { path: string; size: number }[];
  /** The `state` capability's rows: key and its JSON text. */
  state: [string, string][];
  contexts: SnapshotContext[];
}

/** One code context as stored (durable-objects/sandbox/contexts.ts): its row and its saved text. */
export interface SnapshotContext {
  id: string;
  createdAt: number;
  updatedAt: number;
  cells: number;
  bytes: number;
  shape: string;
  state: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * An archive to be written: its parts, not one buffer. Copying the bodies into one would hold
 * every file twice while a snapshot is stored (a Durable Object has 128 MB on Cloudflare).
 */
export interface Archive {
  /** The 4-byte big-endian header length, then the header as JSON. */
  head: Uint8Array;
  /** Each file's bytes, in the header's order. */
  bodies: Uint8Array[];
  byteLength: number;
}

/** The archive: a 4-byte big-endian header length, the header as JSON, then each file's bytes. */
export function encodeSnapshot(content: SnapshotContent, bodies: Uint8Array[]): Archive {
  const header = encoder.encode(JSON.stringify(content));
  const head = new Uint8Array(4 + header.length);
  new DataView(head.buffer).setUint32(0, header.length);
  head.set(header, 4);
  return { head, bodies, byteLength: head.length + bodies.reduce((n, b) => n + b.length, 0) };
}

/** Reads an archive written by `encodeSnapshot`; file bodies are views into `bytes`. */
export function decodeSnapshot(bytes: Uint8Array): { content: SnapshotContent; bodies: Uint8Array[] } {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const content = parseHeader(bytes.subarray(4, 4 + length));
  let offset = 4 + length;
  const bodies = content.files.map((f) => {
    const body = bytes.subarray(offset, offset + f.size);
    offset += f.size;
    return body;
  });
  return { content, bodies };
}

/** Bytes handed to the bucket per step of `archiveBody`. */
const BODY_SLICE_BYTES = 1024 * 1024;

/**
 * An archive as a body for `R2Bucket.put`, a slice at a time with a turn of the event loop
 * between slices. Locally the bucket is Miniflare's, running on the one event loop that every
 * sandbox and the runtime's health probe share, and it digests a body handed over whole in one
 * unbroken chain of work: ten 10 MiB snapshots at once held the loop long enough for the
 * supervisor to restart the runtime. On Cloudflare the yields cost nothing.
 */
export function archiveBody(archive: Archive): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(archive.byteLength);
  const writer = writable.getWriter();
  void (async () => {
    // A turn of the event loop after each megabyte, however many files it spans (a yield
    // per file made a 1,000-file snapshot seven times slower).
    let sinceYield = 0;
    for (const part of [archive.head, ...archive.bodies]) {
      for (let offset = 0; offset < part.byteLength; offset += BODY_SLICE_BYTES) {
        const slice = part.subarray(offset, offset + BODY_SLICE_BYTES);
        await writer.write(slice);
        sinceYield += slice.byteLength;
        if (sinceYield >= BODY_SLICE_BYTES) {
          sinceYield = 0;
          await scheduler.wait(0);
        }
      }
    }
    await writer.close();
  })().catch((error: unknown) => writer.abort(error).catch(() => undefined));
  return readable;
}

/**
 * Where a paused sandbox's snapshot is kept: outside every tenant's listing prefix, so it is
 * neither listed nor counted as one of the tenant's snapshots; deleted on resume or stop.
 */
export function pausedSandboxKey(tenant: string, sandboxId: string): string {
  return `paused/${encodeURIComponent(tenant)}/${sandboxId}`;
}

function parseHeader(bytes: Uint8Array): SnapshotContent {
  const content = JSON.parse(decoder.decode(bytes)) as SnapshotContent;
  if (content.format !== 1) throw new SandboxerError(ErrorCode.internal, `Snapshot format ${content.format} is not one this version reads.`);
  return content;
}

/** A new snapshot id: `snap_` and 96 random bits in hex. */
export function newSnapshotId(): string {
  return `snap_${Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * One tenant's snapshots in the `SNAPSHOTS` bucket. Every key starts with the tenant's prefix,
 * so another tenant's snapshot id is simply not found (404), never read. The R2 listing under
 * that prefix is the tenant's index; expired snapshots are deleted whenever they are met
 * (listing, reading, the quota sum), so retention needs no clock of its own.
 */
export class SnapshotStore {
  private readonly prefix: string;

  constructor(
    private readonly bucket: R2Bucket,
    tenant: string,
  ) {
    this.prefix = `tenants/${encodeURIComponent(tenant)}/`;
  }

  /** Stores an archive with its description. */
  async put(info: Snapshot, archive: Archive): Promise<void> {
    await this.bucket.put(this.prefix + info.snapshotId, archiveBody(archive), {
      customMetadata: {
        name: info.name,
        createdAt: info.createdAt,
        expiresAt: info.expiresAt,
        sourceSandboxId: info.sourceSandboxId,
        profile: info.profile,
      },
    });
  }

  /** The snapshot's description; 404 when it does not exist, is another tenant's, or has expired. */
  async describe(snapshotId: string, now: number): Promise<Snapshot> {
    const object = await this.bucket.head(this.prefix + snapshotId);
    return this.live(object, now) ?? missing(snapshotId);
  }

  /** The snapshot's description and archive bytes (404 like `describe`). */
  async read(snapshotId: string, now: number): Promise<{ info: Snapshot; archive: Uint8Array }> {
    const object = await this.bucket.get(this.prefix + snapshotId);
    const info = this.live(object, now);
    if (!object || !info) return missing(snapshotId);
    return { info, archive: new Uint8Array(await object.arrayBuffer()) };
  }

  /** The archive's header alone (two ranged reads: no file bytes), 404 like `describe`. */
  async readContent(snapshotId: string, now: number): Promise<SnapshotContent> {
    const key = this.prefix + snapshotId;
    const head = await this.bucket.get(key, { range: { offset: 0, length: 4 } });
    if (!head || !this.live(head, now)) return missing(snapshotId);
    const length = new DataView(await head.arrayBuffer()).getUint32(0);
    const header = await this.bucket.get(key, { range: { offset: 4, length } });
    if (!header) return missing(snapshotId);
    return parseHeader(new Uint8Array(await header.arrayBuffer()));
  }

  /** Deletes a snapshot (404 when there is none). */
  async delete(snapshotId: string, now: number): Promise<void> {
    await this.describe(snapshotId, now);
    await this.bucket.delete(this.prefix + snapshotId);
  }

  /** A page of the tenant's snapshots, in id order. */
  async list(limit: number, cursor: string | undefined, now: number): Promise<SnapshotList> {
    let listed: R2Objects;
    try {
      listed = await this.bucket.list({ prefix: this.prefix, limit, cursor, include: ["customMetadata"] });
    } catch {
      throw new SandboxerError(ErrorCode.validationFailed, "The cursor is not one this API returned.", { errors: [{ path: "cursor", message: "invalid cursor" }] });
    }
    const snapshots = listed.objects.map((o) => this.live(o, now)).filter((s): s is Snapshot => s !== undefined);
    return { snapshots, nextCursor: listed.truncated ? listed.cursor : null };
  }

  /** Bytes held by the tenant's live snapshots. */
  async usage(now: number): Promise<number> {
    let used = 0;
    let cursor: string | undefined;
    do {
      const listed = await this.bucket.list({ prefix: this.prefix, cursor, include: ["customMetadata"] });
      for (const object of listed.objects) if (this.live(object, now)) used += object.size;
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
    return used;
  }

  /** The description of a stored object, or undefined when it is gone or expired (then it is deleted). */
  private live(object: R2Object | null, now: number): Snapshot | undefined {
    if (!object?.customMetadata) return undefined;
    const meta = object.customMetadata;
    if (Date.parse(meta.expiresAt ?? "") <= now) {
      // Retention: an expired snapshot is deleted when met; failing here only delays it.
      void this.bucket.delete(object.key).catch(() => undefined);
      return undefined;
    }
    return {
      snapshotId: object.key.slice(this.prefix.length),
      name: meta.name ?? "",
      size: object.size,
      createdAt: meta.createdAt ?? new Date(object.uploaded).toISOString(),
      expiresAt: meta.expiresAt!,
      sourceSandboxId: meta.sourceSandboxId ?? "",
      profile: meta.profile ?? "",
    };
  }
}

function missing(snapshotId: string): never {
  throw new SandboxerError(ErrorCode.notFound, `No snapshot '${snapshotId}' for this tenant (it may have expired); list yours with GET /v1/snapshots.`);
}
