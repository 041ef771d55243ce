/**
 * The known-MCP-host list shipped in the package is used when --known-hosts is not given, by
 * `serve` and by `explain`, found relative to the installed package (the processes here run in
 * an unrelated temp directory); `--known-hosts none` opts out, and then a tunnel to a listed
 * host passes as unknown_host. A reload keeps the bundled list in force.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';

import { createAuthzClient, headerOf } from '../helpers/authz-client.js';
import type { AuthzClient, EnvoyCheckResponse } from '../helpers/authz-client.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { githubAllowlist } from '../helpers/github-allowlist.js';
import {
  cleanEnv,
  killServeProcesses,
  listening,
  MAIN,
  ROOT,
  startServe,
  stopWith,
  TEST_SERVE_FLAGS,
  trackChild,
  WAIT_MS,
} from '../helpers/serve-process.js';
import type { ServeOptions } from '../helpers/serve-process.js';

const BUNDLED = path.join(ROOT, 'deploy/known-mcp-hosts.yaml');

let firstHost = '';
const tempDirs: string[] = [];
const clients: AuthzClient[] = [];

beforeAll(async () => {
  // The first entry of the shipped list, whatever it is today.
  const match = /^hosts:\s*\n(?:\s*(?:#.*)?\n)*\s+- ([^\s#]+)/m.exec(
    await readFile(BUNDLED, 'utf8'),
  );
  firstHost = match?.[1] ?? '';
  expect(firstHost).toMatch(/^[a-z0-9.-]+$/);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killServeProcesses();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A temp dir (also the working directory) holding an allowlist that does not name firstHost. */
async function setup(): Promise<{ dir: string; allowlist: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-known-'));
  tempDirs.push(dir);
  const allowlist = path.join(dir, 'allowlist.yaml');
  await writeFile(allowlist, githubAllowlist());
  return { dir, allowlist };
}

async function connectTo(grpc: string, host: string): Promise<EnvoyCheckResponse> {
  const c = createAuthzClient(grpc);
  clients.push(c);
  return c.check(envoyCheckRequest({ method: 'CONNECT', authority: `${host}:443` }));
}

function serve(allowlist: string, extra: readonly string[], options: ServeOptions) {
  return startServe(
    ['--allowlist', allowlist, '--grpc-listen', '127.0.0.1:0', ...TEST_SERVE_FLAGS, ...extra],
    options,
  );
}

describe('serve: the bundled known-MCP-host list by default', () => {
  test('without --known-hosts a CONNECT to a bundled host is unapproved, also after a reload', async () => {
    const { dir, allowlist } = await setup();
    const running = serve(allowlist, [], { cwd: dir });
    const line = await running.waitForLog('mcp-gate listening', listening);
    expect(line['known_hosts']).toBe(BUNDLED);
    const grpc = String(line['grpc']);
    const denied = await connectTo(grpc, firstHost);
    expect(denied.denied_response?.status?.code).toBe('Forbidden');
    expect(headerOf(denied.denied_response?.headers, 'x-mcp-gate-reason')).toBe('unapproved');

    await writeFile(allowlist, githubAllowlist({ version: '2026.12' }));
    running.child.kill('SIGHUP');
    await running.waitForLog('allowlist reloaded', (l) => l['msg'] === 'allowlist reloaded');
    const after = await connectTo(grpc, firstHost);
    expect(headerOf(after.denied_response?.headers, 'x-mcp-gate-reason')).toBe('unapproved');
    expect(await stopWith(running, 'SIGTERM')).toMatchObject({ code: 0, signal: null });
  });

  test.each([
    ['--known-hosts none', ['--known-hosts', 'none'], {}],
    ['MCP_GATE_KNOWN_HOSTS=none', [], { MCP_GATE_KNOWN_HOSTS: 'none' }],
  ])('%s: no list, the CONNECT passes as unknown_host', async (_name, flags, env) => {
    const { dir, allowlist } = await setup();
    const running = serve(allowlist, flags, { cwd: dir, env: cleanEnv(env) });
    const line = await running.waitForLog('mcp-gate listening', listening);
    expect(line['known_hosts']).toBeUndefined();
    const response = await connectTo(String(line['grpc']), firstHost);
    expect(response.status?.code ?? 0).toBe(0);
    expect(response.dynamic_metadata?.fields?.['reason']?.stringValue).toBe('unknown_host');
  });
});

describe('explain: the same default', () => {
  function explainConnect(
    cwd: string,
    allowlist: string,
    extra: readonly string[],
  ): Promise<{ reason: string }> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [MAIN, 'explain', '--allowlist', allowlist, '--request', 'connect.json', ...extra],
        { cwd, env: cleanEnv(), timeout: WAIT_MS },
        (error, stdout, stderr) => {
          if (error !== null) reject(new Error(`explain failed: ${error.message} ${stderr}`));
          else resolve(JSON.parse(stdout) as { reason: string });
        },
      );
      trackChild(child);
    });
  }

  test('without --known-hosts: unapproved; with --known-hosts none: unknown_host', async () => {
    const { dir, allowlist } = await setup();
    const request = {
      attributes: {
        request: {
          http: {
            method: 'CONNECT',
            host: `${firstHost}:443`,
            headers: { ':authority': `${firstHost}:443`, ':method': 'CONNECT' },
          },
        },
      },
    };
    await writeFile(path.join(dir, 'connect.json'), JSON.stringify(request));
    expect(await explainConnect(dir, allowlist, [])).toMatchObject({ reason: 'unapproved' });
    expect(await explainConnect(dir, allowlist, ['--known-hosts', 'none'])).toMatchObject({
      reason: 'unknown_host',
    });
  });
});
