import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseWindowDays, runExpiring } from '../../../src/cli/expiring.js';
import { stamped } from '../../helpers/stamped.js';
import { runCommand } from '../../helpers/run-command.js';
import type { CommandRun } from '../../helpers/run-command.js';

const ROOT = join(import.meta.dirname, '../../..');
const FIXTURES = relative(process.cwd(), join(ROOT, 'test/fixtures/allowlists'));
const EXPIRY = join(FIXTURES, 'warn-expiry.yaml');
const MINIMAL = join(FIXTURES, 'valid-minimal.yaml');
const NOW = '2026-11-21T12:00:00Z';

function run(args: string[]): Promise<CommandRun> {
  return runCommand(runExpiring, args, { now: new Date(NOW) });
}

describe('mcp-gate expiring', () => {
  let dir: string;
  let cosigned: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gate-expiring-'));
    cosigned = join(dir, 'cosigned.yaml');
    await writeFile(
      cosigned,
      stamped(`version: 1
review_url: https://r.example/x
approved:
  - id: warehouse
    transport: stdio
    command: /opt/warehouse-mcp
    review_ticket: SEC-7
    reviewed_by: security
    cosigned_by: data-platform
    reviewed_on: 2026-11-01
    expires_on: 2026-11-25
`),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('--json: by days to expiry, expired first, with ticket, reviewer and FILE:LINE', async () => {
    const { code, stdout, stderr } = await run([
      MINIMAL,
      EXPIRY,
      cosigned,
      '--within',
      '14d',
      '--json',
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual([
      {
        days: -1,
        expires_on: '2026-11-20',
        id: 'expired',
        review_ticket: 'SEC-1',
        reviewed_by: 'security',
        file: EXPIRY,
        line: 4,
      },
      {
        days: 0,
        expires_on: '2026-11-21',
        id: 'last-day',
        review_ticket: 'SEC-1',
        reviewed_by: 'security',
        file: EXPIRY,
        line: 12,
      },
      {
        days: 4,
        expires_on: '2026-11-25',
        id: 'warehouse',
        review_ticket: 'SEC-7',
        reviewed_by: 'security',
        cosigned_by: 'data-platform',
        file: cosigned,
        line: 4,
      },
      {
        days: 10,
        expires_on: '2026-12-01',
        id: 'soon',
        review_ticket: 'SEC-1',
        reviewed_by: 'security',
        file: EXPIRY,
        line: 20,
      },
    ]);
  });

  test('the window takes weeks too, and leaves out what expires later', async () => {
    const days = (out: string): number[] =>
      (JSON.parse(out) as { days: number }[]).map((a) => a.days);
    expect(days((await run([EXPIRY, '--within', '2w', '--json'])).stdout)).toEqual([-1, 0, 10]);
    expect(days((await run([EXPIRY, '--within', '0d', '--json'])).stdout)).toEqual([-1, 0]);
    expect(days((await run([EXPIRY, '--within', '30d', '--json'])).stdout)).toEqual([
      -1, 0, 10, 29, 30,
    ]);
    // The default window is 30 days; 2026-12-21 is 30 calendar days away, 2026-12-22 would not be.
    expect(days((await run([EXPIRY, '--json'])).stdout)).toEqual([-1, 0, 10, 29, 30]);
  });

  test('a table for people', async () => {
    const { stdout } = await run([EXPIRY, cosigned, '--within', '5d']);
    expect(stdout).toBe(
      [
        'DAYS  EXPIRES     ENTRY      TICKET  REVIEWER                 WHERE',
        `-1    2026-11-20  expired    SEC-1   security                 ${EXPIRY}:4`,
        `0     2026-11-21  last-day   SEC-1   security                 ${EXPIRY}:12`,
        `4     2026-11-25  warehouse  SEC-7   security, data-platform  ${cosigned}:4`,
        '',
      ].join('\n'),
    );
    expect((await run([MINIMAL, '--within', '5d'])).stdout).toBe(
      'no approval expires within 5 days\n',
    );
  });

  test('an invalid file is reported as validate reports it; the others are still listed', async () => {
    const invalid = join(FIXTURES, 'invalid-version.yaml');
    const { code, stdout, stderr } = await run([invalid, EXPIRY, '--within', '0d', '--json']);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `${invalid}:1:1 version: expected a string, got an empty value\n${invalid}: invalid allowlist, not listed\n`,
    );
    expect((JSON.parse(stdout) as unknown[]).length).toBe(2);
  });

  test.each([
    { name: 'no file', args: [] },
    { name: 'a bad window', args: [EXPIRY, '--within', '14'] },
    { name: 'a window in hours', args: [EXPIRY, '--within', '12h'] },
    { name: 'a bad --now', args: [EXPIRY, '--now', 'soon'] },
    { name: 'an unknown flag', args: [EXPIRY, '--yaml'] },
  ])('usage error ($name): exit 2', async ({ args }) => {
    const { code, stdout } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  test.each([
    ['14d', 14],
    ['2w', 14],
    ['0d', 0],
    ['1', undefined],
    ['-1d', undefined],
    ['1.5w', undefined],
  ])('window %s is %s days', (text, days) => {
    expect(parseWindowDays(text)).toBe(days);
  });
});
