/**
 * Replaces byte sequences in a stream (each secret value by its placeholder), including
 * occurrences split across chunks: the tail that could still be the start of a match is held
 * back until the next chunk or the end.
 */
export function scrubStream(pairs: [needle: string, replacement: string][]): TransformStream<Uint8Array, Uint8Array> {
  const encoder = new TextEncoder();
  const needles = pairs.filter(([n]) => n.length > 0).map(([n, r]) => ({ needle: encoder.encode(n), replacement: encoder.encode(r) }));
  const longest = Math.max(0, ...needles.map((n) => n.needle.length));
  let carry = new Uint8Array(0);

  const process = (buffer: Uint8Array, final: boolean, controller: TransformStreamDefaultController<Uint8Array>) => {
    // Positions from `limit` on might begin a match that continues in the next chunk.
    const limit = final ? buffer.length : buffer.length - longest + 1;
    let segmentStart = 0;
    let i = 0;
    while (i < buffer.length) {
      const hit = needles.find(({ needle }) => startsWith(buffer, needle, i));
      if (hit) {
        if (i > segmentStart) controller.enqueue(buffer.slice(segmentStart, i));
        controller.enqueue(hit.replacement);
        i += hit.needle.length;
        segmentStart = i;
        continue;
      }
      if (i >= limit) break;
      i++;
    }
    if (i > segmentStart) controller.enqueue(buffer.slice(segmentStart, i));
    carry = buffer.slice(i);
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (needles.length === 0) return controller.enqueue(chunk);
      const buffer = new Uint8Array(carry.length + chunk.length);
      buffer.set(carry);
      buffer.set(chunk, carry.length);
      process(buffer, false, controller);
    },
    flush(controller) {
      if (carry.length > 0) process(carry, true, controller);
    },
  });
}

/** Replaces every needle in a string. */
export function scrubText(text: string, pairs: [needle: string, replacement: string][]): string {
  let out = text;
  for (const [needle, replacement] of pairs) if (needle) out = out.split(needle).join(replacement);
  return out;
}

function startsWith(buffer: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (at + needle.length > buffer.length) return false;
  for (let j = 0; j < needle.length; j++) if (buffer[at + j] !== needle[j]) return false;
  return true;
}
