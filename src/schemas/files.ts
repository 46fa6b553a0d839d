import { z } from "@hono/zod-openapi";

export const FileEntry = z
  .object({
    path: z.string(),
    size: z.number().int(),
    updatedAt: z.string().datetime(),
    symlink: z
      .literal(true)
      .optional()
      .describe("A symbolic link (linux sandboxes; size is the target's name): reads follow it only within /workspace, and snapshots leave it out"),
  })
  .openapi("FileEntry");

export const FileList = z.array(FileEntry).openapi("FileList");

/** Listing files: an optional path prefix. */
export const FilesQuery = z.object({ prefix: z.string().max(1024).optional().openapi({ example: "src/" }) });

export type FilesQuery = z.input<typeof FilesQuery>;
export type FileList = z.infer<typeof FileList>;
export type FileEntry = z.infer<typeof FileEntry>;
