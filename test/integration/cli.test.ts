/**
 * The built CLI (`node dist/main.js`, fresh from `npm test`'s pretest build) as a subprocess:
 * exit codes, start-up failures, a running `serve` over TCP and a Unix socket, signals, env vars
 * and `explain` on CheckRequest fixtures in proto3 JSON.
 *
 * Deterministic by construction: every wait is for a log line or an exit, never a sleep; every
 * wait fails early (with the child's stderr) when the child exits first. Children still running
 * after a test are killed in afterEach.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';

import { isDecisionId } from '../../src/core/decision-id.js';
import { createAuthzClient, headerOf } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { rpc } from '../helpers/facts.js';
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
import { restamped, stamped } from '../helpers/stamped.js';

const DEPLOY_ALLOWLIST = 'deploy/allowlist.yaml';
const DEPLOY_KNOWN_HOSTS = 'deploy/known-mcp-hosts.yaml';
const FIXTURES = 'test/fixtures/check-requests';
const REVIEW_URL = 'https://mcp-review.corp.example/request';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const tempDirs: string[] = [];
const clients: AuthzClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await killServeProcesses();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-cli-'));
  tempDirs.push(dir);
  return dir;
}

function client(address: string): AuthzClient {
  const c = createAuthzClient(address);
  clients.push(c);
  return c;
}

/** Runs a command to completion. */
function runCli(args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd: ROOT, env, timeout: WAIT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ code: 0, stdout, stderr });
        } else if (typeof error.code === 'number') {
          resolve({ code: error.code, stdout, stderr });
        } else {
          // Not an exit code: the process could not be started, or the timeout killed it.
          reject(new Error(`mcp-gate ${args.join(' ')} failed to run: ${error.message}`));
        }
      },
    );
    trackChild(child);
  });
}

const SESSION = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
};
const toolCall = (tool: string) =>
  envoyCheckRequest({
    authority: 'api.githubcopilot.com',
    path: '/mcp/',
    headers: SESSION,
    body: rpc('tools/call', { name: tool, arguments: {} }, 7),
  });

// ---------------------------------------------------------------------------------------------

describe('mcp-gate: commands and usage', () => {
  test('--help exits 0 and lists the commands, each with its usage', async () => {
    const { code, stdout, stderr } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const usage of ['validate FILE...', 'sign FILE --id ID --key KEY', 'expiring FILE...']) {
      expect(stdout).toContain(`usage: mcp-gate ${usage}`);
    }
    for (const command of ['serve', 'validate', 'explain', 'stamp', 'sign', 'expiring']) {
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  test('an unknown command exits 2 and names it', async () => {
    const { code, stdout, stderr } = await runCli(['frobnicate']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown command "frobnicate"');
    expect(stderr).toContain('usage: mcp-gate <command>');
  });

  test('no command at all exits 2 with the usage', async () => {
    const { code, stdout } = await runCli([]);
    expect(code).toBe(2);
    expect(stdout).toContain('usage: mcp-gate <command>');
  });
});

describe('mcp-gate serve: start-up failures', () => {
  test('an invalid allowlist: exit 1, every error on its own line as FILE:LINE:COL message', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'allowlist.yaml');
    await writeFile(
      file,
      [
        'version: 2026.11',
        `review_url: ${REVIEW_URL}`,
        'approved:',
        '  - id: github-official',
        '    host: api.githubcopilot.com',
        '    transport: http',
        '    scopes: [repo.read]',
        '    review_ticket: SEC-4902',
        '    reviewed_by: security-platform',
        '    reviewed_on: 2026-10-18',
        '    expires_on: 2027-13-45',
        '    colour: blue',
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await runCli([
      'serve',
      '--allowlist',
      file,
      '--grpc-listen',
      '127.0.0.1:0',
      '--http-listen',
      '127.0.0.1:0',
    ]);
    expect(code).toBe(1);
    expect(stdout).not.toContain('mcp-gate listening');
    const lines = stderr.split('\n');
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Both errors, each a whole line that editors and CI problem matchers can parse.
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${escaped}:11:17 approved\\[0\\]\\.expires_on: .+`)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${escaped}:12:5 approved\\[0\\]: unknown key "colour"$`)),
    );
  });

  test('a missing allowlist: exit 1 with the path and the reason', async () => {
    const dir = await tempDir();
    const missing = path.join(dir, 'no-such-allowlist.yaml');
    const { code, stderr } = await runCli([
      'serve',
      '--allowlist',
      missing,
      '--grpc-listen',
      '127.0.0.1:0',
      '--http-listen',
      '127.0.0.1:0',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${missing}:1:1 cannot read file`);
    expect(stderr).toContain('ENOENT');
  });

  const LISTEN = ['--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'];
  test.each([
    { name: 'an unknown flag', args: ['--allowlist', DEPLOY_ALLOWLIST, ...LISTEN, '--bogus'] },
    { name: 'a positional argument', args: ['--allowlist', DEPLOY_ALLOWLIST, ...LISTEN, 'extra'] },
    { name: 'no allowlist', args: [...LISTEN] },
    {
      name: 'a bad gRPC address',
      args: [
        '--allowlist',
        DEPLOY_ALLOWLIST,
        '--grpc-listen',
        'nonsense',
        '--http-listen',
        '127.0.0.1:0',
      ],
    },
    {
      name: 'a non-integer limit',
      args: ['--allowlist', DEPLOY_ALLOWLIST, ...LISTEN, '--max-batch', 'many'],
    },
    {
      name: 'an unknown log level',
      args: ['--allowlist', DEPLOY_ALLOWLIST, ...LISTEN, '--log-level', 'loud'],
    },
  ])('$name: exit 2 with the serve usage', async ({ args }) => {
    const { code, stdout, stderr } = await runCli(['serve', ...args]);
    expect(code).toBe(2);
    expect(stdout).not.toContain('mcp-gate listening');
    expect(stderr).toContain('usage: mcp-gate serve');
  });
});

describe('mcp-gate serve: running', () => {
  test('deploy/ files over TCP: bound ports logged, Check, /readyz, SIGTERM exits 0 in grace', async () => {
    const graceMs = 3000;
    const serve = startServe([
      '--allowlist',
      DEPLOY_ALLOWLIST,
      '--known-hosts',
      DEPLOY_KNOWN_HOSTS,
      '--grpc-listen',
      '127.0.0.1:0',
      '--http-listen',
      '127.0.0.1:0',
      '--shutdown-grace-ms',
      String(graceMs),
      '--reload-poll-ms',
      '0',
    ]);
    const loaded = await serve.waitForLog(
      'allowlist loaded',
      (l) => l['msg'] === 'allowlist loaded',
    );
    expect(loaded).toMatchObject({ level: 'info', trigger: 'startup', version: '2026.11' });
    expect(loaded['entries']).toBeGreaterThan(0);
    expect(loaded['known_hosts']).toBeGreaterThan(0);

    const line = await serve.waitForLog('mcp-gate listening', listening);
    expect(line).toMatchObject({
      allowlist: DEPLOY_ALLOWLIST,
      known_hosts: DEPLOY_KNOWN_HOSTS,
    });
    const grpcAddress = String(line['grpc']);
    const httpAddress = String(line['http']);
    // The bound ports, not the requested port 0.
    expect(grpcAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(httpAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);

    const authz = client(grpcAddress);
    expect(await authz.health('')).toBe('SERVING');
    const denied = await authz.check(toolCall('delete_repo'));
    expect(denied.status?.code).toBe(7);
    expect(denied.denied_response?.status?.code).toBe('OK');
    expect(headerOf(denied.denied_response?.headers, 'x-mcp-gate-reason')).toBe('tool_not_allowed');
    const allowed = await authz.check(toolCall('get_issue'));
    expect(allowed.status?.code ?? 0).toBe(0);
    expect(headerOf(allowed.ok_response?.headers, 'x-mcp-gate-server')).toBe('github-official');
    const audit = await serve.waitForLog(
      'decision',
      (l) => l['msg'] === 'decision' && l['tool'] === 'delete_repo',
    );
    expect(audit).toMatchObject({ decision: 'deny', reason: 'tool_not_allowed' });

    const ready = await fetch(`http://${httpAddress}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://${httpAddress}/metrics`)).text();
    expect(metrics).toContain('mcp_gate_allowlist_info{version="2026.11"');

    // The gRPC client stays connected: shutdown must not wait for it past the grace period.
    const exit = await stopWith(serve, 'SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(graceMs);
    expect(serve.logs).toContainEqual(
      expect.objectContaining({ msg: 'shutting down', signal: 'SIGTERM' }),
    );
    expect(serve.logs).toContainEqual(expect.objectContaining({ msg: 'stopped' }));
    expect(serve.stderr()).toBe('');
  });

  test('a Unix socket listener answers Check; SIGHUP reloads a changed allowlist', async () => {
    const dir = await tempDir();
    // The served path is a symlink into another directory, so the directory watcher does not
    // see the edit: the reload below can only come from SIGHUP.
    const data = path.join(dir, 'data');
    const conf = path.join(dir, 'conf');
    await mkdir(data);
    await mkdir(conf);
    const real = path.join(data, 'allowlist.yaml');
    const served = path.join(conf, 'allowlist.yaml');
    const v1 = stamped(`version: 2026.11
review_url: ${REVIEW_URL}
approved:
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    url: https://api.githubcopilot.com/mcp/
    tools:
      allow: ['get_*']
    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2099-04-18
`);
    await writeFile(real, v1);
    await symlink(real, served);
    const socket = path.join(dir, 'authz.sock');

    const serve = startServe([
      '--allowlist',
      served,
      '--grpc-listen',
      `unix:${socket}`,
      ...TEST_SERVE_FLAGS,
    ]);
    const line = await serve.waitForLog('mcp-gate listening', listening);
    expect(line['grpc']).toBe(`unix:${socket}`);

    const authz = client(`unix:${socket}`);
    const before = await authz.check(toolCall('create_issue'));
    expect(headerOf(before.denied_response?.headers, 'x-mcp-gate-reason')).toBe('tool_not_allowed');

    await writeFile(
      real,
      restamped(
        v1
          .replace('version: 2026.11', 'version: 2026.12')
          .replace("['get_*']", "['get_*', 'create_*']"),
      ),
    );
    serve.child.kill('SIGHUP');
    const reloaded = await serve.waitForLog(
      'allowlist reloaded',
      (l) => l['msg'] === 'allowlist reloaded',
    );
    expect(reloaded).toMatchObject({
      trigger: 'SIGHUP',
      version: '2026.12',
      previous_version: '2026.11',
    });
    const after = await authz.check(toolCall('create_issue'));
    expect(after.status?.code ?? 0).toBe(0);

    const exit = await stopWith(serve, 'SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
  });

  test('environment variables mirror the flags: serve runs without any flag', async () => {
    const serve = startServe([], {
      env: cleanEnv({
        MCP_GATE_ALLOWLIST: DEPLOY_ALLOWLIST,
        MCP_GATE_KNOWN_HOSTS: DEPLOY_KNOWN_HOSTS,
        MCP_GATE_GRPC_LISTEN: '127.0.0.1:0',
        MCP_GATE_HTTP_LISTEN: '127.0.0.1:0',
        MCP_GATE_RELOAD_POLL_MS: '0',
        MCP_GATE_SHUTDOWN_GRACE_MS: '3000',
      }),
    });
    const line = await serve.waitForLog('mcp-gate listening', listening);
    expect(line).toMatchObject({ allowlist: DEPLOY_ALLOWLIST, known_hosts: DEPLOY_KNOWN_HOSTS });
    const authz = client(String(line['grpc']));
    // Denied only because the known-host list (from MCP_GATE_KNOWN_HOSTS) names the host.
    const response = await authz.check(
      envoyCheckRequest({ method: 'CONNECT', authority: 'mcp.notion.com:443' }),
    );
    expect(response.denied_response?.status?.code).toBe('Forbidden');
    expect(headerOf(response.denied_response?.headers, 'x-mcp-gate-reason')).toBe('unapproved');
    expect((await fetch(`http://${String(line['http'])}/readyz`)).status).toBe(200);

    const exit = await stopWith(serve, 'SIGINT');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(serve.logs).toContainEqual(
      expect.objectContaining({ msg: 'shutting down', signal: 'SIGINT' }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

interface ExplainHeader {
  readonly header: { readonly key: string; readonly value: string };
  readonly append?: { readonly value: boolean };
}
interface ExplainOutput {
  readonly decision: string;
  readonly reason: string;
  readonly detail: string | null;
  readonly entry: string | null;
  readonly decision_id: string;
  readonly dry_run: boolean;
  readonly tool: string | null;
  readonly now: string;
  readonly facts: { readonly headers: Readonly<Record<string, string>> };
  readonly check_response: {
    readonly status: { readonly code: number; readonly message?: string };
    readonly denied_response?: {
      readonly status: { readonly code: number };
      readonly headers: readonly ExplainHeader[];
      readonly body: string;
    };
    readonly ok_response?: {
      readonly headers?: readonly ExplainHeader[];
      readonly headers_to_remove?: readonly string[];
    };
    readonly dynamic_metadata?: Readonly<Record<string, unknown>>;
  };
}

async function explain(
  request: string,
  now: string,
): Promise<{ result: CliResult; output: ExplainOutput }> {
  const result = await runCli([
    'explain',
    '--allowlist',
    DEPLOY_ALLOWLIST,
    '--known-hosts',
    DEPLOY_KNOWN_HOSTS,
    '--request',
    request,
    '--now',
    now,
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return { result, output: JSON.parse(result.stdout) as ExplainOutput };
}

const hdr = (key: string, value: string): ExplainHeader => ({
  header: { key, value },
  append: { value: false },
});

describe('mcp-gate explain', () => {
  test('denied-tool.json (camelCase, rawBody): tool_not_allowed as a 200 tool result', async () => {
    const { result, output } = await explain(`${FIXTURES}/denied-tool.json`, '2026-11-21');
    const id = output.decision_id;
    expect(isDecisionId(id)).toBe(true);
    expect(output).toMatchObject({
      decision: 'deny',
      reason: 'tool_not_allowed',
      entry: 'github-official',
      detail: null,
      dry_run: false,
      tool: 'delete_repo',
      now: '2026-11-21T00:00:00.000Z',
    });
    const text = `Tool delete_repo on github-official is not approved at Acme. Request it: ${REVIEW_URL}?host=api.githubcopilot.com&tool=delete_repo&entry=github-official&decision=${id}`;
    expect(output.check_response).toEqual({
      status: { code: 7, message: 'tool_not_allowed' },
      denied_response: {
        status: { code: 200 },
        headers: [
          hdr('content-type', 'application/json'),
          hdr('x-mcp-gate-reason', 'tool_not_allowed'),
          hdr('x-mcp-gate-decision-id', id),
        ],
        body: `{"jsonrpc":"2.0","id":7,"result":${JSON.stringify({
          content: [{ type: 'text', text }],
          isError: true,
          resultType: 'complete',
        })}}`,
      },
      dynamic_metadata: {
        decision_id: id,
        verdict: 'deny',
        reason: 'tool_not_allowed',
        dry_run: false,
        allowlist_version: '2026.11',
        server: 'github-official',
        entry: 'github-official',
        tool: 'delete_repo',
      },
    });
    // Credentials never reach the output.
    expect(output.facts.headers['authorization']).toBe('[redacted]');
    expect(result.stdout).not.toContain('gho_fixtureSecretToken');
  });

  test('approved-tool.json (snake_case, body string): approved, forged header overwritten', async () => {
    const { output } = await explain(`${FIXTURES}/approved-tool.json`, '2026-11-21');
    const id = output.decision_id;
    expect(output).toMatchObject({
      decision: 'allow',
      reason: 'approved',
      entry: 'github-official',
      detail: null,
      dry_run: false,
      tool: 'get_issue',
    });
    expect(output.check_response.status).toEqual({ code: 0 });
    expect(output.check_response.denied_response).toBeUndefined();
    expect(output.check_response.ok_response).toEqual({
      headers: [hdr('x-mcp-gate-decision-id', id), hdr('x-mcp-gate-server', 'github-official')],
      headers_to_remove: [],
    });
    expect(output.check_response.dynamic_metadata).toMatchObject({
      verdict: 'allow',
      reason: 'approved',
      entry: 'github-official',
    });
  });

  test('approved-tool.json on 2027-05-01: the entry has expired', async () => {
    const { output } = await explain(`${FIXTURES}/approved-tool.json`, '2027-05-01');
    const id = output.decision_id;
    expect(output).toMatchObject({
      decision: 'deny',
      reason: 'expired',
      entry: 'github-official',
      detail: null,
      dry_run: false,
      now: '2027-05-01T00:00:00.000Z',
    });
    expect(output.check_response.status).toEqual({ code: 7, message: 'expired' });
    expect(output.check_response.denied_response).toEqual({
      status: { code: 403 },
      headers: [
        hdr('content-type', 'text/plain; charset=utf-8'),
        hdr('x-mcp-gate-reason', 'expired'),
        hdr('x-mcp-gate-decision-id', id),
      ],
      body: `The approval for MCP server github-official has expired. Ask for a renewal: ${REVIEW_URL}?host=api.githubcopilot.com&tool=get_issue&entry=github-official&decision=${id}`,
    });
  });

  test('unapproved-initialize.json: unapproved, 403 text with the review link', async () => {
    const { output } = await explain(`${FIXTURES}/unapproved-initialize.json`, '2026-11-21');
    const id = output.decision_id;
    expect(output).toMatchObject({
      decision: 'deny',
      reason: 'unapproved',
      entry: null,
      detail: null,
      dry_run: false,
    });
    expect(output.check_response.status).toEqual({ code: 7, message: 'unapproved' });
    expect(output.check_response.denied_response).toEqual({
      status: { code: 403 },
      headers: [
        hdr('content-type', 'text/plain; charset=utf-8'),
        hdr('x-mcp-gate-reason', 'unapproved'),
        hdr('x-mcp-gate-decision-id', id),
      ],
      body: `MCP server mcp.shadow-tools.example is not approved for use at Acme. Request a review: ${REVIEW_URL}?host=mcp.shadow-tools.example&decision=${id}`,
    });
  });

  test('connect-known-host.json: a tunnel to a known MCP host is unapproved', async () => {
    const { result, output } = await explain(`${FIXTURES}/connect-known-host.json`, '2026-11-21');
    const id = output.decision_id;
    expect(output).toMatchObject({
      decision: 'deny',
      reason: 'unapproved',
      entry: null,
      detail: null,
      dry_run: false,
    });
    expect(output.check_response.denied_response).toEqual({
      status: { code: 403 },
      headers: [
        hdr('content-type', 'text/plain; charset=utf-8'),
        hdr('x-mcp-gate-reason', 'unapproved'),
        hdr('x-mcp-gate-decision-id', id),
      ],
      body: `MCP server mcp.notion.com is not approved for use at Acme. Request a review: ${REVIEW_URL}?host=mcp.notion.com&decision=${id}`,
    });
    expect(result.stdout).not.toContain('dXNlcjpmaXh0dXJlLXNlY3JldA==');
  });

  test('non-mcp.json: not_mcp, a bare OK', async () => {
    const { output } = await explain(`${FIXTURES}/non-mcp.json`, '2026-11-21');
    expect(output).toMatchObject({
      decision: 'allow',
      reason: 'not_mcp',
      entry: null,
      detail: null,
      dry_run: false,
    });
    expect(output.check_response).toEqual({ status: { code: 0 } });
  });

  test.each([
    {
      name: 'not JSON',
      content: '{"attributes": ',
      message: /: not a CheckRequest in proto3 JSON: .*JSON/,
    },
    {
      name: 'an unknown field',
      content: JSON.stringify({ attributes: { request: { http: { rawBodyy: 'e30=' } } } }),
      message:
        /: not a CheckRequest in proto3 JSON: \$\.attributes\.request\.http: unknown field "rawBodyy"/,
    },
    {
      name: 'invalid base64',
      content: JSON.stringify({ attributes: { request: { http: { rawBody: 'not base64!' } } } }),
      message: /\$\.attributes\.request\.http\.rawBody: expected base64 bytes/,
    },
  ])(
    'a malformed request file ($name): exit 1 with a clear message',
    async ({ content, message }) => {
      const dir = await tempDir();
      const file = path.join(dir, 'request.json');
      await writeFile(file, content);
      const { code, stdout, stderr } = await runCli([
        'explain',
        '--allowlist',
        DEPLOY_ALLOWLIST,
        '--request',
        file,
      ]);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.startsWith(`${file}: not a CheckRequest in proto3 JSON: `)).toBe(true);
      expect(stderr).toMatch(message);
    },
  );

  test('a missing request file: exit 1 naming it', async () => {
    const { code, stderr } = await runCli([
      'explain',
      '--allowlist',
      DEPLOY_ALLOWLIST,
      '--request',
      `${FIXTURES}/no-such-request.json`,
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`^${FIXTURES}/no-such-request\\.json:1:1 cannot read file.*\\(ENOENT\\)$`, 'm'),
    );
  });

  test.each([
    { name: 'no flags', args: [] },
    { name: 'no --request', args: ['--allowlist', DEPLOY_ALLOWLIST] },
    { name: 'no --allowlist', args: ['--request', `${FIXTURES}/non-mcp.json`] },
    {
      name: 'an unparseable --now',
      args: [
        '--allowlist',
        DEPLOY_ALLOWLIST,
        '--request',
        `${FIXTURES}/non-mcp.json`,
        '--now',
        'soon',
      ],
    },
    {
      name: 'an unknown flag',
      args: ['--allowlist', DEPLOY_ALLOWLIST, '--request', `${FIXTURES}/non-mcp.json`, '--bogus'],
    },
  ])('$name: exit 2', async ({ args }) => {
    const { code, stdout } = await runCli(['explain', ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });
});
