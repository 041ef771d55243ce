/**
 * Allowlist reloads under file-system faults, end to end: the real service in-process, the
 * allowlist changed on disk the way real tools change it, and every outcome read from outside:
 * the policy in force through a gRPC Check, the reload metrics through /metrics, the errors
 * through the log. Poll is off unless a test says so, so every reload here comes from the
 * directory watcher; every wait is for a log line, never a sleep.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import {
  chmod,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  rmdir,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RELOAD_REJECTED } from '../../src/config/policy-store.js';
import { createAuthzClient } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { githubToolCall } from '../helpers/github-allowlist.js';
import { startTestService } from '../helpers/service.js';
import type { TestService, TestServiceOptions } from '../helpers/service.js';
import { stamped } from '../helpers/stamped.js';

const T0 = Date.parse('2026-11-21T12:00:00Z');
const KNOWN_HOSTS = 'hosts: [mcp.notion.com]\n';

/** An allowlist whose github entry allows `get_*` plus the given extra tool globs. */
function allowlist(version: string, extraTools: readonly string[] = []): string {
  const tools = ['"get_*"', ...extraTools.map((t) => JSON.stringify(t))].join(', ');
  return stamped(`version: ${version}
review_url: https://mcp-review.corp.example/request
approved:
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    url: https://api.githubcopilot.com/mcp/
    scopes: [repo.read]
    tools:
      allow: [${tools}]
    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`);
}

const V1 = allowlist('v1');
/** v2 also allows create_* tools: a Check on create_issue tells the two apart. */
const V2 = allowlist('v2', ['create_*']);
const V3 = allowlist('v3', ['create_*', 'list_*']);

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

let clock = T0;
let svc: TestService;
let client: AuthzClient;

async function start(flags: TestServiceOptions['flags'] = {}): Promise<void> {
  clock = T0;
  svc = await startTestService({
    allowlist: V1,
    knownHosts: KNOWN_HOSTS,
    now: () => clock,
    flags,
  });
  client = createAuthzClient(svc.grpcAddress);
}

beforeEach(async () => {
  await start();
});
afterEach(async () => {
  client.close();
  await svc.stop();
});

// ---------------------------------------------------------------------------------------------
// Reading the outcome from outside

interface InForce {
  readonly verdict: string | undefined;
  readonly reason: string | undefined;
  readonly version: string | undefined;
}

/** A tools/call on the github entry, as Envoy sends it; what the service decided, and under which allowlist. */
async function check(tool: string): Promise<InForce> {
  const response = await client.check(githubToolCall(tool));
  const fields = response.dynamic_metadata?.fields;
  return {
    verdict: fields?.['verdict']?.stringValue,
    reason: fields?.['reason']?.stringValue,
    version: fields?.['allowlist_version']?.stringValue,
  };
}

/** The allowlist in force as seen by a Check: v1 denies create_issue, v2 and v3 allow it. */
async function expectPolicy(version: string): Promise<void> {
  const created = await check('create_issue');
  expect(created.version).toBe(version);
  expect(created.verdict).toBe(version === 'v1' ? 'deny' : 'allow');
  if (version === 'v1') expect(created.reason).toBe('tool_not_allowed');
  expect(await check('get_issue')).toMatchObject({ verdict: 'allow', version });
}

interface ReloadMetrics {
  readonly success: number;
  readonly failure: number;
  readonly lastSuccess: number;
  /** Every `mcp_gate_allowlist_info` series, as `version sha256`. */
  readonly info: string[];
}

async function reloadMetrics(): Promise<ReloadMetrics> {
  const text = await (await fetch(`${svc.httpUrl}/metrics`)).text();
  const value = (series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    if (line === undefined) throw new Error(`no series ${series} in /metrics`);
    return Number(line.slice(series.length + 1));
  };
  const info = [
    ...text.matchAll(/^mcp_gate_allowlist_info\{version="([^"]*)",sha256="([^"]*)"\} 1$/gm),
  ];
  return {
    success: value('mcp_gate_allowlist_reloads_total{result="success"}'),
    failure: value('mcp_gate_allowlist_reloads_total{result="failure"}'),
    lastSuccess: value('mcp_gate_allowlist_last_reload_success_timestamp_seconds'),
    info: info.map((m) => `${m[1] ?? ''} ${m[2] ?? ''}`),
  };
}

/** A reload that succeeded: counted once more, stamped with the clock, info names the file. */
async function expectReloaded(before: ReloadMetrics, version: string, text: string) {
  const after = await reloadMetrics();
  expect(after).toEqual({
    success: before.success + 1,
    failure: before.failure,
    lastSuccess: clock / 1000,
    info: [`${version} ${sha256(text)}`],
  });
  await expectPolicy(version);
}

/** A reload that failed: counted, nothing else moved, the last good allowlist answers. */
async function expectRejected(before: ReloadMetrics, version: string) {
  const after = await reloadMetrics();
  expect(after).toEqual({ ...before, failure: before.failure + 1 });
  await expectPolicy(version);
}

/** The next log line (after every line so far) that matches. */
function nextLog(predicate: (line: Record<string, unknown>) => boolean) {
  const from = svc.logs.length;
  return svc.waitForLog((line) => svc.logs.indexOf(line) >= from && predicate(line));
}

const reloadedTo = (version: string) =>
  nextLog((l) => l['msg'] === 'allowlist reloaded' && l['version'] === version);
const rejected = () => nextLog((l) => l['msg'] === RELOAD_REJECTED);
const notValidYet = () =>
  nextLog((l) => l['msg'] === 'allowlist not valid yet; reading it again after a pause');
const unchanged = () => nextLog((l) => l['msg'] === 'allowlist unchanged');

/** Moves the clock, so a success stamps a time of its own. */
function tick(): void {
  clock += 60_000;
}

// ---------------------------------------------------------------------------------------------

describe('reload faults: how the file changes', () => {
  test('atomic rename: a temp file renamed over the allowlist is loaded', async () => {
    await expectPolicy('v1');
    const before = await reloadMetrics();
    tick();
    const loaded = reloadedTo('v2');
    const temp = path.join(svc.dir, '.allowlist.yaml.tmp');
    await writeFile(temp, V2);
    await rename(temp, svc.allowlistPath);
    expect(await loaded).toMatchObject({ trigger: 'watch', previous_version: 'v1' });
    await expectReloaded(before, 'v2', V2);
  });

  test('truncate-and-write seen half-written: not acted on, read again, the whole file loads', async () => {
    const before = await reloadMetrics();
    tick();
    const half = V2.indexOf('    tools:');
    const sawHalf = notValidYet();
    const loaded = reloadedTo('v2');
    const file = await open(svc.allowlistPath, 'w');
    try {
      await file.write(V2.slice(0, half + '    tools:\n      allow: ['.length));
      await file.sync();
      // The watcher has read the first half and judged it invalid; now the writer finishes.
      const first = await sawHalf;
      expect(first['errors']).toEqual(
        expect.arrayContaining([expect.stringContaining(`${svc.allowlistPath}:`)]),
      );
      await file.write(V2.slice(half + '    tools:\n      allow: ['.length));
    } finally {
      await file.close();
    }
    await loaded;
    expect(svc.logs.filter((l) => l['msg'] === RELOAD_REJECTED)).toEqual([]);
    await expectReloaded(before, 'v2', V2);
  });

  test('editor-style save (rename to backup, rename temp in): the gap is not a failure', async () => {
    const before = await reloadMetrics();
    tick();
    const temp = path.join(svc.dir, '.allowlist.yaml.swp');
    const backup = path.join(svc.dir, 'allowlist.yaml~');
    await writeFile(temp, V2);
    const sawGap = notValidYet();
    const loaded = reloadedTo('v2');
    await rename(svc.allowlistPath, backup);
    // Wait until a reload has found the file missing, then finish the save.
    expect(JSON.stringify((await sawGap)['errors'])).toContain('(ENOENT)');
    await rename(temp, svc.allowlistPath);
    await loaded;
    await expectReloaded(before, 'v2', V2);
  });

  test('Kubernetes ConfigMap: files are symlinks into ..data, swapped by renaming a temp symlink', async () => {
    // The layout kubelet writes: a timestamped directory, `..data` pointing at it, and each key
    // a symlink through `..data`. Converting the plain files keeps their content: no reload.
    const first = '..2026_11_21_12_00_00.000000001';
    await mkdir(path.join(svc.dir, first));
    await writeFile(path.join(svc.dir, first, 'allowlist.yaml'), V1);
    await writeFile(path.join(svc.dir, first, 'known-mcp-hosts.yaml'), KNOWN_HOSTS);
    await symlink(first, path.join(svc.dir, '..data'));
    for (const name of ['allowlist.yaml', 'known-mcp-hosts.yaml']) {
      const link = path.join(svc.dir, `${name}.link`);
      await symlink(path.join('..data', name), link);
      await rename(link, path.join(svc.dir, name));
    }
    await svc.service.store.reload('test');
    const before = await reloadMetrics();
    expect(before.success).toBe(1);

    tick();
    const loaded = reloadedTo('v2');
    const second = '..2026_11_21_12_05_00.000000002';
    await mkdir(path.join(svc.dir, second));
    await writeFile(path.join(svc.dir, second, 'allowlist.yaml'), V2);
    await writeFile(path.join(svc.dir, second, 'known-mcp-hosts.yaml'), KNOWN_HOSTS);
    await symlink(second, path.join(svc.dir, '..data_tmp'));
    await rename(path.join(svc.dir, '..data_tmp'), path.join(svc.dir, '..data'));
    await rm(path.join(svc.dir, first), { recursive: true });
    await loaded;
    await expectReloaded(before, 'v2', V2);
  });

  test('file deleted: rejected once, last good serves; recreated as it was: no reload; then changed: loaded', async () => {
    const before = await reloadMetrics();
    tick();
    const failed = rejected();
    await unlink(svc.allowlistPath);
    const line = await failed;
    expect(line['errors']).toEqual([
      `${svc.allowlistPath}:1:1 cannot read file: no such file (ENOENT)`,
    ]);
    expect(line['attempts']).toBe(3);
    await expectRejected(before, 'v1');

    // The same bytes again: nothing to reload (and the earlier failure is not repeated).
    const afterFailure = await reloadMetrics();
    const same = unchanged();
    await writeFile(svc.allowlistPath, V1);
    await same;
    expect(await reloadMetrics()).toEqual(afterFailure);

    tick();
    const loaded = reloadedTo('v2');
    await writeFile(svc.allowlistPath, V2);
    await loaded;
    await expectReloaded(afterFailure, 'v2', V2);
  });

  test('unreadable file: rejected with the reason, last good serves; readable again: loaded', async () => {
    const before = await reloadMetrics();
    tick();
    await chmod(svc.allowlistPath, 0o000);
    let readableAnyway = true;
    try {
      await readFile(svc.allowlistPath);
    } catch {
      readableAnyway = false;
    }
    const failed = rejected();
    let expected: string;
    if (readableAnyway) {
      // Root reads a mode-000 file regardless: make the path unreadable another way.
      console.info(
        'reload-faults: mode 000 does not stop reads for this user (root?); ' +
          'the unreadable allowlist is a directory in its place instead',
      );
      await unlink(svc.allowlistPath);
      await mkdir(svc.allowlistPath);
      expected = 'is a directory, not a file (EISDIR)';
    } else {
      // A chmod alone raises no content event on every platform: ask as SIGHUP would.
      void svc.service.store.reload('test');
      expected = 'permission denied (EACCES)';
    }
    expect((await failed)['errors']).toEqual([
      `${svc.allowlistPath}:1:1 cannot read file: ${expected}`,
    ]);
    await expectRejected(before, 'v1');

    const afterFailure = await reloadMetrics();
    tick();
    const loaded = reloadedTo('v2');
    if (readableAnyway) {
      await rmdir(svc.allowlistPath);
      await writeFile(svc.allowlistPath, V2);
    } else {
      await writeFile(svc.allowlistPath, V2);
      await chmod(svc.allowlistPath, 0o644);
    }
    await loaded;
    await expectReloaded(afterFailure, 'v2', V2);
  });

  test('directory replaced: the new directory is loaded, and then watched', async () => {
    const old = `${svc.dir}.old`;
    try {
      const before = await reloadMetrics();
      tick();
      const loaded = reloadedTo('v2');
      await rename(svc.dir, old);
      await mkdir(svc.dir);
      await writeFile(svc.knownHostsPath, KNOWN_HOSTS);
      await writeFile(svc.allowlistPath, V2);
      await loaded;
      await expectReloaded(before, 'v2', V2);

      // A watch follows the old directory; a change in the new one must still be seen.
      const next = await reloadMetrics();
      tick();
      const again = reloadedTo('v3');
      await writeFile(svc.allowlistPath, V3);
      expect(await again).toMatchObject({ trigger: 'watch' });
      await expectReloaded(next, 'v3', V3);
    } finally {
      await rm(old, { recursive: true, force: true });
    }
  });

  test('a burst of 20 writes: one reload, the last content wins', async () => {
    const before = await reloadMetrics();
    tick();
    const versions = Array.from({ length: 20 }, (_, i) => `burst.${i + 1}`);
    const loaded = reloadedTo('burst.20');
    // Synchronous writes: the whole burst lands before the watcher's events are handled.
    for (const version of versions) {
      writeFileSync(svc.allowlistPath, allowlist(version, ['create_*']));
    }
    await loaded;
    // A coalescing pass may follow; wait for it to find nothing new before counting.
    await svc.service.store.reload('test');
    const after = await reloadMetrics();
    expect(after).toEqual({
      success: before.success + 1,
      failure: before.failure,
      lastSuccess: clock / 1000,
      info: [`burst.20 ${sha256(allowlist('burst.20', ['create_*']))}`],
    });
    expect(await check('create_issue')).toMatchObject({ verdict: 'allow', version: 'burst.20' });
    expect(
      svc.logs.filter((l) => l['msg'] === 'allowlist reloaded').map((l) => l['version']),
    ).toEqual(['burst.20']);
  });

  test('an unchanged file touched or rewritten with the same bytes: no reload', async () => {
    const before = await reloadMetrics();
    tick();
    const touched = unchanged();
    const when = new Date();
    await utimes(svc.allowlistPath, when, when);
    expect(await touched).toMatchObject({ trigger: 'watch' });
    const rewritten = unchanged();
    await writeFile(svc.allowlistPath, V1);
    await rewritten;
    expect(await reloadMetrics()).toEqual(before);
    expect(svc.logs.filter((l) => l['msg'] === 'allowlist reloaded')).toEqual([]);
    await expectPolicy('v1');
  });
});

describe('reload faults: what an operator sees', () => {
  test('an invalid reload logs every error of both files as FILE:LINE:COL; reported once; fixed: loaded', async () => {
    const before = await reloadMetrics();
    tick();
    const broken = V2.replace('scopes: [repo.read]', 'scopes: [repo.read]\n    colour: blue')
      .replace('expires_on: 2027-04-18', 'expires_on: 2027-13-45')
      .replace('review_url: https://mcp-review.corp.example/request', 'review_url: ftp://x');
    const brokenHosts = 'hosts: ["MCP.Example.com", 42]\n';
    const failed = rejected();
    // Both files change in one burst; one reload judges them together.
    writeFileSync(svc.knownHostsPath, brokenHosts);
    writeFileSync(svc.allowlistPath, broken);
    const line = await failed;
    const errors = line['errors'] as string[];
    const at = (file: string, lineNo: number, col: number, text: string): unknown =>
      expect.stringMatching(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${lineNo}:${col} ${text}`),
      );
    expect(errors).toEqual([
      at(svc.allowlistPath, 2, 13, 'review_url: '),
      at(svc.allowlistPath, 9, 5, 'approved\\[0\\]: unknown key "colour"'),
      at(svc.allowlistPath, 15, 17, 'approved\\[0\\]\\.expires_on: '),
      at(svc.knownHostsPath, 1, 9, 'hosts\\[0\\]: '),
      at(svc.knownHostsPath, 1, 28, 'hosts\\[1\\]: '),
    ]);
    expect(line['attempts']).toBe(3);
    await expectRejected(before, 'v1');

    // The same broken content again (a touch, a poll): not reported twice.
    const afterFailure = await reloadMetrics();
    const again = unchanged();
    const when = new Date();
    await utimes(svc.allowlistPath, when, when);
    await again;
    expect(await reloadMetrics()).toEqual(afterFailure);
    expect(svc.logs.filter((l) => l['msg'] === RELOAD_REJECTED)).toHaveLength(1);

    tick();
    const loaded = reloadedTo('v2');
    writeFileSync(svc.knownHostsPath, KNOWN_HOSTS);
    writeFileSync(svc.allowlistPath, V2);
    await loaded;
    await expectReloaded(afterFailure, 'v2', V2);
  });

  test('with the watcher off (--reload-watch off), the periodic re-read picks the change up', async () => {
    client.close();
    await svc.stop();
    await start({ 'reload-watch': 'off', 'reload-poll-ms': '100' });
    const before = await reloadMetrics();
    tick();
    const loaded = reloadedTo('v2');
    await writeFile(svc.allowlistPath, V2);
    expect(await loaded).toMatchObject({ trigger: 'poll' });
    expect(svc.logs.filter((l) => l['trigger'] === 'watch')).toEqual([]);
    await expectReloaded(before, 'v2', V2);
  });
});
