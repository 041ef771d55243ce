/**
 * A printed counterexample must rebuild exactly the input that failed, or the pasted test
 * replays something else. Checked by evaluating the printed literal.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { fuzzCaseArb } from './arbitraries.js';
import { toLiteral, toVitestCase } from './counterexample.js';
import { fuzzSettingsFromEnv } from './properties.js';

const settings = fuzzSettingsFromEnv();

function rebuild(literal: string): unknown {
  // The literal is plain JavaScript apart from `Buffer`, which the function receives.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating our own output is the test
  return new Function('Buffer', `return (${literal});`)(Buffer) as unknown;
}

describe('counterexample – printed inputs', () => {
  test('a printed fuzz case rebuilds the same case', () => {
    fc.assert(
      fc.property(fuzzCaseArb(['base']), (c) => {
        expect(rebuild(toLiteral(c))).toStrictEqual(c);
      }),
      { seed: settings.seed, numRuns: 50 },
    );
  });

  test('any value rebuilds, including __proto__ keys and null-prototype objects', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withNullPrototype: true,
          withTypedArray: true,
          withMap: true,
          withSet: true,
        }),
        (value) => {
          const rebuilt = rebuild(toLiteral(value));
          expect(rebuilt).toStrictEqual(value);
          if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
            expect(Object.getPrototypeOf(rebuilt)).toBe(Object.getPrototypeOf(value));
          }
        },
      ),
      { seed: settings.seed, numRuns: 200 },
    );
  });

  test('the vitest case replays the property by name', () => {
    const code = toVitestCase({
      property: 'never-throws',
      input: { a: 1 },
      seed: 7,
      path: '1:2',
      message: 'boom\nsecond line',
    });
    expect(code).toContain('checkProperty("never-throws", {\n    a: 1,\n  })');
    expect(code).toContain('seed 7, path "1:2"');
    expect(code).not.toContain('second line');
  });
});
