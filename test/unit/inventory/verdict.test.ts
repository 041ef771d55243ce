import { describe, expect, test } from 'vitest';
import type { Verdict } from '../../../src/inventory/verdict.js';
import { judgeServer, serverKey } from '../../../src/inventory/verdict.js';
import type { ReportedServer } from '../../../src/inventory/report.js';
import {
  INVENTORY_NOW as NOW,
  INVENTORY_POLICY as policy,
  stdioServer as stdio,
  urlServer as http,
} from '../../helpers/inventory.js';

interface Row {
  readonly name: string;
  readonly server: ReportedServer;
  readonly user?: string;
  readonly verdict: Verdict;
  readonly entry?: string;
  readonly why?: RegExp;
}

const ROWS: readonly Row[] = [
  // http and sse: the service's matching.
  {
    name: 'a host-wide entry, any path',
    server: http('https://mcp.linear.app/sse', 'sse'),
    verdict: 'approved',
    entry: 'linear',
  },
  {
    name: 'host spelling normalised (case, trailing dot)',
    server: http('https://MCP.Linear.App./mcp'),
    verdict: 'approved',
    entry: 'linear',
  },
  {
    name: 'under the url path prefix',
    server: http('https://api.githubcopilot.com/mcp/x'),
    verdict: 'approved',
    entry: 'github-official',
  },
  {
    name: 'outside the path prefix',
    server: http('https://api.githubcopilot.com/v1/chat'),
    verdict: 'unapproved',
    why: /no http entry matches api\.githubcopilot\.com\/v1\/chat/,
  },
  {
    name: 'a dot segment cannot climb out of the prefix',
    server: http('https://api.githubcopilot.com/mcp/../admin'),
    verdict: 'unapproved',
  },
  {
    name: 'the entry port',
    server: http('https://mcp.internal.corp.example:8443/knowledge/mcp'),
    verdict: 'approved',
    entry: 'corp-knowledge',
  },
  {
    name: 'another port',
    server: http('https://mcp.internal.corp.example:9443/knowledge/mcp'),
    verdict: 'unapproved',
  },
  {
    name: 'no port, where the entry names one',
    server: http('https://mcp.internal.corp.example/knowledge/mcp'),
    verdict: 'unapproved',
  },
  {
    name: 'a wildcard covers subdomains',
    server: http('https://bindings.mcp.cloudflare.com/mcp'),
    verdict: 'approved',
    entry: 'cloudflare',
  },
  {
    name: 'never the wildcard apex',
    server: http('https://mcp.cloudflare.com/mcp'),
    verdict: 'unapproved',
  },
  {
    name: 'an unlisted host',
    server: http('https://mcp.shadow.example/mcp'),
    verdict: 'unapproved',
  },
  {
    name: 'an expired entry',
    server: http('https://docs.old.example/mcp'),
    verdict: 'expired',
    entry: 'old-docs',
    why: /expired after 2026-06-30/,
  },
  {
    name: 'a stamp that no longer matches',
    server: http('https://mcp.sentry.dev/mcp'),
    verdict: 'rotation',
    entry: 'sentry',
    why: /changed since its review stamp/,
  },
  {
    name: 'user info in the URL',
    server: http('https://[userinfo]@mcp.linear.app/sse'),
    verdict: 'unreadable',
    why: /user info/,
  },
  {
    name: 'a host that is a client variable',
    server: http('https://${env:HOST}/mcp'),
    verdict: 'unreadable',
    why: /cannot be read with certainty/,
  },
  {
    name: 'not an absolute URL',
    server: http('${input:url}'),
    verdict: 'unreadable',
    why: /not an absolute URL/,
  },
  {
    name: 'a scheme other than http(s)',
    server: http('wss://mcp.linear.app/ws'),
    verdict: 'unreadable',
    why: /scheme "wss"/,
  },
  {
    name: 'an odd IPv4 spelling is not guessed at',
    server: http('http://127.1/mcp'),
    verdict: 'unreadable',
  },
  // stdio: exact command and arguments.
  {
    name: 'exact command and arguments',
    server: stdio('/opt/acme/bin/postgres-mcp', '--readonly', '--database=analytics'),
    verdict: 'approved',
    entry: 'postgres-readonly',
  },
  {
    name: 'arguments in another order',
    server: stdio('/opt/acme/bin/postgres-mcp', '--database=analytics', '--readonly'),
    verdict: 'unapproved',
    why: /entries for this command with other arguments: postgres-readonly/,
  },
  {
    name: 'an extra argument',
    server: stdio('/opt/acme/bin/postgres-mcp', '--readonly', '--database=analytics', '--write'),
    verdict: 'unapproved',
  },
  {
    name: 'a missing argument',
    server: stdio('/opt/acme/bin/postgres-mcp', '--readonly'),
    verdict: 'unapproved',
  },
  {
    name: 'the same basename elsewhere is another program',
    server: stdio('/tmp/postgres-mcp', '--readonly', '--database=analytics'),
    verdict: 'unapproved',
  },
  {
    name: 'a bare name is not the approved path',
    server: stdio('postgres-mcp', '--readonly', '--database=analytics'),
    verdict: 'unapproved',
  },
  {
    name: 'no allowed_args: exactly no arguments',
    server: stdio('/opt/acme/bin/acme-mcp'),
    verdict: 'approved',
    entry: 'acme-cli',
  },
  {
    name: 'no allowed_args, and an argument given',
    server: stdio('/opt/acme/bin/acme-mcp', '--debug'),
    verdict: 'unapproved',
  },
  {
    name: '$USER is the report user',
    server: stdio(
      'npx',
      '-y',
      '@modelcontextprotocol/server-filesystem@2025.8.21',
      '/Users/alice/projects',
    ),
    user: 'alice',
    verdict: 'approved',
    entry: 'filesystem-projects',
  },
  {
    name: "$USER is not another user's folder",
    server: stdio(
      'npx',
      '-y',
      '@modelcontextprotocol/server-filesystem@2025.8.21',
      '/Users/bob/projects',
    ),
    user: 'alice',
    verdict: 'unapproved',
  },
  {
    name: '$USER is literal, not a pattern: a user name with glob characters matches only itself',
    server: stdio(
      'npx',
      '-y',
      '@modelcontextprotocol/server-filesystem@2025.8.21',
      '/Users/bob/projects',
    ),
    user: '*',
    verdict: 'unapproved',
  },
  {
    name: '$USER never matches when the report has no user name',
    server: stdio(
      'npx',
      '-y',
      '@modelcontextprotocol/server-filesystem@2025.8.21',
      '/Users//projects',
    ),
    user: '',
    verdict: 'unapproved',
  },
  {
    name: 'the literal text $USER in a config is not the user',
    server: stdio(
      'npx',
      '-y',
      '@modelcontextprotocol/server-filesystem@2025.8.21',
      '/Users/$USER/projects',
    ),
    user: 'alice',
    verdict: 'unapproved',
  },
  {
    name: 'an npx package at another version',
    server: stdio(
      'npx',
      '-y',
      '@modelcontextprotocol/server-filesystem@latest',
      '/Users/alice/projects',
    ),
    user: 'alice',
    verdict: 'unapproved',
  },
  {
    name: 'an expired stdio entry',
    server: stdio('/opt/legacy/bin/legacy-mcp', 'serve'),
    verdict: 'expired',
    entry: 'legacy-tool',
  },
  {
    name: 'an entry that could not be read',
    server: { ...stdio('x'), transport: 'unknown' },
    verdict: 'unreadable',
  },
  {
    name: 'an http server never matches a stdio entry',
    server: http('http://localhost/opt/acme/bin/postgres-mcp'),
    verdict: 'unapproved',
  },
];

describe('judgeServer', () => {
  test.each(ROWS)('$name: $verdict', ({ server, user = 'alice', verdict, entry, why }) => {
    const judged = judgeServer(server, user, policy, NOW.getTime());
    expect(judged.verdict).toBe(verdict);
    expect(judged.entry?.id).toBe(entry);
    if (why !== undefined) expect(judged.why).toMatch(why);
  });

  test('the rows cover every verdict', () => {
    expect(new Set(ROWS.map((row) => row.verdict))).toEqual(
      new Set(['approved', 'unapproved', 'expired', 'rotation', 'unreadable']),
    );
  });

  test('an entry is expired from the day after expires_on, 00:00 UTC', () => {
    const server = http('https://docs.old.example/mcp');
    expect(judgeServer(server, 'a', policy, Date.parse('2026-06-30T23:59:59Z')).verdict).toBe(
      'approved',
    );
    expect(judgeServer(server, 'a', policy, Date.parse('2026-07-01T00:00:00Z')).verdict).toBe(
      'expired',
    );
  });
});

test('serverKey: program and arguments, or the normalised URL', () => {
  expect(serverKey(stdio('/bin/x', 'a b', '--k=v'))).toBe('stdio /bin/x "a b" --k=v');
  expect(serverKey(http('https://H.Example:8443/a/./b?q'))).toBe('http h.example:8443/a/b');
  expect(serverKey(http('${input:u}'))).toBe('http ${input:u}');
});
