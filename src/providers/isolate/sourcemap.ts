/** Source-map segments per generated line: `[generatedColumn, sourceIndex, sourceLine, sourceColumn]`, 0-based. */
export type DecodedMappings = number[][][];

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_VALUE = new Map([...BASE64].map((char, index) => [char, index]));

/** Decodes the VLQ `mappings` field of a source map (version 3). */
export function decodeMappings(mappings: string): DecodedMappings {
  const state = [0, 0, 0, 0];
  return mappings.split(";").map((line) => {
    state[0] = 0;
    const segments: number[][] = [];
    for (const text of line.split(",")) {
      if (text === "") continue;
      const fields = decodeVlq(text);
      for (let i = 0; i < fields.length && i < 4; i++) state[i]! += fields[i]!;
      if (fields.length >= 4) segments.push([...state]);
    }
    return segments;
  });
}

function decodeVlq(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64_VALUE.get(char) ?? 0;
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/**
 * Maps a 1-based generated position to the source: the nearest segment at or before the column.
 * `withinSegment` adds the distance from that segment (for maps with one segment per token,
 * whose text is copied unchanged); without it the segment's own position is the answer (for
 * maps with one segment per character, where the gap is inserted text).
 */
export function originalPosition(mappings: DecodedMappings, position: Position, withinSegment: boolean): Position | undefined {
  const segments = mappings[position.line - 1];
  if (!segments) return undefined;
  let best: number[] | undefined;
  for (const segment of segments) {
    if (segment[0]! > position.column - 1) break;
    best = segment;
  }
  if (!best) return undefined;
  const offset = withinSegment ? position.column - 1 - best[0]! : 0;
  return { line: best[2]! + 1, column: best[3]! + offset + 1 };
}
