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

/**
 * Source of the inspect module: a small `util.inspect` / `util.format` (Node's single-line
 * output: `{ a: 1, b: 'x' }`, `Map(1) { 'k' => 1 }`, `[ 1, <1 empty item> ]`, getters shown as
 * `[Getter]`, never invoked), result rendering and error description. Everything that reads a
 * user object runs while the budget still counts, so a hostile getter or Proxy trap is stopped
 * like any other user code.
 */
export function inspectModuleSource(): string {
  return String.raw`
const { keys: ownKeys, getPrototypeOf, getOwnPropertyDescriptor, getOwnPropertySymbols, is } = Object;
const ObjectPrototype = Object.prototype, isArray = Array.isArray, isView = ArrayBuffer.isView;
const stringify = JSON.stringify, parse = JSON.parse, tagOf = (v) => ObjectPrototype.toString.call(v);
const encoder = new TextEncoder(), decoder = new TextDecoder();
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function byteLength(text) {
  return encoder.encode(text).length;
}

/** The longest prefix of text that fits in maxBytes of UTF-8, cut at a character boundary. */
export function truncateUtf8(text, maxBytes) {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}

function quote(text) {
  if (text.length > ${MAX_NESTED_STRING}) return quote(text.slice(0, ${MAX_NESTED_STRING})) + "... " + (text.length - ${MAX_NESTED_STRING}) + " more characters";
  const body = stringify(text).slice(1, -1);
  if (text.includes("'") && !text.includes('"')) return '"' + body + '"';
  return "'" + body.replace(/\\"/g, '"').replace(/'/g, "\\'") + "'";
}

function constructorName(value) {
  let proto = getPrototypeOf(value);
  while (proto) {
    const descriptor = getOwnPropertyDescriptor(proto, "constructor");
    if (descriptor && typeof descriptor.value === "function" && descriptor.value.name) return descriptor.value.name;
    proto = getPrototypeOf(proto);
  }
  return null;
}

function formatFunction(fn) {
  const name = typeof fn.name === "string" ? fn.name : "";
  let source = "";
  try { source = Function.prototype.toString.call(fn); } catch {}
  if (source.startsWith("class")) return "[class " + (name || "(anonymous)") + "]";
  const kind = tagOf(fn).slice(8, -1);
  return "[" + (kind === "Function" || !kind.endsWith("Function") ? "Function" : kind) + (name ? ": " + name : " (anonymous)") + "]";
}

function formatKey(key) {
  if (typeof key === "symbol") return "[" + key.toString() + "]";
  return IDENTIFIER.test(key) ? key : quote(key);
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
  return getOwnPropertySymbols(value).filter((symbol) => getOwnPropertyDescriptor(value, symbol)?.enumerable);
}

function braces(prefix, items, open = "{", close = "}") {
  if (items.length === 0) return (prefix ? prefix + " " : "") + open + close;
  return (prefix ? prefix + " " : "") + open + " " + items.join(", ") + " " + close;
}

function more(items, remaining, noun) {
  if (remaining > 0) items.push("... " + remaining + " more " + (remaining === 1 ? noun : noun === "property" ? "properties" : noun + "s"));
  return items;
}

function emptyItems(count) {
  return "<" + count + " empty item" + (count === 1 ? "" : "s") + ">";
}

function formatValue(value, depth, seen, options) {
  switch (typeof value) {
    case "string": return depth === 0 && options.bareStrings ? value : quote(value);
    case "number": return is(value, -0) ? "-0" : String(value);
    case "bigint": return String(value) + "n";
    case "symbol": return value.toString();
    case "undefined": return "undefined";
    case "boolean": return String(value);
    case "function": return formatFunction(value);
  }
  if (value === null) return "null";
  if (seen.includes(value)) return "[Circular]";
  const name = constructorName(value);
  if (value instanceof Error) {
    const text = String(value.name) + ": " + String(value.message);
    return depth === 0 ? text : "[" + text + "]";
  }
  if (depth > options.depth) return isArray(value) ? "[Array]" : "[" + (name || "Object") + "]";
  seen.push(value);
  try {
    return formatObject(value, name, depth, seen, options);
  } finally {
    seen.pop();
  }
}

function formatObject(value, name, depth, seen, options) {
  const tag = tagOf(value).slice(8, -1);
  const nested = (v) => formatValue(v, depth + 1, seen, options);
  if (tag === "Date") return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (tag === "RegExp") return String(value);
  if (tag === "Number" || tag === "String" || tag === "Boolean" || tag === "BigInt" || tag === "Symbol") {
    if (typeof value.valueOf() !== "object") return "[" + tag + ": " + formatValue(value.valueOf(), 1, seen, options) + "]";
  }
  if (tag === "Promise") return "Promise { <unknown> }";
  if (tag === "WeakMap" || tag === "WeakSet" || tag === "WeakRef") return tag + " { <items unknown> }";
  if (tag === "ArrayBuffer" || tag === "SharedArrayBuffer") return tag + " { byteLength: " + value.byteLength + " }";
  if (tag === "DataView") return "DataView { byteLength: " + value.byteLength + ", byteOffset: " + value.byteOffset + " }";
  if (value instanceof Map) {
    const items = [];
    for (const [k, v] of value) {
      if (items.length >= ${MAX_ITEMS}) break;
      items.push(nested(k) + " => " + nested(v));
    }
    return braces((name || "Map") + "(" + value.size + ")", more(items, value.size - items.length, "item"));
  }
  if (value instanceof Set) {
    const items = [];
    for (const v of value) {
      if (items.length >= ${MAX_ITEMS}) break;
      items.push(nested(v));
    }
    return braces((name || "Set") + "(" + value.size + ")", more(items, value.size - items.length, "item"));
  }
  if (isView(value)) {
    const items = [];
    for (let i = 0; i < value.length && i < ${MAX_ITEMS}; i++) items.push(formatValue(value[i], 1, seen, options));
    return braces((name || tag) + "(" + value.length + ")", more(items, value.length - items.length, "item"), "[", "]");
  }
  if (isArray(value)) {
    const items = [];
    let index = 0;
    let holes = 0;
    // Bounded visits, not just bounded output: new Array(1e9) is one huge hole.
    for (; index < value.length && items.length < ${MAX_ITEMS} && index < ${MAX_ITEMS * 100}; index++) {
      if (!(index in value)) {
        holes++;
        continue;
      }
      if (holes) items.push(emptyItems(holes));
      holes = 0;
      items.push(formatEntry(value, String(index), depth, seen, options));
    }
    if (holes) items.push(emptyItems(holes));
    more(items, value.length - index, "item");
    for (const key of ownKeys(value)) if (!/^\d+$/.test(key)) items.push(formatProperty(value, key, depth, seen, options));
    return braces(name && name !== "Array" ? name + "(" + value.length + ")" : "", items, "[", "]");
  }
  const prefix = getPrototypeOf(value) === null ? "[Object: null prototype]" : name && name !== "Object" ? name : "";
  const keys = [...ownKeys(value), ...enumerableSymbols(value)];
  const items = keys.slice(0, ${MAX_PROPERTIES}).map((key) => formatProperty(value, key, depth, seen, options));
  more(items, keys.length - items.length, "property");
  return braces(prefix, items);
}

/** util.inspect, single-line. */
export function inspect(value, depth = ${CONSOLE_DEPTH}) {
  return formatValue(value, 0, [], { depth, bareStrings: false });
}

/** util.format: what console.log prints for its arguments, with %s %d %i %f %j %o %O %c %%. */
export function formatArguments(args) {
  const options = { depth: ${CONSOLE_DEPTH}, bareStrings: true };
  let rest = 0;
  let head = "";
  if (typeof args[0] === "string" && args.length > 1 && args[0].includes("%")) {
    rest = 1;
    head = args[0].replace(/%([sdifjoOc%])/g, (match, specifier) => {
      if (specifier === "%") return "%";
      if (rest >= args.length) return match;
      const arg = args[rest++];
      switch (specifier) {
        case "s": return typeof arg === "string" ? arg : typeof arg === "bigint" ? arg + "n" : typeof arg === "object" && arg !== null ? formatValue(arg, 0, [], { depth: 1, bareStrings: false }) : String(arg);
        case "d": return typeof arg === "bigint" ? arg + "n" : typeof arg === "object" ? "NaN" : String(Number(arg));
        case "i": return typeof arg === "bigint" ? arg + "n" : String(parseInt(arg));
        case "f": return String(parseFloat(arg));
        case "j": try { return stringify(arg); } catch { return "[Circular]"; }
        case "c": return "";
        default: return formatValue(arg, 0, [], { depth: specifier === "O" ? ${CONSOLE_DEPTH} : 4, bareStrings: false });
      }
    });
  }
  const parts = rest ? [head] : [];
  for (let i = rest; i < args.length; i++) parts.push(formatValue(args[i], 0, [], options));
  return parts.join(" ");
}

function isPlainJson(value, seen, nesting) {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || seen.has(value) || nesting > ${MAX_RESULT_NESTING}) return false;
  const proto = getPrototypeOf(value);
  if (isArray(value) ? proto !== Array.prototype : proto !== ObjectPrototype && proto !== null) return false;
  if (typeof value.toJSON === "function") return false;
  const keys = ownKeys(value);
  if (isArray(value) && keys.length !== value.length) return false;
  seen.add(value);
  for (const key of keys) if (!isPlainJson(value[key], seen, nesting + 1)) return false;
  seen.delete(value);
  return true;
}

function hasCycle(value, seen, nesting) {
  if (value === null || typeof value !== "object" || nesting > ${MAX_RESULT_NESTING}) return false;
  if (seen.has(value)) return true;
  seen.add(value);
  const children = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : ownKeys(value).map((key) => {
    const descriptor = getOwnPropertyDescriptor(value, key);
    return descriptor && "value" in descriptor ? descriptor.value : undefined;
  });
  for (const child of children) if (hasCycle(child, seen, nesting + 1)) return true;
  seen.delete(value);
  return false;
}

function renderOther(value) {
  switch (typeof value) {
    case "undefined": return ["undefined", "undefined"];
    case "number": return [String(value), "number"];
    case "bigint": return [value + "n", "bigint"];
    case "symbol": return [value.toString(), "symbol"];
    case "function": return [formatFunction(value), "function"];
  }
  if (hasCycle(value, new Set(), 0)) return [inspect(value, ${RESULT_DEPTH}), "circular"];
  const name = constructorName(value) || "Object";
  if (tagOf(value) === "[object Date]") return [inspect(value), "Date"];
  if (typeof value.toJSON === "function") {
    try {
      const json = stringify(value);
      if (json !== undefined) return [parse(json), name];
    } catch {}
  }
  return [inspect(value, ${RESULT_DEPTH}), isArray(value) ? "Array" : name];
}

/**
 * The result as the API returns it: plain JSON as it is; anything else rendered as a string
 * with resultType naming what it was; cut to maxBytes (a string is cut itself, other JSON
 * becomes its cut JSON text with resultType "json").
 */
export function renderResult(value, maxBytes) {
  let [result, resultType] = isPlainJson(value, new Set(), 0) ? [value, undefined] : renderOther(value);
  let resultTruncated = false;
  if (typeof result !== "string") {
    const json = stringify(result);
    if (json.length * 3 > maxBytes && encoder.encode(json).length > maxBytes) {
      result = json;
      resultType = "json";
    }
  }
  if (typeof result === "string") {
    const cut = truncateUtf8(result, maxBytes);
    resultTruncated = cut !== result;
    result = cut;
  }
  return { result, ...(resultType ? { resultType } : {}), ...(resultTruncated ? { resultTruncated } : {}) };
}

/** name, message and stack of anything thrown (stack mapped to user positions by the host). */
export function describeError(thrown) {
  if (thrown !== null && typeof thrown === "object" && typeof thrown.message === "string") {
    let stack = "";
    try { stack = typeof thrown.stack === "string" ? thrown.stack : ""; } catch {}
    return { name: String(thrown.name ?? "Error"), message: thrown.message, stack };
  }
  return { name: "Error", message: "Uncaught " + formatValue(thrown, 0, [], { depth: ${CONSOLE_DEPTH}, bareStrings: true }), stack: "" };
}
`;
}
