import { describe, expect, test } from 'vitest';
import { attemptFromAudit, pathPrefixOf } from '../../../src/discovery/attempt.js';

const AT = Date.parse('2026-12-01T10:00:00Z');

describe('pathPrefixOf', () => {
  test.each([
    { path: '/mcp', want: '/mcp' },
    { path: '/mcp/', want: '/mcp' },
    { path: '/mcp/v1/tenant-42', want: '/mcp' },
    { path: '/', want: '/' },
    { path: '', want: '/' },
    { path: `/${'x'.repeat(129)}`, want: '/' },
  ])('$path → $want', ({ path, want }) => {
    expect(pathPrefixOf(path)).toBe(want);
  });
});

const BASE = {
  msg: 'decision',
  decision: 'deny',
  reason: 'unapproved',
  host: 'mcp.shadow.example',
  path: '/mcp',
  methods: ['initialize', 'response'],
  client: 'cursor',
};

describe('attemptFromAudit', () => {
  test('an unapproved attempt: names only, responses left out of the methods', () => {
    expect(
      attemptFromAudit({ ...BASE, tool: 'search', protocol_version: '2025-11-25' }, AT),
    ).toEqual({
      host: 'mcp.shadow.example',
      pathPrefix: '/mcp',
      hostOnly: false,
      client: 'cursor',
      methods: ['initialize'],
      tool: 'search',
      protocolVersion: '2025-11-25',
      outcome: 'deny',
      atMs: AT,
    });
  });

  test.each([
    {
      name: 'default_allow (default_action: allow)',
      fields: { reason: 'default_allow', decision: 'allow' },
    },
    { name: 'dry-run would-deny', fields: { decision: 'would_deny' } },
    { name: 'uninspectable without an entry', fields: { reason: 'uninspectable' } },
    { name: 'CONNECT to a known MCP host', fields: { path: '', methods: [] } },
  ])('recorded: $name', ({ fields }) => {
    expect(attemptFromAudit({ ...BASE, ...fields }, AT)).toBeDefined();
  });

  test.each([
    { name: 'an approved entry', fields: { reason: 'approved', decision: 'allow', entry: 'x' } },
    { name: 'an expired entry', fields: { reason: 'expired', entry: 'x' } },
    { name: 'an entry that restricts tools', fields: { reason: 'tool_not_allowed', entry: 'x' } },
    { name: 'uninspectable on an entry', fields: { reason: 'uninspectable', entry: 'x' } },
    { name: 'not MCP', fields: { reason: 'not_mcp', decision: 'allow' } },
    { name: 'a tunnel to an unknown host', fields: { reason: 'unknown_host', decision: 'allow' } },
    { name: 'overloaded', fields: { reason: 'overloaded' } },
    {
      name: 'a raw authority (no host read with certainty)',
      fields: { host: 'Mcp.Shadow.example:+443' },
    },
    { name: 'no host', fields: { host: '' } },
    { name: 'an unknown decision', fields: { decision: 'maybe' } },
  ])('not recorded: $name', ({ fields }) => {
    expect(attemptFromAudit({ ...BASE, ...fields }, AT)).toBeUndefined();
  });

  test('lines written before `client` existed are classified from client_name and user_agent', () => {
    const old: Record<string, unknown> = { ...BASE };
    delete old['client'];
    expect(attemptFromAudit({ ...old, client_name: 'claude-ai' }, AT)?.client).toBe(
      'claude-desktop',
    );
    expect(attemptFromAudit({ ...old, user_agent: 'Cursor/1.2' }, AT)?.client).toBe('cursor');
    expect(attemptFromAudit({ ...old, client: 'made-up' }, AT)?.client).toBe('other');
  });
});
