/**
 * validateAllowlist's two paths give one answer: for every fixture, the bench's generated
 * allowlists (with warnings of every kind) and the reader's edge cases, the loader's result is
 * exactly what the precise path alone returns: the same document, compiled entries, hash and
 * warnings, or the same errors at the same positions. The fast path must also actually carry
 * the files it was built for, or it buys nothing.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { generateAllowlist } from '../../../bench/allowlist-gen.js';
import {
  validateAllowlist,
  validateAllowlistPrecisely,
} from '../../../src/config/load-allowlist.js';
import { parseSimpleYaml } from '../../../src/config/simple-yaml.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/allowlists');
const NOW = new Date('2026-11-21T12:00:00Z');
const DAY_MS = 86_400_000;

function bothPaths(text: string, now = NOW): void {
  const options = { fileName: 'allowlist.yaml', now };
  expect(validateAllowlist(text, options)).toEqual(validateAllowlistPrecisely(text, options));
}

function readBySimplePath(text: string): boolean {
  return parseSimpleYaml(text, { numbersAsWritten: ['version'] }) !== undefined;
}

/** Fixtures outside the subset: the precise path alone reads them. */
const OUTSIDE_SUBSET = new Set([
  'invalid-dates.yaml', // a bare number where a date belongs
  'invalid-duplicate-yaml-keys.yaml',
  'invalid-empty.yaml',
  'invalid-missing-keys.yaml', // an empty value
  'invalid-top-level-list.yaml',
  'invalid-types.yaml', // booleans and numbers
  'invalid-version.yaml', // an empty value
  'invalid-yaml-alias.yaml',
  'invalid-yaml-anchors.yaml',
  'invalid-yaml-multiple-docs.yaml',
  'invalid-yaml-syntax.yaml',
  'invalid-yaml-tag.yaml',
  'stamp-commented.yaml', // a folded block scalar
]);

describe('every fixture: the same result on both paths', async () => {
  const files = (await readdir(FIXTURES)).filter((name) => name.endsWith('.yaml')).sort();

  test.each(files)('%s', async (file) => {
    const text = await readFile(join(FIXTURES, file), 'utf8');
    expect(readBySimplePath(text)).toBe(!OUTSIDE_SUBSET.has(file));
    bothPaths(text);
    // Expiry warnings appear on other days; they must be placed alike too.
    bothPaths(text, new Date('2027-04-10T00:00:00Z'));
  });

  test('the bundled deploy/allowlist.yaml takes the fast path', async () => {
    const text = await readFile(
      join(import.meta.dirname, '../../../deploy/allowlist.yaml'),
      'utf8',
    );
    expect(readBySimplePath(text)).toBe(true);
    bothPaths(text);
  });
});

describe('generated allowlists: the same result on both paths', () => {
  const TODAY = new Date('2026-11-21T00:00:00Z');

  test.each([1, 2, 3])('1,000 entries, seed %i, on several days', (seed) => {
    const text = generateAllowlist(1000, TODAY, seed);
    expect(readBySimplePath(text)).toBe(true);
    const result = validateAllowlist(text, { fileName: 'x', now: TODAY });
    // Only the notes about wildcard hosts with tool rules (interception certificates) today.
    expect(result.ok).toBe(true);
    expect(
      result.warnings.filter((w) => !w.message.includes('the interception certificate')),
    ).toEqual([]);
    bothPaths(text, TODAY);
    // Every entry within 30 days of expiry, then every entry expired: 1,000 placed warnings.
    bothPaths(text, new Date(TODAY.getTime() + 170 * DAY_MS));
    bothPaths(text, new Date(TODAY.getTime() + 400 * DAY_MS));
  });

  test('stale stamps and url notes are placed alike', () => {
    let text = generateAllowlist(1000, TODAY, 4);
    // Every tenth stamp goes stale; a few urls gain a query, which matching ignores (a note).
    let count = 0;
    text = text.replace(/review_sha256: ([0-9a-f]{64})/g, (line, stamp: string) =>
      count++ % 10 === 0
        ? `review_sha256: ${stamp.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`
        : line,
    );
    text = text.replace(/(url: https:\/\/\S+)\n/g, (line, url: string) =>
      count++ % 7 === 0 ? `${url}?team=a\n` : line,
    );
    expect(readBySimplePath(text)).toBe(true);
    const result = validateAllowlist(text, { fileName: 'x', now: TODAY });
    expect(result.ok).toBe(true);
    expect(result.warnings.length).toBeGreaterThan(100);
    bothPaths(text, TODAY);
  });

  test('an invalid entry among 1,000: the precise path reports it, at the same place', () => {
    const text = generateAllowlist(1000, TODAY, 5).replace(
      /(\n {4}host: )mcp\.vendor00500\.example\n/,
      '$1MCP.vendor00500.example\n',
    );
    expect(text).toContain('MCP.vendor00500.example');
    const result = validateAllowlist(text, { fileName: 'x', now: TODAY });
    expect(result.ok).toBe(false);
    bothPaths(text, TODAY);
  });

  test('10,000 entries, as the benchmark loads them', () => {
    const text = generateAllowlist(10_000, TODAY);
    expect(readBySimplePath(text)).toBe(true);
    bothPaths(text, TODAY);
  }, 120_000);
});

describe('edge cases of the subset: the same result on both paths', () => {
  const BASE = [
    'version: 2026.11',
    'review_url: https://mcp-review.corp.example/request',
    'approved:',
    '  - id: github-official',
    '    host: api.githubcopilot.com',
    '    transport: http',
    '    scopes: [repo.read]',
    '    review_ticket: SEC-4902',
    '    reviewed_by: security-platform',
    '    reviewed_on: 2026-10-18',
    '    expires_on: 2027-04-18',
    '',
  ].join('\n');
  const SEC = '    reviewed_by: security-platform';

  test.each([
    { name: 'valid as is', text: BASE },
    { name: 'reviewed_by: yes', text: BASE.replace(SEC, '    reviewed_by: yes') },
    { name: 'reviewed_by: true', text: BASE.replace(SEC, '    reviewed_by: true') },
    { name: 'reviewed_by: 0x10', text: BASE.replace(SEC, '    reviewed_by: 0x10') },
    { name: 'reviewed_by: null', text: BASE.replace(SEC, '    reviewed_by: null') },
    { name: 'an alias', text: BASE.replace(SEC, '    reviewed_by: *a') },
    { name: 'an anchor', text: BASE.replace(SEC, '    reviewed_by: &a team') },
    { name: 'a tag', text: BASE.replace(SEC, '    reviewed_by: !!str team') },
    { name: 'a duplicate key', text: BASE.replace(SEC, `${SEC}\n${SEC}`) },
    { name: 'a second document', text: `${BASE}---\nversion: 2\n` },
    { name: 'version 2026.10', text: BASE.replace('2026.11', '2026.10') },
    { name: 'version true', text: BASE.replace('2026.11', 'true') },
    { name: 'a quoted date', text: BASE.replace('2027-04-18', '"2027-04-18"') },
    { name: 'a date-time', text: BASE.replace('2027-04-18', '2027-04-18T00:00:00Z') },
    { name: 'an unknown key', text: BASE.replace(SEC, `${SEC}\n    scope: x`) },
    { name: 'a __proto__ key', text: BASE.replace(SEC, `${SEC}\n    __proto__: x`) },
    { name: 'expired', text: BASE.replace('2027-04-18', '2026-11-01') },
    { name: 'a block list', text: BASE.replace('[repo.read]', '\n      - repo.read\n      - "x"') },
    { name: 'CRLF', text: BASE.replace(/\n/g, '\r\n') },
    {
      name: 'CRLF, expired',
      text: BASE.replace('2027-04-18', '2026-11-01').replace(/\n/g, '\r\n'),
    },
    { name: 'a BOM', text: `\uFEFF${BASE}` },
    {
      name: 'comments',
      text: BASE.replace(/\n/g, '  # c\n').replace('[repo.read]  #', '[repo.read] #'),
    },
  ])('$name', ({ text }) => {
    bothPaths(text);
  });
});
