/**
 * The CEL values conditions evaluate over: JSON read lazily, and lists concatenated in linear
 * time. Why not @bufbuild/cel's own `celMap`/`celList` over converted data:
 * - Its map looks a number key up by scanning every key (to find unsigned ones), so `m[x]` in a
 *   comprehension over a list of numbers costs the map's size per element. Our maps hold only
 *   string keys (JSON objects, headers), so any other key is absent at once.
 * - Converting a message's arguments up front costs their whole size even when a condition reads
 *   one string; here an object is wrapped when it is reached, once (each wrapper keeps the
 *   wrappers of the members read through it), and its key list is read once.
 * - Its list concatenation nests one level per `+`, so the accumulator of `map()`/`filter()`
 *   becomes n levels deep and reading it costs n²; FlatList below appends in place instead.
 * The classes carry the library's registered symbols (`Symbol.for`, the way it recognises its own
 * values across copies of itself), so the evaluator treats them as its maps and lists; a test
 * checks that it still does (test/unit/conditions/values.test.ts).
 *
 * Semantics: a JSON object is a `map(string, dyn)`, an array a `list(dyn)`, a number a `double`
 * (as protobuf's JSON mapping reads it), a string, bool or null itself. A key whose value is
 * null is present (`has(args.x)` is true, `args.x == null` holds).
 */
import { isCelList, isCelMap } from '@bufbuild/cel';
import type { CelList, CelMap, CelValue } from '@bufbuild/cel';
import type { JsonArray, JsonObject, JsonValue } from '../core/mcp/json-rpc-body.js';
import {
  COMPARE_CHARS_PER_UNIT,
  COPY_UNITS_PER_ELEMENT,
  ELEMENT_UNITS,
  ENTRY_UNITS,
  unitsFor,
} from './cost.js';
import { charge } from './meter.js';

const CEL_MAP: unique symbol = Symbol.for('@bufbuild/cel/map');
const CEL_LIST: unique symbol = Symbol.for('@bufbuild/cel/list');

function isJsonArray(value: JsonValue): value is JsonArray {
  return Array.isArray(value);
}

/** The CEL value of a JSON value (a number is a double). */
export function toCelValue(value: JsonValue): CelValue {
  if (value === null || typeof value !== 'object') return value;
  const wrapper = isJsonArray(value) ? new JsonList(value) : new JsonObjectMap(value);
  return wrapper as unknown as CelValue;
}

/**
 * The CEL value of a member read through a wrapper, wrapped once: a comprehension that reads
 * `args.items[0]` for every element must not wrap it every time. Scalars are returned as they are.
 */
function memberValue(
  cache: Map<string | number, CelValue>,
  key: string | number,
  value: JsonValue,
): CelValue {
  if (value === null || typeof value !== 'object') return value;
  let wrapped = cache.get(key);
  if (wrapped === undefined) {
    wrapped = toCelValue(value);
    cache.set(key, wrapped);
  }
  return wrapped;
}

/** A JSON object as a CEL `map(string, dyn)`. */
class JsonObjectMap {
  readonly [CEL_MAP] = {};
  #keys: readonly string[] | undefined;
  #members: Map<string | number, CelValue> | undefined;

  readonly json: JsonObject;

  constructor(json: JsonObject) {
    this.json = json;
  }

  private keyList(): readonly string[] {
    this.#keys ??= Object.keys(this.json);
    return this.#keys;
  }

  get size(): number {
    return this.keyList().length;
  }

  get(key: unknown): CelValue | undefined {
    // Own keys only: `constructor` or `__proto__` is a key when the JSON has it, never inherited.
    if (typeof key !== 'string' || !Object.hasOwn(this.json, key)) return undefined;
    return this.member(key);
  }

  has(key: unknown): boolean {
    return typeof key === 'string' && Object.hasOwn(this.json, key);
  }

  keys(): IterableIterator<string> {
    return this.keyList()[Symbol.iterator]();
  }

  private member(key: string): CelValue {
    this.#members ??= new Map();
    return memberValue(this.#members, key, this.json[key] ?? null);
  }

  *entries(): IterableIterator<[string, CelValue]> {
    for (const key of this.keyList()) yield [key, this.member(key)];
  }

  *values(): IterableIterator<CelValue> {
    for (const key of this.keyList()) yield this.member(key);
  }

  forEach(callback: (value: CelValue, key: string, map: this) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  [Symbol.iterator](): IterableIterator<[string, CelValue]> {
    return this.entries();
  }
}

/** A JSON array as a CEL `list(dyn)`. */
class JsonList {
  readonly [CEL_LIST] = {};
  #members: Map<string | number, CelValue> | undefined;

  readonly json: JsonArray;

  constructor(json: JsonArray) {
    this.json = json;
  }

  get size(): number {
    return this.json.length;
  }

  get(index: number): CelValue | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.json.length) return undefined;
    this.#members ??= new Map();
    return memberValue(this.#members, index, this.json[index] ?? null);
  }

  *values(): IterableIterator<CelValue> {
    for (let i = 0; i < this.json.length; i++) yield this.get(i) ?? null;
  }

  [Symbol.iterator](): IterableIterator<CelValue> {
    return this.values();
  }
}

/**
 * The result of `+` on lists: a prefix of an array that later concatenations may share. The
 * list that spans the whole array appends to it in place (no other list sees past its own
 * size), so the accumulator of `map()` grows in amortised constant time per element.
 */
class FlatList {
  readonly [CEL_LIST] = {};

  private readonly items: CelValue[];
  readonly size: number;

  constructor(items: CelValue[], size: number = items.length) {
    this.items = items;
    this.size = size;
  }

  /** Whether no other list extended the array: appending to it then changes no other list. */
  spansItems(): boolean {
    return this.size === this.items.length;
  }

  get(index: number): CelValue | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) return undefined;
    return this.items[index];
  }

  *values(): IterableIterator<CelValue> {
    for (let i = 0; i < this.size; i++) yield this.items[i] as CelValue;
  }

  [Symbol.iterator](): IterableIterator<CelValue> {
    return this.values();
  }

  /** A copy of this list's elements. */
  prefix(): CelValue[] {
    return this.items.slice(0, this.size);
  }

  /** This list followed by `tail`, sharing this list's array when nothing else extended it. */
  append(tail: readonly CelValue[]): FlatList {
    const items = this.spansItems() ? this.items : this.prefix();
    for (const value of tail) items.push(value);
    return new FlatList(items);
  }
}

/** `head + tail` on lists, charged per element copied. */
export function concatLists(head: CelList, tail: CelList): CelList {
  const inPlace = head instanceof FlatList && head.spansItems();
  charge(Math.max(1, (tail.size + (inPlace ? 0 : head.size)) * COPY_UNITS_PER_ELEMENT));
  const rest = elementsOf(tail);
  const list =
    head instanceof FlatList ? head.append(rest) : new FlatList([...elementsOf(head), ...rest]);
  return list as unknown as CelList;
}

/** A list's elements in a new array, without the evaluator's per-element generator. */
function elementsOf(list: CelList): CelValue[] {
  if (list instanceof JsonList) return list.json.map(toCelValue);
  if (list instanceof FlatList) return list.prefix();
  // By index: iterating a CelList goes through a generator, ten times slower for short lists.
  const elements: CelValue[] = [];
  for (let i = 0; i < list.size; i++) elements.push(list.get(i) ?? null);
  return elements;
}

const weights = new WeakMap<object, number>();

/**
 * What `==` or `in` may spend visiting `value`, in units: one per scalar, a string by length,
 * ELEMENT_UNITS per list element and ENTRY_UNITS per map entry, plus their contents. Stops counting once past `cap` (the
 * result is then some number above it), so sizing a huge value costs no more than the budget.
 */
export function weightOf(value: CelValue, cap: number): number {
  if (value instanceof JsonObjectMap || value instanceof JsonList)
    return jsonWeight(value.json, cap);
  if (typeof value === 'string') return unitsFor(value.length, COMPARE_CHARS_PER_UNIT);
  if (isCelList(value)) {
    let total = ELEMENT_UNITS * value.size;
    for (const element of value) {
      if (total > cap) break;
      total += weightOf(element, cap - total);
    }
    return total;
  }
  if (isCelMap(value)) return celMapWeight(value, cap);
  return 1;
}

function celMapWeight(map: CelMap, cap: number): number {
  let total = ENTRY_UNITS * map.size;
  for (const [key, element] of map) {
    if (total > cap) break;
    total += weightOf(key, cap - total) + weightOf(element, cap - total);
  }
  return total;
}

function jsonWeight(root: JsonValue, cap: number): number {
  if (root === null || typeof root !== 'object') return 1;
  const known = weights.get(root);
  if (known !== undefined) return known;
  let total = 0;
  const stack: JsonValue[] = [root];
  for (let value = stack.pop(); value !== undefined; value = stack.pop()) {
    if (typeof value === 'string') total += unitsFor(value.length, COMPARE_CHARS_PER_UNIT);
    else if (value === null || typeof value !== 'object') total += 1;
    else if (isJsonArray(value)) {
      total += ELEMENT_UNITS * value.length;
      if (total <= cap) for (const element of value) stack.push(element);
    } else {
      const keys = Object.keys(value);
      total += ENTRY_UNITS * keys.length;
      if (total <= cap) {
        for (const key of keys) {
          total += unitsFor(key.length, COMPARE_CHARS_PER_UNIT);
          stack.push(value[key] ?? null);
        }
      }
    }
    if (total > cap) return total;
  }
  weights.set(root, total);
  return total;
}
