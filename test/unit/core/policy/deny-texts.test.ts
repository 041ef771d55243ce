import { describe, expect, test } from 'vitest';
import {
  DEFAULT_DENY_TEXTS,
  DEFAULT_DETAIL_DENY_TEXTS,
  denyTemplate,
  findForbiddenWording,
  findUnknownPlaceholders,
  SERVER_LEVEL_DENY_REASONS,
} from '../../../../src/core/policy/deny-texts.js';
import { DENY_REASONS } from '../../../../src/core/policy/policy.js';

describe('built-in deny texts', () => {
  test('one text per deny reason, no more', () => {
    expect(Object.keys(DEFAULT_DENY_TEXTS).sort()).toEqual([...DENY_REASONS].sort());
  });

  test.each(DENY_REASONS.map((reason) => ({ reason })))(
    '$reason: known placeholders only, no words MCP clients react to',
    ({ reason }) => {
      const text = DEFAULT_DENY_TEXTS[reason];
      expect(findUnknownPlaceholders(text)).toEqual([]);
      expect(findForbiddenWording(text)).toBeUndefined();
      for (const word of ['404', '405', 'Unauthorized', 'Not Found'])
        expect(text).not.toContain(word);
    },
  );

  test.each(SERVER_LEVEL_DENY_REASONS.map((reason) => ({ reason })))(
    '$reason (server level) tells the person where to go: {review_url}',
    ({ reason }) => {
      expect(DEFAULT_DENY_TEXTS[reason]).toContain('{review_url}');
    },
  );
});

describe('detail deny texts', () => {
  test.each(Object.entries(DEFAULT_DETAIL_DENY_TEXTS).map(([detail, text]) => ({ detail, text })))(
    '$detail: known placeholders, no trigger words, a review link',
    ({ text }) => {
      expect(findUnknownPlaceholders(text)).toEqual([]);
      expect(findForbiddenWording(text)).toBeUndefined();
      expect(text).toContain('{review_url}');
    },
  );

  test('tunnel_not_inspected gets its own text unless the allowlist overrides uninspectable', () => {
    expect(denyTemplate(DEFAULT_DENY_TEXTS, 'uninspectable', 'tunnel_not_inspected')).toBe(
      DEFAULT_DETAIL_DENY_TEXTS.tunnel_not_inspected,
    );
    expect(denyTemplate(DEFAULT_DENY_TEXTS, 'uninspectable', 'truncated')).toBe(
      DEFAULT_DENY_TEXTS.uninspectable,
    );
    const own = { ...DEFAULT_DENY_TEXTS, uninspectable: 'Blocked; ask {review_url}' };
    expect(denyTemplate(own, 'uninspectable', 'tunnel_not_inspected')).toBe(
      'Blocked; ask {review_url}',
    );
  });
});

describe('findForbiddenWording', () => {
  test.each([
    { text: 'Error 404 here', want: '404' },
    { text: 'code 405', want: '405' },
    { text: 'UNAUTHORIZED', want: 'UNAUTHORIZED' },
    { text: 'unauthorised (British)', want: 'unauthorised' },
    { text: 'page not found', want: 'not found' },
    { text: 'https://x.example/not-found', want: 'not-found' },
    { text: 'Method Not Allowed', want: 'Method Not Allowed' },
    { text: 'The approval for {server} has expired: {review_url}', want: undefined },
    { text: 'ticket 4040', want: '404' },
  ])('$text → $want', ({ text, want }) => {
    expect(findForbiddenWording(text)).toBe(want);
  });
});

describe('findUnknownPlaceholders', () => {
  test('reports every unknown {name} in order, including spaced ones', () => {
    expect(findUnknownPlaceholders('{host} {hostname} { server } {review_url} {}')).toEqual([
      '{hostname}',
      '{ server }',
      '{}',
    ]);
  });
  test('lone braces are literal', () => {
    expect(findUnknownPlaceholders('a { b } c {')).toEqual(['{ b }']);
    expect(findUnknownPlaceholders('a } b {')).toEqual([]);
  });
});
