import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import { stampAllowlistText } from '../../../src/config/stamp-file.js';
import { AppError, ConfigError } from '../../../src/errors.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/allowlists');
const NOW = new Date('2026-11-21T12:00:00Z');

async function fixture(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), 'utf8');
}

function withoutStampLines(text: string): string[] {
  return text.split('\n').filter((line) => !/^\s*review_sha256:/.test(line));
}

function parse(text: string) {
  return parseAllowlist(text, { fileName: 'x', now: NOW });
}

/** valid-minimal.yaml as it was before anyone stamped it. */
async function unstampedMinimal(): Promise<string> {
  const text = await fixture('valid-minimal.yaml');
  expect(text).toMatch(/^ {4}review_sha256: /m);
  return withoutStampLines(text).join('\n');
}

describe('stampAllowlistText', () => {
  test('comments and layout survive: only review_sha256 lines differ', async () => {
    const before = await fixture('stamp-commented.yaml');
    const { text, stamped, unchanged } = stampAllowlistText(before);
    expect(stamped).toEqual(['github-official', 'linear', 'postgres-readonly']);
    expect(unchanged).toEqual([]);
    expect(withoutStampLines(text)).toEqual(withoutStampLines(before));
    // Two new lines (one entry already had a stamp line, updated in place).
    expect(text.split('\n').length - before.split('\n').length).toBe(2);
  });

  test('each stamp lands at the end of its entry, at the entry indentation', async () => {
    const { text } = stampAllowlistText(await fixture('stamp-commented.yaml'));
    const lines = text.split('\n');
    const stampLine = (after: string): string => lines[lines.indexOf(after) + 1] ?? '';
    expect(stampLine("      deny: ['*delete*']   # deny wins")).toMatch(
      /^ {4}review_sha256: [0-9a-f]{64}$/,
    );
    expect(stampLine('      on-call')).toMatch(/^ {4}review_sha256: [0-9a-f]{64}$/);
    // The stale stamp was replaced in place; its trailing comment stays.
    expect(text).toMatch(/^ {4}review_sha256: [0-9a-f]{64} {2}# stale$/m);
  });

  test('round trip: stamp → valid without warnings; widen a scope → rotation; re-stamp → clean', async () => {
    const { text: stampedText } = stampAllowlistText(await fixture('stamp-commented.yaml'));
    const stamped = parse(stampedText);
    expect(stamped.ok).toBe(true);
    expect(stamped.warnings).toEqual([]);
    if (stamped.ok)
      expect(stamped.policy.entries.map((e) => e.stampMismatch)).toEqual([false, false, false]);
    // The folded block scalar kept its value.
    if (stamped.ok) expect(stamped.policy.entries[2]?.reviewedBy).toBe('data-platform on-call');

    const widened = stampedText.replace('"issues.read" ]', '"issues.read", "repo.write" ]');
    expect(widened).not.toBe(stampedText);
    const changed = parse(widened);
    expect(changed.ok).toBe(true);
    if (changed.ok) {
      expect(changed.policy.entries.map((e) => e.stampMismatch)).toEqual([true, false, false]);
    }
    expect(changed.warnings.map((w) => `${String(w.line)}:${String(w.col)} ${w.message}`)).toEqual([
      '22:20 approved[0].review_sha256: does not match the entry\'s security-relevant fields, which changed since the review; matching requests are denied with reason "rotation" until the change is reviewed and re-stamped with "mcp-gate stamp"',
    ]);

    const restamped = stampAllowlistText(widened);
    expect(restamped.stamped).toEqual(['github-official']);
    expect(restamped.unchanged).toEqual(['linear', 'postgres-readonly']);
    expect(parse(restamped.text).warnings).toEqual([]);
  });

  test('stamping is idempotent', async () => {
    const once = stampAllowlistText(await fixture('stamp-commented.yaml'));
    const twice = stampAllowlistText(once.text);
    expect(twice.text).toBe(once.text);
    expect(twice.stamped).toEqual([]);
    expect(twice.unchanged).toEqual(['github-official', 'linear', 'postgres-readonly']);
  });

  test('--id stamps one entry; an unknown id is an error', async () => {
    const before = await fixture('stamp-commented.yaml');
    const one = stampAllowlistText(before, { id: 'postgres-readonly' });
    expect(one.stamped).toEqual(['postgres-readonly']);
    expect(one.text.split('\n').length - before.split('\n').length).toBe(1);
    expect(() => stampAllowlistText(before, { id: 'nope' })).toThrow(AppError);
    expect(() => stampAllowlistText(before, { id: 'nope' })).toThrow('no entry with id "nope"');
  });

  test('CRLF files stay CRLF', async () => {
    const crlf = (await unstampedMinimal()).replace(/\n/g, '\r\n');
    const { text } = stampAllowlistText(crlf);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    expect(text).toMatch(/\r\n {4}review_sha256: [0-9a-f]{64}\r\n$/);
    expect(parse(text).warnings).toEqual([]);
  });

  test('a file without a final newline gets the stamp on a new line', async () => {
    const text = (await unstampedMinimal()).trimEnd();
    const { text: stamped } = stampAllowlistText(text);
    expect(stamped.startsWith(`${text}\n    review_sha256: `)).toBe(true);
    expect(parse(stamped).ok).toBe(true);
  });

  test('refuses invalid YAML, an invalid entry, and flow-mapping entries', async () => {
    const syntax = await fixture('invalid-yaml-syntax.yaml');
    const dates = await fixture('invalid-dates.yaml');
    expect(() => stampAllowlistText(syntax)).toThrow(ConfigError);
    expect(() => stampAllowlistText(dates)).toThrow(
      'cannot stamp approved[0]: the entry is invalid (run mcp-gate validate)',
    );
    const flow =
      'version: 1\nreview_url: https://r.example/x\napproved:\n' +
      '  - {id: a, host: a.example.com, transport: http, review_ticket: T, reviewed_by: b, reviewed_on: 2026-01-01, expires_on: 2027-01-01}\n';
    // Valid but for its stamp, which is what stamp would add.
    expect(parseAllowlist(flow, { fileName: 'x', now: NOW, stamping: true }).ok).toBe(true);
    expect(() => stampAllowlistText(flow)).toThrow('it is written as a flow mapping');
  });
});
