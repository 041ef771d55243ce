/**
 * readToolArguments: arguments reach a condition only when every server reads them alike.
 * The attack rows are the spellings Go's encoding/json folds onto a field name.
 */
import { describe, expect, test } from 'vitest';

import type { JsonValue } from '../../../../src/core/mcp/json-rpc-body.js';
import {
  MAX_ARGUMENT_NODES,
  readToolArguments,
} from '../../../../src/core/policy/tool-arguments.js';

const NAMES = new Set(['query', 'path', 'mask']);
const read = (json: string) => readToolArguments(JSON.parse(json) as JsonValue, false, NAMES);

describe('readToolArguments', () => {
  test.each([
    ['plain arguments', '{"query":"SELECT 1","limit":5}', true],
    ['absent arguments read as {}', 'null', true],
    ['nested objects with other keys', '{"filter":{"path":"/a","Other":1}}', true],
    ['a name spelled in another case', '{"QUERY":"DROP"}', 'ambiguous_arguments'],
    ['two spellings of one field', '{"query":"SELECT 1","Query":"DROP"}', 'ambiguous_arguments'],
    ['two spellings of an unread field', '{"limit":1,"LIMIT":2}', 'ambiguous_arguments'],
    ['long s folds to s (Go)', '{"ma\\u017fk":"x"}', 'ambiguous_arguments'],
    ['Kelvin sign folds to k (Go)', '{"mas\\u212a":"x"}', 'ambiguous_arguments'],
    ['a trailing NUL (segmentio decoder)', '{"path\\u0000":"/etc"}', 'ambiguous_arguments'],
    ['deep inside an array', '{"items":[{"a":1},{"Path":"x"}]}', 'ambiguous_arguments'],
    ['arguments that are not an object', '["SELECT 1"]', 'malformed'],
    ['a string as arguments', '"SELECT 1"', 'malformed'],
  ] as const)('%s', (_name, json, want) => {
    const result = read(json);
    if (want === true) expect(result.ok).toBe(true);
    else expect(result).toMatchObject({ ok: false, detail: want });
  });

  test('a key the body scan saw twice is ambiguous, though JSON.parse kept one copy', () => {
    // {"query":"DROP","query":"SELECT 1"}: the parsed value shows only the SELECT.
    const parsed = JSON.parse('{"query":"DROP","query":"SELECT 1"}') as JsonValue;
    expect(readToolArguments(parsed, false, NAMES).ok).toBe(true);
    expect(readToolArguments(parsed, true, NAMES)).toMatchObject({
      ok: false,
      detail: 'ambiguous_arguments',
    });
  });

  test('absent arguments are an empty object', () => {
    expect(readToolArguments(undefined, false, NAMES)).toEqual({ ok: true, args: {} });
  });

  test('more values than the cap are too large, counted without recursion', () => {
    const list = Array.from({ length: MAX_ARGUMENT_NODES }, (_, i) => i);
    expect(readToolArguments({ list }, false, NAMES)).toMatchObject({
      ok: false,
      detail: 'too_large',
    });
    expect(readToolArguments({ list: list.slice(2) }, false, NAMES).ok).toBe(true);
    let deep: JsonValue = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(readToolArguments({ deep }, false, NAMES).ok).toBe(true);
  });
});
