/**
 * Review signatures against the attacks they stop: someone who can edit the allowlist (and run
 * `mcp-gate stamp`) but holds no reviewer key must not be able to approve, widen or renew an
 * entry, nor make one reviewer's signature count for another entry or another name.
 */
import { verify } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { validateAllowlist } from '../../../src/config/load-allowlist.js';
import type { Issue } from '../../../src/config/config-issues.js';
import { parseReviewers } from '../../../src/config/load-reviewers.js';
import { reviewSignatureMessage, SIGNATURE_DOMAIN } from '../../../src/config/review-signature.js';
import type { ReviewerKeys } from '../../../src/config/review-signature.js';
import { computeReviewSha256 } from '../../../src/config/review-stamp.js';
import { parseSshPublicKey } from '../../../src/config/ssh-keys.js';
import { githubAllowlist } from '../../helpers/github-allowlist.js';
import {
  LINEAR_ENTRY,
  publicKeyLine,
  signedBy,
  trustFileText,
  WAREHOUSE_ENTRY,
} from '../../helpers/review-keys.js';
import type { KeyHolder } from '../../helpers/review-keys.js';
import { restamped } from '../../helpers/stamped.js';

const NOW = new Date('2026-11-21T12:00:00Z');

/** github-official (get_* only), linear and warehouse, which names a co-signer; stamped. */
const UNSIGNED = githubAllowlist({
  allow: ['get_*'],
  expiresOn: '2027-04-18',
  extraEntries: LINEAR_ENTRY + WAREHOUSE_ENTRY,
});

function reviewers(text = trustFileText()): ReviewerKeys {
  const parsed = parseReviewers(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.reviewers;
}

const sign = signedBy;

/** Every entry signed by its reviewer; warehouse not yet by its co-signer. */
const SIGNED_BUT_COSIGNER = [
  ['github-official', 'security-platform', 'alice'],
  ['linear', 'security-platform', 'alice'],
  ['warehouse', 'security-platform', 'alice'],
].reduce(
  (text, [id = '', as = '', holder = 'alice']) => sign(text, id, as, holder as KeyHolder),
  UNSIGNED,
);

/** Every entry signed as it should be. */
const SIGNED = sign(SIGNED_BUT_COSIGNER, 'warehouse', 'data-platform', 'bob');

function load(text: string, keys: ReviewerKeys | 'none' = reviewers()) {
  const result = validateAllowlist(text, {
    fileName: 'a.yaml',
    now: NOW,
    reviewers: keys === 'none' ? undefined : keys,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result;
}

/** The issue's line with `|` at its column, then its message: what the issue points at. */
function located(text: string, issue: Issue): string {
  const line = text.split('\n')[issue.line - 1] ?? '';
  return `[${line.slice(0, issue.col - 1).trimStart()}|${line.slice(issue.col - 1, issue.col + 16)}] ${issue.message}`;
}

function problems(
  text: string,
  keys: ReviewerKeys | 'none' = reviewers(),
): Record<string, string | undefined> {
  return Object.fromEntries(load(text, keys).entries.map((e) => [e.id, e.signatureProblem]));
}

describe('the signed message', () => {
  test('is the domain line, id, reviewer, stamp and expires_on, newline-separated', () => {
    const entry = { id: 'github-official', expires_on: '2027-04-18' };
    expect(reviewSignatureMessage(entry, 'security-platform', 'ab'.repeat(32))).toBe(
      `mcp-gate review signature v1\ngithub-official\nsecurity-platform\n${'ab'.repeat(32)}\n2027-04-18`,
    );
    expect(SIGNATURE_DOMAIN).toBe('mcp-gate review signature v1');
  });

  test('a written signature verifies with the public key alone over exactly those bytes', () => {
    const checked = validateAllowlist(SIGNED, { fileName: 'a.yaml', now: NOW });
    if (!checked.ok) throw new Error('invalid');
    const entry = checked.doc.approved[0]!;
    const sig = entry.signatures?.[0]?.sig ?? '';
    const message = Buffer.from(
      `mcp-gate review signature v1\ngithub-official\nsecurity-platform\n${computeReviewSha256(entry)}\n2027-04-18`,
    );
    const key = parseSshPublicKey(publicKeyLine('alice'));
    if (!key.ok) throw new Error(key.message);
    expect(verify(null, message, key.value, Buffer.from(sig, 'base64'))).toBe(true);
  });
});

describe('with a trust file', () => {
  test('signed by its reviewers (and co-signer): no problem, no warning', () => {
    const result = load(SIGNED);
    expect(result.warnings).toEqual([]);
    expect(problems(SIGNED)).toEqual({
      'github-official': undefined,
      linear: undefined,
      warehouse: undefined,
    });
  });

  test('signatures do not change the stamp: the signed file has no stale stamp', () => {
    expect(load(SIGNED).entries.every((e) => !e.stampMismatch)).toBe(true);
  });

  const copyGithubSigToLinear = (text: string): string => {
    const sigs = [...text.matchAll(/ {8}sig: (\S+)/g)].map((m) => m[1] ?? '');
    return text.replace(sigs[1] ?? 'x', sigs[0] ?? 'x');
  };

  test.each([
    {
      attack: 'an entry widened and re-stamped without a reviewer key',
      edit: (text: string) =>
        restamped(text.replace('allow: ["get_*"]', 'allow: ["get_*", "delete_*"]')),
      entry: 'github-official',
      at: '[sig: |',
      problem: 'the signature by "security-platform" does not verify with their keys',
    },
    {
      attack: 'a renewal: expires_on moved on, no new signature',
      edit: (text: string) => text.replace('expires_on: 2027-04-18', 'expires_on: 2027-10-18'),
      entry: 'github-official',
      at: '[sig: |',
      problem: 'does not verify',
    },
    {
      attack: "another entry's signature copied over",
      edit: copyGithubSigToLinear,
      entry: 'linear',
      at: '[sig: |',
      problem: 'the signature by "security-platform" does not verify',
    },
    {
      attack: "a signature under the reviewer's name made with someone else's key",
      edit: (text: string) => sign(text, 'linear', 'security-platform', 'mallory'),
      entry: 'linear',
      at: '[sig: |',
      problem: 'does not verify',
    },
    {
      attack: 'a signature by a listed reviewer who is not reviewed_by',
      edit: (text: string) => sign(text, 'linear', 'eng-productivity', 'mallory'),
      entry: 'linear',
      at: '[- by: |eng-productivity',
      problem:
        'signed by "eng-productivity", who is neither this entry\'s reviewed_by ("security-platform") nor its cosigned_by',
    },
    {
      attack: 'reviewed_by renamed to a listed reviewer who never signed',
      edit: (text: string) =>
        text.replace(
          'review_ticket: SEC-5120\n    reviewed_by: security-platform',
          'review_ticket: SEC-5120\n    reviewed_by: eng-productivity',
        ),
      entry: 'linear',
      at: '[- by: |security-platform',
      problem: 'signed by "security-platform", who is neither',
    },
    {
      attack: 'no signature at all',
      edit: () => UNSIGNED,
      entry: 'github-official',
      at: '[reviewed_by: |security-platform',
      problem: 'no signature by "security-platform" (reviewed_by)',
    },
    {
      attack: 'a co-signer named who never signed',
      edit: () => SIGNED_BUT_COSIGNER,
      entry: 'warehouse',
      at: '[|- by: security-pl',
      problem: 'no signature by "data-platform" (cosigned_by)',
    },
    {
      attack: "the co-signer's signature made by the first reviewer",
      edit: (text: string) => sign(text, 'warehouse', 'data-platform', 'alice'),
      entry: 'warehouse',
      at: '[sig: |',
      problem: 'the signature by "data-platform" does not verify',
    },
    {
      attack: 'a second signature by the same reviewer',
      edit: (text: string) => text.replace(/( {6}- by: security-platform\n {8}sig: \S+\n)/, '$1$1'),
      entry: 'github-official',
      at: '[- by: |security-platform',
      problem: 'a second signature by "security-platform"',
    },
  ])('refused: $attack', ({ edit, entry, at, problem }) => {
    const text = edit(SIGNED);
    const result = load(text);
    const found = problems(text);
    expect(found[entry]).toContain(problem);
    // Only the attacked entry is affected.
    for (const [id, value] of Object.entries(found)) {
      if (id !== entry && text !== UNSIGNED) expect(value, id).toBeUndefined();
    }
    const warning = result.warnings.find((w) => w.message.includes(problem));
    expect(warning === undefined ? 'no warning' : located(text, warning)).toContain(at);
    expect(warning?.message).toMatch(
      /; matching requests are denied with reason "rotation" \(detail "signature"\)$/,
    );
  });

  test('a bundle a signed entry uses is edited: its signature no longer verifies', () => {
    const bundled = githubAllowlist({
      allow: ['get_*'],
      expiresOn: '2027-04-18',
      extraEntries: LINEAR_ENTRY,
    })
      .replace(
        'approved:\n',
        'bundles:\n  readers:\n    rules:\n      - match: [list_*]\n        access: { clients: [claude-code] }\napproved:\n',
      )
      .replace("allow: ['list_*']\n", "allow: ['list_*']\n    uses: [readers]\n");
    const signed = signedBy(restamped(bundled), 'linear', 'security-platform', 'alice');
    expect(problems(signed)['linear']).toBeUndefined();
    // The bundle widened (every client), the stamps rewritten, no new signature.
    const widened = restamped(
      signed.replace(
        'access: { clients: [claude-code] }',
        'access: { clients: [claude-code, cursor] }',
      ),
    );
    expect(problems(widened)['linear']).toContain(
      'the signature by "security-platform" does not verify',
    );
  });

  test('a reviewer missing from the trust file approves nothing', () => {
    const withoutData = reviewers(
      trustFileText({ 'security-platform': ['alice'], 'eng-productivity': ['mallory'] }),
    );
    expect(problems(SIGNED, withoutData)).toEqual({
      'github-official': undefined,
      linear: undefined,
      warehouse: 'cosigned_by "data-platform" is not a reviewer in the trust file (--reviewers)',
    });
  });

  test('a reviewer whose key rotated: a signature by either listed key counts', () => {
    const rotated = reviewers(
      trustFileText({ 'security-platform': ['mallory', 'alice'], 'data-platform': ['bob'] }),
    );
    expect(Object.values(problems(SIGNED, rotated))).toEqual([undefined, undefined, undefined]);
  });

  test('validate: signature problems are errors (signatureErrors), at their line', () => {
    const text = restamped(SIGNED.replace('allow: ["get_*"]', 'allow: ["*"]'));
    const result = validateAllowlist(text, {
      fileName: 'a.yaml',
      now: NOW,
      reviewers: reviewers(),
      signatureErrors: true,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => located(text, e))).toEqual([
      expect.stringMatching(
        /^\[sig: \|.*approved\[0\]\.signatures\[0\]\.sig: the signature by "security-platform" does not verify/,
      ),
    ]);
  });
});

describe('top-level settings that let traffic through unsigned', () => {
  const errors = (text: string, trust = trustFileText()): string[] => {
    const parsed = parseReviewers(trust);
    if (!parsed.ok) throw new Error('trust file');
    const result = validateAllowlist(text, {
      fileName: 'a.yaml',
      now: NOW,
      reviewers: parsed.reviewers,
      permittedSettings: parsed.permitted,
    });
    return result.ok ? [] : result.errors.map((e) => `${e.line}:${e.col} ${e.message}`);
  };
  const open = SIGNED.replace('default_action: deny', 'default_action: allow\nmode: dry-run');

  test('are refused with a trust file that does not permit them, at their values', () => {
    expect(errors(open)).toEqual([
      "2:17 default_action: allow lets every MCP server no entry approves through without any reviewer's signature; with --reviewers it is refused unless the reviewers file says permitted_settings: [default_action_allow]",
      "3:7 mode: dry-run lets every request through that the allowlist would deny without any reviewer's signature; with --reviewers it is refused unless the reviewers file says permitted_settings: [dry_run]",
    ]);
  });

  test("load once the trust file's owners permit them", () => {
    const permitted = `${trustFileText()}permitted_settings: [default_action_allow, dry_run]\n`;
    expect(errors(open, permitted)).toEqual([]);
    expect(errors(SIGNED.replace('approved:', 'mode: dry-run\napproved:'), permitted)).toEqual([]);
  });

  test('an unknown permitted setting is a trust file error', () => {
    const parsed = parseReviewers(`${trustFileText()}permitted_settings: [everything]\n`);
    expect(parsed.ok ? [] : parsed.errors.map((e) => `${e.line}:${e.col} ${e.message}`)).toEqual([
      '11:22 permitted_settings[0]: must be one of default_action_allow, dry_run; got "everything"',
    ]);
  });

  test('without a trust file they are what they always were', () => {
    const result = validateAllowlist(open, { fileName: 'a.yaml', now: NOW });
    expect(result.ok).toBe(true);
  });
});

describe('without a trust file', () => {
  test('signatures are not checked: an unsigned or tampered file loads without a problem', () => {
    const tampered = restamped(SIGNED.replace('allow: ["get_*"]', 'allow: ["*"]'));
    for (const text of [UNSIGNED, tampered]) {
      const result = load(text, 'none');
      expect(result.warnings).toEqual([]);
      expect(result.entries.map((e) => e.signatureProblem)).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
    }
  });
});
