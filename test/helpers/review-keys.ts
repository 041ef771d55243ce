/**
 * The test-only review keys of test/fixtures/review-keys/ (README there says how each was made),
 * the reviewers they stand for, and a trust file naming them: `security-platform` signs with
 * Alice's OpenSSH key, `data-platform` with Bob's PKCS#8 key, `eng-productivity` with Mallory's
 * OpenSSH key (a listed reviewer, but not of the entries the tests sign as someone else).
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateAllowlist } from '../../src/config/load-allowlist.js';
import { signReview } from '../../src/config/review-signature.js';
import { computeReviewSha256 } from '../../src/config/review-stamp.js';
import { writeSignatureText } from '../../src/config/sign-file.js';
import { formatSshPublicKey, parsePrivateKey } from '../../src/config/ssh-keys.js';

export const REVIEW_KEYS_DIR = path.join(import.meta.dirname, '../fixtures/review-keys');

/** The private key files, by the name of the person who holds them. */
export const KEY_FILES = {
  alice: path.join(REVIEW_KEYS_DIR, 'alice-openssh'),
  bob: path.join(REVIEW_KEYS_DIR, 'bob-pkcs8.pem'),
  mallory: path.join(REVIEW_KEYS_DIR, 'mallory-openssh'),
} as const;
export type KeyHolder = keyof typeof KEY_FILES;

/** A holder's private key. */
export function privateKeyOf(holder: KeyHolder): KeyObject {
  const parsed = parsePrivateKey(readFileSync(KEY_FILES[holder], 'utf8'));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

/**
 * A holder's `ssh-ed25519` line: ssh-keygen's .pub file where there is one, else the line for
 * openssl's public key PEM.
 */
export function publicKeyLine(holder: KeyHolder): string {
  if (holder === 'bob') {
    const pem = readFileSync(path.join(REVIEW_KEYS_DIR, 'bob-pkcs8.pub.pem'), 'utf8');
    return formatSshPublicKey(createPublicKey(pem), 'bob@corp.example');
  }
  return readFileSync(`${KEY_FILES[holder]}.pub`, 'utf8').trim();
}

/** Who signs as whom in the tests. */
export const REVIEWERS: Readonly<Record<string, readonly KeyHolder[]>> = {
  'security-platform': ['alice'],
  'data-platform': ['bob'],
  'eng-productivity': ['mallory'],
};

/** A trust file listing `reviewers` (name → key holders). */
export function trustFileText(
  reviewers: Readonly<Record<string, readonly KeyHolder[]>> = REVIEWERS,
): string {
  const lines = ['reviewers:'];
  for (const [name, holders] of Object.entries(reviewers)) {
    lines.push(`  - name: ${name}`, '    keys:');
    for (const holder of holders) lines.push(`      - ${publicKeyLine(holder)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `text` with `holder`'s signature over entry `id`, filed under the name `as`, written as
 * `mcp-gate sign` writes it (the entry must be valid and stamped).
 */
export function signedBy(text: string, id: string, as: string, holder: KeyHolder): string {
  const checked = validateAllowlist(text, { fileName: 'allowlist.yaml', now: new Date(0) });
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  const entry = checked.doc.approved.find((candidate) => candidate.id === id);
  if (entry === undefined) throw new Error(`no entry ${id}`);
  const sig = signReview(entry, as, computeReviewSha256(entry, checked.doc), privateKeyOf(holder));
  return writeSignatureText(text, id, as, sig);
}

/** An entry reviewed by security-platform, to go with githubAllowlist's (as `extraEntries`). */
export const LINEAR_ENTRY = `  - id: linear
    host: mcp.linear.app
    transport: http
    tools:
      allow: ['list_*']
    review_ticket: SEC-5120
    reviewed_by: security-platform
    reviewed_on: 2026-11-02
    expires_on: 2099-05-02
`;

/** An entry that needs two signatures: security-platform's and its co-signer data-platform's. */
export const WAREHOUSE_ENTRY = `  - id: warehouse
    transport: stdio
    command: /opt/acme/bin/warehouse-mcp
    scopes: [db.read]
    review_ticket: SEC-5200
    reviewed_by: security-platform
    cosigned_by: data-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`;
