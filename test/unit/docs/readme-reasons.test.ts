/**
 * README's table of reason codes is the one the people who get a deny and the SREs who read the
 * logs look up: it names every reason the service can give, once, with its verdict.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { ALLOW_REASONS, DENY_REASONS } from '../../../src/core/policy/policy.js';

const README = readFileSync(path.join(import.meta.dirname, '../../../README.md'), 'utf8');

test('one reason table, listing every allow and deny reason once with its verdict', () => {
  expect(README.split('\n## Decisions and reason codes\n').length).toBe(2);
  const section = README.slice(README.indexOf('\n## Decisions and reason codes\n'));
  const rows = section
    .slice(0, section.indexOf('\n\n', section.indexOf('| reason')))
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  const listed = rows.map(([, reason, verdict]) => [reason?.replaceAll('`', ''), verdict]);
  const expected = [
    ...ALLOW_REASONS.map((reason) => [reason, 'allow']),
    ...DENY_REASONS.map((reason) => [reason, 'deny']),
  ];
  expect([...listed].sort()).toEqual([...expected].sort());
});
