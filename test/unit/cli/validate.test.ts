import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runValidate } from '../../../src/cli/validate.js';

const ROOT = join(import.meta.dirname, '../../..');
const FIXTURES = relative(process.cwd(), join(ROOT, 'test/fixtures/allowlists'));

async function run(args: string[], now = new Date('2026-11-21T12:00:00Z')) {
  let stdout = '';
  let stderr = '';
  const code = await runValidate(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    now,
  });
  return { code, stdout, stderr };
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
