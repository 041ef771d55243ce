import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runSign } from '../../../src/cli/sign.js';
import { runValidate } from '../../../src/cli/validate.js';
import {
  KEY_FILES,
  publicKeyLine,
  REVIEW_KEYS_DIR,
  trustFileText,
  WAREHOUSE_ENTRY,
} from '../../helpers/review-keys.js';
import { stamped } from '../../helpers/stamped.js';
import { runCommand } from '../../helpers/run-command.js';
import type { CommandRun } from '../../helpers/run-command.js';

const NOW = new Date('2026-11-21T12:00:00Z');

const ALLOWLIST = `version: 2026.11
review_url: https://mcp-review.corp.example/request
approved:
  # Reviewed in SEC-4902.
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    tools:
      allow: ['get_*']   # read-only
    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
${WAREHOUSE_ENTRY}`;

function cli(run: typeof runSign, args: string[]): Promise<CommandRun> {
  return runCommand(run, args, { now: NOW });
}

describe('mcp-gate sign', () => {
  let dir: string;
  let file: string;
  let trust: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gate-sign-'));
    file = join(dir, 'allowlist.yaml');
    trust = join(dir, 'reviewers.yaml');
    await writeFile(file, stamped(ALLOWLIST));
    await writeFile(trust, trustFileText());
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const validate = (): ReturnType<typeof cli> =>
    cli(runValidate, ['--reviewers', trust, '--now', NOW.toISOString(), file]);

  test('the reviewer and the co-signer sign; validate --reviewers then accepts the file', async () => {
    expect((await validate()).code).toBe(1);
    const before = await readFile(file, 'utf8');
    for (const [id, key, as] of [
      ['github-official', KEY_FILES.alice, undefined],
      ['warehouse', KEY_FILES.alice, undefined],
      ['warehouse', KEY_FILES.bob, 'data-platform'],
    ] as const) {
      const args = [file, '--id', id, '--key', key, '--reviewers', trust];
      const result = await cli(runSign, as === undefined ? args : [...args, '--as', as]);
      expect(result).toEqual({
        code: 0,
        stdout: `signed ${id} as ${as ?? 'security-platform'}\n`,
        stderr: '',
      });
    }
    const after = await readFile(file, 'utf8');
    // Only signature lines were added; comments and layout are as they were.
    const added = after.split('\n').filter((line) => !before.split('\n').includes(line));
    const github = ['    signatures:', '      - by: security-platform', '        sig: …'];
    expect(added.map((line) => line.replace(/sig: \S+$/, 'sig: …'))).toEqual([
      ...github,
      ...github,
      '      - by: data-platform',
      '        sig: …',
    ]);
    expect(after).toContain("allow: ['get_*']   # read-only");
    expect(await validate()).toMatchObject({ code: 0, stderr: '' });
  });

  test('signing again replaces the signature rather than adding one', async () => {
    const args = [file, '--id', 'github-official', '--key', KEY_FILES.alice];
    expect((await cli(runSign, args)).code).toBe(0);
    const once = await readFile(file, 'utf8');
    // Renewed: the signature covers expires_on, so it must be made again.
    await writeFile(
      file,
      once.replace(
        'expires_on: 2027-04-18\n    review_sha256',
        'expires_on: 2027-04-19\n    review_sha256',
      ),
    );
    expect((await cli(runSign, args)).code).toBe(0);
    const twice = await readFile(file, 'utf8');
    expect(twice.match(/- by: security-platform/g)).toHaveLength(1);
    expect(twice).not.toBe(
      once.replace('2027-04-18\n    review_sha256', '2027-04-19\n    review_sha256'),
    );
  });

  test.each([
    {
      name: 'an unstamped entry (stamp it first)',
      prepare: (text: string) =>
        text.replace(/\n {4}review_sha256: \S+(?=\n {2}- id: warehouse)/, ''),
      args: ['--id', 'github-official', '--key', KEY_FILES.alice],
      stderr: 'not signed: the allowlist is invalid',
    },
    {
      name: 'a stale stamp',
      prepare: (text: string) => text.replace("allow: ['get_*']", "allow: ['*']"),
      args: ['--id', 'github-official', '--key', KEY_FILES.alice],
      stderr:
        'not signed: entry "github-official" has a stale review_sha256; stamp the reviewed entry first: mcp-gate stamp',
    },
    {
      name: 'a signer who is not the reviewer',
      prepare: (text: string) => text,
      args: ['--id', 'github-official', '--key', KEY_FILES.mallory, '--as', 'eng-productivity'],
      stderr:
        'not signed: "eng-productivity" is neither the entry\'s reviewed_by ("security-platform") nor its cosigned_by',
    },
    {
      name: 'a key the trust file does not list for the reviewer',
      prepare: (text: string) => text,
      args: ['--id', 'github-official', '--key', KEY_FILES.mallory, '--reviewers', 'TRUST'],
      stderr: 'not signed: this key is not listed for "security-platform" in',
    },
    {
      name: 'an unknown id',
      prepare: (text: string) => text,
      args: ['--id', 'nope', '--key', KEY_FILES.alice],
      stderr: 'not signed: no entry with id "nope"',
    },
    {
      name: 'an encrypted key',
      prepare: (text: string) => text,
      args: ['--id', 'github-official', '--key', join(REVIEW_KEYS_DIR, 'carol-encrypted-openssh')],
      stderr: 'the OpenSSH key is encrypted (passphrase-protected)',
    },
  ])('refused, file untouched: $name', async ({ prepare, args, stderr }) => {
    await writeFile(file, prepare(await readFile(file, 'utf8')));
    const before = await readFile(file, 'utf8');
    const result = await cli(runSign, [file, ...args.map((a) => (a === 'TRUST' ? trust : a))]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(stderr);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  test('--public-key prints the line for the trust file, from either key format', async () => {
    expect(await cli(runSign, ['--key', KEY_FILES.alice, '--public-key'])).toEqual({
      code: 0,
      stdout: `${publicKeyLine('alice').replace(/ alice@corp\.example$/, '')}\n`,
      stderr: '',
    });
    const bob = await cli(runSign, [
      '--key',
      KEY_FILES.bob,
      '--public-key',
      '--as',
      'bob@corp.example',
    ]);
    expect(bob.stdout).toBe(`${publicKeyLine('bob')}\n`);
  });

  test.each([
    { name: 'no --key', args: ['a.yaml', '--id', 'x'] },
    { name: 'no --id', args: ['a.yaml', '--key', 'k'] },
    { name: 'no file', args: ['--id', 'x', '--key', 'k'] },
    { name: 'two files', args: ['a.yaml', 'b.yaml', '--id', 'x', '--key', 'k'] },
    { name: '--public-key with a file', args: ['a.yaml', '--key', 'k', '--public-key'] },
    { name: 'an unknown flag', args: ['a.yaml', '--id', 'x', '--key', 'k', '--force'] },
  ])('usage error ($name): exit 2', async ({ args }) => {
    const result = await cli(runSign, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: mcp-gate sign FILE --id ID --key KEY');
  });

  test('--help: exit 0, names the signed message and the key formats', async () => {
    const { code, stdout } = await cli(runSign, ['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('PKCS#8 PEM');
    expect(stdout).toContain('encrypted keys are refused');
  });
});
