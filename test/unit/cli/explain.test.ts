/**
 * explain --reviewers: with the trust file serve runs with, explain judges review signatures as
 * serve does; without it, it could call approved an entry the service denies.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runExplain } from '../../../src/cli/explain.js';
import { trustFileText } from '../../helpers/review-keys.js';
import { runCommand } from '../../helpers/run-command.js';

const REPO = join(import.meta.dirname, '../../..');
const REQUEST = join(REPO, 'test/fixtures/check-requests/approved-tool.json');
const ALLOWLIST = join(REPO, 'deploy/allowlist.yaml');

async function explain(extra: string[]): Promise<{ code: number; out: Record<string, unknown> }> {
  const args = ['--allowlist', ALLOWLIST, '--request', REQUEST, '--now', '2026-11-21', ...extra];
  const { code, stdout, stderr } = await runCommand(runExplain, args, {
    now: new Date(),
    env: {},
  });
  expect(stderr).toBe('');
  return { code, out: JSON.parse(stdout) as Record<string, unknown> };
}

describe('mcp-gate explain --reviewers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gate-explain-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('an unsigned entry is approved without a trust file and denied rotation with one', async () => {
    const plain = await explain([]);
    expect(plain).toMatchObject({ code: 0, out: { decision: 'allow', reason: 'approved' } });

    const trust = join(dir, 'reviewers.yaml');
    await writeFile(trust, trustFileText());
    const signedOnly = await explain(['--reviewers', trust]);
    expect(signedOnly).toMatchObject({
      code: 0,
      out: { decision: 'deny', reason: 'rotation', detail: 'signature' },
    });
  });

  test('an unreadable trust file is an error, as for serve', async () => {
    let stderr = '';
    const code = await runExplain(
      ['--allowlist', ALLOWLIST, '--request', REQUEST, '--reviewers', join(dir, 'missing.yaml')],
      { stdout: () => undefined, stderr: (text) => (stderr += text), now: new Date(), env: {} },
    );
    expect(code).toBe(1);
    expect(stderr).toContain('missing.yaml');
  });
});
