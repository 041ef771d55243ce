import { describe, expect, test } from 'vitest';

import { isJsonObject, parseStrictJson } from './strict-json.js';
import type { StrictJsonError } from './strict-json.js';

const DEPTH = 64;

type Want =
  | {
      readonly ok: true;
      /** Compared with toEqual (which tells 0 from -0). */
      readonly value: unknown;
      readonly duplicateKeys?: readonly string[];
      readonly topLevelIds?: readonly (string | undefined)[];
    }
  | { readonly ok: false; readonly error: StrictJsonError; readonly messageIncludes?: string };

interface Row {
  readonly name: string;
  readonly input: string;
  readonly maxDepth?: number;
  readonly want: Want;
  readonly rationale: string;
}

const syntax = (messageIncludes?: string): Want =>
  messageIncludes === undefined
    ? { ok: false, error: 'syntax' }
    : { ok: false, error: 'syntax', messageIncludes };

const ROWS: readonly Row[] = [
  // --- plain values -------------------------------------------------------------------------
  {
    name: 'typical tools/call',
    input:
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}',
    want: {
      ok: true,
      value: {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'search', arguments: { q: 'x' } },
      },
      duplicateKeys: [],
      topLevelIds: ['1'],
    },
    rationale: 'the common case parses to what JSON.parse gives',
  },
  {
    name: 'all scalar kinds and JSON whitespace',
    input: ' \t\r\n[true , false,null, "s", 0, -1, 1.5, -0.25e+2, 1E-2 ]\n',
    want: {
      ok: true,
      value: [true, false, null, 's', 0, -1, 1.5, -25, 0.01],
      topLevelIds: Array.from({ length: 9 }, () => undefined),
    },
    rationale: 'JSON whitespace between any tokens; a batch of scalars has one (absent) id each',
  },
  {
    name: 'top-level scalar',
    input: '42',
    want: { ok: true, value: 42, topLevelIds: [] },
    rationale: 'RFC 8259 allows any value at the top; scalars carry no message ids',
  },
  {
    name: 'empty containers',
    input: '{"a":[],"b":{},"c":[{}]}',
    want: { ok: true, value: { a: [], b: {}, c: [{}] }, topLevelIds: [undefined] },
    rationale: 'empty object and array shortcuts still nest correctly',
  },
  {
    name: 'negative zero',
    input: '-0',
    want: { ok: true, value: -0 },
    rationale: 'JSON.parse gives -0; so do we',
  },
  {
    name: 'huge number becomes Infinity',
    input: '1e400',
    want: { ok: true, value: Infinity },
    rationale: 'same as JSON.parse; the raw text is kept separately for ids',
  },
  {
    name: 'long integer rounds like JSON.parse',
    input: '123456789012345678901234567890',
    want: { ok: true, value: Number('123456789012345678901234567890') },
    rationale: 'integers past 15 digits take the Number() path and round identically',
  },
  {
    name: '16-digit integer',
    input: '9007199254740993',
    want: { ok: true, value: 9007199254740992 },
    rationale: 'past 2^53 the double rounds; the fast path must not compute it digit by digit',
  },
  // --- strings ------------------------------------------------------------------------------
  {
    name: 'all escapes',
    input: String.raw`"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"`,
    want: { ok: true, value: '" \\ / \b \f \n \r \t é 😀' },
    rationale: 'every RFC 8259 escape; a surrogate pair from two \\u escapes makes one code point',
  },
  {
    name: 'lone high surrogate escape',
    input: String.raw`"\ud800"`,
    want: { ok: true, value: '\ud800' },
    rationale: 'valid JSON grammar (RFC 8259 §8.2); kept as the lone code unit, like JSON.parse',
  },
  {
    name: 'lone low surrogate escape',
    input: String.raw`"x\uDC00y"`,
    want: { ok: true, value: 'x\udc00y' },
    rationale: 'same rule for a trailing surrogate in the middle of a string',
  },
  {
    name: 'escaped NUL',
    input: String.raw`{"a":"\u0000"}`,
    want: { ok: true, value: { a: '\u0000' } },
    rationale: '\\u0000 is a valid escape; only raw control characters are forbidden',
  },
  {
    name: 'raw NUL in string',
    input: '{"a":"\u0000"}',
    want: syntax('raw control character'),
    rationale: 'RFC 8259 §7: U+0000–U+001F must be escaped',
  },
  {
    name: 'raw newline in string',
    input: '"a\nb"',
    want: syntax('raw control character'),
    rationale: 'a raw LF is a control character too',
  },
  {
    name: 'raw U+001F in key',
    input: '{"a\u001f":1}',
    want: syntax('raw control character'),
    rationale: 'keys are strings and follow the same rule',
  },
  {
    name: 'DEL and non-ASCII are fine raw',
    input: '"\u007f é 😀"',
    want: { ok: true, value: '\u007f é 😀' },
    rationale: 'only U+0000–U+001F need escaping',
  },
  {
    name: 'unknown escape',
    input: String.raw`"\x41"`,
    want: syntax('invalid escape'),
    rationale: 'only the RFC 8259 escapes exist',
  },
  {
    name: 'short unicode escape',
    input: String.raw`"\u12"`,
    want: syntax('invalid \\u escape'),
    rationale: '\\u takes exactly four hex digits',
  },
  {
    name: 'non-hex unicode escape',
    input: String.raw`"\u12G4"`,
    want: syntax('invalid \\u escape'),
    rationale: 'G is not a hex digit',
  },
  {
    name: 'unterminated string',
    input: '"abc',
    want: syntax('unterminated string'),
    rationale: 'end of input inside a string',
  },
  {
    name: 'unterminated string after escape',
    input: '"abc\\',
    want: syntax('invalid escape'),
    rationale: 'a backslash at the very end escapes nothing',
  },
  {
    name: 'single quotes',
    input: "{'a':1}",
    want: syntax('expected a string key'),
    rationale: 'JSON strings use double quotes only',
  },
  // --- syntax errors ------------------------------------------------------------------------
  {
    name: 'empty input',
    input: '',
    want: syntax('end of input'),
    rationale: 'no value at all',
  },
  {
    name: 'whitespace only',
    input: ' \n\t',
    want: syntax('end of input'),
    rationale: 'whitespace is not a value',
  },
  {
    name: 'leading BOM',
    input: '\ufeff{}',
    want: syntax('U+FEFF'),
    rationale: 'not JSON whitespace; decode-body.ts strips a BOM before we are called',
  },
  {
    name: 'non-JSON whitespace',
    input: '{\u00a0}',
    want: syntax(),
    rationale: 'NBSP is whitespace to JS but not to RFC 8259',
  },
  {
    name: 'vertical tab',
    input: '[1,\u000b2]',
    want: syntax(),
    rationale: 'VT and FF are not JSON whitespace',
  },
  {
    name: 'trailing comma in array',
    input: '[1,2,]',
    want: syntax('expected a JSON value'),
    rationale: 'RFC 8259 has no trailing commas',
  },
  {
    name: 'trailing comma in object',
    input: '{"a":1,}',
    want: syntax('expected a string key'),
    rationale: 'RFC 8259 has no trailing commas',
  },
  {
    name: 'leading comma',
    input: '[,1]',
    want: syntax('expected a JSON value'),
    rationale: 'elisions are JavaScript, not JSON',
  },
  {
    name: 'missing colon',
    input: '{"a" 1}',
    want: syntax("expected ':'"),
    rationale: 'members are key : value',
  },
  {
    name: 'missing comma',
    input: '[1 2]',
    want: syntax("expected ',' or ']'"),
    rationale: 'elements are separated by commas',
  },
  {
    name: 'unquoted key',
    input: '{a:1}',
    want: syntax('expected a string key'),
    rationale: 'keys must be strings',
  },
  {
    name: 'line comment',
    input: '{"a":1 // c\n}',
    want: syntax(),
    rationale: 'JSON has no comments',
  },
  {
    name: 'block comment',
    input: '/* c */ {}',
    want: syntax(),
    rationale: 'JSON has no comments',
  },
  {
    name: 'NaN',
    input: 'NaN',
    want: syntax('expected a JSON value'),
    rationale: 'not a JSON number',
  },
  {
    name: 'Infinity',
    input: '[Infinity]',
    want: syntax('expected a JSON value'),
    rationale: 'not a JSON number',
  },
  {
    name: 'leading zero',
    input: '012',
    want: syntax('leading zero'),
    rationale: 'RFC 8259 int = zero / ( digit1-9 *DIGIT )',
  },
  {
    name: 'negative leading zero',
    input: '-01',
    want: syntax('leading zero'),
    rationale: 'the sign does not change the rule',
  },
  {
    name: 'plus sign',
    input: '+1',
    want: syntax('expected a JSON value'),
    rationale: 'only minus is allowed in front',
  },
  {
    name: 'lone minus',
    input: '-',
    want: syntax('expected a digit'),
    rationale: 'a sign needs digits',
  },
  {
    name: 'leading dot',
    input: '.5',
    want: syntax('expected a JSON value'),
    rationale: 'a fraction needs an integer part',
  },
  {
    name: 'trailing dot',
    input: '1.',
    want: syntax('after "."'),
    rationale: 'a fraction needs digits',
  },
  {
    name: 'empty exponent',
    input: '1e+',
    want: syntax('exponent digit'),
    rationale: 'an exponent needs digits',
  },
  {
    name: 'hex number',
    input: '0x10',
    want: syntax('unexpected data after the JSON value'),
    rationale: '0 parses, then x is trailing data',
  },
  {
    name: 'capitalised literal',
    input: 'True',
    want: syntax('expected a JSON value'),
    rationale: 'literals are lower-case',
  },
  {
    name: 'truncated literal',
    input: '[tru]',
    want: syntax("expected 'true'"),
    rationale: 'literals are matched whole',
  },
  {
    name: 'two top-level values',
    input: '{} {}',
    want: syntax('unexpected data after the JSON value'),
    rationale: 'exactly one value; concatenated JSON is not JSON',
  },
  {
    name: 'unclosed object',
    input: '{"a":1',
    want: syntax("expected ',' or '}'"),
    rationale: 'end of input inside an object',
  },
  {
    name: 'unclosed array',
    input: '[1',
    want: syntax("expected ',' or ']'"),
    rationale: 'end of input inside an array',
  },
  {
    name: 'mismatched brackets',
    input: '[1}',
    want: syntax("expected ',' or ']'"),
    rationale: 'an array closes with ]',
  },
  // --- duplicates ---------------------------------------------------------------------------
  {
    name: 'duplicate method at top level',
    input: '{"jsonrpc":"2.0","method":"tools/list","method":"tools/call","id":1}',
    want: {
      ok: true,
      value: { jsonrpc: '2.0', method: 'tools/call', id: 1 },
      duplicateKeys: ['method'],
      topLevelIds: ['1'],
    },
    rationale: 'the classic evasion; the last value is kept (JSON.parse semantics) but reported',
  },
  {
    name: 'escaped duplicate key',
    input: String.raw`{"method":"tools/list","\u006dethod":"tools/call"}`,
    want: { ok: true, value: { method: 'tools/call' }, duplicateKeys: ['method'] },
    rationale: 'keys are compared after unescaping: this is the evasion the check exists for',
  },
  {
    name: 'duplicate params',
    input: '{"params":{"name":"a"},"params":{"name":"b"}}',
    want: { ok: true, value: { params: { name: 'b' } }, duplicateKeys: ['params'] },
    rationale: 'a duplicated container is reported by its own key',
  },
  {
    name: 'duplicate params.name',
    input: '{"method":"tools/call","params":{"name":"safe","name":"evil"}}',
    want: {
      ok: true,
      value: { method: 'tools/call', params: { name: 'evil' } },
      duplicateKeys: ['params.name'],
    },
    rationale: 'nested duplicates are found and named by path',
  },
  {
    name: 'duplicate in batch element',
    input: '[{"id":1,"method":"a"},{"id":2,"params":{"name":"x","name":"y"}}]',
    want: {
      ok: true,
      value: [
        { id: 1, method: 'a' },
        { id: 2, params: { name: 'y' } },
      ],
      duplicateKeys: ['[1].params.name'],
      topLevelIds: ['1', '2'],
    },
    rationale: 'batch elements are addressed by index',
  },
  {
    name: 'duplicate deep in arguments',
    input: '{"params":{"arguments":{"x":1,"y":[{"z":1,"z":2}],"x":3}}}',
    want: {
      ok: true,
      value: { params: { arguments: { x: 3, y: [{ z: 2 }] } } },
      duplicateKeys: ['params.arguments.y[0].z', 'params.arguments.x'],
    },
    rationale: 'any depth counts; order is the order the second occurrences were met',
  },
  {
    name: 'triple key reported once',
    input: '{"a":1,"a":2,"a":3}',
    want: { ok: true, value: { a: 3 }, duplicateKeys: ['a'] },
    rationale: 'one entry per object and key',
  },
  {
    name: 'same key in sibling objects is not a duplicate',
    input: '[{"a":1},{"a":2}]',
    want: { ok: true, value: [{ a: 1 }, { a: 2 }], duplicateKeys: [] },
    rationale: 'duplicates are per object',
  },
  {
    name: 'same key at different depths is not a duplicate',
    input: '{"a":{"a":1}}',
    want: { ok: true, value: { a: { a: 1 } }, duplicateKeys: [] },
    rationale: 'duplicates are per object',
  },
  {
    name: 'duplicate key needing quotes in path',
    input: '{"p":{"a.b":1,"a.b":2,"":3,"":4}}',
    want: {
      ok: true,
      value: { p: { 'a.b': 2, '': 4 } },
      duplicateKeys: ['p["a.b"]', 'p[""]'],
    },
    rationale: 'non-identifier keys are JSON-quoted so a dot cannot fake a deeper path',
  },
  {
    name: 'duplicate past the linear-scan limit',
    input: `{${Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(',')},"k3":99,"k30":98}`,
    want: {
      ok: true,
      value: {
        ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])),
        k3: 99,
        k30: 98,
      },
      duplicateKeys: ['k3', 'k30'],
    },
    rationale: 'objects with many keys switch to property lookups; early and late keys still count',
  },
  {
    name: 'duplicate __proto__',
    input: '{"__proto__":1,"__proto__":2}',
    want: {
      ok: true,
      value: JSON.parse('{"__proto__":2}') as unknown,
      duplicateKeys: ['__proto__'],
    },
    rationale: '__proto__ is an ordinary key, duplicates included',
  },
  // --- ids ----------------------------------------------------------------------------------
  {
    name: 'raw string id keeps its escapes',
    input: String.raw`{"id": "\u0061bc" ,"method":"x"}`,
    want: { ok: true, value: { id: 'abc', method: 'x' }, topLevelIds: [String.raw`"\u0061bc"`] },
    rationale: 'the id is echoed byte-exact, so the text is kept, not the decoded string',
  },
  {
    name: 'raw huge integer id',
    input: '{"id":123456789012345678901234567890}',
    want: {
      ok: true,
      value: { id: Number('123456789012345678901234567890') },
      topLevelIds: ['123456789012345678901234567890'],
    },
    rationale: 'the number rounds but the raw text survives for the response',
  },
  {
    name: 'raw exponent id',
    input: '{"id":1e400}',
    want: { ok: true, value: { id: Infinity }, topLevelIds: ['1e400'] },
    rationale: 'Infinity cannot be serialised back; the raw text can',
  },
  {
    name: 'raw null and container ids',
    input: '[{"id":null},{"id":{"a":[1, 2]}},{"id":[]}]',
    want: {
      ok: true,
      value: [{ id: null }, { id: { a: [1, 2] } }, { id: [] }],
      topLevelIds: ['null', '{"a":[1, 2]}', '[]'],
    },
    rationale: 'whatever the id value is, its exact text is recorded (validation is the caller’s)',
  },
  {
    name: 'batch ids align with elements',
    input: '[{"id":1},{"method":"n"},3,[{"id":9}],{},{"id":"x"}]',
    want: {
      ok: true,
      value: [{ id: 1 }, { method: 'n' }, 3, [{ id: 9 }], {}, { id: 'x' }],
      topLevelIds: ['1', undefined, undefined, undefined, undefined, '"x"'],
    },
    rationale: 'one entry per element; only top-level objects (messages) contribute ids',
  },
  {
    name: 'nested id is not a message id',
    input: '{"params":{"id":5}}',
    want: { ok: true, value: { params: { id: 5 } }, topLevelIds: [undefined] },
    rationale: 'params.id belongs to the tool, not to JSON-RPC',
  },
  {
    name: 'duplicate id keeps the last raw text',
    input: '{"id":1,"id":"two"}',
    want: { ok: true, value: { id: 'two' }, duplicateKeys: ['id'], topLevelIds: ['"two"'] },
    rationale: 'topLevelIds agrees with value',
  },
  {
    name: 'empty top-level array',
    input: '[]',
    want: { ok: true, value: [], topLevelIds: [] },
    rationale: 'no elements, no ids',
  },
  // --- depth --------------------------------------------------------------------------------
  {
    name: 'depth exactly at the limit',
    input: '[[[1]]]',
    maxDepth: 3,
    want: { ok: true, value: [[[1]]] },
    rationale: 'three nested containers are allowed at maxDepth 3',
  },
  {
    name: 'depth one past the limit',
    input: '[[[[1]]]]',
    maxDepth: 3,
    want: { ok: false, error: 'too_deep', messageIncludes: 'deeper than 3' },
    rationale: 'the fourth container is refused',
  },
  {
    name: 'empty containers count for depth',
    input: '{"a":{"b":{}}}',
    maxDepth: 2,
    want: { ok: false, error: 'too_deep' },
    rationale: 'an empty object still nests',
  },
  {
    name: 'maxDepth 0 allows scalars only',
    input: '[]',
    maxDepth: 0,
    want: { ok: false, error: 'too_deep' },
    rationale: 'any container exceeds depth 0',
  },
  {
    name: 'NaN maxDepth fails closed',
    input: '{}',
    maxDepth: Number.NaN,
    want: { ok: false, error: 'too_deep' },
    rationale: 'a broken limit is treated as 0, never as unlimited',
  },
];

describe('parseStrictJson', () => {
  test('row names are unique', () => {
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  test.each(ROWS)('$name', ({ input, maxDepth, want }) => {
    const got = parseStrictJson(input, { maxDepth: maxDepth ?? DEPTH });
    if (!want.ok) {
      expect(got).toMatchObject({ ok: false, error: want.error });
      if (!got.ok && want.messageIncludes !== undefined) {
        expect(got.message).toContain(want.messageIncludes);
      }
      return;
    }
    expect(got).toMatchObject({ ok: true });
    if (!got.ok) return;
    expect(got.value).toEqual(want.value);
    expect(got.duplicateKeys).toEqual(want.duplicateKeys ?? []);
    if (want.topLevelIds !== undefined) expect(got.topLevelIds).toEqual(want.topLevelIds);
  });

  test.each(ROWS.filter((r) => r.maxDepth === undefined))(
    'agrees with JSON.parse on acceptance and value: $name',
    ({ input }) => {
      const got = parseStrictJson(input, { maxDepth: DEPTH });
      const native = tryJsonParse(input);
      expect(got.ok).toBe(native.ok);
      if (got.ok && native.ok) expect(got.value).toEqual(native.value);
    },
  );
});

describe('parseStrictJson – prototype safety', () => {
  test('__proto__, constructor and prototype are own data keys', () => {
    const got = parseStrictJson(
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":1}',
      { maxDepth: DEPTH },
    );
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    const value = got.value;
    expect(isJsonObject(value)).toBe(true);
    if (!isJsonObject(value)) return;
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor', 'prototype']);
    const proto = value['__proto__'];
    expect(isJsonObject(proto) && Object.getPrototypeOf(proto) === null).toBe(true);
    expect(proto).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  });

  test('every nested object has a null prototype, arrays stay arrays', () => {
    const got = parseStrictJson('[{"a":{"b":[{"c":{}}]}}]', { maxDepth: DEPTH });
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    const objects: unknown[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) {
        expect(Object.getPrototypeOf(v)).toBe(Array.prototype);
        v.forEach(walk);
      } else if (typeof v === 'object' && v !== null) {
        objects.push(v);
        Object.values(v).forEach(walk);
      }
    };
    walk(got.value);
    expect(objects).toHaveLength(4);
    for (const o of objects) expect(Object.getPrototypeOf(o)).toBeNull();
  });
});

describe('parseStrictJson – deep nesting', () => {
  test('100,000 nested arrays hit the depth limit, not the stack', () => {
    const got = parseStrictJson('['.repeat(100_000) + ']'.repeat(100_000), { maxDepth: DEPTH });
    expect(got).toMatchObject({ ok: false, error: 'too_deep' });
  });

  test('100,000 nested arrays parse without recursion when allowed', () => {
    const got = parseStrictJson('['.repeat(100_000) + ']'.repeat(100_000), {
      maxDepth: Infinity,
    });
    expect(got.ok).toBe(true);
  });

  test('100,000 nested objects parse without recursion when allowed', () => {
    const got = parseStrictJson('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), {
      maxDepth: Infinity,
    });
    expect(got.ok).toBe(true);
  });

  test('100,000 unclosed arrays with a generous limit are a syntax error', () => {
    const got = parseStrictJson('['.repeat(100_000), { maxDepth: Infinity });
    expect(got).toMatchObject({ ok: false, error: 'syntax' });
  });
});

describe('parseStrictJson – differential against JSON.parse', () => {
  // Single-character mutations of valid documents hit most grammar edges; acceptance and value
  // must match JSON.parse exactly (our depth limit is out of reach at DEPTH). Seeded, no clock.
  const CORPUS = [
    '{"jsonrpc":"2.0","id":-12.5e3,"method":"tools/call","params":{"name":"a\\u00e9\\n","x":[true,false,null]}}',
    '[{"a":0},{"b":[1,2.0,-0.5E+1]},"\\ud83d\\ude00",{}]',
    ' {"k" : [ 0 , "\\"" ] } ',
  ];
  const ALPHABET = '{}[]:,"\\ -+.0123456789eEtrufalsn\u0000\u001f\u00a0\ufeffuU/x';
  let seed = 0x2f6b_1d3d;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed % n;
  };
  const mutants: string[] = [];
  for (let k = 0; k < 3000; k++) {
    const doc = CORPUS[k % CORPUS.length]!;
    const at = random(doc.length + 1);
    const op = random(3);
    const ch = ALPHABET[random(ALPHABET.length)]!;
    mutants.push(
      op === 0
        ? doc.slice(0, at) + ch + doc.slice(at)
        : op === 1
          ? doc.slice(0, at) + doc.slice(at + 1)
          : doc.slice(0, at) + ch + doc.slice(at + 1),
    );
  }

  test('3,000 mutants are accepted exactly when JSON.parse accepts them', () => {
    let accepted = 0;
    for (const text of mutants) {
      const got = parseStrictJson(text, { maxDepth: DEPTH });
      const native = tryJsonParse(text);
      if (got.ok !== native.ok) expect.fail(`disagreement on ${JSON.stringify(text)}`);
      if (got.ok && native.ok) {
        accepted++;
        expect(got.value).toEqual(native.value);
      }
    }
    // Guard against a vacuous test: a fair share of mutants must still be valid JSON.
    expect(accepted).toBeGreaterThan(300);
  });
});

function tryJsonParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
