/**
 * Property: whatever the request holds, evaluating a condition returns an outcome (it never
 * throws), spends no more than the budget it was given, and is deterministic. And whatever the
 * expression text, validation and compilation return rather than throw.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createCelConditionEngine } from '../../../src/conditions/engine.js';
import { validateCondition } from '../../../src/conditions/validate.js';
import type { JsonValue } from '../../../src/core/mcp/json-rpc-body.js';
import { CHECK_CONDITION_BUDGET } from '../../../src/core/policy/condition.js';
import type { ConditionVariables } from '../../../src/core/policy/condition.js';

const engine = createCelConditionEngine();

const EXPRESSIONS = [
  'args.query.matches("(?i)^\\\\s*select\\\\b")',
  'args.owner.lowerAscii() == "acme"',
  'args.limit < 100',
  'args.paths.all(p, p.startsWith("/"))',
  '"x" in args.l',
  'args.x == args.s',
  'size(args.l) > 2 || size(args.s) > 2 || size(args.x) > 2',
  'size(args.s + args.s) < 10',
  'args.l.exists(e, e in args.x)',
  'int(args.s) > 0 || uint(args.s) > 0u || double(args.s) > 0.0',
  'args.s.matches("(a+)+$")',
  'has(args.x.y) && args.x.y != null',
  'args.l.map(e, e)[0] == 1',
  'size(args.l.filter(e, e == args.x)) == 1',
  'type(args.x) == map || type(args.x) == list',
  'args.x.lowerAscii().trim().endsWith("a")',
  'args.s.substring(1, 3) == "b" && args.s.indexOf("a", 1) >= 0',
  'args.l + args.l == args.l',
  'headers.exists(h, h == user) || groups.exists_one(g, g == user)',
  'args["__proto__"] == args.constructor',
  'args.enabled',
  'args.x.all(k, k.size() > 0)',
];

const KEYS = [
  'query',
  'owner',
  'limit',
  'paths',
  'l',
  'x',
  's',
  'enabled',
  'y',
  '__proto__',
  'constructor',
];

const argsArb: fc.Arbitrary<Record<string, JsonValue>> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...KEYS), fc.string()),
      fc.jsonValue() as fc.Arbitrary<JsonValue>,
    ),
    {
      maxLength: 8,
    },
  )
  .map((entries) => {
    // Object.defineProperty: `__proto__` must become a key, as JSON.parse makes it one.
    const args: Record<string, JsonValue> = {};
    for (const [key, value] of entries) {
      Object.defineProperty(args, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return args;
  });

const variablesArb: fc.Arbitrary<ConditionVariables> = fc.record({
  user: fc.string(),
  groups: fc.array(fc.string(), { maxLength: 5 }),
  client: fc.string(),
  server: fc.string(),
  host: fc.string(),
  path: fc.string(),
  method: fc.string(),
  tool: fc.string(),
  args: argsArb,
  headers: fc
    .array(fc.tuple(fc.string(), fc.string()), { maxLength: 4 })
    .map((pairs) => new Map(pairs)),
});

const budgetArb = fc.oneof(
  fc.integer({ min: 0, max: CHECK_CONDITION_BUDGET }),
  fc.constantFrom(0, 1, CHECK_CONDITION_BUDGET, Number.NaN, -1),
);

const KINDS = ['holds', 'fails', 'error', 'over_budget'];

describe('conditions never throw', () => {
  const programs = EXPRESSIONS.map((expr) => {
    expect(validateCondition(expr)).toEqual({ ok: true });
    return engine.compile(expr);
  });

  test('on any request: an outcome, within the budget, the same every time', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(variablesArb, budgetArb, (vars, remaining) => {
        const bindings = engine.bind(vars);
        for (const program of programs) {
          const budget = { remaining };
          const outcome = program.evaluate(bindings, budget);
          expect(KINDS).toContain(outcome.kind);
          seen.add(outcome.kind);
          if (remaining >= 0) {
            expect(budget.remaining).toBeGreaterThanOrEqual(0);
            expect(budget.remaining).toBeLessThanOrEqual(remaining);
          }
          const again = { remaining };
          expect(program.evaluate(bindings, again)).toEqual(outcome);
          expect(again.remaining).toEqual(budget.remaining);
        }
      }),
      { seed: 13, numRuns: 300 },
    );
    // The generators reach every outcome, so the property is not about one path only.
    expect([...seen].sort()).toEqual([...KINDS].sort());
  });

  test('on any expression text: validation and compilation return', () => {
    const fragments = fc.constantFrom(
      ...EXPRESSIONS,
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      '.',
      ',',
      '"',
      "'",
      '\\',
      '?',
      ':',
      '!',
      '-',
      '+',
      '&&',
      '||',
      ' in ',
      '==',
      'all',
      'exists',
      'map',
      'filter',
      'has',
      'size',
      'x',
      '1',
      '1u',
      '1.0',
      'b"',
      'null',
    );
    const text = fc.oneof(
      fc.string({ maxLength: 64 }),
      fc.array(fragments, { maxLength: 12 }).map((parts) => parts.join('')),
    );
    let accepted = 0;
    fc.assert(
      fc.property(text, (expr) => {
        const verdict = validateCondition(expr);
        if (verdict.ok) accepted++;
        if (!verdict.ok) {
          expect(verdict.line).toBeGreaterThanOrEqual(1);
          expect(verdict.column).toBeGreaterThanOrEqual(1);
        }
        const outcome = engine
          .compile(expr)
          .evaluate(engine.bind(emptyVariables), { remaining: CHECK_CONDITION_BUDGET });
        expect(KINDS).toContain(outcome.kind);
        // A refused expression never evaluates to anything but an error.
        if (!verdict.ok) expect(outcome.kind).toBe('error');
      }),
      { seed: 13, numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(20);
  });
});

const emptyVariables: ConditionVariables = {
  user: '',
  groups: [],
  client: '',
  server: '',
  host: '',
  path: '',
  method: '',
  tool: '',
  args: {},
  headers: new Map(),
};
