/**
 * Review signatures: a reviewer's Ed25519 signature over an entry, so that someone who can edit
 * the allowlist (and run `mcp-gate stamp`) but holds no reviewer key cannot approve a server.
 *
 * What is signed (docs/allowlist.md "Review signatures" has it byte for byte): the UTF-8 bytes of
 *
 *     mcp-gate review signature v1\n<id>\n<reviewer>\n<review stamp>\n<expires_on>
 *
 * with no final newline. The first line separates these signatures from anything else the key
 * signs (Git commits, SSH logins); `id` keeps a signature from being copied onto another entry
 * with the same fields; `reviewer` is the signer's name, which must be the entry's `reviewed_by`
 * or `cosigned_by`; the review stamp is computeReviewSha256 (review-stamp.ts), the one canonical
 * form of the entry's security-relevant fields; `expires_on`, which the stamp leaves out so a
 * renewal needs no re-stamp, is signed, because a renewal is a reviewer's decision too. The
 * `signatures` key itself is outside the canonical form, so signing changes no stamp.
 *
 * A trust file (load-reviewers.ts) says whose keys count. With one, every entry needs a valid
 * signature by its `reviewed_by`, and by its `cosigned_by` when it names one; every signature
 * must be by one of the two. Without one, signatures are not checked at all.
 *
 * Signatures cover entries, not the top-level keys, and two of those let traffic through without
 * any entry: `default_action: allow` (every unlisted server) and a global `mode: dry-run` (every
 * denial). With a trust file they are refused unless the trust file itself permits them
 * (`permitted_settings`), so that the allowlist's editors cannot approve everything at once.
 * Pure: no I/O, no clock.
 */
import { sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { RuleIssue } from './allowlist-rules.js';
import type { AllowlistEntry } from './allowlist-schema.js';
import type { DocPath } from './config-issues.js';
import { isRecord } from './yaml-source.js';

/** Reviewer name → the Ed25519 public keys that sign for them. */
export type ReviewerKeys = ReadonlyMap<string, readonly KeyObject[]>;

/** The first line of every signed message. */
export const SIGNATURE_DOMAIN = 'mcp-gate review signature v1';

/** The fields of an entry a signature covers. */
export type SignedEntry = Pick<AllowlistEntry, 'id' | 'expires_on'>;

/** The exact text a reviewer signs for `entry` (see the module comment). */
export function reviewSignatureMessage(
  entry: SignedEntry,
  reviewer: string,
  reviewSha256: string,
): string {
  return [SIGNATURE_DOMAIN, entry.id, reviewer, reviewSha256, entry.expires_on].join('\n');
}

/** The base64 signature of `reviewer` over `entry`, made with their private key. */
export function signReview(
  entry: SignedEntry,
  reviewer: string,
  reviewSha256: string,
  privateKey: KeyObject,
): string {
  const message = Buffer.from(reviewSignatureMessage(entry, reviewer, reviewSha256), 'utf8');
  return sign(null, message, privateKey).toString('base64');
}

/** Whether `sig` (base64) is `reviewer`'s signature over `entry` under one of `keys`. */
export function verifyReview(
  entry: SignedEntry,
  reviewer: string,
  reviewSha256: string,
  sig: string,
  keys: readonly KeyObject[],
): boolean {
  const message = Buffer.from(reviewSignatureMessage(entry, reviewer, reviewSha256), 'utf8');
  const signature = Buffer.from(sig, 'base64');
  return keys.some((key) => verify(null, message, key, signature));
}

/** Why an entry's signatures do not approve it; `path` is relative to the entry. */
export interface SignatureProblem {
  readonly path: DocPath;
  readonly message: string;
}

/**
 * Every reason the entry's signatures fall short of what the trust file requires; empty when
 * they hold. `reviewSha256` is the entry's stamp as computed now (not as written).
 */
export function checkReviewSignatures(
  entry: AllowlistEntry,
  reviewSha256: string,
  reviewers: ReviewerKeys,
): SignatureProblem[] {
  const problems: SignatureProblem[] = [];
  const signatures = entry.signatures ?? [];
  const signers = new Map<string, { sig: string; index: number }>();
  signatures.forEach(({ by, sig }, index) => {
    const path = ['signatures', index, 'by'];
    if (signers.has(by)) {
      problems.push({ path, message: `a second signature by ${JSON.stringify(by)}` });
    } else if (by !== entry.reviewed_by && by !== entry.cosigned_by) {
      problems.push({
        path,
        message:
          `signed by ${JSON.stringify(by)}, who is neither this entry's reviewed_by ` +
          `(${JSON.stringify(entry.reviewed_by)}) nor its cosigned_by; remove the signature ` +
          'or correct the names',
      });
    } else signers.set(by, { sig, index });
  });

  const required: [string, string][] = [[entry.reviewed_by, 'reviewed_by']];
  if (entry.cosigned_by !== undefined) required.push([entry.cosigned_by, 'cosigned_by']);
  for (const [name, role] of required) {
    const keys = reviewers.get(name);
    const signed = signers.get(name);
    const shown = JSON.stringify(name);
    if (keys === undefined) {
      problems.push({
        path: [role],
        message: `${role} ${shown} is not a reviewer in the trust file (--reviewers)`,
      });
    } else if (signed === undefined) {
      problems.push({
        path: entry.signatures === undefined ? [role] : ['signatures'],
        message:
          `no signature by ${shown} (${role}); they sign it with ` +
          `"mcp-gate sign FILE --id ${entry.id} --key KEY${role === 'cosigned_by' ? ` --as ${name}` : ''}"`,
      });
    } else if (!verifyReview(entry, name, reviewSha256, signed.sig, keys)) {
      problems.push({
        path: ['signatures', signed.index, 'sig'],
        message:
          `the signature by ${shown} does not verify with their keys: the entry's reviewed ` +
          'fields, id or expires_on changed since it was signed, or it was made for another entry ' +
          'or with another key',
      });
    }
  }
  return problems;
}

/**
 * Top-level settings that let MCP traffic pass without a reviewer's signature, which the trust
 * file may permit (`permitted_settings`): `default_action_allow` (`default_action: allow`) and
 * `dry_run` (the top-level `mode: dry-run`; an entry's own `mode` is stamped and signed).
 */
export const UNSIGNED_SETTINGS = ['default_action_allow', 'dry_run'] as const;
export type UnsignedSetting = (typeof UNSIGNED_SETTINGS)[number];

/**
 * With a trust file: the top-level settings of a raw allowlist that would let traffic through
 * unsigned and that the trust file does not permit, as errors at their values.
 */
export function checkUnsignedSettings(
  raw: unknown,
  permitted: ReadonlySet<UnsignedSetting>,
): RuleIssue[] {
  if (!isRecord(raw)) return [];
  const issues: RuleIssue[] = [];
  const refuse = (key: string, setting: UnsignedSetting, what: string): void => {
    issues.push({
      path: [key],
      at: 'value',
      message:
        `${key}: ${String(raw[key])} ${what} without any reviewer's signature; with --reviewers ` +
        `it is refused unless the reviewers file says permitted_settings: [${setting}]`,
    });
  };
  if (raw['default_action'] === 'allow' && !permitted.has('default_action_allow')) {
    refuse(
      'default_action',
      'default_action_allow',
      'lets every MCP server no entry approves through',
    );
  }
  if (raw['mode'] === 'dry-run' && !permitted.has('dry_run')) {
    refuse('mode', 'dry_run', 'lets every request through that the allowlist would deny');
  }
  return issues;
}
