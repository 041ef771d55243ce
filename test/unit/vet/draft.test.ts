import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import { compileGlobSet } from '../../../src/core/policy/glob.js';
import { isExactRule, toVetDraft } from '../../../src/vet/draft.js';
import type { ToolSummary } from '../../../src/vet/mcp-handshake.js';
import { mcpResult, NOW, tool, vetResult } from './results.js';
import { stamped } from '../../helpers/stamped.js';

const HEADER = 'version: t\nreview_url: https://mcp-review.corp.example/request\n';

/** The draft with its placeholders filled in, as a reviewer would. */
function reviewed(draft: string): string {
  return (
    HEADER +
    draft
      .replace('TODO-ticket', 'SEC-1')
      .replace('TODO-reviewer', 'security')
      .replace('TODO-YYYY-MM-DD', '2026-12-01')
      .replace('TODO-YYYY-MM-DD', '2027-06-01')
  );
}

function draftFor(
  tools: readonly ToolSummary[] | undefined,
  url = 'https://mcp.example.com/mcp',
): string {
  const mcp =
    tools === undefined
      ? mcpResult({ error: { kind: 'failed', step: 'handshake', message: 'x' } })
      : mcpResult({ tools });
  // A failed handshake has no tool list.
  if (tools === undefined) delete (mcp as { tools?: unknown }).tools;
  return toVetDraft(vetResult({ url: new URL(url), mcp }), []);
}

function allowOf(draft: string): unknown[] {
  return (parse(draft) as { approved: { tools: { allow: unknown[] } }[] }).approved[0]!.tools.allow;
}

describe('isExactRule', () => {
  test.each([
    { name: 'get_issue', exact: true },
    { name: 'repo.read-all', exact: true },
    { name: '*', exact: false },
    { name: 'get_*', exact: false },
    { name: 'get_?', exact: false },
    { name: 'two words', exact: false },
    { name: 'résumé', exact: false },
    { name: '', exact: false },
    { name: 'x'.repeat(257), exact: false },
  ])('$name', ({ name, exact }) => {
    expect(isExactRule(name)).toBe(exact);
  });
});

describe('toVetDraft', () => {
  test('read-only tools are allowed by exact name; the rest are comments', () => {
    const draft = draftFor([
      tool('get_issue', { readOnlyHint: true }),
      tool('delete_repo', { destructiveHint: true }),
      tool('create_issue'),
      tool('list_things', { readOnlyHint: false }),
    ]);
    expect(allowOf(draft)).toEqual(['get_issue']);
    expect(draft).toContain('#   delete_repo (destructiveHint)\n');
    expect(draft).toContain('#   create_issue\n');
    expect(draft).toContain('#   list_things\n');
  });

  test('a read-only tool whose name is a glob never becomes a rule', () => {
    const draft = draftFor([
      tool('*', { readOnlyHint: true }),
      tool('get_?', { readOnlyHint: true }),
      tool('get_issue', { readOnlyHint: true }),
    ]);
    const allow = allowOf(draft) as string[];
    expect(allow).toEqual(['get_issue']);
    // What the entry would let through: only that tool, not delete_repo.
    const matches = compileGlobSet(allow);
    expect(matches('delete_repo')).toBe(false);
    expect(matches('get_x')).toBe(false);
  });

  test('names YAML would read as something else stay strings', () => {
    const names = ['true', 'null', 'No', '123', '0x1f', '.inf', 'a,b', 'x]', '#hash', 'quote"d'];
    const draft = draftFor(names.map((name) => tool(name, { readOnlyHint: true })));
    expect(allowOf(draft)).toEqual(names);
  });

  test('a server-chosen name cannot add lines to the draft', () => {
    const evil = 'x\n    review_ticket: SEC-9999';
    const draft = draftFor(
      [tool(evil, { readOnlyHint: true }), tool(`${evil}2`)],
      'https://mcp.example.com/mcp',
    );
    // Only inside comments, escaped, on the comment's own line.
    for (const line of draft.split('\n').filter((l) => l.includes('SEC-9999'))) {
      expect(line).toMatch(/^#/);
    }
    expect(draft.split('\n').filter((line) => /^\s*review_ticket:/.test(line))).toEqual([
      '    review_ticket: TODO-ticket',
    ]);
    expect(parse(draft).approved[0].review_ticket).toBe('TODO-ticket');
  });

  test('what the SDK said about the tools is kept as a comment, escaped', () => {
    const mcp = mcpResult({
      sdkMessages: ["[mcp-sdk] excluding tool 'x\n  - id: evil' from tools/list"],
    });
    const draft = toVetDraft(vetResult({ mcp }), []);
    expect(draft).toContain(`# SDK: [mcp-sdk] excluding tool "'x\\n"  - id: evil' from tools/list`);
    expect((parse(draft) as { approved: unknown[] }).approved).toHaveLength(1);
  });

  test('no tool list: allow is empty, so the entry approves no tool', () => {
    const draft = draftFor(undefined);
    expect(allowOf(draft)).toEqual([]);
    expect(draft).toContain('# The tool list could not be read');
  });

  test('the url is kept for a path or a port, left out for a bare host', () => {
    expect(parse(draftFor([], 'https://mcp.example.com:8443/v2/mcp')).approved[0].url).toBe(
      'https://mcp.example.com:8443/v2/mcp',
    );
    expect(parse(draftFor([], 'https://mcp.example.com/')).approved[0].url).toBeUndefined();
    expect(parse(draftFor([], 'https://mcp.example.com/mcp?key=abc')).approved[0].url).toBe(
      'https://mcp.example.com/mcp',
    );
  });

  test('once the placeholders are filled in and the entry stamped, it loads as the service loads it', () => {
    const draft = draftFor([
      tool('get_issue', { readOnlyHint: true }),
      tool('true', { readOnlyHint: true }),
    ]);
    const unstamped = parseAllowlist(reviewed(draft), { fileName: 'draft.yaml', now: NOW });
    expect(unstamped.ok ? [] : unstamped.errors.map((e) => e.message)).toEqual([
      expect.stringContaining('missing required key "review_sha256"'),
    ]);
    const loaded = parseAllowlist(stamped(reviewed(draft)), { fileName: 'draft.yaml', now: NOW });
    expect(loaded.ok ? [] : loaded.errors).toEqual([]);
    const refused = parseAllowlist(HEADER + draft, { fileName: 'draft.yaml', now: NOW });
    expect(refused.ok).toBe(false);
  });
});
