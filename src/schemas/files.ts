import { z } from "@hono/zod-openapi";

export const FileEntry = z
  .object({ path: z.string(), size: z.number().int(), updatedAt: z.string().datetime() })
  .openapi("FileEntry");

export const FileList = z.array(FileEntry).openapi("FileList");

export type FileEntry = z.infer<typeof FileEntry>;
