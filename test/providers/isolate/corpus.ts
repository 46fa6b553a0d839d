/**
 * A few hundred lines of real-world, lodash-style JavaScript: the instrumenter must not
 * change what any of it computes. Loaded as a workspace module and driven by DRIVER.
 */
export const CORPUS = String.raw`
"use strict";
export function chunk(array, size = 1) {
  const out = [];
  for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
  return out;
}
export function compact(array) { return array.filter(Boolean); }
export function flattenDeep(array) {
  return array.reduce((acc, x) => (Array.isArray(x) ? acc.concat(flattenDeep(x)) : acc.concat([x])), []);
}
export function uniqBy(array, iteratee) {
  const seen = new Set();
  const out = [];
  for (const item of array) {
    const key = typeof iteratee === "function" ? iteratee(item) : item[iteratee];
    if (!seen.has(key)) { seen.add(key); out.push(item); }
  }
  return out;
}
export function groupBy(array, iteratee) {
  return array.reduce((acc, item) => {
    const key = typeof iteratee === "function" ? iteratee(item) : item[iteratee];
    (acc[key] ||= []).push(item);
    return acc;
  }, {});
}
export function keyBy(array, key) { return Object.fromEntries(array.map((x) => [x[key], x])); }
export function sortBy(array, ...keys) {
  return [...array].sort((a, b) => {
    for (const key of keys) {
      const av = typeof key === "function" ? key(a) : a[key];
      const bv = typeof key === "function" ? key(b) : b[key];
      if (av < bv) return -1;
      if (av > bv) return 1;
    }
    return 0;
  });
}
export function zip(...arrays) {
  const length = Math.max(...arrays.map((a) => a.length));
  return Array.from({ length }, (_, i) => arrays.map((a) => a[i]));
}
export function range(start, end, step = 1) {
  if (end === undefined) { end = start; start = 0; }
  const out = [];
  if (step > 0) for (let i = start; i < end; i += step) out.push(i);
  else for (let i = start; i > end; i += step) out.push(i);
  return out;
}
export function cloneDeep(value, seen = new Map()) {
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return seen.get(value);
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Map) {
    const m = new Map();
    seen.set(value, m);
    value.forEach((v, k) => m.set(cloneDeep(k, seen), cloneDeep(v, seen)));
    return m;
  }
  const out = Array.isArray(value) ? [] : Object.create(Object.getPrototypeOf(value));
  seen.set(value, out);
  for (const key of Reflect.ownKeys(value)) out[key] = cloneDeep(value[key], seen);
  return out;
}
export function merge(target, ...sources) {
  for (const source of sources) {
    for (const [key, value] of Object.entries(source ?? {})) {
      if (value && typeof value === "object" && !Array.isArray(value)) {
        target[key] = merge(target[key] && typeof target[key] === "object" ? target[key] : {}, value);
      } else {
        target[key] = value;
      }
    }
  }
  return target;
}
export function get(object, path, fallback) {
  const parts = Array.isArray(path) ? path : path.replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean);
  let current = object;
  for (const part of parts) {
    if (current == null) return fallback;
    current = current[part];
  }
  return current === undefined ? fallback : current;
}
export function set(object, path, value) {
  const parts = path.split(".");
  let current = object;
  parts.forEach((part, i) => {
    if (i === parts.length - 1) current[part] = value;
    else current = current[part] ??= /^\d+$/.test(parts[i + 1]) ? [] : {};
  });
  return object;
}
export function memoize(fn, resolver = (x) => x) {
  const cache = new Map();
  const memo = function (...args) {
    const key = resolver(...args);
    if (cache.has(key)) return cache.get(key);
    const result = fn.apply(this, args);
    cache.set(key, result);
    return result;
  };
  memo.cache = cache;
  return memo;
}
export const fib = memoize((n) => (n < 2 ? n : fib(n - 1) + fib(n - 2)));
export function camelCase(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+(.)/g, (_, c) => c.toUpperCase());
}
export function kebabCase(s) {
  return s.replace(/([a-z])([A-Z])/g, "$1-$2").replace(/[\s_]+/g, "-").toLowerCase();
}
export function template(text, data) {
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path) => String(get(data, path, "")));
}
export function words(s) { return s.match(/[A-Za-z0-9]+/g) ?? []; }
export function padStart(s, n, c = " ") { while (s.length < n) s = c + s; return s; }
export function* permutations(items) {
  if (items.length <= 1) { yield items; return; }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) yield [items[i], ...p];
  }
}
export function* take(iterable, n) {
  let i = 0;
  for (const x of iterable) {
    if (i++ >= n) return;
    yield x;
  }
}
export class LinkedList {
  #size = 0;
  constructor() { this.head = null; }
  push(value) {
    const node = { value, next: null };
    if (!this.head) this.head = node;
    else {
      let n = this.head;
      while (n.next) n = n.next;
      n.next = node;
    }
    this.#size++;
    return this;
  }
  get size() { return this.#size; }
  *[Symbol.iterator]() { for (let n = this.head; n; n = n.next) yield n.value; }
  static from(iterable) { const l = new LinkedList(); for (const x of iterable) l.push(x); return l; }
}
export class Matrix {
  constructor(rows) { this.rows = rows; }
  multiply(other) {
    return new Matrix(this.rows.map((row) => other.rows[0].map((_, j) => row.reduce((sum, x, k) => sum + x * other.rows[k][j], 0))));
  }
  transpose() { return new Matrix(this.rows[0].map((_, j) => this.rows.map((row) => row[j]))); }
}
export function debounceCount(events, gap) {
  let count = 0, last = -Infinity;
  for (const t of events) { if (t - last >= gap) count++; last = t; }
  return count;
}
export function primes(limit) {
  const sieve = new Uint8Array(limit + 1);
  const out = [];
  outer: for (let i = 2; i <= limit; i++) {
    if (sieve[i]) continue outer;
    out.push(i);
    for (let j = i * i; j <= limit; j += i) sieve[j] = 1;
  }
  return out;
}
export function levenshtein(a, b) {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}
export function parseCsv(text) {
  const [header, ...lines] = text.trim().split("\n");
  const keys = header.split(",");
  return lines.map((line) => {
    const values = line.split(",");
    return keys.reduce((row, key, i) => ({ ...row, [key]: isNaN(+values[i]) ? values[i] : +values[i] }), {});
  });
}
export async function mapLimit(items, limit, fn) {
  const results = [];
  let index = 0;
  async function worker() {
    while (index < items.length) {
      const i = index++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}
export const pipe = (...fns) => (x) => fns.reduce((v, f) => f(v), x);
export const curry = (fn) => function curried(...args) {
  return args.length >= fn.length ? fn.apply(this, args) : (...more) => curried.apply(this, [...args, ...more]);
};
export function deepEqual(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || !a || !b) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
}
export function throttleWindows(times, windowMs) {
  const windows = {};
  for (const t of times) {
    const w = Math.floor(t / windowMs);
    windows[w] = (windows[w] ?? 0) + 1;
  }
  return windows;
}
export function tryParse(json) {
  try { return JSON.parse(json); } catch (e) { return { error: e.name }; } finally { void 0; }
}
export function objectOps(o) {
  const { a, b = 2, ...rest } = o;
  const label = o?.meta?.label ?? "none";
  switch (typeof a) {
    case "number": return { a: a * 2, b, rest, label };
    case "string": return { a: a.toUpperCase(), b, rest, label };
    default: return { a: null, b, rest, label };
  }
}
`;

/** Exercises every export; its result is compared between instrumented and plain runs. */
export const DRIVER = String.raw`
import * as _ from "./corpus.js";
const people = _.range(40).map((i) => ({ id: i, name: "Person " + i, team: ["red", "blue", "green"][i % 3], age: 20 + ((i * 7) % 30) }));
const add3 = _.curry((a, b, c) => a + b + c);
const matrix = new _.Matrix([[1, 2], [3, 4]]);
({
  chunk: _.chunk(_.range(10), 3),
  compact: _.compact([0, 1, false, 2, "", 3, null]),
  flat: _.flattenDeep([1, [2, [3, [4, [5]]]]]),
  uniq: _.uniqBy(people, "team").map((p) => p.id),
  groups: Object.fromEntries(Object.entries(_.groupBy(people, "team")).map(([k, v]) => [k, v.length])),
  keyed: Object.keys(_.keyBy(people.slice(0, 5), "name")),
  sorted: _.sortBy(people, "age", (p) => -p.id).slice(0, 5).map((p) => p.id),
  zip: _.zip([1, 2, 3], ["a", "b", "c"]),
  clone: _.cloneDeep({ a: [1, { b: 2 }], d: { e: "f" } }),
  merged: _.merge({ a: { x: 1 } }, { a: { y: 2 }, b: [1] }, { c: 3 }),
  got: [_.get({ a: [{ b: { c: 9 } }] }, "a[0].b.c"), _.get({}, "x.y", "dflt")],
  set: _.set({}, "a.0.b", 5),
  fib: _.fib(80),
  cases: [_.camelCase("hello big-world_example"), _.kebabCase("helloBigWorld example")],
  template: _.template("Hi {{ user.name }}, you are {{user.age}}", { user: { name: "Ada", age: 36 } }),
  words: _.words("the quick, brown fox!"),
  pad: _.padStart("7", 3, "0"),
  perms: [..._.permutations([1, 2, 3, 4])].length,
  taken: [..._.take(_.permutations(["a", "b", "c"]), 2)],
  list: [..._.LinkedList.from([3, 1, 2])].concat(_.LinkedList.from("abc").size),
  matrix: matrix.multiply(matrix.transpose()).rows,
  debounced: _.debounceCount([0, 10, 20, 100, 110, 300], 50),
  primes: _.primes(2000).length,
  lev: _.levenshtein("kitten", "sitting"),
  csv: _.parseCsv("a,b,c\n1,x,3\n4,y,6"),
  mapped: await _.mapLimit([1, 2, 3, 4, 5], 2, async (x) => { await null; return x * x; }),
  piped: _.pipe((x) => x + 1, (x) => x * 10, String)(4),
  curried: [add3(1)(2)(3), add3(1, 2)(3), add3(1, 2, 3)],
  equal: [_.deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), _.deepEqual({ a: 1 }, { a: 2 })],
  windows: _.throttleWindows([1, 5, 12, 19, 33], 10),
  parsed: [_.tryParse('{"ok":true}'), _.tryParse("{bad")],
  ops: [_.objectOps({ a: 2, z: 1 }), _.objectOps({ a: "s", b: 5, meta: { label: "L" } }), _.objectOps({})],
  labels: (() => { const out = []; loop: for (let i = 0; i < 5; i++) { for (let j = 0; j < 5; j++) { if (j > i) continue loop; if (i === 4) break loop; out.push(i * 10 + j); } } return out; })(),
  getters: Object.getOwnPropertyNames(class { get a() { return 1; } static s() {} }.prototype),
  spread: { ...{ a: 1 }, ...[9, 8] },
  tagged: ((s, ...v) => s.raw.join("|") + v.join(","))` + "`x${1}y${2}z`" + String.raw`,
})
`;
