import { describe, expect, test } from 'vitest';
import { foldJsonKey, foldedLength } from '../../../../src/core/mcp/json-key.js';

const ROWS = [
  { key: 'name', folded: 'name', rationale: 'already folded' },
  { key: 'Name', folded: 'name', rationale: "Go's encoding/json ignores ASCII case" },
  { key: 'NAME', folded: 'name', rationale: 'every letter' },
  { key: 'protocolVersion', folded: 'protocolversion', rationale: 'envelope keys fold too' },
  { key: 'param\u017f', folded: 'params', rationale: 'U+017F (long s) simple-folds to s' },
  { key: '\u212Aey', folded: 'key', rationale: 'U+212A (Kelvin sign) simple-folds to k' },
  { key: 'name\u0000', folded: 'name', rationale: 'segmentio/encoding dropped trailing NULs' },
  { key: 'name\u0000\u0000', folded: 'name', rationale: 'every trailing NUL' },
  { key: '\u0000name', folded: '\u0000name', rationale: 'a leading NUL stays: no reader drops it' },
  { key: '\u0131d', folded: '\u0131d', rationale: 'dotless i is not in the fold orbit of i' },
  { key: '\u0130D', folded: '\u0130d', rationale: 'nor is dotted capital I' },
  { key: 'ｍethod', folded: 'ｍethod', rationale: 'full-width letters do not fold to ASCII' },
] as const;

describe('foldJsonKey', () => {
  test.each(ROWS)('$key → $folded ($rationale)', ({ key, folded }) => {
    expect(foldJsonKey(key)).toBe(folded);
    expect(foldedLength(key)).toBe(folded.length);
  });
});
