/**
 * Source of the primordials module: every builtin our in-isolate code uses, captured before any
 * user code runs (the pattern Node's own internals follow). It is the first module evaluated in
 * an isolate; user code may later replace `Array.prototype.push`, `JSON`, `Promise.prototype.then`,
 * `Map.prototype.clear`, add getters to `Object.prototype`, and so on, and none of it reaches us.
 *
 * Rules for runtime code that imports it:
 * - call builtins through these captures (`ArrayPrototypePush(list, x)`, not `list.push(x)`);
 * - build objects with a null prototype (`{ __proto__: null, … }`), so a getter or a `then` on
 *   `Object.prototype` is never consulted (resolving a promise with an object looks up `then`);
 * - no `await`, `for…of`, spread or array destructuring (they consult patchable protocols:
 *   `constructor`, `Symbol.iterator`); chain with `PromiseThen`, which also defeats a patched
 *   `Promise.prototype.constructor` (see `safePromise`).
 */
export function primordialsModuleSource(): string {
  return String.raw`
const { apply: FunctionApply, bind: FunctionBind, call: FunctionCall } = Function.prototype;
// uncurryThis(Array.prototype.push)(list, x) calls the original push: the bound function holds
// the original call and the original method, whatever happens to the prototypes later.
const uncurryThis = FunctionBind.bind(FunctionCall);
export const ReflectApply = Reflect.apply;
export const ReflectGet = Reflect.get;
export const ProxyCtor = Proxy;
export const ObjectFreeze = Object.freeze;
export const ObjectKeys = Object.keys;
export const ObjectGetPrototypeOf = Object.getPrototypeOf;
export const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
export const ObjectGetOwnPropertySymbols = Object.getOwnPropertySymbols;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectSetPrototypeOf = Object.setPrototypeOf;
export const ObjectIs = Object.is;
export const ObjectHasOwn = Object.hasOwn;
export const ObjectPrototype = Object.prototype;
export const ObjectPrototypeToString = uncurryThis(Object.prototype.toString);
export const ArrayPrototype = Array.prototype;
export const ArrayIsArray = Array.isArray;
export const ArrayPrototypePush = uncurryThis(Array.prototype.push);
export const ArrayPrototypePop = uncurryThis(Array.prototype.pop);
export const ArrayPrototypeJoin = uncurryThis(Array.prototype.join);
export const ArrayPrototypeSlice = uncurryThis(Array.prototype.slice);
export const ArrayPrototypeIncludes = uncurryThis(Array.prototype.includes);
export const ArrayPrototypeIndexOf = uncurryThis(Array.prototype.indexOf);
export const ArrayPrototypeSplice = uncurryThis(Array.prototype.splice);
export const StringCtor = String;
export const StringPrototypeSlice = uncurryThis(String.prototype.slice);
export const StringPrototypeIncludes = uncurryThis(String.prototype.includes);
export const StringPrototypeStartsWith = uncurryThis(String.prototype.startsWith);
export const StringPrototypeEndsWith = uncurryThis(String.prototype.endsWith);
export const StringPrototypeCharCodeAt = uncurryThis(String.prototype.charCodeAt);
export const StringPrototypeIndexOf = uncurryThis(String.prototype.indexOf);
export const StringPrototypeReplaceAll = uncurryThis(String.prototype.replaceAll);
export const SymbolPrototypeToString = uncurryThis(Symbol.prototype.toString);
export const BigIntPrototypeToString = uncurryThis(BigInt.prototype.toString);
export const NumberIsFinite = Number.isFinite;
export const NumberIsNaN = Number.isNaN;
export const MathMax = Math.max;
export const MathCeil = Math.ceil;
export const JSONStringify = JSON.stringify;
export const JSONParse = JSON.parse;
export const DateNow = Date.now;
export const DatePrototypeGetTime = uncurryThis(Date.prototype.getTime);
export const DatePrototypeToISOString = uncurryThis(Date.prototype.toISOString);
export const ErrorCtor = Error;
export const TypeErrorCtor = TypeError;
export const FunctionPrototypeToString = uncurryThis(Function.prototype.toString);
export const FunctionPrototype = Function.prototype;
export const RegExpPrototypeToString = uncurryThis(RegExp.prototype.toString);
export const PromiseCtor = Promise;
const PromisePrototypeThen = uncurryThis(Promise.prototype.then);
export const MapCtor = Map;
export const SetCtor = Set;
export const MapPrototypeGetSize = uncurryThis(ObjectGetOwnPropertyDescriptor(Map.prototype, "size").get);
export const SetPrototypeGetSize = uncurryThis(ObjectGetOwnPropertyDescriptor(Set.prototype, "size").get);
export const MapPrototypeForEach = uncurryThis(Map.prototype.forEach);
export const SetPrototypeForEach = uncurryThis(Set.prototype.forEach);
export const MapPrototypeKeys = uncurryThis(Map.prototype.keys);
export const ArrayBufferIsView = ArrayBuffer.isView;
const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
export const TypedArrayPrototypeGetLength = uncurryThis(ObjectGetOwnPropertyDescriptor(TypedArrayPrototype, "length").get);
export const TypedArrayPrototypeSubarray = uncurryThis(TypedArrayPrototype.subarray);
const encoder = new TextEncoder(), decoder = new TextDecoder();
const TextEncoderPrototypeEncode = uncurryThis(TextEncoder.prototype.encode);
const TextDecoderPrototypeDecode = uncurryThis(TextDecoder.prototype.decode);
export const encodeUtf8 = (text) => TextEncoderPrototypeEncode(encoder, text);
export const decodeUtf8 = (bytes) => TextDecoderPrototypeDecode(decoder, bytes);
export const setTimer = setTimeout, clearTimer = clearTimeout;
export const setRepeating = setInterval, clearRepeating = clearInterval;
// Node's, present only with nodejs_compat.
export const setImmediateTimer = globalThis.setImmediate, clearImmediateTimer = globalThis.clearImmediate;
export const enqueueMicrotask = queueMicrotask;
export const AbortControllerCtor = AbortController;
export const AbortControllerPrototypeAbort = uncurryThis(AbortController.prototype.abort);
export const AbortControllerPrototypeGetSignal = uncurryThis(ObjectGetOwnPropertyDescriptor(AbortController.prototype, "signal").get);
export const DOMExceptionCtor = DOMException;
export const globalObject = globalThis;

/**
 * A promise whose then() cannot be diverted: an own constructor of undefined makes the
 * species lookup inside then() stop at the default Promise, so a patched
 * Promise.prototype.constructor or Promise[Symbol.species] is never consulted.
 */
export function safePromise(promise) {
  ObjectDefineProperty(promise, "constructor", { __proto__: null, value: undefined });
  return promise;
}

/** promise.then(onFulfilled, onRejected) with the original then, on a promise made safe first. */
export function PromiseThen(promise, onFulfilled, onRejected) {
  return safePromise(PromisePrototypeThen(safePromise(promise), onFulfilled, onRejected));
}

/**
 * A new promise with its resolve and reject functions (resolve only with primitives or
 * null-prototype objects). Safe (see safePromise) unless it is handed to user code.
 */
export function newPromise(safe = true) {
  let resolve, reject;
  const promise = new PromiseCtor((yes, no) => { resolve = yes; reject = no; });
  return { __proto__: null, promise: safe ? safePromise(promise) : promise, resolve, reject };
}
`;
}
