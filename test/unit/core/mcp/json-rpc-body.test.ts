import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

import {
  batchExceeds,
  membersExceed,
  parseJsonRpcBody,
} from '../../../../src/core/mcp/json-rpc-body.js';
import type { JsonRpcBodyResult } from '../../../../src/core/mcp/json-rpc-body.js';
import { arr, lit, num, obj, renderJson } from '../../../property/json-text.js';
import type { JsonNode, JsonStyle } from '../../../property/json-text.js';
import { parseStrictJson } from '../../../oracles/strict-json.js';

const DEPTH = 64;

/**
 * What inspect.ts computed before json-rpc-body.ts existed: the full strict parse, with its
 * duplicate-key paths filtered to the envelope keys. parseJsonRpcBody must give exactly this; a
 * rejection is `too_deep` when the text is JSON at any depth and `syntax` otherwise, and its
 * message is compared only in the rows (V8 writes it, not the oracle).
 */
const ENVELOPE_PATHS = new Set([
  'jsonrpc',
  'method',
  'id',
  'params',
  'params.name',
  'params.uri',
  'params.protocolVersion',
  'params.arguments',
]);

interface Reference {
  readonly ok: boolean;
  readonly error?: string;
  readonly message?: string;
  readonly value?: unknown;
  readonly envelopeDuplicates?: readonly string[];
  readonly topLevelIds?: readonly (string | undefined)[];
  readonly argumentDuplicates?: readonly boolean[];
}

/** A duplicate path inside a message's `params.arguments`: the message index, or -1 at the top. */
const ARGUMENTS_PATH = /^(?:\[(\d+)\]\.)?params\.arguments[.[]/;

/** Per message, whether the strict parser found a duplicate key inside its arguments. */
function argumentDuplicatesOf(
  duplicateKeys: readonly string[],
  topLevelIds: readonly (string | undefined)[],
): boolean[] {
  const flags = topLevelIds.map(() => false);
  for (const path of duplicateKeys) {
    const match = ARGUMENTS_PATH.exec(path);
    if (match !== null) flags[match[1] === undefined ? 0 : Number(match[1])] = true;
  }
  return flags;
}

function reference(text: string, maxDepth: number): Reference {
  const strict = parseStrictJson(text, { maxDepth });
  if (!strict.ok) {
    const json = parseStrictJson(text, { maxDepth: Infinity }).ok;
    return { ok: false, error: json ? 'too_deep' : 'syntax' };
  }
  return {
    ok: true,
    value: strict.value,
    envelopeDuplicates: strict.duplicateKeys.filter((path) =>
      ENVELOPE_PATHS.has(path.replace(/^\[\d+\]\./, '')),
    ),
    topLevelIds: strict.topLevelIds,
    argumentDuplicates: argumentDuplicatesOf(strict.duplicateKeys, strict.topLevelIds),
  };
}

function view(got: JsonRpcBodyResult, withMessage = false): Reference {
  if (!got.ok) {
    return withMessage
      ? { ok: false, error: got.error, message: got.message }
      : { ok: false, error: got.error };
  }
  return {
    ok: true,
    value: got.value,
    envelopeDuplicates: got.envelopeDuplicates,
    topLevelIds: got.topLevelIds,
    argumentDuplicates: got.argumentDuplicates,
  };
}

/**
 * Compares with the reference. toEqual ignores prototypes (JSON.parse's objects inherit from
 * Object.prototype, the strict parser's do not) but tells 0 from -0.
 */
function expectSameAsReference(text: string, maxDepth = DEPTH): void {
  expect(view(parseJsonRpcBody(text, { maxDepth }))).toEqual(reference(text, maxDepth));
}

interface Row {
  readonly name: string;
  readonly input: string;
  readonly maxDepth?: number;
  readonly want: Reference;
  readonly rationale: string;
}

const ROWS: readonly Row[] = [
  {
    name: 'typical tools/call',
    input: '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"s","arguments":{}}}',
    want: {
      ok: true,
      value: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 's', arguments: {} } },
      envelopeDuplicates: [],
      topLevelIds: ['7'],
      argumentDuplicates: [false],
    },
    rationale: 'the common case: the value, no duplicates, the raw id',
  },
  {
    name: 'duplicate method, last value wins',
    input: '{"method":"tools/list","method":"tools/call","id":1}',
    want: {
      ok: true,
      value: { method: 'tools/call', id: 1 },
      envelopeDuplicates: ['method'],
      topLevelIds: ['1'],
      argumentDuplicates: [false],
    },
    rationale: 'the evasion this exists for; the value agrees with JSON.parse',
  },
  {
    name: 'escaped duplicate key',
    input: String.raw`{"method":"a","\u006dethod":"b"}`,
    want: {
      ok: true,
      value: { method: 'b' },
      envelopeDuplicates: ['method'],
      topLevelIds: [undefined],
      argumentDuplicates: [false],
    },
    rationale: 'keys are compared after unescaping',
  },
  {
    name: 'duplicates at both levels, in the order their values end',
    input: '{"params":{"name":1,"name":2},"params":{"uri":1,"uri":2,"uri":3},"id":1,"id":2}',
    want: {
      ok: true,
      value: { params: { uri: 3 }, id: 2 },
      envelopeDuplicates: ['params.name', 'params.uri', 'params', 'id'],
      topLevelIds: ['2'],
      argumentDuplicates: [false],
    },
    rationale: 'each object reports a key once; an inner duplicate ends before its params member',
  },
  {
    name: 'batch paths carry the element index',
    input: '[{"id":1},3,{"params":{"protocolVersion":"a","protocolVersion":"b"},"id":"x"}]',
    want: {
      ok: true,
      value: [{ id: 1 }, 3, { params: { protocolVersion: 'b' }, id: 'x' }],
      envelopeDuplicates: ['[2].params.protocolVersion'],
      topLevelIds: ['1', undefined, '"x"'],
      argumentDuplicates: [false, false, false],
    },
    rationale: 'one raw id per element, undefined for non-objects',
  },
  {
    name: 'duplicates outside the envelope are not envelope duplicates',
    input:
      '{"params":{"arguments":{"a":1,"a":2},"_meta":{"x":1,"x":2},"name":"n"},"x":1,"x":2,"id":1}',
    want: {
      ok: true,
      value: { params: { arguments: { a: 2 }, _meta: { x: 2 }, name: 'n' }, x: 2, id: 1 },
      envelopeDuplicates: [],
      topLevelIds: ['1'],
      argumentDuplicates: [true],
    },
    rationale:
      'only conditions read arguments, so theirs are flagged apart; nothing reads the others',
  },
  {
    name: 'envelope names one level too deep are not envelope keys',
    input: '[[{"method":1,"method":2}]]',
    want: {
      ok: true,
      value: [[{ method: 2 }]],
      envelopeDuplicates: [],
      topLevelIds: [undefined],
      argumentDuplicates: [false],
    },
    rationale: 'a message is the top-level object or an element of a top-level array',
  },
  {
    name: 'raw id text is kept exactly',
    input: '{ "id" : 123456789012345678901234567890 , "x":"\\"id\\":2"}',
    want: {
      ok: true,
      value: { id: Number('123456789012345678901234567890'), x: '"id":2' },
      envelopeDuplicates: [],
      topLevelIds: ['123456789012345678901234567890'],
      argumentDuplicates: [false],
    },
    rationale: 'the id is echoed byte-exact; a quoted "id" inside a string is not a key',
  },
  {
    name: 'backslash runs before quotes',
    input: String.raw`{"a":"x\\","method":"m","b":"\\\"method\\\":1","method":"n"}`,
    want: {
      ok: true,
      value: { a: 'x\\', method: 'n', b: '\\"method\\":1' },
      envelopeDuplicates: ['method'],
      topLevelIds: [undefined],
      argumentDuplicates: [false],
    },
    rationale: 'an even run of backslashes ends the string, an odd one escapes the quote',
  },
  {
    name: '__proto__ is an own data key',
    input: '{"__proto__":{"method":"x"},"jsonrpc":"2.0"}',
    want: {
      ok: true,
      value: JSON.parse('{"__proto__":{"method":"x"},"jsonrpc":"2.0"}') as unknown,
      envelopeDuplicates: [],
      topLevelIds: [undefined],
      argumentDuplicates: [false],
    },
    rationale: 'no prototype is ever set from input',
  },
  {
    name: 'top-level scalar',
    input: ' -0 ',
    want: { ok: true, value: -0, envelopeDuplicates: [], topLevelIds: [], argumentDuplicates: [] },
    rationale: 'no message, no ids',
  },
  {
    name: 'too deep names the limit',
    input: '{"params":{"arguments":[[1]]}}',
    maxDepth: 3,
    want: {
      ok: false,
      error: 'too_deep',
      message: 'nesting deeper than 3',
    },
    rationale: 'JSON.parse has no depth limit; the scan enforces ours',
  },
  {
    name: "syntax errors get V8's message",
    input: '{"method":"tools/call",}',
    want: {
      ok: false,
      error: 'syntax',
      message: 'Expected double-quoted property name in JSON at position 23',
    },
    rationale: 'explain and logs show what JSON.parse said, and where',
  },
];

describe('parseJsonRpcBody – keys as Go servers match them', () => {
  test.each([
    ['{"params":{"name":"a","Name":"b"}}', ['params.name']],
    ['{"params":{"name":"a","name\\u0000":"b"}}', ['params.name']],
    ['{"params":{"a":1},"param\u017f":{"b":2}}', ['params']],
    ['{"method":"a","METHOD":"b","Id":1,"id":2}', ['method', 'id']],
    ['{"params":{"protocolversion":"x","protocolVersion":"y"}}', ['params.protocolVersion']],
    ['{"params":{"arguments":{"name":"a","Name":"b"}}}', []],
  ])('%s reports %j', (text, duplicates) => {
    const got = parseJsonRpcBody(text, { maxDepth: DEPTH });
    expect(got.ok && got.envelopeDuplicates).toEqual(duplicates);
  });

  test('a folded id is the message id', () => {
    const got = parseJsonRpcBody('{"ID":7,"method":"ping"}', { maxDepth: DEPTH });
    expect(got.ok && got.topLevelIds).toEqual(['7']);
  });
});

describe('parseJsonRpcBody – keys repeated inside arguments', () => {
  test.each([
    ['{"params":{"arguments":{"query":"DROP","query":"SELECT 1"}}}', [true]],
    ['{"params":{"arguments":{"rows":[{"a":1},{"b":1,"b":2}]}}}', [true]],
    [String.raw`{"params":{"arguments":{"a":1,"a":2}}}`, [true]],
    ['{"params":{"Arguments":{"a":1,"a":2}}}', [true]],
    ['[{"params":{"arguments":{"a":1}}},{"params":{"arguments":{"a":1,"a":2}}}]', [false, true]],
    ['{"params":{"arguments":{"query":"x","Query":"y"}}}', [false]],
    [String.raw`{"params":{"arguments":{"a":"\"a\":1","b":["a","a"]}}}`, [false]],
    ['{"params":{"arguments":{"a":{"a":{"a":1}}}}}', [false]],
    ['{"params":{"_meta":{"a":1,"a":2},"arguments":{"a":1}}}', [false]],
  ])('%s: %j', (text, flags) => {
    const got = parseJsonRpcBody(text, { maxDepth: DEPTH });
    expect(got.ok && got.argumentDuplicates).toEqual(flags);
  });
});

describe('membersExceed', () => {
  test.each([
    ['{}', 0, false],
    ['{"a":1}', 0, true],
    ['{"a":1}', 1, false],
    ['[{"a":1},{"b":{"c":2}}]', 2, true],
    ['{"a":"x:y:z"}', 1, false],
    ['{"a\\":":1}', 1, false],
    ['"a:b:c"', 0, false],
  ] as const)('%s with max %d: %s', (text, max, want) => {
    expect(membersExceed(text, max)).toBe(want);
  });
});

describe('batchExceeds', () => {
  test.each([
    ['[]', 0, false],
    ['[]', 1, false],
    ['[1]', 0, true],
    ['[1]', 1, false],
    [' [1,2,3] ', 3, false],
    ['[1,2,3,4]', 3, true],
    ['[[1,2,3,4,5]]', 3, false],
    ['[{"a":[1,2,3,4,5]},"x,y,z,w"]', 3, false],
    ['["\\",",",","]', 2, true],
    ['{"a":[1,2,3,4]}', 3, false],
    ['"[1,2,3,4]"', 3, false],
  ] as const)('%s with max %d: %s', (text, max, want) => {
    expect(batchExceeds(text, max)).toBe(want);
  });

  test('stops reading at element max + 1', () => {
    // What follows the limit is not even JSON: it is never looked at.
    const text = `[${'{},'.repeat(10)}${'\u0000{'.repeat(1_000_000)}`;
    expect(batchExceeds(text, 5)).toBe(true);
    expect(batchExceeds(text, 50)).toBe(false);
  });
});

describe('parseJsonRpcBody', () => {
  test('row names are unique', () => {
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  test.each(ROWS)('$name', ({ input, maxDepth, want }) => {
    expect(view(parseJsonRpcBody(input, { maxDepth: maxDepth ?? DEPTH }), true)).toEqual(want);
    // Every row is also what the strict parser and inspect's old filter give (bar the message).
    const outcome = want.ok ? want : { ok: false, error: want.error };
    expect(outcome).toEqual(reference(input, maxDepth ?? DEPTH));
  });

  test('100,000 nested arrays are refused without recursion', () => {
    const text = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(parseJsonRpcBody(text, { maxDepth: DEPTH })).toMatchObject({ error: 'too_deep' });
  });
});

// --- differential: the strict parser is the reference -------------------------------------

/** Keys from the envelope and around it, so duplicates at every level are common. */
const keyArb = fc.constantFrom(
  'jsonrpc',
  'method',
  'id',
  'params',
  'name',
  'uri',
  'protocolVersion',
  'arguments',
  '_meta',
  '__proto__',
  'a',
  'a.b',
  '',
);

/** Any UTF-16 code unit, lone surrogates included, with JSON's special characters weighted. */
const stringArb = fc.oneof(
  fc.string({ unit: fc.constantFrom('"', '\\', '/', 'a', '\n', '\u0000', '{', '[', ':', ',') }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  keyArb,
);

const numberArb = fc.oneof(
  fc.constantFrom('0', '-0', '1e400', '-1E-400', '123456789012345678901234567890', '0.5e+2'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
);

const { node: nodeArb } = fc.letrec<{ node: JsonNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringArb.map(lit),
    numberArb.map(num),
    fc.constantFrom(lit(null), lit(true), lit(false)),
    fc.array(tie('node'), { maxLength: 4 }).map(arr),
    fc.array(fc.tuple(keyArb, tie('node')), { maxLength: 6 }).map(obj),
  ),
}));

/** Keys of a message, and of its params: the envelope keys come up often, so they repeat. */
const messageKeyArb = fc.oneof(fc.constantFrom('jsonrpc', 'method', 'id', 'params'), keyArb);
const paramsKeyArb = fc.oneof(
  fc.constantFrom('name', 'uri', 'protocolVersion', 'arguments'),
  keyArb,
);

/** A message-shaped tree: most duplicates worth finding sit in these objects. */
const messageArb: fc.Arbitrary<JsonNode> = fc
  .array(
    fc.tuple(
      messageKeyArb,
      fc.oneof(nodeArb, fc.array(fc.tuple(paramsKeyArb, nodeArb), { maxLength: 5 }).map(obj)),
    ),
    { maxLength: 8 },
  )
  .map(obj);

const bodyArb: fc.Arbitrary<JsonNode> = fc.oneof(
  messageArb,
  fc.array(fc.oneof(messageArb, nodeArb), { maxLength: 4 }).map(arr),
  nodeArb,
);

const styleArb: fc.Arbitrary<JsonStyle> = fc.record({
  escapeKeys: fc.boolean(),
  escapeValues: fc.boolean(),
  spaced: fc.boolean(),
});

/** A few character edits: mostly broken JSON, sometimes valid JSON of another shape. */
const editArb = fc.array(
  fc.tuple(
    fc.nat(),
    fc.nat({ max: 2 }),
    fc.constantFrom(
      '"',
      '\\',
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      ' ',
      '\u0000',
      '1',
      '-',
      'e',
      '\ud800',
    ),
  ),
  { minLength: 1, maxLength: 3 },
);

function applyEdits(text: string, edits: readonly (readonly [number, number, string])[]): string {
  let out = text;
  for (const [at, kind, char] of edits) {
    const i = out.length === 0 ? 0 : at % (out.length + 1);
    if (kind === 0) out = out.slice(0, i) + char + out.slice(i);
    else if (kind === 1) out = out.slice(0, i) + out.slice(i + 1);
    else out = out.slice(0, i) + char + out.slice(i + 1);
  }
  return out;
}

describe('parseJsonRpcBody agrees with the strict parser', () => {
  test('on generated bodies, at any depth limit', () => {
    fc.assert(
      fc.property(
        bodyArb,
        styleArb,
        fc.constantFrom(0, 1, 2, 3, 4, DEPTH),
        (body, style, depth) => {
          expectSameAsReference(renderJson(body, style), depth);
        },
      ),
      { seed: 4, numRuns: 3000 },
    );
  });

  test('on generated bodies after character edits', () => {
    fc.assert(
      fc.property(bodyArb, styleArb, editArb, (body, style, edits) => {
        expectSameAsReference(applyEdits(renderJson(body, style), edits));
      }),
      { seed: 4, numRuns: 3000 },
    );
  });

  test('on deep nesting around the limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 70 }),
        fc.constantFrom('[', '{"params":'),
        messageArb,
        (levels, opener, inner) => {
          const closer = opener === '[' ? ']' : '}';
          const text = `${opener.repeat(levels)}${renderJson(inner, { escapeKeys: false, escapeValues: false, spaced: false })}${closer.repeat(levels)}`;
          expectSameAsReference(text);
        },
      ),
      { seed: 4, numRuns: 300 },
    );
  });
});
