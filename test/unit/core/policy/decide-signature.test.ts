/**
 * Decisions on entries whose review signatures do not hold (serve --reviewers): reason
 * `rotation`, detail `signature`, after expiry and a stale stamp, before anything about the
 * request itself; dry-run entries only would deny. The signatures are judged by the loader
 * (src/config/review-signature.ts); decide reads the verdict from the compiled entry.
 */
import { describe, expect, test } from 'vitest';
import { parseAllowlist } from '../../../../src/config/load-allowlist.js';
import { parseReviewers } from '../../../../src/config/load-reviewers.js';
import { authorize } from '../../../../src/core/pipeline.js';
import { denyTemplate, DEFAULT_DENY_TEXTS } from '../../../../src/core/policy/deny-texts.js';
import type { CompiledPolicy } from '../../../../src/core/policy/policy.js';
import { ICONV_CHARSETS } from '../../../../src/text/iconv-charsets.js';
import { STREAMABLE_POST, makeFacts, rpc } from '../../../helpers/facts.js';
import type { FactsInput } from '../../../helpers/facts.js';
import { signedBy, trustFileText } from '../../../helpers/review-keys.js';
import { restamped, stamped } from '../../../helpers/stamped.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

const entry = (id: string, host: string, extra = ''): string => `  - id: ${id}
    host: ${host}
    transport: http
${extra}    tools:
      allow: ['get_*']
    review_ticket: SEC-1
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`;

const UNSIGNED = stamped(`version: 2026.11
review_url: https://mcp-review.corp.example/request
approved:
${entry('signed', 'mcp.signed.example')}${entry('widened', 'mcp.widened.example')}${entry('trial', 'mcp.trial.example', '    mode: dry-run\n')}${entry('lapsed', 'mcp.lapsed.example')}`);

/** Every entry signed; then `widened` gains a tool glob and is re-stamped without a key. */
const TEXT = restamped(
  ['signed', 'widened', 'trial', 'lapsed']
    .reduce((text, id) => signedBy(text, id, 'security-platform', 'alice'), UNSIGNED)
    .replace(
      "host: mcp.widened.example\n    transport: http\n    tools:\n      allow: ['get_*']",
      "host: mcp.widened.example\n    transport: http\n    tools:\n      allow: ['get_*', 'delete_*']",
    )
    .replace(/(host: mcp\.trial\.example[\s\S]*?allow: \['get_\*')\]/, "$1, 'delete_*']")
    .replace(/(host: mcp\.lapsed\.example[\s\S]*?allow: \['get_\*')\]/, "$1, 'delete_*']"),
);

function policy(withTrustFile: boolean): CompiledPolicy {
  const reviewers = parseReviewers(trustFileText());
  if (!reviewers.ok) throw new Error('trust file');
  const parsed = parseAllowlist(TEXT, {
    fileName: 'allowlist.yaml',
    now: new Date(NOW),
    reviewers: withTrustFile ? reviewers.reviewers : undefined,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

function decideFor(host: string, tool: string, compiled: CompiledPolicy, now = NOW) {
  const input: FactsInput = {
    authority: host,
    path: '/mcp',
    headers: { ...STREAMABLE_POST, 'mcp-session-id': 's', 'mcp-protocol-version': '2025-11-25' },
    body: rpc('tools/call', { name: tool, arguments: {} }, 7),
  };
  const snapshot = {
    policy: compiled,
    knownHosts: { sha256: '', size: 0, isKnownMcpHost: () => false },
    limits: { maxBodyBytes: 1 << 20, maxBatchElements: 100 },
    charsets: ICONV_CHARSETS,
  };
  return authorize(snapshot, makeFacts(input), now, 'abcdefghjkmnpqrstuvw').decision;
}

describe('entries whose signatures do not hold', () => {
  const WITH = policy(true);

  test.each([
    {
      name: 'a signed entry is approved',
      host: 'mcp.signed.example',
      tool: 'get_issue',
      want: { verdict: 'allow', reason: 'approved', detail: undefined, dryRun: false },
    },
    {
      name: 'the widened entry is denied, whatever the tool',
      host: 'mcp.widened.example',
      tool: 'get_issue',
      want: { verdict: 'deny', reason: 'rotation', detail: 'signature', dryRun: false },
    },
    {
      name: 'a dry-run entry only would deny',
      host: 'mcp.trial.example',
      tool: 'get_issue',
      want: { verdict: 'allow', reason: 'rotation', detail: 'signature', dryRun: true },
    },
  ])('$name', ({ host, tool, want }) => {
    expect(decideFor(host, tool, WITH)).toMatchObject(want);
  });

  test('the explanation names the entry and why its signature fails', () => {
    expect(decideFor('mcp.widened.example', 'get_issue', WITH).explanation).toBe(
      'entry widened has no valid review signature: the signature by "security-platform" does ' +
        "not verify with their keys: the entry's reviewed fields, id or expires_on changed since " +
        'it was signed, or it was made for another entry or with another key',
    );
  });

  test('expiry comes first: an expired entry is expired, not a signature problem', () => {
    const later = Date.parse('2027-05-01T00:00:00Z');
    expect(decideFor('mcp.lapsed.example', 'get_issue', WITH, later)).toMatchObject({
      verdict: 'deny',
      reason: 'expired',
      detail: undefined,
    });
  });

  test('without a trust file the same policy approves the widened entry (the weaker mode)', () => {
    expect(decideFor('mcp.widened.example', 'delete_repo', policy(false))).toMatchObject({
      verdict: 'allow',
      reason: 'approved',
    });
  });

  test("the deny text tells the person the reviewers' signature is missing", () => {
    const text = denyTemplate(DEFAULT_DENY_TEXTS, 'rotation', 'signature');
    expect(text).toBe(
      'The approval for MCP server {server} carries no valid signature from its reviewers, so it was blocked until they sign it again: {review_url}',
    );
    expect(denyTemplate(DEFAULT_DENY_TEXTS, 'rotation', undefined)).toBe(
      DEFAULT_DENY_TEXTS.rotation,
    );
    // An allowlist's own rotation text wins over the detail's built-in one.
    expect(
      denyTemplate(
        { ...DEFAULT_DENY_TEXTS, rotation: 'Ours: {review_url}' },
        'rotation',
        'signature',
      ),
    ).toBe('Ours: {review_url}');
  });
});
