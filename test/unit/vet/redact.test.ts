import { describe, expect, test } from 'vitest';

import { redact } from '../../../src/cli/vet.js';

describe('redact', () => {
  test('every occurrence, raw and JSON-escaped', () => {
    const secret = 'tok"en\\value';
    const text = `a ${secret} b ${JSON.stringify({ v: secret })}`;
    const out = redact(text, [secret]);
    expect(out).not.toContain('tok');
    expect(out).toBe('a [redacted] b {"v":"[redacted]"}');
  });

  test('longer secrets first, so no tail of one is left behind', () => {
    expect(redact('Bearer abcdefgh12345678', ['abcdefgh12345678', 'Bearer abcdefgh12345678'])).toBe(
      '[redacted]',
    );
  });
});
