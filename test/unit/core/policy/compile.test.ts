import { describe, expect, test } from 'vitest';
import type { AllowlistDoc, AllowlistEntry } from '../../../../src/config/allowlist-schema.js';
import { computeReviewSha256 } from '../../../../src/config/review-stamp.js';
import { expiresAtMs } from '../../../../src/core/policy/approval-date.js';
import { compilePolicy } from '../../../../src/core/policy/compile.js';
import { DEFAULT_DENY_TEXTS } from '../../../../src/core/policy/deny-texts.js';

function entry(id: string, fields: Partial<AllowlistEntry> = {}): AllowlistEntry {
  return {
    id,
    transport: 'http',
    review_ticket: 'SEC-1',
    reviewed_by: 'security',
    reviewed_on: '2026-10-01',
    expires_on: '2027-04-01',
    ...fields,
  };
}

function policyOf(approved: AllowlistEntry[], extra: Partial<AllowlistDoc> = {}) {
  const doc: AllowlistDoc = {
    version: '2026.11',
    default_action: 'deny',
    mode: 'enforce',
    review_url: 'https://mcp-review.corp.example/request',
    deny_style: 'auto',
    require_review_stamp: true,
    approved,
    ...extra,
  };
  return compilePolicy(doc, { sha256: 'f'.repeat(64), reviewSha256: computeReviewSha256 });
}

describe('expires_on', () => {
  test('expiresAtMs: valid through 23:59:59.999 UTC of expires_on, expired from the next day', () => {
    const policy = policyOf([entry('a', { host: 'a.example.com', expires_on: '2027-04-18' })]);
    const at = policy.entries[0]!.expiresAtMs;
    expect(at).toBe(Date.UTC(2027, 3, 19));
    expect(at).toBe(expiresAtMs('2027-04-18'));
    // decide.ts treats `now >= expiresAtMs` as expired.
    expect(Date.parse('2027-04-18T23:59:59.999Z') >= at).toBe(false);
    expect(Date.parse('2027-04-19T00:00:00.000Z') >= at).toBe(true);
  });
});

describe('matchRequest', () => {
  test('a wildcard matches subdomains at any depth, never the apex or a look-alike', () => {
    const policy = policyOf([entry('wild', { host: '*.example.com' })]);
    expect(policy.matchRequest('a.example.com', undefined, '/')?.id).toBe('wild');
    expect(policy.matchRequest('a.b.example.com', undefined, '/mcp')?.id).toBe('wild');
    expect(policy.matchRequest('example.com', undefined, '/')).toBeUndefined();
    expect(policy.matchRequest('evilexample.com', undefined, '/')).toBeUndefined();
    expect(policy.matchRequest('a.evilexample.com', undefined, '/')).toBeUndefined();
    expect(policy.matchRequest('example.com.evil.net', undefined, '/')).toBeUndefined();
    expect(policy.matchRequest('.example.com', undefined, '/')).toBeUndefined();
    expect(policy.matchRequest('', undefined, '/')).toBeUndefined();
  });

  test('an exact host beats a wildcard, and the longer wildcard suffix beats the shorter', () => {
    const policy = policyOf([
      entry('wild', { host: '*.example.com' }),
      entry('deeper', { host: '*.docs.example.com' }),
      entry('exact', { host: 'api.example.com' }),
    ]);
    expect(policy.matchRequest('api.example.com', undefined, '/')?.id).toBe('exact');
    expect(policy.matchRequest('other.example.com', undefined, '/')?.id).toBe('wild');
    expect(policy.matchRequest('v1.docs.example.com', undefined, '/')?.id).toBe('deeper');
    expect(policy.matchRequest('docs.example.com', undefined, '/')?.id).toBe('wild');
  });

  test('when the exact entry does not fit the path, a wildcard entry may still approve', () => {
    const policy = policyOf([
      entry('exact-mcp', { host: 'api.example.com', url: 'https://api.example.com/mcp' }),
      entry('wild', { host: '*.example.com' }),
    ]);
    expect(policy.matchRequest('api.example.com', undefined, '/mcp/x')?.id).toBe('exact-mcp');
    expect(policy.matchRequest('api.example.com', undefined, '/other')?.id).toBe('wild');
  });

  test('the longest path prefix wins, on whole segments', () => {
    const policy = policyOf([
      entry('root', { host: 'api.example.com' }),
      entry('mcp', { host: 'api.example.com', url: 'https://api.example.com/mcp/' }),
      entry('admin', { host: 'api.example.com', url: 'https://api.example.com/mcp/admin' }),
    ]);
    expect(policy.matchRequest('api.example.com', undefined, '/mcp/admin/x')?.id).toBe('admin');
    expect(policy.matchRequest('api.example.com', undefined, '/mcp/admin')?.id).toBe('admin');
    expect(policy.matchRequest('api.example.com', undefined, '/mcp/adminx')?.id).toBe('mcp');
    expect(policy.matchRequest('api.example.com', undefined, '/mcp')?.id).toBe('mcp');
    expect(policy.matchRequest('api.example.com', undefined, '/mcpx')?.id).toBe('root');
  });

  test('a port in url restricts the entry to that port; at equal prefix the port entry wins', () => {
    const policy = policyOf([
      entry('any-port', { host: 'mcp.corp.example', url: 'https://mcp.corp.example/mcp' }),
      entry('port-8443', { host: 'mcp.corp.example', url: 'https://mcp.corp.example:8443/mcp' }),
      entry('only-9000', { host: 'only.corp.example', url: 'https://only.corp.example:9000/' }),
    ]);
    expect(policy.matchRequest('mcp.corp.example', 8443, '/mcp')?.id).toBe('port-8443');
    expect(policy.matchRequest('mcp.corp.example', 8080, '/mcp')?.id).toBe('any-port');
    expect(policy.matchRequest('mcp.corp.example', undefined, '/mcp')?.id).toBe('any-port');
    expect(policy.matchRequest('only.corp.example', 9000, '/x')?.id).toBe('only-9000');
    expect(policy.matchRequest('only.corp.example', 9001, '/x')).toBeUndefined();
    expect(policy.matchRequest('only.corp.example', undefined, '/x')).toBeUndefined();
  });

  test('stdio entries never match', () => {
    const policy = policyOf([
      entry('pg', { transport: 'stdio', host: 'localhost', command: '/opt/pg-mcp' }),
      entry('pg-wild', { transport: 'stdio', host: '*.corp.example', command: '/opt/x' }),
    ]);
    expect(policy.matchRequest('localhost', undefined, '/')).toBeUndefined();
    expect(policy.matchRequest('a.corp.example', undefined, '/')).toBeUndefined();
    expect(policy.matchHost('localhost')).toBeUndefined();
    expect(policy.entries.map((e) => e.id)).toEqual(['pg', 'pg-wild']);
  });
});

describe('matchHost (CONNECT / SNI)', () => {
  test('the most specific host pattern, and within it the broadest entry', () => {
    const policy = policyOf([
      entry('mcp', { host: 'api.example.com', url: 'https://api.example.com/mcp' }),
      entry('root', { host: 'api.example.com' }),
      entry('wild', { host: '*.example.com' }),
    ]);
    expect(policy.matchHost('api.example.com')?.id).toBe('root');
    expect(policy.matchHost('x.example.com')?.id).toBe('wild');
    expect(policy.matchHost('example.com')).toBeUndefined();
  });
});

describe('isToolAllowed', () => {
  const policy = policyOf([
    entry('all', { host: 'all.example.com' }),
    entry('rules', {
      host: 'rules.example.com',
      tools: { allow: ['get_*', 'list_*'], deny: ['*delete*'] },
    }),
    entry('deny-only', { host: 'deny.example.com', tools: { deny: ['drop_*'] } }),
    entry('none', { host: 'none.example.com', tools: { allow: [] } }),
  ]);
  const [all, rules, denyOnly, none] = policy.entries;

  test.each([
    { entry: 'all', tool: 'anything', want: true, rationale: 'no tools key: every tool' },
    { entry: 'rules', tool: 'get_issue', want: true, rationale: 'allowed by glob' },
    { entry: 'rules', tool: 'get_delete_log', want: false, rationale: 'deny wins over allow' },
    { entry: 'rules', tool: 'create_issue', want: false, rationale: 'not in allow' },
    {
      entry: 'deny-only',
      tool: 'create_table',
      want: true,
      rationale: 'allow absent: all but denied',
    },
    { entry: 'deny-only', tool: 'drop_table', want: false, rationale: 'denied' },
    { entry: 'none', tool: 'get_issue', want: false, rationale: 'allow: [] approves no tool' },
  ])('$entry / $tool → $want ($rationale)', ({ entry: id, tool, want }) => {
    const target = { all, rules, 'deny-only': denyOnly, none }[id]!;
    expect(policy.isToolAllowed(target, tool)).toBe(want);
  });

  test('the tool rules keep the globs as written', () => {
    expect(rules!.tools).toEqual({ allow: ['get_*', 'list_*'], deny: ['*delete*'] });
    expect(denyOnly!.tools).toEqual({ allow: undefined, deny: ['drop_*'] });
    expect(all!.tools).toBeUndefined();
  });
});

describe('compiled policy', () => {
  test('fields, defaults, stamp check and deny texts', () => {
    const stamped = entry('stamped', { host: 'a.example.com', scopes: ['x'] });
    const stale = entry('stale', {
      host: 'b.example.com',
      review_sha256: computeReviewSha256(stamped),
    });
    const policy = policyOf(
      [
        { ...stamped, review_sha256: computeReviewSha256(stamped) },
        stale,
        entry('unstamped', { host: 'c.example.com' }),
      ],
      { deny_reasons: { expired: 'Expired: {server} {review_url}' } },
    );
    expect(policy.entries.map((e) => e.stampMismatch)).toEqual([false, true, false]);
    expect(policy.denyTexts).toEqual({
      ...DEFAULT_DENY_TEXTS,
      expired: 'Expired: {server} {review_url}',
    });
    expect(policy.entries[0]).toMatchObject({
      id: 'stamped',
      transport: 'http',
      host: { kind: 'exact', host: 'a.example.com' },
      port: undefined,
      pathPrefix: undefined,
      scopes: ['x'],
      tools: undefined,
      mode: undefined,
      reviewTicket: 'SEC-1',
      reviewedBy: 'security',
      reviewedOn: '2026-10-01',
      expiresOn: '2027-04-01',
    });
    expect(policy.entries[2]!.scopes).toEqual([]);
    expect(policy).toMatchObject({
      version: '2026.11',
      sha256: 'f'.repeat(64),
      defaultAction: 'deny',
      mode: 'enforce',
      denyStyle: 'auto',
    });
  });

  test('everything is frozen', () => {
    const policy = policyOf([
      entry('a', { host: 'a.example.com', tools: { allow: ['x'] }, scopes: ['s'] }),
    ]);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.entries)).toBe(true);
    expect(Object.isFrozen(policy.denyTexts)).toBe(true);
    const compiled = policy.entries[0]!;
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(Object.isFrozen(compiled.host)).toBe(true);
    expect(Object.isFrozen(compiled.tools)).toBe(true);
    expect(Object.isFrozen(compiled.scopes)).toBe(true);
  });

  test('10,000 entries: every lookup finds its own entry', () => {
    const approved: AllowlistEntry[] = [];
    for (let i = 0; i < 5000; i++) {
      approved.push(
        entry(`exact-${String(i)}`, {
          host: `mcp${String(i)}.example.com`,
          url: `https://mcp${String(i)}.example.com/mcp`,
        }),
      );
      approved.push(entry(`wild-${String(i)}`, { host: `*.tenant${String(i)}.example.net` }));
    }
    const policy = policyOf(approved);
    for (const i of [0, 1, 2500, 4999]) {
      expect(policy.matchRequest(`mcp${String(i)}.example.com`, undefined, '/mcp/x')?.id).toBe(
        `exact-${String(i)}`,
      );
      expect(policy.matchRequest(`a.b.tenant${String(i)}.example.net`, 443, '/')?.id).toBe(
        `wild-${String(i)}`,
      );
    }
    expect(policy.matchRequest('mcp5000.example.com', undefined, '/mcp')).toBeUndefined();
  });
});
