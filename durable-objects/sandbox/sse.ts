/** Server-sent events, encoded once here: `event: <name>` and one `data:` line of JSON. */
export function sseStream(): {
  stream: ReadableStream<Uint8Array>;
  send: (event: string, data: unknown) => Promise<void>;
  close: () => Promise<void>;
} {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  let closed = false;
  return {
    stream: readable,
    // A client that went away makes writes fail; the execution still finishes and is recorded.
    send: (event, data) =>
      closed ? Promise.resolve() : writer.write(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)).catch(() => {
        closed = true;
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await writer.close().catch(() => undefined);
    },
  };
}
