/**
 * `serve --reviewers FILE` end to end: the real service, a trust file in its own directory (as a
 * Secret mount would be), and the attack it exists for: someone edits the allowlist and re-stamps
 * it without a reviewer key. The widened entry is denied `rotation`/`signature`, the others keep
 * working; a broken trust file is a rejected reload that keeps the last good state; a trust file
 * change alone is picked up by the directory watcher.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RELOAD_REJECTED } from '../../src/config/policy-store.js';
import { ConfigError } from '../../src/errors.js';
import { createAuthzClient, headerOf } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { githubAllowlist, githubToolCall } from '../helpers/github-allowlist.js';
import { LINEAR_ENTRY, signedBy, trustFileText } from '../helpers/review-keys.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { restamped } from '../helpers/stamped.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

/** Both entries signed by their reviewer. */
const SIGNED = ['github-official', 'linear'].reduce(
  (text, id) => signedBy(text, id, 'security-platform', 'alice'),
  githubAllowlist({ allow: ['get_*'], extraEntries: LINEAR_ENTRY }),
);

/** The attack: github-official widened to every tool and re-stamped, without a reviewer key. */
const WIDENED = restamped(SIGNED.replace('allow: ["get_*"]', 'allow: ["*"]'));

describe('serve --reviewers', () => {
  let trustDir: string;
  let trustFile: string;
  let svc: TestService | undefined;
  let client: AuthzClient | undefined;

  const start = async (allowlist: string, watch: 'on' | 'off' = 'off'): Promise<TestService> => {
    svc = await startTestService({
      allowlist,
      now: () => NOW,
      flags: { reviewers: trustFile, 'reload-watch': watch },
    });
    client = createAuthzClient(svc.grpcAddress);
    return svc;
  };

  const check = async (tool: string) => {
    if (client === undefined) throw new Error('not started');
    const response = await client.check(githubToolCall(tool));
    const headers = response.denied_response?.headers;
    return {
      code: response.status?.code ?? 0,
      reason: headerOf(headers, 'x-mcp-gate-reason'),
      detail: headerOf(headers, 'x-mcp-gate-detail'),
      body: response.denied_response?.body,
    };
  };

  beforeEach(async () => {
    trustDir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-reviewers-'));
    trustFile = path.join(trustDir, 'reviewers.yaml');
    await writeFile(trustFile, trustFileText());
  });
  afterEach(async () => {
    client?.close();
    await svc?.stop();
    svc = undefined;
    client = undefined;
    await rm(trustDir, { recursive: true, force: true });
  });

  test('signed entries approve; an entry re-stamped without a reviewer key is denied rotation/signature', async () => {
    const service = await start(SIGNED);
    expect(await check('get_issue')).toMatchObject({ code: 0 });

    await writeFile(service.allowlistPath, WIDENED);
    await service.service.store.reload('test');
    expect(service.service.store.current?.policy.entries.map((e) => e.id)).toEqual([
      'github-official',
      'linear',
    ]);
    const denied = await check('get_issue');
    expect(denied).toMatchObject({ code: 7, reason: 'rotation', detail: 'signature' });
    expect(denied.body).toContain(
      'The approval for MCP server github-official carries no valid signature from its reviewers',
    );
    expect((await check('delete_repo')).reason).toBe('rotation');
    // The warning names the entry and the line of its signature.
    const warned = service.logs.find((l) => l['msg'] === 'allowlist warnings');
    expect(JSON.stringify(warned?.['warnings'])).toMatch(
      /allowlist\.yaml:\d+:\d+ approved\[0\]\.signatures\[0\]\.sig: the signature by \\"security-platform\\" does not verify/,
    );
    // Signed again by the reviewer, the widened entry is approved.
    await writeFile(
      service.allowlistPath,
      signedBy(WIDENED, 'github-official', 'security-platform', 'alice'),
    );
    await service.service.store.reload('test');
    expect(await check('delete_repo')).toMatchObject({ code: 0 });
  });

  test("a signature by someone else's key under the reviewer's name is denied", async () => {
    await start(signedBy(SIGNED, 'github-official', 'security-platform', 'mallory'));
    expect(await check('get_issue')).toMatchObject({ reason: 'rotation', detail: 'signature' });
  });

  test('a broken trust file is a rejected reload: the last good state keeps serving', async () => {
    const service = await start(SIGNED);
    await writeFile(trustFile, 'reviewers:\n  - name: security-platform\n    keys: []\n');
    await service.service.store.reload('test');
    const rejected = service.logs.find((l) => l['msg'] === RELOAD_REJECTED);
    expect(rejected?.['errors']).toEqual([
      `${trustFile}:3:11 reviewers[0].keys: every reviewer needs at least one key`,
    ]);
    expect(await check('get_issue')).toMatchObject({ code: 0 });
    // While the trust file is broken no change is taken, the widened allowlist included.
    await writeFile(service.allowlistPath, WIDENED);
    await service.service.store.reload('test');
    expect(service.logs.filter((l) => l['msg'] === RELOAD_REJECTED)).toHaveLength(2);
    expect(await check('get_issue')).toMatchObject({ code: 0 });
    expect(await check('delete_repo')).toMatchObject({ code: 7, reason: 'tool_not_allowed' });
  });

  test('a reviewer removed from the trust file: their entries are denied at the next reload', async () => {
    const service = await start(SIGNED, 'on');
    const reloaded = service.waitForLog((l) => l['msg'] === 'allowlist reloaded');
    await writeFile(trustFile, trustFileText({ 'data-platform': ['bob'] }));
    expect(await reloaded).toMatchObject({ trigger: 'watch' });
    expect(await check('get_issue')).toMatchObject({ reason: 'rotation', detail: 'signature' });
  });

  test('an allowlist that breaks its governance rules is refused: the last good one serves', async () => {
    const service = await start(SIGNED);
    const governed = SIGNED.replace(
      'approved:\n',
      'governance:\n  max_approval_days: 183\napproved:\n',
    );
    await writeFile(service.allowlistPath, governed);
    await service.service.store.reload('test');
    const rejected = service.logs.find((l) => l['msg'] === RELOAD_REJECTED);
    const limit =
      'governance.max_approval_days allows 183 (a longer approval needs a new review: a new reviewed_on and stamp)';
    expect(rejected?.['errors']).toEqual([
      `${service.allowlistPath}:17:17 approved[0].expires_on: 2099-04-18 is 26480 days after reviewed_on 2026-10-18; ${limit}`,
      `${service.allowlistPath}:30:17 approved[1].expires_on: 2099-05-02 is 26479 days after reviewed_on 2026-11-02; ${limit}`,
    ]);
    expect(service.service.store.current?.policy.version).toBe('2026.11');
    expect(await check('get_issue')).toMatchObject({ code: 0 });
  });

  test('at start-up a broken trust file is fatal, like a broken allowlist', async () => {
    await writeFile(trustFile, 'reviewers:\n  - name: a\n    keys: [ssh-rsa AAAA x]\n');
    await expect(start(SIGNED)).rejects.toThrow(ConfigError);
    await expect(start(SIGNED)).rejects.toThrow(
      `${trustFile}:3:12 reviewers[0].keys[0]: "ssh-rsa" keys are not accepted; only ssh-ed25519`,
    );
  });
});
