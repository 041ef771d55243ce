import { describe, expect, test } from 'vitest';
import { newDecisionId, isDecisionId } from '../../../src/core/decision-id.js';
import {
  defang,
  escapeUnsafe,
  renderDenyMessage,
  reviewLink,
  safeEcho,
} from '../../../src/core/deny-message.js';

const FORBIDDEN = ['404', '405', 'Unauthorized', 'Not Found', 'Method Not Allowed'];

describe('decision ids', () => {
  test('20 letters from a digit-free alphabet, unique', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = newDecisionId();
      expect(isDecisionId(id)).toBe(true);
      expect(id).not.toMatch(/\d/);
      ids.add(id);
    }
    expect(ids.size).toBe(5000);
  });
});

describe('reviewLink', () => {
  const base = {
    host: 'mcp.evil.example',
    tool: 'delete_repo',
    entryId: 'github-official',
    decisionId: 'abcdefghjkmnpqrstuvw',
  };

  test.each([
    {
      name: 'plain review_url gets a query string',
      reviewUrl: 'https://mcp-review.corp.example/request',
      want: 'https://mcp-review.corp.example/request?host=mcp.evil.example&tool=delete_repo&entry=github-official&decision=abcdefghjkmnpqrstuvw',
    },
    {
      name: 'an existing query string is extended with &',
      reviewUrl: 'https://portal.corp.example/forms?form=mcp',
      want: 'https://portal.corp.example/forms?form=mcp&host=mcp.evil.example&tool=delete_repo&entry=github-official&decision=abcdefghjkmnpqrstuvw',
    },
    {
      name: 'a trailing ? is not doubled',
      reviewUrl: 'https://portal.corp.example/forms?',
      want: 'https://portal.corp.example/forms?host=mcp.evil.example&tool=delete_repo&entry=github-official&decision=abcdefghjkmnpqrstuvw',
    },
    {
      name: 'a fragment stays last',
      reviewUrl: 'https://portal.corp.example/app#/mcp',
      want: 'https://portal.corp.example/app?host=mcp.evil.example&tool=delete_repo&entry=github-official&decision=abcdefghjkmnpqrstuvw#/mcp',
    },
  ])('$name', ({ reviewUrl, want }) => {
    expect(reviewLink({ ...base, reviewUrl })).toBe(want);
  });

  test('values are percent-encoded and round-trip exactly', () => {
    const link = reviewLink({
      ...base,
      reviewUrl: 'https://r.example/x',
      tool: 'a&b=c d/é?#',
      host: 'mcp404.example',
    });
    const url = new URL(link);
    expect(url.searchParams.get('tool')).toBe('a&b=c d/é?#');
    expect(url.searchParams.get('host')).toBe('mcp404.example');
  });

  test.each(['404', '405', 'x4@4', '4@5', '@404@', 'a4045b', 'Unauthorized', 'UNAUTHORIZED'])(
    'a value %s can never make the link spell a trigger string',
    (value) => {
      const link = reviewLink({
        ...base,
        reviewUrl: 'https://r.example/x',
        tool: value,
        host: value,
      });
      for (const word of FORBIDDEN) expect(link.toLowerCase()).not.toContain(word.toLowerCase());
      expect(new URL(link).searchParams.get('tool')).toBe(value);
    },
  );
});

describe('renderDenyMessage', () => {
  test('fills every placeholder', () => {
    const text = renderDenyMessage({
      template: '{reason}: {tool} on {server} ({host}) – {review_url}',
      reason: 'tool_not_allowed',
      server: 'github-official',
      host: 'api.githubcopilot.com',
      tool: 'delete_repo',
      reviewUrl: 'https://r.example/req',
      entryId: 'github-official',
      decisionId: 'abcdefghjkmnpqrstuvw',
    });
    expect(text).toBe(
      'tool_not_allowed: delete_repo on github-official (api.githubcopilot.com) – https://r.example/req?host=api.githubcopilot.com&tool=delete_repo&entry=github-official&decision=abcdefghjkmnpqrstuvw',
    );
  });

  test('request-supplied values are escaped and defanged', () => {
    const text = renderDenyMessage({
      template: 'Tool {tool} on {host}',
      reason: 'tool_not_allowed',
      server: 'x',
      host: 'evil405.example',
      tool: 'x\r\nSet-Cookie: a=b Unauthorized Not Found 404',
      reviewUrl: 'https://r.example/req',
      entryId: undefined,
      decisionId: 'abcdefghjkmnpqrstuvw',
    });
    expect(text).not.toMatch(/[\r\n]/);
    expect(text).toContain('\\u000d\\u000a');
    for (const word of FORBIDDEN) expect(text).not.toContain(word);
  });

  test('echoed values are capped', () => {
    expect(safeEcho('a'.repeat(10_000)).length).toBeLessThanOrEqual(201);
  });

  test('defang keeps the text readable', () => {
    expect(defang('host 404 and 405')).toBe('host 4\u200b04 and 4\u200b05');
    expect(defang('Not Found')).toBe('N\u200bot Found');
  });
});

describe('escapeUnsafe', () => {
  test.each([
    { name: 'CR/LF', input: 'a\r\nb', want: 'a\\u000d\\u000ab' },
    { name: 'lone high surrogate', input: 'a\ud800b', want: 'a\\ud800b' },
    { name: 'lone low surrogate', input: 'a\udc00b', want: 'a\\udc00b' },
    { name: 'a surrogate pair is kept', input: 'a\ud83d\ude00b', want: 'a\ud83d\ude00b' },
    { name: 'U+0085 and U+2028', input: '\u0085\u2028', want: '\\u0085\\u2028' },
    { name: 'plain text is unchanged', input: 'get_issue', want: 'get_issue' },
  ])('$name', ({ input, want }) => {
    expect(escapeUnsafe(input)).toBe(want);
  });

  test('a cap that splits a surrogate pair leaves no lone surrogate', () => {
    const value = `${'a'.repeat(199)}\ud83d\ude00`;
    expect(escapeUnsafe(value)).toBe(`${'a'.repeat(199)}\\ud83d…`);
  });

  test('a lone surrogate in the review link becomes U+FFFD instead of throwing', () => {
    const link = reviewLink({
      reviewUrl: 'https://r.example/x',
      host: 'h.example',
      tool: 'del\ud800',
      entryId: undefined,
      decisionId: 'abc',
    });
    expect(link).toBe('https://r.example/x?host=h.example&tool=del%EF%BF%BD&decision=abc');
  });
});
