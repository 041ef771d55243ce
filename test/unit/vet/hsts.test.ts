import { describe, expect, test } from 'vitest';

import { parseHsts } from '../../../src/vet/hsts.js';

const VALID = [
  {
    name: 'max-age only',
    input: 'max-age=31536000',
    want: { maxAge: 31536000, includeSubDomains: false, preload: false },
    rationale: 'the minimal policy',
  },
  {
    name: 'every directive, odd case and spacing',
    input: ' Max-Age=63072000 ;includeSubdomains; PRELOAD ',
    want: { maxAge: 63072000, includeSubDomains: true, preload: true },
    rationale:
      'directive names are case-insensitive, whitespace around them is allowed (RFC 6797 6.1)',
  },
  {
    name: 'quoted value',
    input: 'max-age="86400"',
    want: { maxAge: 86400, includeSubDomains: false, preload: false },
    rationale: 'a directive value may be a quoted-string',
  },
  {
    name: 'unknown directive',
    input: 'max-age=10; report-uri="https://x.example/"',
    want: { maxAge: 10, includeSubDomains: false, preload: false },
    rationale: 'unknown directives are ignored, not an error',
  },
  {
    name: 'zero',
    input: 'max-age=0',
    want: { maxAge: 0, includeSubDomains: false, preload: false },
    rationale: 'max-age=0 is valid: it deletes the policy, and the threshold makes it hsts_short',
  },
] as const;

const INVALID = [
  { name: 'no max-age', input: 'includeSubDomains', problem: /no max-age/ },
  { name: 'empty', input: '', problem: /no max-age/ },
  { name: 'twice', input: 'max-age=1; max-age=31536000', problem: /appears twice/ },
  { name: 'not a number', input: 'max-age=1y', problem: /number of seconds/ },
  { name: 'negative', input: 'max-age=-1', problem: /number of seconds/ },
  { name: 'no value', input: 'max-age', problem: /number of seconds/ },
  {
    name: 'two headers joined',
    input: 'max-age=31536000, max-age=1',
    problem: /number of seconds/,
  },
] as const;

describe('parseHsts', () => {
  test.each(VALID)('$name', ({ input, want }) => {
    expect(parseHsts(input)).toEqual({ ok: true, hsts: want });
  });
  test.each(INVALID)('$name is invalid', ({ input, problem }) => {
    const parsed = parseHsts(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});
