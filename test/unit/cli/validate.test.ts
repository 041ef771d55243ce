import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runValidate } from '../../../src/cli/validate.js';
import { signedBy, trustFileText } from '../../helpers/review-keys.js';
import { restamped } from '../../helpers/stamped.js';
import { runCommand } from '../../helpers/run-command.js';
import type { CommandRun } from '../../helpers/run-command.js';

const ROOT = join(import.meta.dirname, '../../..');
const FIXTURES = relative(process.cwd(), join(ROOT, 'test/fixtures/allowlists'));

function run(args: string[], now = new Date('2026-11-21T12:00:00Z')): Promise<CommandRun> {
  return runCommand(runValidate, args, { now });
}

describe('mcp-gate validate', () => {
  test('a valid allowlist: exit 0, a summary on stdout, nothing on stderr', async () => {
    const file = join(FIXTURES, 'valid-minimal.yaml');
    const { code, stdout, stderr } = await run([file]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(
      new RegExp(
        `^${file}: valid allowlist, version 2026\\.11, 1 entry, 0 warnings, sha256 [0-9a-f]{64}\\n$`,
      ),
    );
  });

  test('warnings: still exit 0, each as FILE:LINE:COL warning: message', async () => {
    const file = join(FIXTURES, 'warn-url.yaml');
    const { code, stderr } = await run([file]);
    expect(code).toBe(0);
    expect(stderr.split('\n')).toEqual([
      `${file}:7:10 warning: approved[0].url: the query is ignored when matching; only host, port and path count`,
      expect.stringMatching(new RegExp(`^${file}:14:11 warning: approved\\[1\\]\\.host: `)),
      expect.stringMatching(
        new RegExp(
          `^${file}:16:10 warning: approved\\[1\\]\\.url: host docs\\.mcp\\.cloudflare\\.com is narrower`,
        ),
      ),
      '',
    ]);
  });

  test('an invalid allowlist: exit 1, every problem as FILE:LINE:COL message, sorted', async () => {
    const file = join(FIXTURES, 'invalid-expiry-before-review.yaml');
    const { code, stdout, stderr } = await run([file]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      [
        `${file}:10:17 approved[0].expires_on: 2026-10-17 is before reviewed_on 2026-10-18`,
        `${file}:10:17 warning: approved[0].expires_on: approval "linear" expired after 2026-10-17 (UTC); matching requests are denied with reason "expired" until it is renewed`,
        `${file}:18:17 warning: approved[1].expires_on: approval "same-day" expired after 2026-10-18 (UTC); matching requests are denied with reason "expired" until it is renewed`,
        '',
      ].join('\n'),
    );
    expect(stdout).toBe(`${file}: invalid allowlist, 1 error, 2 warnings\n`);
  });

  test('--now fixes the clock', async () => {
    const file = join(FIXTURES, 'valid-minimal.yaml');
    const later = await run([file, '--now', '2027-03-20']);
    expect(later.code).toBe(0);
    expect(later.stderr).toBe(
      `${file}:11:17 warning: approved[0].expires_on: approval "linear" expires after 2027-04-01 (UTC), in 13 days; renew the review before then\n`,
    );
    const expired = await run(['--now', '2027-04-02T00:00:00Z', file]);
    expect(expired.stderr).toContain('expired after 2027-04-01');
  });

  test('a known-MCP-host list is recognised and validated as such', async () => {
    const file = relative(process.cwd(), join(ROOT, 'deploy/known-mcp-hosts.yaml'));
    const { code, stdout, stderr } = await run([file]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(
      new RegExp(`^${file}: valid known-MCP-host list, \\d+ hosts, 0 warnings\\n$`),
    );
  });

  test('the bundled allowlist is valid on 2026-11-21, with its one wildcard warning', async () => {
    const file = relative(process.cwd(), join(ROOT, 'deploy/allowlist.yaml'));
    const { code, stderr } = await run([file]);
    expect(code).toBe(0);
    expect(stderr).toMatch(
      new RegExp(
        `^${file}:107:11 warning: approved\\[5\\]\\.host: \\*\\.mcp\\.cloudflare\\.com matches hosts at any depth[^\\n]*\\n$`,
      ),
    );
  });

  test('an unreadable file: exit 1, FILE:1:1 message', async () => {
    const { code, stderr } = await run(['does-not-exist.yaml']);
    expect(code).toBe(1);
    expect(stderr).toBe('does-not-exist.yaml:1:1 cannot read file: no such file (ENOENT)\n');
  });

  test.each([
    { name: 'no file', args: [] },
    { name: 'an unknown flag', args: ['a.yaml', '--known-hosts', 'b.yaml'] },
    { name: 'a bad --now', args: ['a.yaml', '--now', 'yesterday'] },
  ])('usage error ($name): exit 2', async ({ args }) => {
    const { code, stdout } = await run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  test('--help: exit 0, usage on stdout naming the output format', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('FILE:LINE:COL message');
    expect(stdout).toContain('FILE:LINE:COL warning: message');
  });
});

describe('mcp-gate validate: several files, --strict, --reviewers', () => {
  const minimal = join(FIXTURES, 'valid-minimal.yaml');
  const known = relative(process.cwd(), join(ROOT, 'deploy/known-mcp-hosts.yaml'));
  let dir: string;
  beforeEach(async () => {
    dir = relative(process.cwd(), await mkdtemp(join(tmpdir(), 'mcp-gate-validate-')));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('several files of different kinds: one summary each, exit 1 when one is invalid', async () => {
    const invalid = join(FIXTURES, 'invalid-version.yaml');
    const trust = join(dir, 'reviewers.yaml');
    await writeFile(trust, trustFileText());
    const { code, stdout } = await run([minimal, known, trust, invalid]);
    expect(code).toBe(1);
    expect(stdout.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${minimal}: valid allowlist, `)),
      expect.stringMatching(new RegExp(`^${known}: valid known-MCP-host list, `)),
      `${trust}: valid reviewers file, 3 reviewers`,
      `${invalid}: invalid allowlist, 1 error, 0 warnings`,
      '',
    ]);
    expect((await run([minimal, known, trust])).code).toBe(0);
  });

  test('a broken trust file among the files is reported at its line', async () => {
    const trust = join(dir, 'reviewers.yaml');
    await writeFile(trust, 'reviewers:\n  - name: a\n    keys: [ssh-rsa AAAA x]\n');
    const { code, stderr, stdout } = await run([trust]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `${trust}:3:12 reviewers[0].keys[0]: "ssh-rsa" keys are not accepted; only ssh-ed25519\n`,
    );
    expect(stdout).toBe(`${trust}: invalid reviewers file, 1 error\n`);
  });

  test.each([
    {
      name: 'an expired approval',
      now: '2027-04-02',
      file: 'valid-minimal.yaml',
      error: '11:17 approved[0].expires_on: approval "linear" expired after 2027-04-01 (UTC)',
    },
    {
      name: 'an approval expiring within 30 days',
      now: '2027-03-20',
      file: 'valid-minimal.yaml',
      error:
        '11:17 approved[0].expires_on: approval "linear" expires after 2027-04-01 (UTC), in 13 days',
    },
    {
      name: 'a stale stamp',
      now: '2026-11-21',
      file: 'STALE',
      error: '13:20 approved[0].review_sha256: does not match',
    },
    {
      name: 'a missing stamp in the weaker mode',
      now: '2026-11-21',
      file: 'WEAK',
      error: '6:5 approved[0]: missing required key "review_sha256"',
    },
  ])('--strict: $name is an error (exit 0 without it)', async ({ now, file, error }) => {
    const path = join(dir, 'allowlist.yaml');
    const text = await readFile(join(FIXTURES, 'valid-minimal.yaml'), 'utf8');
    await writeFile(
      path,
      file === 'STALE'
        ? text.replace('transport: http', 'transport: http\n    scopes: [read]')
        : file === 'WEAK'
          ? `require_review_stamp: false\n${text.replace(/ {4}review_sha256: .*\n/, '')}`
          : text,
    );
    const loose = await run([path, '--now', now]);
    expect(loose.code).toBe(0);
    if (file !== 'WEAK')
      expect(loose.stderr).toContain(`${path}:${error}`.replace(/^(\S+ )/, '$1warning: '));
    const strict = await run([path, '--strict', '--now', now]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain(`${path}:${error}`);
    expect(strict.stderr).not.toContain('warning: ');
  });

  test('--strict passes a current, stamped file', async () => {
    expect(await run([minimal, '--strict', '--now', '2026-11-21'])).toMatchObject({
      code: 0,
      stderr: '',
    });
  });

  test('--strict leaves a wildcard or url note a warning', async () => {
    const { code, stderr } = await run([join(FIXTURES, 'warn-url.yaml'), '--strict']);
    expect(code).toBe(0);
    expect(stderr).toContain('warning: approved[0].url: the query is ignored');
  });

  test('--reviewers: an entry re-stamped without a reviewer key fails; signed, it passes', async () => {
    const trust = join(dir, 'reviewers.yaml');
    const path = join(dir, 'allowlist.yaml');
    await writeFile(trust, trustFileText({ security: ['alice'] }));
    const signed = signedBy(await readFile(minimal, 'utf8'), 'linear', 'security', 'alice');
    await writeFile(path, signed);
    const ok = await run(['--reviewers', trust, path]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /: valid allowlist, version 2026\.11, 1 entry, 0 warnings, signatures valid, sha256 /,
    );

    // The attack: widen the entry, re-stamp it (no key needed), keep the old signature.
    await writeFile(
      path,
      restamped(signed.replace('transport: http', 'transport: http\n    tools: { allow: ["*"] }')),
    );
    expect((await run([path])).code).toBe(0);
    const attacked = await run(['--reviewers', trust, path]);
    expect(attacked.code).toBe(1);
    expect(attacked.stderr).toMatch(
      new RegExp(
        `^${path}:\\d+:\\d+ approved\\[0\\]\\.signatures\\[0\\]\\.sig: the signature by "security" does not verify`,
      ),
    );
  });

  test('--strict --reviewers: every problem at once, expiry and signatures alike', async () => {
    const trust = join(dir, 'reviewers.yaml');
    await writeFile(trust, trustFileText({ security: ['alice'] }));
    const { code, stderr } = await run([
      '--strict',
      '--reviewers',
      trust,
      minimal,
      '--now',
      '2027-04-02',
    ]);
    expect(code).toBe(1);
    expect(stderr.split('\n')).toEqual([
      expect.stringMatching(
        /:9:18 approved\[0\]\.reviewed_by: no signature by "security" \(reviewed_by\)/,
      ),
      expect.stringMatching(
        /:11:17 approved\[0\]\.expires_on: approval "linear" expired after 2027-04-01/,
      ),
      '',
    ]);
  });

  test('--reviewers with a broken trust file: nothing is reported valid', async () => {
    const trust = join(dir, 'reviewers.yaml');
    await writeFile(trust, 'reviewers: []\n');
    const { code, stdout, stderr } = await run(['--reviewers', trust, minimal]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `${trust}:1:12 reviewers: list at least one reviewer: with none, no entry can be approved\n`,
    );
    expect(stdout).toBe(`${trust}: invalid reviewers file, 1 error\n`);
  });
});
