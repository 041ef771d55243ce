import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  AllowlistEntrySchema,
  NOT_REVIEW_STAMP_FIELDS,
  REVIEW_STAMP_FIELDS,
  TOOL_STAMP_FIELDS,
  ToolsSchema,
} from '../../../src/config/allowlist-schema.js';
import type { AllowlistEntry } from '../../../src/config/allowlist-schema.js';
import { computeReviewSha256, toCanonicalReviewForm } from '../../../src/config/review-stamp.js';

/** The worked example in docs/allowlist.md. */
const GITHUB: AllowlistEntry = {
  id: 'github-official',
  host: 'api.githubcopilot.com',
  transport: 'http',
  url: 'https://api.githubcopilot.com/mcp/',
  scopes: ['repo.read', 'issues.read'],
  tools: { allow: ['get_*', 'list_*', 'search_*'], deny: ['*delete*'] },
  mode: 'dry-run',
  review_ticket: 'SEC-4902',
  reviewed_by: 'security-platform',
  reviewed_on: '2026-10-18',
  expires_on: '2027-04-18',
};
const GITHUB_CANONICAL =
  '{"host":"api.githubcopilot.com","mode":"dry-run","review_ticket":"SEC-4902","reviewed_on":"2026-10-18",' +
  '"scopes":["issues.read","repo.read"],"tools":{"allow":["get_*","list_*","search_*"],' +
  '"deny":["*delete*"]},"transport":"http","url":"https://api.githubcopilot.com/mcp/"}';
const GITHUB_SHA256 = 'ab46645dbf080c9cafce6fcef064a0353f11e064e9f6a9bc185c2bc63652ad2f';

const STDIO: AllowlistEntry = {
  id: 'postgres-readonly',
  host: 'localhost',
  transport: 'stdio',
  command: '/opt/acme/bin/postgres-mcp',
  allowed_args: ['--readonly', '--database=analytics'],
  scopes: ['db.read'],
  review_ticket: 'SEC-4933',
  reviewed_by: 'data-platform',
  reviewed_on: '2026-10-22',
  expires_on: '2027-04-22',
};

describe('every entry key is classified for the review stamp', () => {
  // If this fails you added a key to AllowlistEntrySchema: decide whether it can widen what an
  // approval lets through. If it can (or you are unsure), add it to REVIEW_STAMP_FIELDS and give
  // it a canonicaliser in review-stamp.ts; otherwise add it to NOT_REVIEW_STAMP_FIELDS with a
  // reason in the comment there.
  test('schema keys = stamped keys ∪ not-stamped keys, and the two lists are disjoint', () => {
    const schemaKeys = Object.keys(AllowlistEntrySchema.shape).sort();
    const classified = [...REVIEW_STAMP_FIELDS, ...NOT_REVIEW_STAMP_FIELDS].sort();
    expect(classified).toEqual(schemaKeys);
    expect(new Set(classified).size).toBe(classified.length);
  });

  test('every tools key is in the canonical form', () => {
    expect([...TOOL_STAMP_FIELDS].sort()).toEqual(Object.keys(ToolsSchema.shape).sort());
  });

  test('only naming, bookkeeping, renewal, the stamp and the signatures are not security relevant', () => {
    // `mode` is stamped: switching an entry to dry-run turns its enforcement off; `exception`
    // is stamped: turning an exception into a regular approval lifts its 30-day limit.
    expect([...NOT_REVIEW_STAMP_FIELDS].sort()).toEqual(
      [
        'expires_on',
        'id',
        'review_sha256',
        'reviewed_by',
        'cosigned_by',
        'exception_approved_by',
        'signatures',
      ].sort(),
    );
  });
});

describe('canonical form', () => {
  test('the worked example of docs/allowlist.md', () => {
    expect(toCanonicalReviewForm(GITHUB)).toBe(GITHUB_CANONICAL);
    expect(computeReviewSha256(GITHUB)).toBe(GITHUB_SHA256);
    expect(createHash('sha256').update(GITHUB_CANONICAL).digest('hex')).toBe(GITHUB_SHA256);
  });

  test('stdio: allowed_args keep their order', () => {
    expect(toCanonicalReviewForm(STDIO)).toBe(
      '{"allowed_args":["--readonly","--database=analytics"],"command":"/opt/acme/bin/postgres-mcp",' +
        '"host":"localhost","review_ticket":"SEC-4933","reviewed_on":"2026-10-22","scopes":["db.read"],' +
        '"transport":"stdio"}',
    );
  });

  test.each([
    { name: 'id', change: { id: 'renamed' } },
    { name: 'reviewed_by', change: { reviewed_by: 'someone-else' } },
    { name: 'expires_on (renewal)', change: { expires_on: '2028-01-01' } },
    { name: 'review_sha256', change: { review_sha256: 'a'.repeat(64) } },
    { name: 'cosigned_by', change: { cosigned_by: 'data-platform' } },
    { name: 'exception_approved_by', change: { exception_approved_by: 'ciso' } },
    { name: 'signatures', change: { signatures: [{ by: 'security-platform', sig: 'x' }] } },
    { name: 'scopes reordered', change: { scopes: ['issues.read', 'repo.read'] } },
    {
      name: 'scopes with a duplicate',
      change: { scopes: ['repo.read', 'issues.read', 'repo.read'] },
    },
    {
      name: 'allow globs reordered',
      change: { tools: { allow: ['search_*', 'get_*', 'list_*'], deny: ['*delete*'] } },
    },
  ])('not a change: $name', ({ change }) => {
    expect(computeReviewSha256({ ...GITHUB, ...change })).toBe(GITHUB_SHA256);
  });

  test.each([
    { name: 'host', change: { host: 'api.github.com' } },
    { name: 'url path widened', change: { url: 'https://api.githubcopilot.com/' } },
    { name: 'url removed', change: { url: undefined } },
    { name: 'transport', change: { transport: 'stdio' as const } },
    { name: 'mode (dry-run to enforce)', change: { mode: 'enforce' as const } },
    { name: 'mode removed', change: { mode: undefined } },
    { name: 'a scope added', change: { scopes: ['repo.read', 'issues.read', 'repo.write'] } },
    { name: 'scopes removed', change: { scopes: undefined } },
    {
      name: 'an allow glob added',
      change: { tools: { allow: ['get_*', 'list_*', 'search_*', 'create_*'], deny: ['*delete*'] } },
    },
    {
      name: 'the deny list dropped',
      change: { tools: { allow: ['get_*', 'list_*', 'search_*'] } },
    },
    { name: 'tools dropped (all tools)', change: { tools: undefined } },
    { name: 'review_ticket', change: { review_ticket: 'SEC-9999' } },
    { name: 'reviewed_on', change: { reviewed_on: '2026-10-19' } },
    { name: 'command added', change: { command: '/bin/sh' } },
    { name: 'allowed_args added', change: { allowed_args: ['--all'] } },
    { name: 'exception added', change: { exception: true } },
    { name: 'exception: false added', change: { exception: false } },
  ])('a change: $name', ({ change }) => {
    // `key: undefined` stands for a key removed from the file (the canonical form omits both).
    const changed: AllowlistEntry = { ...GITHUB, ...change };
    expect(computeReviewSha256(changed)).not.toBe(GITHUB_SHA256);
  });

  test('exception is written as the JSON boolean; true and false differ', () => {
    expect(toCanonicalReviewForm({ ...STDIO, exception: true })).toContain(
      '"command":"/opt/acme/bin/postgres-mcp","exception":true,"host"',
    );
    expect(computeReviewSha256({ ...STDIO, exception: true })).not.toBe(
      computeReviewSha256({ ...STDIO, exception: false }),
    );
  });

  test('allowed_args order is significant', () => {
    const swapped = { ...STDIO, allowed_args: ['--database=analytics', '--readonly'] };
    expect(computeReviewSha256(swapped)).not.toBe(computeReviewSha256(STDIO));
  });

  test('tools: {} (all tools) and no tools hash differently: a needless re-review, never a miss', () => {
    const withoutTools: AllowlistEntry = { ...GITHUB };
    delete withoutTools.tools;
    expect(computeReviewSha256({ ...withoutTools, tools: {} })).not.toBe(
      computeReviewSha256(withoutTools),
    );
  });

  test('non-ASCII strings are hashed as UTF-8, unescaped', () => {
    const entry = { ...STDIO, review_ticket: 'SÉC-1' };
    expect(toCanonicalReviewForm(entry)).toContain('"review_ticket":"SÉC-1"');
    expect(computeReviewSha256(entry)).toBe(
      createHash('sha256')
        .update(Buffer.from(toCanonicalReviewForm(entry), 'utf8'))
        .digest('hex'),
    );
  });
});
