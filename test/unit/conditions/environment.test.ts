import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createCelConditionEngine } from '../../../src/conditions/engine.js';
import { CONDITION_ENV } from '../../../src/conditions/environment.js';
import { SIGNATURES } from '../../../src/conditions/signatures.js';
import type { StaticType } from '../../../src/conditions/types.js';
import { CHECK_CONDITION_BUDGET } from '../../../src/core/policy/condition.js';
import type { ConditionVariables } from '../../../src/core/policy/condition.js';

/** How @bufbuild/cel names a type in an overload id: `list(dyn)` is `list`, `int` is `int`. */
function celTypeName(type: StaticType): string {
  return type.kind;
}

const runtimeIds = new Set([...CONDITION_ENV.funcs].map((func) => func.id));

describe('the run-time environment matches the whitelist', () => {
  test('every overload the check accepts has an implementation', () => {
    const missing: string[] = [];
    for (const [name, overloads] of SIGNATURES) {
      for (const overload of overloads) {
        const receiver =
          overload.receiver === undefined ? '' : `${celTypeName(overload.receiver)}.`;
        const id = `${receiver}${name}(${overload.args.map(celTypeName).join(',')})`;
        if (!runtimeIds.has(id)) missing.push(id);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the strings extension contributes only whitelisted functions', () => {
    for (const name of ['replace', 'split', 'join', 'format', 'quote', 'strings.quote', 'charAt']) {
      expect(CONDITION_ENV.funcs.find(name)).toBeUndefined();
    }
    for (const name of [
      'indexOf',
      'lastIndexOf',
      'lowerAscii',
      'upperAscii',
      'trim',
      'substring',
    ]) {
      expect(CONDITION_ENV.funcs.find(name)).toBeDefined();
    }
  });
});

describe('size of a string', () => {
  const engine = createCelConditionEngine();
  const program = engine.compile('size(args.s) == args.n && args.s.size() == args.n');
  const variables = (s: string): ConditionVariables => ({
    user: '',
    groups: [],
    client: '',
    server: '',
    host: '',
    path: '',
    method: '',
    tool: '',
    // Code points, as CEL counts them (not graphemes: an emoji sequence is several).
    args: { s, n: Array.from(s).length },
    headers: new Map(),
  });

  test('counts code points as the library does, lone surrogates included', () => {
    const units = fc.constantFrom('a', 'é', '😀', '\ud800', '\udc00', '\u0000');
    fc.assert(
      fc.property(fc.array(units, { maxLength: 20 }), (parts) => {
        const outcome = program.evaluate(engine.bind(variables(parts.join(''))), {
          remaining: CHECK_CONDITION_BUDGET,
        });
        expect(outcome).toEqual({ kind: 'holds' });
      }),
      { seed: 13, numRuns: 500 },
    );
  });
});
