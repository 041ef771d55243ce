/**
 * Scoped approvals end to end through authorize: identity from headers, JWT metadata and the TLS
 * peer; entry access, tool rules, bundles and conditions. One row per combination that changes
 * an outcome, each row naming what it shows.
 */
import { describe, expect, test } from 'vitest';

import { parseAllowlist } from '../../../../src/config/load-allowlist.js';
import { stampAllowlistText } from '../../../../src/config/stamp-file.js';
import type { Decision } from '../../../../src/core/decision.js';
import { EMPTY_KNOWN_HOSTS } from '../../../../src/config/load-known-hosts.js';
import { authorize } from '../../../../src/core/pipeline.js';
import { ICONV_CHARSETS } from '../../../../src/text/iconv-charsets.js';
import type { CompiledPolicy, Reason } from '../../../../src/core/policy/policy.js';
import { STREAMABLE_POST, makeFacts, rpc } from '../../../helpers/facts.js';
import type { FactsInput } from '../../../helpers/facts.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');

const REVIEW = `
    review_ticket: SEC-5001
    reviewed_by: security-platform
    reviewed_on: 2026-11-20
    expires_on: 2027-05-20`;

export const SCOPED_ALLOWLIST = `
version: scoped-1
review_url: https://mcp-review.corp.example/request
identity:
  user: { header: x-forwarded-email }
  groups: { header: x-forwarded-groups, separator: "," }
bundles:
  eng-write:
    rules:
      - match: ["create_*", "update_*", "delete_*"]
        access: { groups: [eng-write] }
approved:
  - id: warehouse
    host: warehouse-mcp.corp.example
    transport: http
    access: { users: ["*@corp.example"] }
    tools:
      allow: ["get_*", "list_*", "run_query"]
      rules:
        - match: [run_query]
          access: { groups: [data-eng] }
          conditions:
            - expr: 'args.query.matches("(?i)^\\\\s*select\\\\b")'
              description: only SELECT statements${REVIEW}
  - id: github
    host: api.githubcopilot.com
    transport: http
    uses: [eng-write]
    conditions:
      - expr: 'tool != "create_issue" || args.repo.startsWith("acme/")'
        description: only repositories of the acme organisation${REVIEW}
  - id: claude-code-only
    host: mcp.claude-only.example
    transport: http
    access: { clients: [claude-code] }${REVIEW}
  - id: open
    host: mcp.open.example
    transport: http${REVIEW}
`;

function compile(text: string): CompiledPolicy {
  const stamped = stampAllowlistText(text, {}).text;
  const result = parseAllowlist(stamped, { fileName: 'scoped.yaml', now: new Date(NOW) });
  if (!result.ok) {
    throw new Error(result.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n'));
  }
  return result.policy;
}

const POLICY = compile(SCOPED_ALLOWLIST);

function decideFor(input: FactsInput, policy = POLICY): Decision {
  const snapshot = {
    policy,
    knownHosts: EMPTY_KNOWN_HOSTS,
    limits: { maxBodyBytes: 1 << 20, maxBatchElements: 100 },
    charsets: ICONV_CHARSETS,
  };
  return authorize(snapshot, makeFacts(input), NOW, 'abcdefghjkmnpqrstuvw').decision;
}

const SESSION = { ...STREAMABLE_POST, 'mcp-session-id': 's', 'mcp-protocol-version': '2025-11-25' };
const CLAUDE_CODE = { 'user-agent': 'claude-code/2.1.221 (cli)' };

function call(tool: string, args: unknown = {}): string {
  return rpc('tools/call', { name: tool, arguments: args }, 7);
}

function who(email?: string, groups?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (email !== undefined) headers['x-forwarded-email'] = email;
  if (groups !== undefined) headers['x-forwarded-groups'] = groups;
  return headers;
}

interface Row {
  readonly name: string;
  readonly authority: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly want: Reason;
  readonly detail?: string;
  readonly rule?: string;
}

const ROWS: readonly Row[] = [
  // Entry access by user glob.
  {
    name: 'a corp user lists tools',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example'),
    body: rpc('tools/list', {}),
    want: 'approved',
  },
  {
    name: 'the user glob ignores ASCII case',
    authority: 'warehouse-mcp.corp.example',
    headers: who('Ana@Corp.Example'),
    body: rpc('tools/list', {}),
    want: 'approved',
  },
  {
    name: 'a user outside the glob',
    authority: 'warehouse-mcp.corp.example',
    headers: who('eve@elsewhere.example'),
    body: rpc('tools/list', {}),
    want: 'principal_not_allowed',
    rule: 'entry access',
  },
  {
    name: 'no identity at all',
    authority: 'warehouse-mcp.corp.example',
    body: rpc('tools/list', {}),
    want: 'principal_not_allowed',
    detail: 'identity_missing',
  },
  {
    name: 'a user header sent twice (Envoy joins it with a comma) is no identity',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example,eve@elsewhere.example'),
    body: rpc('tools/list', {}),
    want: 'principal_not_allowed',
    detail: 'identity_missing',
  },
  // Tool rule access and conditions.
  {
    name: 'everyone may get_*',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example'),
    body: call('get_table', { name: 't' }),
    want: 'approved',
  },
  {
    name: 'run_query needs group data-eng',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'eng'),
    body: call('run_query', { query: 'SELECT 1' }),
    want: 'principal_not_allowed',
    rule: 'tool rule 1 access',
  },
  {
    name: 'run_query without any groups header',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example'),
    body: call('run_query', { query: 'SELECT 1' }),
    want: 'principal_not_allowed',
    detail: 'identity_missing',
  },
  {
    name: 'data-eng runs a SELECT',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'eng, data-eng'),
    body: call('run_query', { query: '  select * from t' }),
    want: 'approved',
  },
  {
    name: 'data-eng runs a DROP',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'data-eng'),
    body: call('run_query', { query: 'DROP TABLE t' }),
    want: 'condition_failed',
  },
  {
    name: 'a query that is a number, not a string, does not hold',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'data-eng'),
    body: call('run_query', { query: 1 }),
    want: 'condition_failed',
  },
  {
    name: 'a query nested in an object does not hold',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'data-eng'),
    body: call('run_query', { query: { text: 'SELECT 1' } }),
    want: 'condition_failed',
  },
  {
    name: 'a missing query does not hold',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'data-eng'),
    body: call('run_query', {}),
    want: 'condition_failed',
  },
  {
    name: 'a second key that Go reads as query (SELECT for us, DROP for the server)',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'data-eng'),
    body: call('run_query', { query: 'SELECT 1', QUERY: 'DROP TABLE t' }),
    want: 'uninspectable',
    detail: 'ambiguous_arguments',
  },
  {
    name: 'a key Go reads as query, without the exact one',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'data-eng'),
    body: call('run_query', { Query: 'DROP TABLE t' }),
    want: 'uninspectable',
    detail: 'ambiguous_arguments',
  },
  {
    name: 'a duplicate arguments key is an envelope duplicate',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'data-eng'),
    body:
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"run_query",' +
      '"arguments":{"query":"SELECT 1"},"Arguments":{"query":"DROP TABLE t"}}}',
    want: 'uninspectable',
    detail: 'duplicate_keys',
  },
  {
    name: 'a tool outside allow is refused before its rules',
    authority: 'warehouse-mcp.corp.example',
    headers: who('ana@corp.example', 'data-eng'),
    body: call('drop_table', {}),
    want: 'tool_not_allowed',
  },
  // Bundles and entry conditions.
  {
    name: 'bundle: create_* needs eng-write',
    authority: 'api.githubcopilot.com',
    headers: who('ana@corp.example', 'eng'),
    body: call('create_issue', { repo: 'acme/app' }),
    want: 'principal_not_allowed',
    rule: 'bundle eng-write tool rule 1 access',
  },
  {
    name: 'bundle admits, entry condition holds',
    authority: 'api.githubcopilot.com',
    headers: who('ana@corp.example', 'eng-write'),
    body: call('create_issue', { repo: 'acme/app' }),
    want: 'approved',
  },
  {
    name: 'bundle admits, entry condition refuses another organisation',
    authority: 'api.githubcopilot.com',
    headers: who('ana@corp.example', 'eng-write'),
    body: call('create_issue', { repo: 'evil/app' }),
    want: 'condition_failed',
  },
  {
    name: 'entry conditions apply to other methods too (here they hold)',
    authority: 'api.githubcopilot.com',
    body: rpc('tools/list', {}),
    want: 'approved',
  },
  {
    name: 'tools outside the bundle rules need no group',
    authority: 'api.githubcopilot.com',
    body: call('get_issue', { repo: 'evil/app' }),
    want: 'approved',
  },
  // Clients.
  {
    name: 'claude code may use the client-scoped server',
    authority: 'mcp.claude-only.example',
    headers: CLAUDE_CODE,
    body: rpc('tools/list', {}),
    want: 'approved',
  },
  {
    name: 'another client may not',
    authority: 'mcp.claude-only.example',
    headers: { 'user-agent': 'Cursor/1.7.3' },
    body: rpc('tools/list', {}),
    want: 'client_not_allowed',
  },
  {
    name: 'an entry without scoping still approves everyone',
    authority: 'mcp.open.example',
    body: call('anything', {}),
    want: 'approved',
  },
];

describe('scoped approvals', () => {
  test('row names are unique', () => {
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  test.each(ROWS)('$name', (row) => {
    const decision = decideFor({
      authority: row.authority,
      headers: { ...SESSION, ...row.headers },
      ...(row.body === undefined ? {} : { body: row.body }),
    });
    expect(decision.reason, decision.explanation).toBe(row.want);
    if (row.detail !== undefined) expect(decision.detail).toBe(row.detail);
    if (row.rule !== undefined) expect(decision.rules).toEqual([row.rule]);
    expect(decision.verdict).toBe(row.want === 'approved' ? 'allow' : 'deny');
  });

  test('a failed condition names its description, and the denial is a tool result', () => {
    const decision = decideFor({
      authority: 'warehouse-mcp.corp.example',
      headers: { ...SESSION, ...who('ana@corp.example', 'data-eng') },
      body: call('run_query', { query: 'DELETE FROM t' }),
    });
    expect(decision.condition?.description).toBe('only SELECT statements');
    expect(decision.toolLevel).toBe(true);
    expect(decision.principal).toMatchObject({ user: 'ana@corp.example', groups: ['data-eng'] });
  });

  test('an allow lists the access rules and conditions that admitted it', () => {
    const decision = decideFor({
      authority: 'warehouse-mcp.corp.example',
      headers: { ...SESSION, ...who('ana@corp.example', 'data-eng') },
      body: call('run_query', { query: 'select 1' }),
    });
    expect(decision.rules).toEqual([
      'tool rule 1 access',
      'tool rule 1 condition "only SELECT statements"',
    ]);
  });
});

describe('identity sources', () => {
  const base = (identity: string, access: string): CompiledPolicy =>
    compile(`
version: id-1
review_url: https://mcp-review.corp.example/request
identity:
${identity}
approved:
  - id: scoped
    host: mcp.scoped.example
    transport: http
    access: ${access}${REVIEW}
`);

  const JWT = `  user: { jwt_claim: email }
  groups: { jwt_claim: [realm_access, roles] }
  jwt: { metadata_namespace: envoy.filters.http.jwt_authn, payload_key: verified }`;

  const jwtPayload = (payload: Record<string, unknown>) => ({
    'envoy.filters.http.jwt_authn': { verified: payload },
  });

  test.each([
    {
      name: 'a verified email claim admits',
      metadata: jwtPayload({ email: 'ana@corp.example' }),
      want: 'approved',
    },
    {
      name: 'no verified payload is no identity',
      metadata: {},
      want: 'principal_not_allowed',
    },
    {
      name: 'a payload under another key is not read',
      metadata: { 'envoy.filters.http.jwt_authn': { other: { email: 'ana@corp.example' } } },
      want: 'principal_not_allowed',
    },
    {
      name: 'an email claim that is not a string is no identity',
      metadata: jwtPayload({ email: ['ana@corp.example'] }),
      want: 'principal_not_allowed',
    },
  ] as const)('jwt: $name', ({ metadata, want }) => {
    const policy = base(JWT, '{ users: ["*@corp.example"] }');
    const decision = decideFor(
      {
        authority: 'mcp.scoped.example',
        headers: SESSION,
        body: rpc('tools/list', {}),
        metadata: metadata as never,
      },
      policy,
    );
    expect(decision.reason).toBe(want);
  });

  test('jwt: nested groups claim admits a listed group', () => {
    const policy = base(JWT, '{ groups: [admins] }');
    const decision = decideFor(
      {
        authority: 'mcp.scoped.example',
        headers: SESSION,
        body: rpc('tools/list', {}),
        metadata: jwtPayload({ realm_access: { roles: ['users', 'admins', 7] } }) as never,
      },
      policy,
    );
    expect(decision.reason).toBe('approved');
    expect(decision.principal.groups).toEqual(['users', 'admins']);
  });

  test('a header identity is not read from metadata, nor a JWT identity from headers', () => {
    const policy = base(JWT, '{ users: ["*@corp.example"] }');
    const decision = decideFor(
      {
        authority: 'mcp.scoped.example',
        headers: { ...SESSION, 'x-forwarded-email': 'ana@corp.example' },
        body: rpc('tools/list', {}),
      },
      policy,
    );
    expect(decision.reason).toBe('principal_not_allowed');
  });

  test('peer principal from the TLS client certificate', () => {
    const policy = base('  user: { peer: principal }', '{ users: ["spiffe://corp.example/*"] }');
    const admitted = decideFor(
      {
        authority: 'mcp.scoped.example',
        headers: SESSION,
        body: rpc('tools/list', {}),
        peerPrincipal: 'spiffe://corp.example/ns/dev/sa/agent',
      },
      policy,
    );
    expect(admitted.reason).toBe('approved');
    const refused = decideFor(
      { authority: 'mcp.scoped.example', headers: SESSION, body: rpc('tools/list', {}) },
      policy,
    );
    expect(refused).toMatchObject({ reason: 'principal_not_allowed', detail: 'identity_missing' });
  });
});

describe('load-time checks', () => {
  const invalid = (text: string): string[] => {
    // Every rule but the stamps (as mcp-gate stamp checks a file): what is refused is the scoping.
    const result = parseAllowlist(text, {
      fileName: 'bad.yaml',
      now: new Date(NOW),
      stamping: true,
    });
    if (result.ok) throw new Error('expected the allowlist to be refused');
    return result.errors.map((e) => `${e.line}:${e.col} ${e.message}`);
  };

  test('access.users without identity.user', () => {
    const errors = invalid(`
version: bad-1
review_url: https://mcp-review.corp.example/request
require_review_stamp: false # the errors under test, alone
approved:
  - id: scoped
    host: mcp.scoped.example
    transport: http
    access: { users: ["*@corp.example"] }${REVIEW}
`);
    expect(errors).toEqual([
      expect.stringMatching(/^9:15 approved\[0\]\.access\.users needs identity\.user/),
    ]);
  });

  test('a condition that does not compile is placed inside the expression', () => {
    const errors = invalid(`
version: bad-2
review_url: https://mcp-review.corp.example/request
require_review_stamp: false # the errors under test, alone
approved:
  - id: scoped
    host: mcp.scoped.example
    transport: http
    conditions:
      - expr: 'args.query.startsWith("a") && nosuch == 1'
        description: broken${REVIEW}
`);
    expect(errors).toHaveLength(1);
    // Line 10; the expression starts at column 16 (after the quote), `nosuch` 30 characters in.
    expect(errors[0]).toMatch(/^10:46 approved\[0\]\.conditions\[0\]\.expr: .*nosuch/);
  });

  test('an unknown bundle, a credential header as identity, a stdio entry with access', () => {
    const errors = invalid(`
version: bad-3
review_url: https://mcp-review.corp.example/request
require_review_stamp: false # the errors under test, alone
identity:
  user: { header: authorization }
approved:
  - id: scoped
    host: mcp.scoped.example
    transport: http
    uses: [nosuch]${REVIEW}
  - id: local
    host: localhost
    transport: stdio
    command: /bin/tool
    access: { users: [ana] }${REVIEW}
`);
    expect(errors).toEqual([
      expect.stringMatching(/^6:19 .*authorization carries credentials/),
      expect.stringMatching(/^11:12 approved\[0\]\.uses\[0\]: no bundle named "nosuch"/),
      expect.stringMatching(/^20:5 approved\[1\]\.access: only allowed with transport: http/),
    ]);
  });

  test('a description with a word clients read as a protocol signal', () => {
    const errors = invalid(`
version: bad-4
review_url: https://mcp-review.corp.example/request
require_review_stamp: false # the errors under test, alone
approved:
  - id: scoped
    host: mcp.scoped.example
    transport: http
    conditions:
      - expr: 'true'
        description: returns 404 otherwise${REVIEW}
`);
    expect(errors.join('\n')).toMatch(/description: contains "404"/);
  });
});

describe('the review stamp covers scoping', () => {
  const reviewed = stampAllowlistText(SCOPED_ALLOWLIST, {}).text;
  const reload = (text: string): CompiledPolicy => {
    const result = parseAllowlist(text, { fileName: 's.yaml', now: new Date(NOW) });
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
    return result.policy;
  };
  const mismatched = (text: string): string[] =>
    reload(text)
      .entries.filter((entry) => entry.stampMismatch)
      .map((entry) => entry.id);

  test('the stamped file has no rotation', () => {
    expect(mismatched(reviewed)).toEqual([]);
  });

  test.each([
    ['widening a user glob', 'users: ["*@corp.example"]', 'users: ["*"]', ['warehouse']],
    [
      'dropping a group from a tool rule',
      'groups: [data-eng]',
      'groups: [data-eng, eng]',
      ['warehouse'],
    ],
    [
      'editing a bundle rotates the entries that use it',
      'groups: [eng-write]',
      'groups: [eng]',
      ['github'],
    ],
    [
      'widening the client list',
      'clients: [claude-code]',
      'clients: [claude-code, cursor]',
      ['claude-code-only'],
    ],
  ] as const)('%s', (_name, from, to, ids) => {
    expect(reviewed).toContain(from);
    expect(mismatched(reviewed.replace(from, to))).toEqual(ids);
  });

  test('re-pointing the identity section rotates every scoped entry, and only those', () => {
    const edited = reviewed.replace(
      'user: { header: x-forwarded-email }',
      'user: { header: x-client-says-who }',
    );
    expect(edited).not.toBe(reviewed);
    expect(mismatched(edited)).toEqual(['warehouse', 'github', 'claude-code-only']);
  });

  test('editing a condition expression rotates its entry', () => {
    const edited = reviewed.replace('args.repo.startsWith("acme/")', 'args.repo.startsWith("")');
    expect(edited).not.toBe(reviewed);
    expect(mismatched(edited)).toEqual(['github']);
  });
});
