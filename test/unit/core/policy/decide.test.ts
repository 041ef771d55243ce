import { describe, expect, test } from 'vitest';
import { parseAllowlist } from '../../../../src/config/load-allowlist.js';
import { parseKnownHosts } from '../../../../src/config/load-known-hosts.js';
import type { Decision } from '../../../../src/core/decision.js';
import { authorize } from '../../../../src/core/pipeline.js';
import type { CompiledPolicy, KnownHosts, Reason } from '../../../../src/core/policy/policy.js';
import { STREAMABLE_POST, makeFacts, rpc } from '../../../helpers/facts.js';
import type { FactsInput } from '../../../helpers/facts.js';
import { ICONV_CHARSETS } from '../../../../src/text/iconv-charsets.js';
import { stamped } from '../../../helpers/stamped.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

/** Entries stamped below, then one field widened afterwards to model a rotation. */
const ALLOWLIST = `
version: 2026.11
default_action: deny
mode: enforce
review_url: https://mcp-review.corp.example/request
approved:
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    url: https://api.githubcopilot.com/mcp/
    scopes: [repo.read]
    tools:
      allow: ["get_*", "list_*", "search_*"]
      deny: ["*delete*"]
    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
  - id: linear
    host: mcp.linear.app
    transport: http
    scopes: [issues.read]
    review_ticket: SEC-4910
    reviewed_by: security-platform
    reviewed_on: 2026-10-20
    expires_on: 2026-11-20
  - id: cloudflare-docs
    host: "*.mcp.cloudflare.com"
    transport: http
    url: https://docs.mcp.cloudflare.com/mcp
    scopes: [docs.read]
    review_ticket: SEC-4911
    reviewed_by: security-platform
    reviewed_on: 2026-10-20
    expires_on: 2027-10-20
  - id: sentry-trial
    host: mcp.sentry.dev
    transport: http
    mode: dry-run
    scopes: [issues.read]
    tools:
      allow: ["find_*"]
    review_ticket: SEC-4912
    reviewed_by: security-platform
    reviewed_on: 2026-10-20
    expires_on: 2027-10-20
  - id: internal-tools
    host: mcp.internal.corp.example
    transport: http
    url: http://mcp.internal.corp.example:8443/mcp
    scopes: [internal]
    review_ticket: SEC-4913
    reviewed_by: security-platform
    reviewed_on: 2026-10-20
    expires_on: 2027-10-20
  - id: host-only-tools
    host: mcp.hostonly.example
    transport: http
    inspection: host_only
    tools:
      allow: ["read_*"]
    review_ticket: SEC-4915
    reviewed_by: security-platform
    reviewed_on: 2026-10-20
    expires_on: 2027-10-20
  - id: cloudflare-plain
    host: plain.mcp.cloudflare.com
    transport: http
    review_ticket: SEC-4916
    reviewed_by: security-platform
    reviewed_on: 2026-10-20
    expires_on: 2027-10-20
  - id: rotated
    host: mcp.rotated.example
    transport: http
    scopes: [read]
    review_ticket: SEC-4914
    reviewed_by: security-platform
    reviewed_on: 2026-10-20
    expires_on: 2027-10-20
  - id: postgres-readonly
    host: localhost
    transport: stdio
    command: /opt/acme/bin/postgres-mcp
    allowed_args: ["--readonly"]
    scopes: [db.read]
    review_ticket: SEC-4933
    reviewed_by: data-platform
    reviewed_on: 2026-10-22
    expires_on: 2027-04-22
`;

function compile(text: string, now = NOW): CompiledPolicy {
  const result = parseAllowlist(text, { fileName: 'test.yaml', now: new Date(now) });
  if (!result.ok)
    throw new Error(result.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n'));
  return result.policy;
}

function stampedThenWidened(): string {
  // Widen the rotated entry after its review: scope creep without a new review.
  return stamped(ALLOWLIST).replace('scopes: [read]', 'scopes: [read, write]');
}

const POLICY = compile(stampedThenWidened());
const KNOWN = knownHosts('hosts: [mcp.notion.com, "*.mcp.cloudflare.com", mcp.linear.app]');

function knownHosts(text: string): KnownHosts {
  const result = parseKnownHosts(text, 'known.yaml');
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.knownHosts;
}

function decideFor(input: FactsInput, policy = POLICY, now = NOW): Decision {
  const snapshot = {
    policy,
    knownHosts: KNOWN,
    limits: { maxBodyBytes: 1 << 20, maxBatchElements: 100 },
    charsets: ICONV_CHARSETS,
  };
  return authorize(snapshot, makeFacts(input), now, 'abcdefghjkmnpqrstuvw').decision;
}

const SESSION = { ...STREAMABLE_POST, 'mcp-session-id': 's', 'mcp-protocol-version': '2025-11-25' };
const call = (tool: string): string => rpc('tools/call', { name: tool, arguments: {} }, 7);

interface Row {
  readonly name: string;
  readonly input: FactsInput;
  readonly want: {
    readonly verdict: 'allow' | 'deny';
    readonly reason: Reason;
    readonly entry?: string;
    readonly detail?: string;
    readonly dryRun?: boolean;
    readonly tool?: string;
  };
  readonly rationale: string;
}

const GH = { authority: 'api.githubcopilot.com', path: '/mcp/' };

const ROWS: readonly Row[] = [
  {
    name: 'non-MCP traffic passes',
    input: {
      authority: 'api.github.com',
      path: '/repos',
      method: 'GET',
      headers: { accept: 'application/json' },
    },
    want: { verdict: 'allow', reason: 'not_mcp' },
    rationale: 'the egress path carries everything',
  },
  {
    name: 'approved tool',
    input: { ...GH, headers: SESSION, body: call('get_issue') },
    want: { verdict: 'allow', reason: 'approved', entry: 'github-official', tool: 'get_issue' },
    rationale: 'allow glob get_*',
  },
  {
    name: 'tool outside the allow globs',
    input: { ...GH, headers: SESSION, body: call('create_issue') },
    want: {
      verdict: 'deny',
      reason: 'tool_not_allowed',
      entry: 'github-official',
      tool: 'create_issue',
    },
    rationale: 'default deny inside tools.allow',
  },
  {
    name: 'deny glob wins over allow glob',
    input: { ...GH, headers: SESSION, body: call('get_delete_token') },
    want: {
      verdict: 'deny',
      reason: 'tool_not_allowed',
      entry: 'github-official',
      tool: 'get_delete_token',
    },
    rationale: '*delete* beats get_*',
  },
  {
    name: 'tools/list on a tool-restricted entry',
    input: { ...GH, headers: SESSION, body: rpc('tools/list', {}, 3) },
    want: { verdict: 'allow', reason: 'approved', entry: 'github-official' },
    rationale: 'only tools/call names a tool',
  },
  {
    name: 'initialize without headers to an unlisted host',
    input: {
      authority: 'mcp.evil.example',
      headers: STREAMABLE_POST,
      body: rpc(
        'initialize',
        { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x' } },
        0,
      ),
    },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'default deny; the body decides it is MCP',
  },
  {
    name: 'path prefix on whole segments – /mcpx is not /mcp/',
    input: {
      authority: 'api.githubcopilot.com',
      path: '/mcpx',
      headers: SESSION,
      body: call('get_issue'),
    },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'prefix lookalike',
  },
  {
    name: 'dot segments cannot climb out of the prefix',
    input: {
      authority: 'api.githubcopilot.com',
      path: '/mcp/../admin',
      headers: SESSION,
      body: call('get_issue'),
    },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'normalised to /admin',
  },
  {
    name: 'encoded dot segments are an ambiguous path',
    input: {
      authority: 'api.githubcopilot.com',
      path: '/x/%2e%2e/mcp/',
      headers: SESSION,
      body: call('get_issue'),
    },
    want: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'ambiguous_path',
      entry: 'github-official',
    },
    rationale: 'servers that route raw paths serve /x/..., not /mcp/: no entry can be trusted',
  },
  {
    name: 'host case and trailing dot',
    input: {
      authority: 'API.GitHubCopilot.com.',
      path: '/mcp/',
      headers: SESSION,
      body: call('get_issue'),
    },
    want: { verdict: 'allow', reason: 'approved', entry: 'github-official' },
    rationale: 'hosts compare normalised',
  },
  {
    name: 'lookalike host suffix',
    input: {
      authority: 'api.githubcopilot.com.evil.example',
      path: '/mcp/',
      headers: SESSION,
      body: call('get_issue'),
    },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'exact host match',
  },
  {
    name: 'IDN confusable host',
    input: {
      authority: 'api.githubcopіlot.com',
      path: '/mcp/',
      headers: SESSION,
      body: call('get_issue'),
    },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'Cyrillic і becomes punycode, which no entry names',
  },
  {
    name: 'expired entry – the day after expires_on',
    input: { authority: 'mcp.linear.app', headers: SESSION, body: call('list_issues') },
    want: { verdict: 'deny', reason: 'expired', entry: 'linear' },
    rationale: 'expires_on 2026-11-20, now 2026-11-21',
  },
  {
    name: 'wildcard host with path',
    input: {
      authority: 'docs.mcp.cloudflare.com',
      path: '/mcp',
      headers: SESSION,
      body: call('search'),
    },
    want: { verdict: 'allow', reason: 'approved', entry: 'cloudflare-docs' },
    rationale: '*.mcp.cloudflare.com',
  },
  {
    name: 'wildcard never matches the apex',
    input: {
      authority: 'mcp.cloudflare.com',
      path: '/mcp',
      headers: SESSION,
      body: call('search'),
    },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'not the apex',
  },
  {
    name: 'wildcard any depth',
    input: {
      authority: 'a.b.mcp.cloudflare.com',
      path: '/mcp',
      headers: SESSION,
      body: call('search'),
    },
    want: { verdict: 'allow', reason: 'approved', entry: 'cloudflare-docs' },
    rationale: 'any depth of subdomain',
  },
  {
    name: 'port named in url must match',
    input: {
      authority: 'mcp.internal.corp.example:8443',
      path: '/mcp',
      headers: SESSION,
      body: call('x'),
    },
    want: { verdict: 'allow', reason: 'approved', entry: 'internal-tools' },
    rationale: 'url names port 8443',
  },
  {
    name: 'other port is another server',
    input: {
      authority: 'mcp.internal.corp.example:9443',
      path: '/mcp',
      headers: SESSION,
      body: call('x'),
    },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'port checked when the url names one',
  },
  {
    name: 'review stamp mismatch – rotation',
    input: { authority: 'mcp.rotated.example', path: '/mcp', headers: SESSION, body: call('x') },
    want: { verdict: 'deny', reason: 'rotation', entry: 'rotated' },
    rationale: 'scopes widened after the stamp',
  },
  {
    name: 'dry-run entry – would-deny is allowed and flagged',
    input: {
      authority: 'mcp.sentry.dev',
      path: '/mcp',
      headers: SESSION,
      body: call('delete_project'),
    },
    want: {
      verdict: 'allow',
      reason: 'tool_not_allowed',
      entry: 'sentry-trial',
      dryRun: true,
      tool: 'delete_project',
    },
    rationale: 'per-entry mode',
  },
  {
    name: 'stdio entries never approve network traffic',
    input: { authority: 'localhost', path: '/mcp', headers: SESSION, body: call('query') },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'stdio entries are inventory',
  },
  {
    name: 'truncated tools/call on a tool-restricted entry – uninspectable',
    input: { ...GH, headers: SESSION, body: call('get_issue').slice(0, 40), truncated: true },
    want: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'truncated',
      entry: 'github-official',
    },
    rationale: 'a duplicate name could follow the cut',
  },
  {
    name: 'truncated body on an entry without tool rules – allowed',
    input: {
      authority: 'docs.mcp.cloudflare.com',
      path: '/mcp',
      headers: SESSION,
      body: call('x').slice(0, 30),
      truncated: true,
    },
    want: { verdict: 'allow', reason: 'approved', entry: 'cloudflare-docs' },
    rationale: 'every tool is approved there anyway',
  },
  {
    name: 'POST without body on a tool-restricted entry – body_missing',
    input: { ...GH, headers: SESSION },
    want: {
      verdict: 'deny',
      reason: 'uninspectable',
      entry: 'github-official',
      detail: 'body_missing',
    },
    rationale: 'with_request_body is off',
  },
  {
    name: '2026 header-only tools/call – judged on Mcp-Name',
    input: {
      ...GH,
      headers: {
        ...STREAMABLE_POST,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'delete_repo',
      },
    },
    want: {
      verdict: 'deny',
      reason: 'tool_not_allowed',
      entry: 'github-official',
      tool: 'delete_repo',
    },
    rationale: 'validated headers stand in for a missing body',
  },
  {
    name: 'duplicate keys – uninspectable even where tools are unrestricted',
    input: {
      authority: 'docs.mcp.cloudflare.com',
      path: '/mcp',
      headers: SESSION,
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}',
    },
    want: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'duplicate_keys',
      entry: 'cloudflare-docs',
    },
    rationale: 'an evasion attempt',
  },
  {
    name: 'batch hiding a denied tool behind ping',
    input: {
      ...GH,
      headers: STREAMABLE_POST,
      body: `[${rpc('ping', undefined, 1)},${call('delete_repo')}]`,
    },
    want: {
      verdict: 'deny',
      reason: 'tool_not_allowed',
      entry: 'github-official',
      tool: 'delete_repo',
    },
    rationale: 'one denied element denies the request',
  },
  {
    name: 'CONNECT to a host whose entry has tool and path rules',
    input: { method: 'CONNECT', authority: 'api.githubcopilot.com:443' },
    want: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
      entry: 'github-official',
    },
    rationale: 'Envoy should have intercepted it: its rules cannot be applied to a tunnel',
  },
  {
    name: 'CONNECT to a wildcard entry with a path',
    input: { method: 'CONNECT', authority: 'docs.mcp.cloudflare.com:443' },
    want: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
      entry: 'cloudflare-docs',
    },
    rationale: 'a path prefix narrower than / needs the request',
  },
  {
    name: 'CONNECT to an exact host-only entry under a wildcard with rules',
    input: { method: 'CONNECT', authority: 'plain.mcp.cloudflare.com:443' },
    want: { verdict: 'allow', reason: 'approved', entry: 'cloudflare-plain' },
    rationale: 'the most specific host pattern decides, as for requests',
  },
  {
    name: 'CONNECT to an entry with a port',
    input: { method: 'CONNECT', authority: 'mcp.internal.corp.example:8443' },
    want: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
      entry: 'internal-tools',
    },
    rationale: 'port rules are matched on requests only',
  },
  {
    name: 'CONNECT to an entry that opted out with inspection: host_only',
    input: { method: 'CONNECT', authority: 'mcp.hostonly.example:443' },
    want: { verdict: 'allow', reason: 'approved', entry: 'host-only-tools' },
    rationale: 'the reviewers accepted host-only enforcement for tunnels',
  },
  {
    name: 'CONNECT to a dry-run entry with tool rules',
    input: { method: 'CONNECT', authority: 'mcp.sentry.dev:443' },
    want: {
      verdict: 'allow',
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
      entry: 'sentry-trial',
      dryRun: true,
    },
    rationale: 'dry-run logs the would-deny',
  },
  {
    name: 'intercepted request to the same host is decided on its tool',
    input: { ...GH, headers: SESSION, body: call('get_issue') },
    want: { verdict: 'allow', reason: 'approved', entry: 'github-official', tool: 'get_issue' },
    rationale: 'after interception the request itself reaches mcp-gate',
  },
  {
    name: 'a tool outside the opted-out entry still denied when the request is visible',
    input: {
      authority: 'mcp.hostonly.example',
      path: '/mcp',
      headers: SESSION,
      body: call('write_x'),
    },
    want: {
      verdict: 'deny',
      reason: 'tool_not_allowed',
      entry: 'host-only-tools',
      tool: 'write_x',
    },
    rationale: 'host_only changes tunnels only',
  },
  {
    name: 'CONNECT to an expired entry',
    input: { method: 'CONNECT', authority: 'mcp.linear.app:443' },
    want: { verdict: 'deny', reason: 'expired', entry: 'linear' },
    rationale: 'host-level checks include expiry',
  },
  {
    name: 'CONNECT to a known MCP host that is not approved',
    input: { method: 'CONNECT', authority: 'mcp.notion.com:443' },
    want: { verdict: 'deny', reason: 'unapproved' },
    rationale: 'known-MCP-host list',
  },
  {
    name: 'CONNECT to an unknown host',
    input: { method: 'CONNECT', authority: 'www.example.org:443' },
    want: { verdict: 'allow', reason: 'unknown_host' },
    rationale: 'we cannot tell',
  },
  {
    name: 'CONNECT to a rotated entry',
    input: { method: 'CONNECT', authority: 'mcp.rotated.example:443' },
    want: { verdict: 'deny', reason: 'rotation', entry: 'rotated' },
    rationale: 'stamp checked at host level',
  },
];

describe('decide', () => {
  test('row names are unique', () => {
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  test.each(ROWS)('$name', ({ input, want }) => {
    const decision = decideFor(input);
    expect(decision.verdict).toBe(want.verdict);
    expect(decision.reason).toBe(want.reason);
    expect(decision.entry?.id).toBe(want.entry);
    expect(decision.detail).toBe(want.detail);
    expect(decision.dryRun).toBe(want.dryRun ?? false);
    if (want.tool !== undefined) expect(decision.tool).toBe(want.tool);
    expect(decision.allowlistVersion).toBe('2026.11');
    expect(decision.id).toBe('abcdefghjkmnpqrstuvw');
  });

  test('expiry boundary: valid through expires_on (UTC), expired from the next midnight', () => {
    const input = { ...GH, headers: SESSION, body: call('get_issue') };
    expect(decideFor(input, POLICY, Date.parse('2027-04-18T23:59:59.999Z')).reason).toBe(
      'approved',
    );
    expect(decideFor(input, POLICY, Date.parse('2027-04-19T00:00:00.000Z')).reason).toBe('expired');
  });

  test('global dry-run allows unlisted MCP as a flagged would-deny', () => {
    const dry = compile(stamped(ALLOWLIST.replace('mode: enforce', 'mode: dry-run')));
    const decision = decideFor(
      { authority: 'mcp.evil.example', headers: SESSION, body: call('x') },
      dry,
    );
    expect(decision).toMatchObject({ verdict: 'allow', reason: 'unapproved', dryRun: true });
  });

  test('per-entry enforce overrides a global dry-run', () => {
    const text = ALLOWLIST.replace('mode: enforce', 'mode: dry-run').replace(
      'review_ticket: SEC-4902',
      'mode: enforce\n    review_ticket: SEC-4902',
    );
    const decision = decideFor(
      { ...GH, headers: SESSION, body: call('delete_repo') },
      compile(stamped(text)),
    );
    expect(decision).toMatchObject({ verdict: 'deny', reason: 'tool_not_allowed', dryRun: false });
  });

  test('default_action: allow lets unlisted MCP through but still denies evasion', () => {
    const open = compile(
      stamped(ALLOWLIST.replace('default_action: deny', 'default_action: allow')),
    );
    expect(
      decideFor({ authority: 'mcp.new.example', headers: SESSION, body: call('x') }, open),
    ).toMatchObject({
      verdict: 'allow',
      reason: 'default_allow',
    });
    expect(
      decideFor(
        {
          authority: 'mcp.new.example',
          headers: SESSION,
          body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"x"}}',
        },
        open,
      ),
    ).toMatchObject({ verdict: 'deny', reason: 'uninspectable', detail: 'duplicate_keys' });
  });
});
