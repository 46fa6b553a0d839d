/**
 * Source of the context module: turns a context cell's bindings into the text the host stores
 * (`saveBindings`), and that text back into values for the next cell (`restoreBindings`).
 *
 * Saving: each binding is first copied with the isolate's own `structuredClone` (captured before
 * user code). What it refuses (a function, a promise, a stub, a Proxy, a getter that throws) is
 * dropped and named; what it accepts is a fresh graph of plain data whose prototypes are the
 * runtime's intrinsics, so encoding it consults no user getter, setter or patched method. Types
 * are told by prototype identity on that clone, never by `Symbol.toStringTag`.
 *
 * Each binding's text is JSON with tagged values: plain JSON for strings, booleans, null and finite
 * numbers; `{ "$": tag, … }` for the rest (objects and arrays included, each with an id `i` so
 * cycles and shared references come back as they were). Restoring builds objects with
 * `Object.defineProperty`, so a setter user code put on `Object.prototype` is never called.
 * Runs inside the budget (before `finish()`), like all work on user values.
 *
 * The saved text is a container of one record per binding, in order (see
 * durable-objects/sandbox/contexts.ts, which stores a row per binding): the marker \u0001, then
 * for each binding `<name length>,<text length>:<name><text>`, where the text is that binding's
 * tagged JSON (ids count on across bindings, so references between them survive). A binding
 * whose text is exactly the one it was restored from is sent as `<name length>,=:<name>`
 * instead: the host keeps its stored row, and a megabyte that did not change is neither sent
 * back nor written again. A text in the older form (one JSON object) is still read.
 */
export function contextModuleSource(primordials: string): string {
  return String.raw`
import {
  ArrayIsArray, ArrayPrototype, ArrayPrototypePush, DatePrototypeGetTime, JSONParse, JSONStringify, MapCtor, MapPrototypeForEach,
  ObjectDefineProperty, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ObjectKeys, ObjectPrototype, ReflectApply, SetCtor,
  SetPrototypeForEach, NumberIsNaN, ObjectIs, ArrayPrototypeJoin, StringPrototypeSlice, StringPrototypeIndexOf,
} from "${primordials}";

const clone = structuredClone;
const btoaFn = btoa, atobFn = atob;
const StringFromCharCode = String.fromCharCode;
const StringCharCodeAt = Function.prototype.call.bind(String.prototype.charCodeAt);
const MapPrototypeSet = Function.prototype.call.bind(Map.prototype.set);
const MapPrototypeGet = Function.prototype.call.bind(Map.prototype.get);
const SetPrototypeAdd = Function.prototype.call.bind(Set.prototype.add);
const DateCtor = Date, RegExpCtor = RegExp, ArrayBufferCtor = ArrayBuffer, Uint8ArrayCtor = Uint8Array, DataViewCtor = DataView;
const MapPrototype = Map.prototype, SetPrototype = Set.prototype, DatePrototype = Date.prototype, RegExpPrototype = RegExp.prototype;
const ArrayBufferPrototype = ArrayBuffer.prototype, DataViewPrototype = DataView.prototype;
const getter = (proto, name) => Function.prototype.call.bind(ObjectGetOwnPropertyDescriptor(proto, name).get);
const RegExpSource = getter(RegExp.prototype, "source"), RegExpFlags = getter(RegExp.prototype, "flags");
const ArrayBufferByteLength = getter(ArrayBuffer.prototype, "byteLength");
const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
const TypedArrayBuffer = getter(TypedArrayPrototype, "buffer"), TypedArrayOffset = getter(TypedArrayPrototype, "byteOffset");
const TypedArrayByteLength = getter(TypedArrayPrototype, "byteLength"), TypedArrayName = getter(TypedArrayPrototype, Symbol.toStringTag);
const DataViewBuffer = getter(DataView.prototype, "buffer"), DataViewOffset = getter(DataView.prototype, "byteOffset");
const DataViewByteLength = getter(DataView.prototype, "byteLength");
const TYPED = { __proto__: null, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array };
if (typeof Float16Array === "function") TYPED.Float16Array = Float16Array;
const ERRORS = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];
const ERROR_PROTOTYPES = new MapCtor();
for (let i = 0; i < ERRORS.length; i++) MapPrototypeSet(ERROR_PROTOTYPES, ERRORS[i].prototype, ERRORS[i]);
const ErrorsByName = { __proto__: null };
for (let i = 0; i < ERRORS.length; i++) ErrorsByName[ERRORS[i].name] = ERRORS[i];

function define(target, key, value) {
  ObjectDefineProperty(target, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true });
}

function dataOf(target, key) {
  const descriptor = ObjectGetOwnPropertyDescriptor(target, key);
  return descriptor ? descriptor.value : undefined;
}

// The runtime's own base64 when it has one (an order of magnitude faster on a megabyte).
const NativeToBase64 = typeof Uint8Array.prototype.toBase64 === "function" ? Uint8Array.prototype.toBase64 : null;
const NativeFromBase64 = typeof Uint8Array.fromBase64 === "function" ? Uint8Array.fromBase64 : null;
const CHUNK = 8192;
const TypedArraySubarray = Function.prototype.call.bind(TypedArrayPrototype.subarray);
function toBase64(bytes) {
  if (NativeToBase64) return ReflectApply(NativeToBase64, bytes, []);
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) binary += ReflectApply(StringFromCharCode, null, TypedArraySubarray(bytes, i, i + CHUNK));
  return btoaFn(binary);
}

function fromBase64(text) {
  if (NativeFromBase64) return ReflectApply(NativeFromBase64, Uint8ArrayCtor, [text]);
  const binary = atobFn(text);
  const bytes = new Uint8ArrayCtor(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = StringCharCodeAt(binary, i);
  return bytes;
}

function bytesOf(buffer, offset, length) {
  return new Uint8ArrayCtor(buffer, offset, length);
}

/** A structured clone (fresh, intrinsic prototypes) as tagged JSON; ids assigned in 'seen'. */
function encode(value, seen) {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (NumberIsNaN(value)) return { __proto__: null, $: "num", v: "NaN" };
      if (ObjectIs(value, -0)) return { __proto__: null, $: "num", v: "-0" };
      if (value === Infinity || value === -Infinity) return { __proto__: null, $: "num", v: value > 0 ? "Infinity" : "-Infinity" };
      return value;
    case "undefined":
      return { __proto__: null, $: "undef" };
    case "bigint":
      return { __proto__: null, $: "big", v: "" + value };
  }
  if (value === null) return null;
  const known = MapPrototypeGet(seen, value);
  if (known !== undefined) return { __proto__: null, $: "ref", i: known };
  const i = seen.size;
  MapPrototypeSet(seen, value, i);
  const proto = ObjectGetPrototypeOf(value);
  if (proto === ArrayPrototype && ArrayIsArray(value)) {
    const items = [];
    const length = dataOf(value, "length");
    for (let k = 0; k < length; k++) items[k] = encode(dataOf(value, "" + k), seen);
    return { __proto__: null, $: "arr", i, v: items };
  }
  if (proto === ObjectPrototype) {
    const entries = { __proto__: null };
    const keys = ObjectKeys(value);
    for (let k = 0; k < keys.length; k++) define(entries, keys[k], encode(dataOf(value, keys[k]), seen));
    return { __proto__: null, $: "obj", i, v: entries };
  }
  if (proto === MapPrototype) {
    const pairs = [];
    MapPrototypeForEach(value, (v, k) => { ArrayPrototypePush(pairs, [encode(k, seen), encode(v, seen)]); });
    return { __proto__: null, $: "map", i, v: pairs };
  }
  if (proto === SetPrototype) {
    const items = [];
    SetPrototypeForEach(value, (v) => { ArrayPrototypePush(items, encode(v, seen)); });
    return { __proto__: null, $: "set", i, v: items };
  }
  if (proto === DatePrototype) {
    const time = DatePrototypeGetTime(value);
    return { __proto__: null, $: "date", i, v: NumberIsNaN(time) ? null : time };
  }
  if (proto === RegExpPrototype) return { __proto__: null, $: "re", i, v: RegExpSource(value), f: RegExpFlags(value) };
  if (proto === ArrayBufferPrototype) return { __proto__: null, $: "buf", i, v: toBase64(bytesOf(value, 0, ArrayBufferByteLength(value))) };
  if (proto === DataViewPrototype) {
    return { __proto__: null, $: "dv", i, v: toBase64(bytesOf(DataViewBuffer(value), DataViewOffset(value), DataViewByteLength(value))) };
  }
  if (ObjectGetPrototypeOf(proto) === TypedArrayPrototype) {
    const bytes = bytesOf(TypedArrayBuffer(value), TypedArrayOffset(value), TypedArrayByteLength(value));
    return { __proto__: null, $: "ta", i, c: TypedArrayName(value), v: toBase64(bytes) };
  }
  const ErrorType = MapPrototypeGet(ERROR_PROTOTYPES, proto);
  if (ErrorType) {
    const message = dataOf(value, "message"), stack = dataOf(value, "stack");
    return { __proto__: null, $: "err", i, c: ErrorType.name, m: typeof message === "string" ? message : "", s: typeof stack === "string" ? stack : "" };
  }
  throw new TypeError("a boxed primitive or another object structured clone keeps but contexts do not");
}

function decode(node, refs) {
  if (node === null || typeof node !== "object") return node;
  switch (node.$) {
    case "num": return node.v === "-0" ? -0 : +node.v;
    case "undef": return undefined;
    case "big": return BigInt(node.v);
    case "ref": return refs[node.i];
    case "arr": {
      const out = [];
      refs[node.i] = out;
      for (let k = 0; k < node.v.length; k++) define(out, "" + k, decode(node.v[k], refs));
      return out;
    }
    case "obj": {
      const out = {};
      refs[node.i] = out;
      const keys = ObjectKeys(node.v);
      for (let k = 0; k < keys.length; k++) define(out, keys[k], decode(node.v[keys[k]], refs));
      return out;
    }
    case "map": {
      const out = new MapCtor();
      refs[node.i] = out;
      for (let k = 0; k < node.v.length; k++) MapPrototypeSet(out, decode(node.v[k][0], refs), decode(node.v[k][1], refs));
      return out;
    }
    case "set": {
      const out = new SetCtor();
      refs[node.i] = out;
      for (let k = 0; k < node.v.length; k++) SetPrototypeAdd(out, decode(node.v[k], refs));
      return out;
    }
    case "date": return (refs[node.i] = new DateCtor(node.v === null ? NaN : node.v));
    case "re": return (refs[node.i] = new RegExpCtor(node.v, node.f));
    case "buf": {
      const bytes = fromBase64(node.v);
      return (refs[node.i] = TypedArrayBuffer(bytes));
    }
    case "dv": return (refs[node.i] = new DataViewCtor(TypedArrayBuffer(fromBase64(node.v))));
    case "ta": {
      const Ctor = TYPED[node.c] || Uint8ArrayCtor;
      return (refs[node.i] = new Ctor(TypedArrayBuffer(fromBase64(node.v))));
    }
    case "err": {
      const out = new (ErrorsByName[node.c] || Error)(node.m);
      define(out, "stack", node.s);
      return (refs[node.i] = out);
    }
  }
  return undefined;
}

/** Why a value could not be carried, in words for the result's contextDropped. */
function dropReason(value, error) {
  if (typeof value === "function") return "a function value (declare it with function, class or const f = () => … to carry its source)";
  if (value !== null && typeof value === "object" && typeof value.then === "function") return "a promise or thenable (await it before the cell ends)";
  const message = error && typeof error.message === "string" ? error.message : "structured clone refused it";
  return "cannot be carried: " + message;
}

/**
 * Runs the cell's capture function and encodes what it hands over. Answers a null-prototype
 * object: json (the saved text), saved (names kept) and dropped ({ name, reason } each).
 */
export function saveBindings(capture, maxChars) {
  const names = [], values = [], saved = [], dropped = [];
  const put = (name, value, uninitialised) => {
    if (uninitialised) {
      ArrayPrototypePush(dropped, { __proto__: null, name, reason: "not initialised (the cell ended before its declaration ran)" });
      return;
    }
    ArrayPrototypePush(names, name);
    ArrayPrototypePush(values, value);
  };
  if (typeof capture === "function") capture(put);
  // One clone of all values, so two bindings holding one object still share it. Only when
  // it is refused is each value cloned alone, to find and name the ones that cannot go.
  let copies;
  try {
    copies = clone(values);
  } catch {
    const keptNames = [], kept = [];
    for (let k = 0; k < values.length; k++) {
      try {
        clone(values[k]);
        ArrayPrototypePush(keptNames, names[k]);
        ArrayPrototypePush(kept, values[k]);
      } catch (error) {
        let reason;
        try { reason = dropReason(values[k], error); } catch { reason = "cannot be carried"; }
        ArrayPrototypePush(dropped, { __proto__: null, name: names[k], reason: "" + reason });
      }
    }
    names.length = 0;
    for (let k = 0; k < keptNames.length; k++) names[k] = keptNames[k];
    try {
      copies = clone(kept);
    } catch {
      copies = [];
      for (let k = 0; k < kept.length; k++) copies[k] = clone(kept[k]);
    }
  }
  const parts = ["\u0001"];
  let chars = 1;
  const seen = new MapCtor();
  for (let k = 0; k < names.length; k++) {
    let text;
    try {
      text = JSONStringify(encode(dataOf(copies, "" + k), seen));
    } catch (error) {
      ArrayPrototypePush(dropped, { __proto__: null, name: names[k], reason: "cannot be carried: " + (error && typeof error.message === "string" ? error.message : "unsupported value") });
      continue;
    }
    const name = names[k];
    const head = name.length + "," + text.length + ":";
    chars += head.length + name.length + text.length;
    ArrayPrototypePush(parts, MapPrototypeGet(restoredTexts, name) === text ? name.length + ",=:" + name : head + name + text);
    ArrayPrototypePush(saved, name);
  }
  if (chars > maxChars) return { __proto__: null, json: undefined, tooLarge: chars, saved, dropped };
  return { __proto__: null, json: ArrayPrototypeJoin(parts, ""), saved, dropped };
}

/** Each binding's text as restored, by name: a binding saved with the same text is sent as unchanged. */
const restoredTexts = new MapCtor();

/** The records of a container text ([name, text] pairs), or null when it is not one. */
function readRecords(text) {
  if (StringPrototypeSlice(text, 0, 1) !== "\u0001") return null;
  const records = [];
  let at = 1;
  while (at < text.length) {
    const comma = StringPrototypeIndexOf(text, ",", at), colon = StringPrototypeIndexOf(text, ":", comma + 1);
    if (comma < 0 || colon < 0) return null;
    const nameLength = +StringPrototypeSlice(text, at, comma), textLength = +StringPrototypeSlice(text, comma + 1, colon);
    if (!(nameLength >= 0) || !(textLength >= 0)) return null;
    const name = StringPrototypeSlice(text, colon + 1, colon + 1 + nameLength);
    ArrayPrototypePush(records, [name, StringPrototypeSlice(text, colon + 1 + nameLength, colon + 1 + nameLength + textLength)]);
    at = colon + 1 + nameLength + textLength;
  }
  return records;
}

/** The values a saved text holds, by name (a null-prototype object); empty if it cannot be read. */
export function restoreBindings(text) {
  const values = { __proto__: null };
  if (typeof text !== "string") return values;
  const refs = [];
  const records = readRecords(text);
  if (records !== null) {
    for (let k = 0; k < records.length; k++) {
      const name = records[k][0];
      MapPrototypeSet(restoredTexts, name, records[k][1]);
      try {
        values[name] = decode(JSONParse(records[k][1]), refs);
      } catch {
        // A binding that does not decode is left undefined; the others still come back.
      }
    }
    return values;
  }
  let parsed;
  try {
    parsed = JSONParse(text);
  } catch {
    return values;
  }
  if (parsed === null || typeof parsed !== "object") return values;
  const names = ObjectKeys(parsed);
  for (let k = 0; k < names.length; k++) {
    try {
      values[names[k]] = decode(parsed[names[k]], refs);
    } catch {
      // As above.
    }
  }
  return values;
}
`;
}
