import { describe, expect, test } from 'vitest';
import { checkGlob, compileGlobSet, matchGlob } from '../../../../src/core/policy/glob.js';

describe('checkGlob – the language is * ? and literals over printable ASCII', () => {
  test.each([
    { name: 'a literal tool name', pattern: 'get_issue', want: undefined },
    { name: 'star and question mark', pattern: '*_?', want: undefined },
    { name: 'punctuation is literal', pattern: 'a.b-c/d:e', want: undefined },
    { name: 'exactly 256 characters', pattern: 'x'.repeat(256), want: undefined },
    { name: 'empty', pattern: '', want: 'a glob must not be empty' },
    {
      name: '257 characters',
      pattern: 'x'.repeat(257),
      want: 'a glob must be at most 256 characters',
    },
    {
      name: 'a space',
      pattern: 'get issue',
      want: 'a glob may only contain printable ASCII characters without spaces (U+0021–U+007E)',
    },
    {
      name: 'a control character',
      pattern: 'get\tissue',
      want: 'a glob may only contain printable ASCII characters without spaces (U+0021–U+007E)',
    },
    {
      name: 'non-ASCII',
      pattern: 'café',
      want: 'a glob may only contain printable ASCII characters without spaces (U+0021–U+007E)',
    },
  ])('$name', ({ pattern, want }) => {
    expect(checkGlob(pattern)).toBe(want);
  });
});

describe('matching', () => {
  test.each([
    { pattern: 'get_*', name: 'get_issue', want: true },
    { pattern: 'get_*', name: 'get_', want: true },
    { pattern: 'get_*', name: 'Get_issue', want: false, rationale: 'case-sensitive' },
    { pattern: '*delete*', name: 'delete_repo', want: true },
    { pattern: '*delete*', name: 'bulk_delete', want: true },
    { pattern: '*delete*', name: 'remove', want: false },
    { pattern: '*_list', name: 'zones_list', want: true },
    { pattern: 'list_?', name: 'list_a', want: true },
    { pattern: 'list_?', name: 'list_ab', want: false },
    { pattern: 'list_?', name: 'list_', want: false },
    { pattern: '?', name: '😀', want: true, rationale: '? is one code point, not one UTF-16 unit' },
    { pattern: 'a*b*c', name: 'aXbYc', want: true },
    { pattern: 'a*b*c', name: 'aXcYb', want: false },
    { pattern: 'a**b', name: 'ab', want: true },
    { pattern: '*', name: '', want: true },
    { pattern: 'exact', name: 'exact', want: true },
    { pattern: 'exact', name: 'exactly', want: false },
    { pattern: 'a.b', name: 'aXb', want: false, rationale: '. is literal, not a regex dot' },
    {
      pattern: '*a*a*a*a*a*b',
      name: 'a'.repeat(200),
      want: false,
      rationale: 'no backtracking blow-up',
    },
  ])('$pattern vs $name → $want', ({ pattern, name, want }) => {
    expect(matchGlob(pattern, name)).toBe(want);
    // The compiled set (fast paths included) must agree with the single-pattern matcher.
    expect(compileGlobSet([pattern])(name)).toBe(want);
  });

  test('a set matches when any member does; an empty set matches nothing', () => {
    const set = compileGlobSet(['get_*', '*_list', 'search', '*x?z*', '*mid*']);
    expect(set('get_a')).toBe(true);
    expect(set('zone_list')).toBe(true);
    expect(set('search')).toBe(true);
    expect(set('axyzb')).toBe(true);
    expect(set('amidb')).toBe(true);
    expect(set('searching')).toBe(false);
    expect(compileGlobSet([])('anything')).toBe(false);
  });
});
