/**
 * Scrubbing secret values out of what comes back to sandbox code: response headers, bodies and
 * error messages. An upstream rarely echoes a value byte for byte: a JSON echo escapes `"` and
 * `\` (and may write `/` as `\/` or any character as `\u00XX`), an HTML error page writes
 * `&lt;` or `&#60;`, a `Set-Cookie` or a redirect URL percent-encodes with upper- or lower-case
 * hex. So each value is matched as a sequence of bytes where every byte may appear raw or in any
 * of those escaped forms, mixed freely (see `bytePattern`). Values stored through
 * `PUT /v1/secrets` are printable ASCII (src/schemas/secrets.ts), so every escaped form of every
 * character is covered; a byte outside ASCII (a value stored before that rule) is matched raw or
 * percent-encoded.
 *
 * Matching runs over a "binary string" (one char per byte, 0–255), so bodies need not be UTF-8.
 */

/** Longest escaped form of one byte that the patterns accept (`&#x0000ff;`, `\u00ff` …). */
const MAX_FORM_CHARS = 10;

/** Named HTML entities for the characters that HTML escaping touches. */
const HTML_NAMED: Record<string, string[]> = {
  "&": ["&amp;"],
  "<": ["&lt;"],
  ">": ["&gt;"],
  '"': ["&quot;"],
  "'": ["&apos;", "&#39;"],
};

function regexEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** `4f` → `4[fF]`: hex digits in either case. */
function hexEitherCase(hex: string): string {
  return [...hex].map((d) => (/[a-f]/i.test(d) ? `[${d.toLowerCase()}${d.toUpperCase()}]` : d)).join("");
}

/** Every form one byte of a value may take in an echo, as a regex alternation. */
function bytePattern(byte: number): string {
  const hex = byte.toString(16).padStart(2, "0");
  const forms = [regexEscape(String.fromCharCode(byte)), `%${hexEitherCase(hex)}`];
  if (byte < 0x80) {
    const char = String.fromCharCode(byte);
    forms.push(`\\\\[uU]00${hexEitherCase(hex)}`); // JSON \u00XX
    if (char === '"' || char === "\\" || char === "/") forms.push(`\\\\${regexEscape(char)}`); // JSON \" \\ \/
    forms.push(`&#0{0,3}${byte};`, `&#[xX]0{0,3}${hexEitherCase(byte.toString(16))};`); // HTML numeric
    for (const named of HTML_NAMED[char] ?? []) forms.push(regexEscape(named));
    if (char === " ") forms.push("\\+"); // form encoding
  }
  return forms.length === 1 ? forms[0]! : `(?:${forms.join("|")})`;
}

/** A value's bytes as a binary string (one char per byte). */
function binary(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) out += String.fromCharCode(byte);
  return out;
}

interface Scrubber {
  /** One capture group per value, in the order of `replacements`. */
  regex: RegExp;
  replacements: string[];
  /** Longest text a match can span. */
  longest: number;
}

function compile(pairs: [needle: string, replacement: string][]): Scrubber | null {
  const usable = pairs.filter(([needle]) => needle.length > 0);
  if (usable.length === 0) return null;
  const groups = usable.map(([needle]) => `(${[...binary(needle)].map((c) => bytePattern(c.charCodeAt(0))).join("")})`);
  return {
    regex: new RegExp(groups.join("|"), "g"),
    replacements: usable.map(([, replacement]) => binary(replacement)),
    longest: Math.max(...usable.map(([needle]) => binary(needle).length * MAX_FORM_CHARS)),
  };
}

/**
 * Replaces matches in `text` that begin before `cut`; returns the output and the index from
 * which text was not yet emitted (held back because a match could still begin there).
 */
function replaceUpTo(scrubber: Scrubber, text: string, cut: number): { out: string; rest: number } {
  const { regex, replacements } = scrubber;
  regex.lastIndex = 0;
  let out = "";
  let pos = 0;
  for (let match = regex.exec(text); match; match = regex.exec(text)) {
    if (match.index >= cut) break;
    const which = match.findIndex((group, i) => i > 0 && group !== undefined) - 1;
    out += text.slice(pos, match.index) + replacements[which];
    pos = match.index + match[0].length;
  }
  const end = Math.max(pos, cut);
  out += text.slice(pos, end);
  return { out, rest: end };
}

function toBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function fromBytes(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/**
 * Replaces each secret value (in any of its escaped forms) by its placeholder in a byte stream,
 * including occurrences split across chunks: the tail that could still begin a match is held
 * back until the next chunk or the end.
 */
export function scrubStream(pairs: [needle: string, replacement: string][]): TransformStream<Uint8Array, Uint8Array> {
  const scrubber = compile(pairs);
  let carry = "";
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (!scrubber) return controller.enqueue(chunk);
      const text = carry + fromBytes(chunk);
      const { out, rest } = replaceUpTo(scrubber, text, Math.max(0, text.length - scrubber.longest + 1));
      carry = text.slice(rest);
      if (out.length > 0) controller.enqueue(toBytes(out));
    },
    flush(controller) {
      if (!scrubber || carry.length === 0) return;
      const { out } = replaceUpTo(scrubber, carry, carry.length);
      controller.enqueue(toBytes(out));
    },
  });
}

/** Replaces each secret value (in any of its escaped forms) in a string: headers, error messages, URLs. */
export function scrubText(text: string, pairs: [needle: string, replacement: string][]): string {
  const scrubber = compile(pairs);
  if (!scrubber) return text;
  // Header values and messages are already one char per byte for the ASCII values we match;
  // other characters pass through untouched.
  return replaceUpTo(scrubber, text, text.length).out;
}

/** Does `text` carry the value in any of its escaped forms? */
export function carriesValue(text: string, value: string): boolean {
  const scrubber = compile([[value, ""]]);
  return scrubber !== null && scrubber.regex.test(text);
}
