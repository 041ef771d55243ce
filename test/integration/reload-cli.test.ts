/**
 * `mcp-gate serve` from the TypeScript sources (`node --import tsx
 * test/helpers/main-from-sources.ts`: src/main.ts with the reload thread booted through tsx),
 * because these paths changed with the policy worker and dist/ is built separately: start-up
 * with an invalid, missing or unreadable allowlist exits 1 with every error; in a running
 * process SIGHUP (the only trigger here: watcher and poll are off) reloads through the worker
 * thread, and a broken file on SIGHUP keeps the last good allowlist.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { RELOAD_REJECTED } from '../../src/config/policy-store.js';
import { createAuthzClient } from '../helpers/authz-client.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { rpc } from '../helpers/facts.js';
import { stamped } from '../helpers/stamped.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LISTEN = ['--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'];
const WAIT_MS = 15_000;

function allowlist(version: string, tools: string): string {
  return stamped(`version: ${version}
review_url: https://mcp-review.corp.example/request
approved:
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    scopes: [repo.read]
    tools:
      allow: ["${tools}"]
    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`);
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  children.clear();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-reload-cli-'));
  dirs.push(dir);
  return dir;
}

interface Serve {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  stderr(): string;
  /** The first log line, past or future, that matches; fails if the process exits first. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
}

function serve(args: readonly string[]): Serve {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => key !== 'NODE_OPTIONS' && !key.startsWith('MCP_GATE_'),
    ),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test/helpers/main-from-sources.ts'), 'serve', ...args],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  const logs: Record<string, unknown>[] = [];
  const wakers = new Set<() => void>();
  let rest = '';
  let stderr = '';
  let ended = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines)
      if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of [...wakers]) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      ended = true;
      for (const wake of [...wakers]) wake();
      resolve(code);
    });
  });
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(predicate) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(new Error(`no such log line within ${WAIT_MS} ms; stderr: ${stderr}`));
        }, WAIT_MS);
        const check = (): void => {
          const found = logs.find(predicate);
          if (found === undefined && !ended) return;
          clearTimeout(timer);
          wakers.delete(check);
          if (found !== undefined) resolve(found);
          else reject(new Error(`serve exited before the log line; stderr: ${stderr}`));
        };
        wakers.add(check);
        check();
      });
    },
  };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('serve start-up from the sources: a bad allowlist is fatal', () => {
  test('invalid allowlist and known-host list: exit 1, every error of both files on its own line', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'allowlist.yaml');
    const known = path.join(dir, 'known.yaml');
    await writeFile(
      file,
      allowlist('v1', 'get_*').replace('expires_on: 2027-04-18', 'expires_on: 2027-13-45'),
    );
    await writeFile(known, 'hosts: [Bad.Example]\n');
    const run = serve(['--allowlist', file, '--known-hosts', known, ...LISTEN]);
    expect(await run.exited).toBe(1);
    const lines = run.stderr().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${escape(file)}:13:17 approved\\[0\\]\\.expires_on: `)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${escape(known)}:1:9 hosts\\[0\\]: `)),
    );
    expect(run.stderr()).toContain('not starting: the allowlist is invalid');
    expect(run.logs.filter((l) => l['msg'] === 'mcp-gate listening')).toEqual([]);
  });

  test.each([
    {
      name: 'missing',
      make: (): Promise<void> => Promise.resolve(),
      reason: 'no such file (ENOENT)',
    },
    {
      name: 'a directory',
      make: async (file: string) => {
        await mkdir(file);
      },
      reason: 'is a directory, not a file (EISDIR)',
    },
  ])('allowlist $name: exit 1 naming the file and the reason', async ({ make, reason }) => {
    const dir = await tempDir();
    const file = path.join(dir, 'allowlist.yaml');
    await make(file);
    const run = serve(['--allowlist', file, ...LISTEN]);
    expect(await run.exited).toBe(1);
    expect(run.stderr().split('\n')).toContain(`${file}:1:1 cannot read file: ${reason}`);
  });
});

describe('serve from the sources: SIGHUP', () => {
  test('reloads a changed file; a broken one is rejected and the last good one serves', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(file, allowlist('v1', 'get_*'));
    const run = serve([
      '--allowlist',
      file,
      ...LISTEN,
      '--reload-watch',
      'off',
      '--reload-poll-ms',
      '0',
    ]);
    const listening = await run.waitForLog((l) => l['msg'] === 'mcp-gate listening');
    const client = createAuthzClient(String(listening['grpc']));
    try {
      const call = async (tool: string) => {
        const response = await client.check(
          envoyCheckRequest({
            authority: 'api.githubcopilot.com',
            path: '/mcp',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-protocol-version': '2025-11-25',
            },
            body: rpc('tools/call', { name: tool, arguments: {} }, 1),
          }),
        );
        const fields = response.dynamic_metadata?.fields;
        return `${fields?.['verdict']?.stringValue ?? '?'} ${fields?.['allowlist_version']?.stringValue ?? '?'}`;
      };
      expect(await call('create_issue')).toBe('deny v1');

      await writeFile(file, allowlist('v2', 'create_*'));
      run.child.kill('SIGHUP');
      await run.waitForLog((l) => l['msg'] === 'allowlist reloaded' && l['version'] === 'v2');
      expect(await call('create_issue')).toBe('allow v2');

      await writeFile(file, 'version: v3\napproved: nope\n');
      run.child.kill('SIGHUP');
      const rejected = await run.waitForLog((l) => l['msg'] === RELOAD_REJECTED);
      expect(rejected).toMatchObject({ trigger: 'SIGHUP', attempts: 3 });
      expect(rejected['errors']).toEqual([
        `${file}:1:1 missing required key "review_url"`,
        expect.stringMatching(new RegExp(`^${escape(file)}:2:11 approved: `)),
      ]);
      expect(await call('create_issue')).toBe('allow v2');
    } finally {
      client.close();
    }
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
