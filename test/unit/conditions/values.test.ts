import { celList, isCelList, isCelMap } from '@bufbuild/cel';
import type { CelList, CelMap } from '@bufbuild/cel';
import { describe, expect, test } from 'vitest';
import { ELEMENT_UNITS, ENTRY_UNITS } from '../../../src/conditions/cost.js';
import { metered } from '../../../src/conditions/meter.js';
import { concatLists, toCelValue, weightOf } from '../../../src/conditions/values.js';
import type { JsonValue } from '../../../src/core/mcp/json-rpc-body.js';

function asMap(value: JsonValue): CelMap {
  const map = toCelValue(value);
  if (!isCelMap(map)) throw new Error('not a CEL map');
  return map;
}

function asList(value: JsonValue): CelList {
  const list = toCelValue(value);
  if (!isCelList(list)) throw new Error('not a CEL list');
  return list;
}

/** Runs `fn` with an ample budget, as evaluation does. */
function charged<T>(fn: () => T): T {
  return metered({ remaining: Number.MAX_SAFE_INTEGER }, fn).value;
}

describe('JSON as CEL values', () => {
  test('the evaluator recognises our maps and lists as its own', () => {
    // @bufbuild/cel identifies its values by registered symbols; if an upgrade changes that,
    // this fails before any condition evaluates a wrapper as an unknown object.
    expect(isCelMap(toCelValue({ a: 1 }))).toBe(true);
    expect(isCelList(toCelValue([1]))).toBe(true);
  });

  test('scalars are themselves; a number is a double', () => {
    expect(toCelValue('a')).toBe('a');
    expect(toCelValue(1)).toBe(1);
    expect(toCelValue(true)).toBe(true);
    expect(toCelValue(null)).toBe(null);
  });

  test('an object map answers own string keys only', () => {
    const map = asMap(JSON.parse('{"a": 1, "1": 2, "__proto__": 3, "n": null}') as JsonValue);
    expect(map.get('a')).toBe(1);
    expect(map.get('__proto__')).toBe(3);
    expect(map.get('constructor')).toBeUndefined();
    expect(map.get('toString')).toBeUndefined();
    expect(map.get(1)).toBeUndefined();
    expect(map.get(1n)).toBeUndefined();
    expect(map.has('1')).toBe(true);
    expect(map.has(1n)).toBe(false);
    expect(map.has('n')).toBe(true);
    expect(map.get('n')).toBeNull();
    expect(map.size).toBe(4);
    expect([...map.keys()].sort()).toEqual(['1', '__proto__', 'a', 'n']);
  });

  test('nested values are wrapped once and read lazily', () => {
    const json = { repo: { owner: 'acme' }, paths: ['a', 'b'] };
    const map = asMap(json);
    const repo = map.get('repo');
    expect(repo).toBe(map.get('repo'));
    expect(isCelMap(repo)).toBe(true);
    const paths = map.get('paths');
    if (!isCelList(paths)) throw new Error('paths is not a list');
    expect([...paths]).toEqual(['a', 'b']);
    expect(paths.get(1)).toBe('b');
    expect(paths.get(2)).toBeUndefined();
    expect(paths.get(0.5)).toBeUndefined();
  });
});

describe('list concatenation', () => {
  test('each list keeps its elements when a shared prefix is extended twice', () => {
    const base = asList([0]);
    const [a, b, c] = charged(() => {
      const a = concatLists(base, celList([1]));
      const b = concatLists(a, celList([2]));
      const c = concatLists(a, celList([3]));
      return [a, b, c];
    });
    expect([...a]).toEqual([0, 1]);
    expect([...b]).toEqual([0, 1, 2]);
    expect([...c]).toEqual([0, 1, 3]);
    expect(b.get(2)).toBe(2);
    expect(c.get(2)).toBe(3);
    expect(a.get(2)).toBeUndefined();
  });

  test('a list concatenated with itself', () => {
    const twice = charged(() => {
      const once = concatLists(asList(['x']), celList(['y']));
      return concatLists(once, once);
    });
    expect([...twice]).toEqual(['x', 'y', 'x', 'y']);
  });
});

describe('weightOf', () => {
  test('counts elements, entries and their contents', () => {
    expect(weightOf(toCelValue([1, 2]), 1e9)).toBe(2 * ELEMENT_UNITS + 2);
    // One entry: its key (1 unit for a short string) and its value.
    expect(weightOf(toCelValue({ a: 'b' }), 1e9)).toBe(ENTRY_UNITS + 2);
    expect(weightOf(celList([toCelValue([1]), 'a']), 1e9)).toBe(
      2 * ELEMENT_UNITS + (ELEMENT_UNITS + 1) + 1,
    );
  });

  test('stops once past its cap', () => {
    const big = toCelValue(Array.from({ length: 1_000_000 }, () => [1, 2, 3]));
    const weight = weightOf(big, 1000);
    expect(weight).toBeGreaterThan(1000);
    expect(weight).toBe(1_000_000 * ELEMENT_UNITS);
  });
});
