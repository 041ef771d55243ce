/**
 * The review stamp sorts sets by their UTF-8 bytes (review-stamp.ts, step 3). Strings without
 * surrogates are compared in place; this holds that shortcut to the byte order for any text,
 * including the code units where UTF-16 and UTF-8 orders part (U+E000–U+FFFF against
 * surrogates) and lone surrogates, which UTF-8 encoding turns into U+FFFD.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { toCanonicalReviewForm } from '../../../src/config/review-stamp.js';

const UNIT = fc.constantFrom(
  0x41,
  0x61,
  0x7a,
  0x7f,
  0xe9,
  0x7ff,
  0x800,
  0xd7ff,
  0xd800,
  0xdbff,
  0xdc00,
  0xdfff,
  0xe000,
  0xfeff,
  0xfffd,
  0xffff,
);
const text = fc.array(UNIT, { maxLength: 4 }).map((units) => String.fromCharCode(...units));

function byUtf8Bytes(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) =>
    Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')),
  );
}

test('scopes and tool globs are sorted by their UTF-8 bytes', () => {
  fc.assert(
    fc.property(fc.array(text, { maxLength: 6 }), (values) => {
      const form = JSON.parse(
        toCanonicalReviewForm({
          id: 'x',
          transport: 'http',
          scopes: values,
          tools: { deny: values },
          review_ticket: 'T',
          reviewed_by: 'R',
          reviewed_on: '2026-01-01',
          expires_on: '2026-02-01',
        }),
      ) as { scopes: string[]; tools: { deny: string[] } };
      // JSON.parse turns lone surrogates back into themselves, so the order is comparable.
      expect(form.scopes).toEqual(byUtf8Bytes(values));
      expect(form.tools.deny).toEqual(byUtf8Bytes(values));
    }),
    { numRuns: 2000 },
  );
});
