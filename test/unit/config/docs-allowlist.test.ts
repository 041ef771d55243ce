/**
 * The examples of docs/allowlist.md are files mcp-gate accepts and messages it signs: the
 * example allowlist loads without a warning, the trust file example parses (its keys are the
 * test keys of Alice and Bob), and the signed message shown is the one `mcp-gate sign` signs
 * for the example's github-official entry.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateAllowlist } from '../../../src/config/load-allowlist.js';
import { parseReviewers } from '../../../src/config/load-reviewers.js';
import { reviewSignatureMessage } from '../../../src/config/review-signature.js';
import { computeReviewSha256 } from '../../../src/config/review-stamp.js';
import { publicKeyLine } from '../../helpers/review-keys.js';

const DOC = readFileSync(path.join(import.meta.dirname, '../../../docs/allowlist.md'), 'utf8');

/** The first fenced block of `language` after `heading`. */
function block(heading: string, language: string, after = ''): string {
  const start = DOC.indexOf(heading);
  const from = after === '' ? start : DOC.indexOf(after, start);
  const open = DOC.indexOf(`\`\`\`${language}\n`, from);
  if (start === -1 || from === -1 || open === -1) throw new Error(`no ${language} block`);
  const body = open + language.length + 4;
  return DOC.slice(body, DOC.indexOf('```', body));
}

describe('docs/allowlist.md', () => {
  const example = validateAllowlist(block('## Example', 'yaml'), {
    fileName: 'example.yaml',
    now: new Date('2026-11-21T00:00:00Z'),
  });

  test('the example allowlist is valid, stamped and current', () => {
    expect(example.ok ? [] : example.errors).toEqual([]);
    expect(example.warnings).toEqual([]);
    if (example.ok) expect(example.entries.every((e) => !e.stampMismatch)).toBe(true);
  });

  test('the trust file example parses, with the keys it says', () => {
    const trust = block('## Review signatures', 'yaml');
    const parsed = parseReviewers(trust);
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
    expect(trust).toContain(publicKeyLine('alice'));
    expect(trust).toContain(publicKeyLine('bob'));
  });

  test('the signed message shown is the one signed for github-official', () => {
    if (!example.ok) throw new Error('example invalid');
    const entry = example.doc.approved.find((e) => e.id === 'github-official');
    if (entry === undefined) throw new Error('no github-official');
    const shown = block('## Review signatures', 'text', 'For `github-official` of the example');
    expect(shown).toBe(
      `${reviewSignatureMessage(entry, 'security-platform', computeReviewSha256(entry))}\n`,
    );
  });
});
