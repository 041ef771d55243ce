import { describe, expect, test } from 'vitest';
import { looksLikeReviewers, parseReviewers } from '../../../src/config/load-reviewers.js';
import { samePublicKey } from '../../../src/config/ssh-keys.js';
import { privateKeyOf, publicKeyLine, trustFileText } from '../../helpers/review-keys.js';

const ALICE = publicKeyLine('alice');
const BOB = publicKeyLine('bob');

function errorsOf(text: string): string[] {
  const result = parseReviewers(text);
  return result.ok ? [] : result.errors.map((e) => `${e.line}:${e.col} ${e.message}`);
}

describe('the reviewers trust file', () => {
  test('names and their keys, several keys per reviewer', () => {
    const result = parseReviewers(
      `reviewers:\n  - name: security-platform\n    keys:\n      - ${ALICE}\n      - ${BOB}\n`,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.count).toBe(1);
    const keys = result.reviewers.get('security-platform') ?? [];
    expect(keys).toHaveLength(2);
    expect(samePublicKey(keys[0]!, privateKeyOf('alice'))).toBe(true);
    expect(samePublicKey(keys[1]!, privateKeyOf('bob'))).toBe(true);
  });

  test('the helper trust file of the suites is valid', () => {
    expect(errorsOf(trustFileText())).toEqual([]);
  });

  test.each([
    {
      name: 'an empty list',
      text: 'reviewers: []\n',
      errors: ['1:12 reviewers: list at least one reviewer: with none, no entry can be approved'],
    },
    {
      name: 'a reviewer without keys',
      text: 'reviewers:\n  - name: a\n    keys: []\n',
      errors: ['3:11 reviewers[0].keys: every reviewer needs at least one key'],
    },
    {
      name: 'an unknown key, with a hint',
      text: `reviewers:\n  - name: a\n    key: [${ALICE}]\n`,
      errors: [
        '2:5 reviewers[0]: missing required key "keys"',
        '3:5 reviewers[0]: unknown key "key" (did you mean "keys"?)',
      ],
    },
    {
      name: 'an RSA key',
      text: 'reviewers:\n  - name: a\n    keys:\n      - ssh-rsa AAAAB3NzaC1yc2E x\n',
      errors: ['4:9 reviewers[0].keys[0]: "ssh-rsa" keys are not accepted; only ssh-ed25519'],
    },
    {
      name: 'a key that is not a key line',
      text: 'reviewers:\n  - name: a\n    keys:\n      - AAAAC3NzaC1lZDI1NTE5\n',
      errors: [
        '4:9 reviewers[0].keys[0]: expected an OpenSSH public key line: "ssh-ed25519 AAAA… comment"',
      ],
    },
    {
      name: 'a name twice',
      text: `reviewers:\n  - name: a\n    keys: [${ALICE}]\n  - name: a\n    keys: [${BOB}]\n`,
      errors: ['4:11 reviewers[1].name: "a" is listed twice'],
    },
    {
      name: 'one key for two reviewers (comments differ)',
      text: `reviewers:\n  - name: a\n    keys: [${ALICE}]\n  - name: b\n    keys: [${ALICE.replace('alice@', 'alice2@')}]\n`,
      errors: [
        '5:12 reviewers[1].keys[0]: this key is already listed for "a"; a key signs for one reviewer only',
      ],
    },
    {
      name: 'a name with a newline',
      text: `reviewers:\n  - name: "a\\nb"\n    keys: [${ALICE}]\n`,
      errors: ['2:11 reviewers[0].name: must not contain control characters'],
    },
    {
      name: 'YAML aliases',
      text: `reviewers:\n  - name: a\n    keys: &k [${ALICE}]\n  - name: b\n    keys: *k\n`,
      errors: [
        '3:14 YAML anchors (&k) are not allowed: write each value out in full',
        '5:11 YAML aliases (*name) are not allowed: write each value out in full. To write a wildcard host, quote it: "*.example.com"',
      ],
    },
  ])('refused, at line and column: $name', ({ text, errors }) => {
    expect(errorsOf(text)).toEqual(errors);
  });

  test('validate tells a trust file from an allowlist and a known-host list', () => {
    expect(looksLikeReviewers(trustFileText())).toBe(true);
    expect(looksLikeReviewers('reviewers: [\n')).toBe(true);
    expect(looksLikeReviewers('version: 1\napproved: []\nreviewers: []\n')).toBe(false);
    expect(looksLikeReviewers('hosts: []\n')).toBe(false);
  });
});
