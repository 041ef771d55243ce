import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { jsonErrorOffset, lineColOf, parseJsonText } from '../../../src/inventory/json-text.js';

interface Row {
  readonly name: string;
  readonly text: string;
  readonly jsonc: boolean;
  readonly want: unknown;
}

const VALUE_ROWS: readonly Row[] = [
  { name: 'strict JSON', text: '{"a": [1, "x"]}', jsonc: false, want: { a: [1, 'x'] } },
  { name: 'a BOM is ignored', text: '\uFEFF{"a": 1}', jsonc: false, want: { a: 1 } },
  {
    name: 'JSONC line and block comments',
    text: '// head\n{\n  /* one */ "a": 1, // tail\n  "b": /* mid */ 2\n}\n',
    jsonc: true,
    want: { a: 1, b: 2 },
  },
  {
    name: 'JSONC trailing commas in objects and arrays, also before a comment',
    text: '{"a": [1, 2,], "b": {"c": 3, /* x */ },}',
    jsonc: true,
    want: { a: [1, 2], b: { c: 3 } },
  },
  {
    name: 'comment markers and ",}" inside strings are text',
    text: '{"url": "https://x.example/a//b", "t": "/* no */", "c": ",}"}',
    jsonc: true,
    want: { url: 'https://x.example/a//b', t: '/* no */', c: ',}' },
  },
  {
    name: 'an escaped quote does not end a string',
    text: '{"a": "say \\"//hi\\"", // c\n "b": 1}',
    jsonc: true,
    want: { a: 'say "//hi"', b: 1 },
  },
];

interface ErrorRow {
  readonly name: string;
  readonly text: string;
  readonly jsonc: boolean;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

const ERROR_ROWS: readonly ErrorRow[] = [
  {
    name: 'a comment in strict JSON',
    text: '{\n  // note\n  "a": 1\n}',
    jsonc: false,
    line: 2,
    col: 3,
    message: 'not valid JSON: unexpected "/"',
  },
  {
    name: 'a trailing comma in strict JSON',
    text: '{"a": 1,\n}',
    jsonc: false,
    line: 2,
    col: 1,
    message: 'not valid JSON: unexpected "}"',
  },
  {
    name: 'a truncated file',
    text: '{"mcpServers": {\n',
    jsonc: false,
    line: 2,
    col: 1,
    message: 'not valid JSON: unexpected end of the file',
  },
  {
    name: 'a bare word where a value belongs',
    text: '{"a": tru}',
    jsonc: false,
    line: 1,
    col: 7,
    message: 'not valid JSON: unexpected character',
  },
  {
    name: 'a single-quoted string',
    text: "{'a': 1}",
    jsonc: true,
    line: 1,
    col: 2,
    message: 'not valid JSONC: unexpected "\'"',
  },
  {
    name: 'a block comment that never ends',
    text: '{"a": 1 /* open\n',
    jsonc: true,
    line: 1,
    col: 9,
    message: 'a /* comment is never closed',
  },
  {
    name: 'a position after a JSONC comment is the position in the file',
    text: '{ /* c */ "a" 1 }',
    jsonc: true,
    line: 1,
    col: 15,
    message: 'not valid JSONC: unexpected character',
  },
  {
    name: 'a raw newline inside a string',
    text: '{"a": "x\ny"}',
    jsonc: false,
    line: 1,
    col: 9,
    message: 'not valid JSON: unexpected end of line',
  },
];

describe('parseJsonText', () => {
  test.each(VALUE_ROWS)('$name', ({ text, jsonc, want }) => {
    expect(parseJsonText(text, jsonc)).toEqual({ ok: true, value: want });
  });

  test.each(ERROR_ROWS)('$name', ({ text, jsonc, line, col, message }) => {
    expect(parseJsonText(text, jsonc)).toEqual({ ok: false, line, col, message });
  });

  test('the message never quotes the file: a secret near the error stays out of it', () => {
    const text = '{"env": {"TOKEN": "ghp_SECRETVALUE"}, oops}';
    const result = parseJsonText(text, false);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('SECRET');
    expect(JSON.stringify(result)).not.toContain('oops');
  });

  test('deep nesting is walked without recursion', () => {
    const deep = `${'['.repeat(200_000)}1${']'.repeat(199_999)}`;
    expect(parseJsonText(deep, false)).toMatchObject({ ok: false, line: 1, col: 400_001 });
  });
});

describe('jsonErrorOffset agrees with JSON.parse', () => {
  const parses = (text: string): boolean => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };

  test('on valid JSON of every kind: no error', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(jsonErrorOffset(text)).toBe(-1);
      }),
    );
  });

  test('on JSON with one character inserted, removed or replaced: an error exactly when JSON.parse fails', () => {
    const mutated = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom(...Array.from('{}[],:"\\/ 0a-.e\n\u0001')),
        fc.nat(2),
      )
      .map(([text, at, ch, kind]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        if (kind === 0) return text.slice(0, i) + ch + text.slice(i);
        if (kind === 1) return text.slice(0, i) + text.slice(i + 1);
        return text.slice(0, i) + ch + text.slice(i + 1);
      });
    fc.assert(
      fc.property(mutated, (text) => {
        expect(jsonErrorOffset(text) === -1).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });
});

test('lineColOf counts lines and columns from 1', () => {
  expect(lineColOf('ab\ncd\n', 0)).toEqual({ line: 1, col: 1 });
  expect(lineColOf('ab\ncd\n', 4)).toEqual({ line: 2, col: 2 });
  expect(lineColOf('ab\ncd\n', 6)).toEqual({ line: 3, col: 1 });
});
