import { RESERVED_PREFIX } from "../instrument";

/** How deep console output and non-JSON results are shown (Node's console uses 2). */
export const CONSOLE_DEPTH = 2;
export const RESULT_DEPTH = 6;
/** Items shown per array, map or set before "... n more items" (Node's default). */
export const MAX_ITEMS = 100;
/** Properties shown per object before "... n more properties". */
export const MAX_PROPERTIES = 1000;
/** Longest string shown inside an object before "... n more characters" (Node's default). */
export const MAX_NESTED_STRING = 10_000;
/** Nesting beyond which a result is not checked for JSON-ness or cycles (deeper is never plain). */
const MAX_RESULT_NESTING = 500;

/** Longest error message, and stack, a report carries (bytes of UTF-8). */
export const MAX_ERROR_TEXT_BYTES = 64 * 1024;

/**
 * Source of the inspect module: a small `util.inspect` / `util.format` (Node's single-line
 * output: `{ a: 1, b: 'x' }`, `Map(1) { 'k' => 1 }`, `[ 1, <1 empty item> ]`, getters shown as
 * `[Getter]`, never invoked), result rendering and error description. Everything that reads a
 * user object runs while the budget still counts, so a hostile getter or Proxy trap is stopped
 * like any other user code. Builtins come from the primordials module.
 */
export function inspectModuleSource(primordials: string): string {
  return String.raw`
import {
  ObjectKeys as ownKeys, ObjectGetPrototypeOf as getPrototypeOf, ObjectGetOwnPropertyDescriptor as getOwnPropertyDescriptor,
  ObjectGetOwnPropertySymbols as getOwnPropertySymbols, ObjectIs as is, ObjectPrototype, ObjectPrototypeToString,
  ArrayPrototype, ArrayIsArray as isArray, ArrayBufferIsView as isView, ArrayPrototypePush as push, ArrayPrototypeJoin as join,
  ArrayPrototypeIndexOf, ArrayPrototypeSlice, StringCtor, StringPrototypeSlice as slice, StringPrototypeIncludes as includes,
  StringPrototypeStartsWith as startsWith, StringPrototypeEndsWith as endsWith, StringPrototypeCharCodeAt as charCodeAt,
  StringPrototypeReplaceAll as replaceAll, StringPrototypeIndexOf as indexOf, SymbolPrototypeToString, BigIntPrototypeToString, NumberIsFinite, NumberIsNaN,
  JSONStringify as stringify, DatePrototypeGetTime, DatePrototypeToISOString, FunctionPrototypeToString, RegExpPrototypeToString,
  MapCtor, SetCtor, MapPrototypeGetSize, SetPrototypeGetSize, MapPrototypeForEach, SetPrototypeForEach, TypedArrayPrototypeGetLength,
  TypedArrayPrototypeSubarray, encodeUtf8, decodeUtf8, MathMax, ErrorCtor, ArrayPrototypePop, ObjectHasOwn as hasOwn,
  ObjectSetPrototypeOf as setPrototypeOf,
} from "${primordials}";

const tagOf = (v) => ObjectPrototypeToString(v);
/** A working array with no prototype: pushing to it cannot reach a setter user code put on Array.prototype. */
function list() {
  const a = [];
  setPrototypeOf(a, null);
  return a;
}
const STOP = {};

export function byteLength(text) {
  return TypedArrayPrototypeGetLength(encodeUtf8(text));
}

/** The longest prefix of text that fits in maxBytes of UTF-8, cut at a character boundary. */
export function truncateUtf8(text, maxBytes) {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = encodeUtf8(text);
  if (TypedArrayPrototypeGetLength(bytes) <= maxBytes) return text;
  let end = MathMax(0, maxBytes);
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return decodeUtf8(TypedArrayPrototypeSubarray(bytes, 0, end));
}

function isIdentifier(key) {
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) {
    const c = charCodeAt(key, i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
    if (!letter && !(i > 0 && c >= 48 && c <= 57)) return false;
  }
  return true;
}

function isIndex(key) {
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) {
    const c = charCodeAt(key, i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function quote(text) {
  if (text.length > ${MAX_NESTED_STRING}) return quote(slice(text, 0, ${MAX_NESTED_STRING})) + "... " + (text.length - ${MAX_NESTED_STRING}) + " more characters";
  const body = slice(stringify(text), 1, -1);
  if (includes(text, "'") && !includes(text, '"')) return '"' + body + '"';
  return "'" + replaceAll(replaceAll(body, '\\"', '"'), "'", "\\'") + "'";
}

function constructorName(value) {
  let proto = getPrototypeOf(value);
  while (proto) {
    const descriptor = getOwnPropertyDescriptor(proto, "constructor");
    if (descriptor && typeof descriptor.value === "function") {
      const name = getOwnPropertyDescriptor(descriptor.value, "name");
      if (name && typeof name.value === "string" && name.value) return name.value;
    }
    proto = getPrototypeOf(proto);
  }
  return null;
}

function formatFunction(fn) {
  const descriptor = getOwnPropertyDescriptor(fn, "name");
  const name = descriptor && typeof descriptor.value === "string" ? descriptor.value : "";
  let source = "";
  try { source = FunctionPrototypeToString(fn); } catch {}
  if (startsWith(source, "class")) return "[class " + (name || "(anonymous)") + "]";
  const kind = slice(tagOf(fn), 8, -1);
  return "[" + (kind === "Function" || !endsWith(kind, "Function") ? "Function" : kind) + (name ? ": " + name : " (anonymous)") + "]";
}

function formatKey(key) {
  if (typeof key === "symbol") return "[" + SymbolPrototypeToString(key) + "]";
  return isIdentifier(key) ? key : quote(key);
}

function formatEntry(value, key, depth, seen, options) {
  const descriptor = getOwnPropertyDescriptor(value, key);
  if (descriptor && !("value" in descriptor)) return descriptor.get ? (descriptor.set ? "[Getter/Setter]" : "[Getter]") : "[Setter]";
  return formatValue(value[key], depth + 1, seen, options);
}

function formatProperty(value, key, depth, seen, options) {
  return formatKey(key) + ": " + formatEntry(value, key, depth, seen, options);
}

function enumerableSymbols(value) {
  const symbols = getOwnPropertySymbols(value), out = list();
  for (let i = 0; i < symbols.length; i++) if (getOwnPropertyDescriptor(value, symbols[i])?.enumerable) push(out, symbols[i]);
  return out;
}

function braces(prefix, items, open = "{", close = "}") {
  if (items.length === 0) return (prefix ? prefix + " " : "") + open + close;
  return (prefix ? prefix + " " : "") + open + " " + join(items, ", ") + " " + close;
}

function more(items, remaining, noun) {
  if (remaining > 0) push(items, "... " + remaining + " more " + (remaining === 1 ? noun : noun === "property" ? "properties" : noun + "s"));
  return items;
}

function emptyItems(count) {
  return "<" + count + " empty item" + (count === 1 ? "" : "s") + ">";
}

// V8 quotes the code around a TypeError, and an awaited value passes through the check
// (check(await x)): put back what Node says, as the host does for errors it reports (stack.ts).
const CHECK_PREFIX = "${RESERVED_PREFIX}", CHECK_LENGTH = ${RESERVED_PREFIX.length + 32};
const NOT_ITERABLE = " is not a function or its return value is not iterable";
function isCheckAt(text, at) {
  for (let i = at + CHECK_PREFIX.length; i < at + CHECK_LENGTH; i++) {
    const c = charCodeAt(text, i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
function scrubChecks(text) {
  let out = "", from = 0;
  for (let at = indexOf(text, CHECK_PREFIX); at !== -1; at = indexOf(text, CHECK_PREFIX, at + 1)) {
    if (at < from || !isCheckAt(text, at)) continue;
    const end = at + CHECK_LENGTH;
    let replacement = "(internal)", resume = end;
    if (startsWith(text, "(...)", end)) {
      replacement = "(intermediate value)";
      resume = end + 5;
    } else if (startsWith(text, NOT_ITERABLE, end)) {
      replacement = "(intermediate value) is not iterable";
      resume = end + NOT_ITERABLE.length;
    }
    out += slice(text, from, at) + replacement;
    from = resume;
  }
  return from === 0 ? text : out + slice(text, from);
}

function formatValue(value, depth, seen, options) {
  switch (typeof value) {
    case "string": return depth === 0 && options.bareStrings ? value : quote(value);
    case "number": return is(value, -0) ? "-0" : StringCtor(value);
    case "bigint": return BigIntPrototypeToString(value) + "n";
    case "symbol": return SymbolPrototypeToString(value);
    case "undefined": return "undefined";
    case "boolean": return value ? "true" : "false";
    case "function": return formatFunction(value);
  }
  if (value === null) return "null";
  if (ArrayPrototypeIndexOf(seen, value) !== -1) return "[Circular]";
  const name = constructorName(value);
  if (value instanceof ErrorCtor) {
    const text = StringCtor(value.name) + ": " + scrubChecks(StringCtor(value.message));
    return depth === 0 ? text : "[" + text + "]";
  }
  if (depth > options.depth) return isArray(value) ? "[Array]" : "[" + (name || "Object") + "]";
  push(seen, value);
  try {
    return formatObject(value, name, depth, seen, options);
  } finally {
    ArrayPrototypePop(seen);
  }
}

function formatObject(value, name, depth, seen, options) {
  const tag = slice(tagOf(value), 8, -1);
  const nested = (v) => formatValue(v, depth + 1, seen, options);
  if (tag === "Date") {
    try {
      const time = DatePrototypeGetTime(value);
      return NumberIsNaN(time) ? "Invalid Date" : DatePrototypeToISOString(value);
    } catch {}
  }
  if (tag === "RegExp") {
    try { return RegExpPrototypeToString(value); } catch {}
  }
  if (tag === "Number" || tag === "String" || tag === "Boolean" || tag === "BigInt" || tag === "Symbol") {
    if (typeof value.valueOf() !== "object") return "[" + tag + ": " + formatValue(value.valueOf(), 1, seen, options) + "]";
  }
  if (tag === "Promise") return "Promise { <unknown> }";
  if (tag === "WeakMap" || tag === "WeakSet" || tag === "WeakRef") return tag + " { <items unknown> }";
  if (tag === "ArrayBuffer" || tag === "SharedArrayBuffer") return tag + " { byteLength: " + value.byteLength + " }";
  if (tag === "DataView") return "DataView { byteLength: " + value.byteLength + ", byteOffset: " + value.byteOffset + " }";
  if (value instanceof MapCtor) {
    const items = list(), size = MapPrototypeGetSize(value);
    try {
      MapPrototypeForEach(value, (v, k) => {
        if (items.length >= ${MAX_ITEMS}) throw STOP;
        push(items, nested(k) + " => " + nested(v));
      });
    } catch (error) {
      if (error !== STOP) throw error;
    }
    return braces((name || "Map") + "(" + size + ")", more(items, size - items.length, "item"));
  }
  if (value instanceof SetCtor) {
    const items = list(), size = SetPrototypeGetSize(value);
    try {
      SetPrototypeForEach(value, (v) => {
        if (items.length >= ${MAX_ITEMS}) throw STOP;
        push(items, nested(v));
      });
    } catch (error) {
      if (error !== STOP) throw error;
    }
    return braces((name || "Set") + "(" + size + ")", more(items, size - items.length, "item"));
  }
  if (isView(value) && tag !== "DataView") {
    const items = list(), length = TypedArrayPrototypeGetLength(value);
    for (let i = 0; i < length && i < ${MAX_ITEMS}; i++) push(items, formatValue(value[i], 1, seen, options));
    return braces((name || tag) + "(" + length + ")", more(items, length - items.length, "item"), "[", "]");
  }
  if (isArray(value)) {
    const items = list();
    let index = 0;
    let holes = 0;
    // Bounded visits, not just bounded output: new Array(1e9) is one huge hole.
    for (; index < value.length && items.length < ${MAX_ITEMS} && index < ${MAX_ITEMS * 100}; index++) {
      if (!getOwnPropertyDescriptor(value, index)) {
        holes++;
        continue;
      }
      if (holes) push(items, emptyItems(holes));
      holes = 0;
      push(items, formatEntry(value, StringCtor(index), depth, seen, options));
    }
    if (holes) push(items, emptyItems(holes));
    more(items, value.length - index, "item");
    const keys = ownKeys(value);
    for (let i = 0; i < keys.length; i++) if (!isIndex(keys[i])) push(items, formatProperty(value, keys[i], depth, seen, options));
    return braces(name && name !== "Array" ? name + "(" + value.length + ")" : "", items, "[", "]");
  }
  const prefix = getPrototypeOf(value) === null ? "[Object: null prototype]" : name && name !== "Object" ? name : "";
  const keys = ownKeys(value), symbols = enumerableSymbols(value), items = list();
  const total = keys.length + symbols.length;
  for (let i = 0; i < total && items.length < ${MAX_PROPERTIES}; i++) {
    push(items, formatProperty(value, i < keys.length ? keys[i] : symbols[i - keys.length], depth, seen, options));
  }
  more(items, total - items.length, "property");
  return braces(prefix, items);
}

/** util.inspect, single-line. */
export function inspect(value, depth = ${CONSOLE_DEPTH}) {
  return formatValue(value, 0, list(), { __proto__: null, depth, bareStrings: false });
}

function formatSpecifier(specifier, arg) {
  switch (specifier) {
    case "s": return typeof arg === "string" ? arg : typeof arg === "bigint" ? BigIntPrototypeToString(arg) + "n" : typeof arg === "object" && arg !== null ? formatValue(arg, 0, list(), { __proto__: null, depth: 1, bareStrings: false }) : typeof arg === "symbol" ? SymbolPrototypeToString(arg) : StringCtor(arg);
    case "d": return typeof arg === "bigint" ? BigIntPrototypeToString(arg) + "n" : typeof arg === "object" || typeof arg === "symbol" ? "NaN" : StringCtor(+arg);
    case "i": return typeof arg === "bigint" ? BigIntPrototypeToString(arg) + "n" : typeof arg === "symbol" ? "NaN" : StringCtor(parseInt(arg));
    case "f": return typeof arg === "symbol" ? "NaN" : StringCtor(parseFloat(arg));
    case "j": try { return StringCtor(stringify(arg)); } catch { return "[Circular]"; }
    case "c": return "";
    default: return formatValue(arg, 0, list(), { __proto__: null, depth: specifier === "O" ? ${CONSOLE_DEPTH} : 4, bareStrings: false });
  }
}

/** util.format: what console.log prints for its arguments, with %s %d %i %f %j %o %O %c %%. */
export function formatArguments(args) {
  const options = { __proto__: null, depth: ${CONSOLE_DEPTH}, bareStrings: true };
  let rest = 0;
  const parts = list();
  const first = args[0];
  if (typeof first === "string" && args.length > 1 && includes(first, "%")) {
    rest = 1;
    let head = "";
    for (let i = 0; i < first.length; i++) {
      const c = first[i], next = first[i + 1];
      if (c !== "%" || next === undefined || !includes("sdifjoOc%", next)) {
        head += c;
        continue;
      }
      i++;
      if (next === "%") head += "%";
      else if (rest >= args.length) head += "%" + next;
      else head += formatSpecifier(next, args[rest++]);
    }
    push(parts, head);
  }
  for (let i = rest; i < args.length; i++) push(parts, formatValue(args[i], 0, list(), options));
  return join(parts, " ");
}

/** Plain JSON data: no accessors (a getter could answer differently each time), no toJSON, no cycles. */
function isPlainJson(value, seen, nesting) {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return NumberIsFinite(value);
  if (typeof value !== "object" || nesting > ${MAX_RESULT_NESTING} || ArrayPrototypeIndexOf(seen, value) !== -1) return false;
  const proto = getPrototypeOf(value);
  if (isArray(value) ? proto !== ArrayPrototype : proto !== ObjectPrototype && proto !== null) return false;
  if (typeof value.toJSON === "function") return false;
  const keys = ownKeys(value);
  if (isArray(value) && keys.length !== value.length) return false;
  push(seen, value);
  for (let i = 0; i < keys.length; i++) {
    const descriptor = getOwnPropertyDescriptor(value, keys[i]);
    if (!descriptor || !("value" in descriptor) || !isPlainJson(descriptor.value, seen, nesting + 1)) return false;
  }
  ArrayPrototypePop(seen);
  return true;
}

function hasCycle(value, seen, nesting) {
  if (value === null || typeof value !== "object" || nesting > ${MAX_RESULT_NESTING}) return false;
  if (ArrayPrototypeIndexOf(seen, value) !== -1) return true;
  push(seen, value);
  const children = list();
  if (value instanceof MapCtor) MapPrototypeForEach(value, (v, k) => { push(children, k); push(children, v); });
  else if (value instanceof SetCtor) SetPrototypeForEach(value, (v) => { push(children, v); });
  else {
    const keys = ownKeys(value);
    for (let i = 0; i < keys.length; i++) {
      const descriptor = getOwnPropertyDescriptor(value, keys[i]);
      if (descriptor && "value" in descriptor) push(children, descriptor.value);
    }
  }
  for (let i = 0; i < children.length; i++) if (hasCycle(children[i], seen, nesting + 1)) return true;
  ArrayPrototypePop(seen);
  return false;
}

/** A part JSON cannot carry, in a JSON result: what it was and how it renders. */
function tagPart(value) {
  const other = renderOther(value);
  return { __proto__: null, "@type": other.type, text: other.text !== undefined ? other.text : other.json };
}

/**
 * An array or plain object as JSON with each part JSON cannot carry (undefined, bigint, NaN, a
 * Date, a Map, a class instance, a getter, a cycle…) replaced by { "@type", "text" }, so one
 * such part does not turn the whole result into a string. Built from null-prototype containers
 * (no inherited setter of user code is reached) and never calls a getter. Null when value is
 * not an array or plain object, or has holes.
 */
function tagged(value, seen, nesting, counter) {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && NumberIsFinite(value)) return value;
  if (typeof value !== "object" || nesting > ${MAX_RESULT_NESTING}) return (counter.n++, tagPart(value));
  if (ArrayPrototypeIndexOf(seen, value) !== -1) return (counter.n++, { __proto__: null, "@type": "circular", text: "[Circular]" });
  const array = isArray(value);
  const proto = getPrototypeOf(value);
  if ((array ? proto !== ArrayPrototype : proto !== ObjectPrototype && proto !== null) || typeof value.toJSON === "function") {
    return (counter.n++, tagPart(value));
  }
  const keys = ownKeys(value);
  if (array && keys.length !== value.length) return (counter.n++, tagPart(value));
  push(seen, value);
  const out = array ? list() : { __proto__: null };
  for (let i = 0; i < keys.length; i++) {
    const descriptor = getOwnPropertyDescriptor(value, keys[i]);
    let part;
    if (!descriptor) part = (counter.n++, { __proto__: null, "@type": "undefined", text: "undefined" });
    else if (hasOwn(descriptor, "get")) part = (counter.n++, { __proto__: null, "@type": "getter", text: "[Getter]" });
    else part = tagged(descriptor.value, seen, nesting + 1, counter);
    if (array) push(out, part);
    else out[keys[i]] = part;
  }
  ArrayPrototypePop(seen);
  return out;
}

/** A non-JSON result: its rendering (text) or, for objects with toJSON, their JSON (json); and its type. */
function renderOther(value) {
  switch (typeof value) {
    case "undefined": return { __proto__: null, text: "undefined", type: "undefined" };
    case "number": return { __proto__: null, text: StringCtor(value), type: "number" };
    case "bigint": return { __proto__: null, text: BigIntPrototypeToString(value) + "n", type: "bigint" };
    case "symbol": return { __proto__: null, text: SymbolPrototypeToString(value), type: "symbol" };
    case "function": return { __proto__: null, text: formatFunction(value), type: "function" };
  }
  if (hasCycle(value, list(), 0)) return { __proto__: null, text: inspect(value, ${RESULT_DEPTH}), type: "circular" };
  const name = constructorName(value) || "Object";
  if (tagOf(value) === "[object Date]") return { __proto__: null, text: inspect(value), type: "Date" };
  if (typeof value.toJSON === "function") {
    try {
      const json = stringify(value);
      if (typeof json === "string") return { __proto__: null, json, type: name };
    } catch {}
  }
  return { __proto__: null, text: inspect(value, ${RESULT_DEPTH}), type: isArray(value) ? "Array" : name };
}

/**
 * The result as the API returns it, rendered once, to text: the JSON text of the value (plain
 * JSON as it is; an array or plain object with some non-JSON parts as tagged JSON, resultType
 * "tagged"; anything else a string rendering with resultType naming what it was), cut to
 * maxBytes (a string is cut itself; other JSON becomes its cut JSON text with resultType "json").
 * The host parses the text and checks its size again.
 */
export function renderResult(value, maxBytes) {
  let json, text, resultType;
  if (isPlainJson(value, list(), 0)) json = stringify(value);
  else if (value !== null && typeof value === "object") {
    const counter = { __proto__: null, n: 0 };
    const shape = tagged(value, list(), 0, counter);
    if (counter.n > 0 && shape !== null && typeof shape === "object" && !hasOwn(shape, "@type")) {
      json = stringify(shape);
      resultType = "tagged";
    }
  }
  if (typeof json !== "string") {
    const other = renderOther(value);
    json = other.json;
    text = other.text;
    resultType = other.type;
  }
  if (text === undefined && json.length * 3 > maxBytes && byteLength(json) > maxBytes) {
    text = json;
    resultType = "json";
  }
  let truncated = false;
  if (text !== undefined) {
    const cut = truncateUtf8(text, maxBytes);
    truncated = cut !== text;
    json = stringify(cut);
  }
  return { __proto__: null, json, resultType, truncated };
}

function cutText(value) {
  return truncateUtf8(typeof value === "string" ? value : "", ${MAX_ERROR_TEXT_BYTES});
}

/** name, message and stack of anything thrown (stack mapped to user positions by the host), each cut to a bound. */
export function describeError(thrown) {
  if (thrown !== null && typeof thrown === "object" && typeof thrown.message === "string") {
    let stack = "";
    try { stack = typeof thrown.stack === "string" ? thrown.stack : ""; } catch {}
    return { __proto__: null, name: cutText(StringCtor(thrown.name ?? "Error")), message: cutText(thrown.message), stack: cutText(stack) };
  }
  return { __proto__: null, name: "Error", message: cutText("Uncaught " + formatValue(thrown, 0, list(), { __proto__: null, depth: ${CONSOLE_DEPTH}, bareStrings: true })), stack: "" };
}
`;
}
