/**
 * Discovery through the running service: unapproved attempts sent over gRPC land in the table,
 * GET /discovery serves it only with the bearer token (401 without, 404 when not configured),
 * the gauge names the servers, and `mcp-gate discover` drafts the same entries from the JSON as
 * from the service's own audit lines.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { runDiscover } from '../../src/cli/discover.js';
import type { DiscoverySnapshot } from '../../src/discovery/table.js';
import { createAuthzClient } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { rpc, STREAMABLE_POST } from '../helpers/facts.js';
import { githubAllowlist, githubToolCall, SESSION_HEADERS } from '../helpers/github-allowlist.js';
import { cleanEnv, MAIN, trackChild } from '../helpers/serve-process.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const TOKEN = 'discovery-token-0123456789abcdef';

let tokenDir: string;
let svc: TestService;
let client: AuthzClient;

beforeAll(async () => {
  tokenDir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-discovery-token-'));
  const tokenFile = path.join(tokenDir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`);
  svc = await startTestService({
    allowlist: githubAllowlist(),
    knownHosts: 'hosts: [mcp.notion.com]\n',
    now: () => NOW,
    flags: { 'discovery-token-file': tokenFile },
  });
  client = createAuthzClient(svc.grpcAddress);

  const initialize = envoyCheckRequest({
    authority: 'mcp.shadow.example',
    path: '/mcp',
    headers: STREAMABLE_POST,
    body: rpc(
      'initialize',
      { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'claude-code' } },
      0,
    ),
  });
  const toolCall = envoyCheckRequest({
    authority: 'mcp.shadow.example',
    path: '/mcp/',
    headers: { ...SESSION_HEADERS, 'user-agent': 'claude-code/2.1.221 (cli)' },
    body: rpc('tools/call', { name: 'read_secrets', arguments: { token: 'arg-value-xyz' } }, 3),
  });
  const tunnel = envoyCheckRequest({ method: 'CONNECT', authority: 'mcp.notion.com:443' });
  const notMcp = envoyCheckRequest({ authority: 'www.example.com', path: '/', method: 'GET' });
  for (const request of [
    initialize,
    toolCall,
    toolCall,
    tunnel,
    notMcp,
    githubToolCall('get_me'),
  ]) {
    await client.check(request);
  }
});

afterAll(async () => {
  client.close();
  await svc.stop();
  await rm(tokenDir, { recursive: true, force: true });
});

const getDiscovery = (authorization?: string): Promise<Response> =>
  fetch(`${svc.httpUrl}/discovery`, {
    headers: authorization === undefined ? {} : { authorization },
  });

describe('GET /discovery', () => {
  test('without the token, or with another: 401 and no data', async () => {
    for (const authorization of [
      undefined,
      `Bearer ${TOKEN}x`,
      TOKEN,
      'Bearer ',
      `Basic ${TOKEN}`,
    ]) {
      const response = await getDiscovery(authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.text()).not.toContain('shadow');
    }
  });

  test('with the token: the unapproved servers tried, and nothing of approved or non-MCP traffic', async () => {
    const response = await getDiscovery(`Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const text = await response.text();
    // Names only: never an argument value.
    expect(text).not.toContain('arg-value-xyz');
    const snapshot = JSON.parse(text) as DiscoverySnapshot;
    expect(snapshot).toMatchObject({
      format: 'mcp-gate.discovery/v1',
      capacity: 1000,
      evictions: 0,
      attempts_recorded: 4,
    });
    expect(snapshot.rows).toEqual([
      {
        host: 'mcp.shadow.example',
        path_prefix: '/mcp',
        attempts: 3,
        max_untracked_attempts: 0,
        host_only_attempts: 0,
        first_seen: '2026-12-03T12:00:00.000Z',
        last_seen: '2026-12-03T12:00:00.000Z',
        outcomes: { deny: 3, would_deny: 0, allow: 0 },
        clients: { 'claude-code': 3 },
        methods: ['initialize', 'tools/call'],
        methods_overflow: 0,
        tools: ['read_secrets'],
        tools_overflow: 0,
        protocol_versions: ['2025-11-25'],
        protocol_versions_overflow: 0,
      },
      expect.objectContaining({
        host: 'mcp.notion.com',
        path_prefix: '/',
        attempts: 1,
        host_only_attempts: 1,
        methods: [],
      }),
    ]);
  });

  test('a token file that became unreadable: 503 for everyone, never an open endpoint', async () => {
    const tokenFile = path.join(tokenDir, 'token');
    await rename(tokenFile, `${tokenFile}.away`);
    try {
      const response = await getDiscovery(`Bearer ${TOKEN}`);
      expect(response.status).toBe(503);
      expect(await response.text()).toMatch(/--discovery-token-file .*token: cannot read: ENOENT/);
    } finally {
      await rename(`${tokenFile}.away`, tokenFile);
    }
    expect((await getDiscovery(`Bearer ${TOKEN}`)).status).toBe(200);
  });

  test('the gauge names the servers by host and client', async () => {
    const metrics = await (await fetch(`${svc.httpUrl}/metrics`)).text();
    const lines = metrics.split('\n').filter((l) => l.startsWith('mcp_gate_discovered_attempts{'));
    expect(lines.sort()).toEqual([
      expect.stringMatching(
        /^mcp_gate_discovered_attempts\{host="mcp\.notion\.com",client="[a-z-]+"\} 1$/,
      ),
      'mcp_gate_discovered_attempts{host="mcp.shadow.example",client="claude-code"} 3',
    ]);
  });

  test('discover drafts the same entries from the JSON as from the audit lines', async () => {
    const draft = async (stdin: string): Promise<string> => {
      let stdout = '';
      const code = await runDiscover([], {
        stdout: (t) => (stdout += t),
        stderr: () => undefined,
        now: new Date(NOW),
        stdin: () => Promise.resolve(stdin),
      });
      expect(code).toBe(0);
      return stdout;
    };
    const json = await (await getDiscovery(`Bearer ${TOKEN}`)).text();
    const auditLines = svc.logs.map((line) => JSON.stringify(line)).join('\n');
    const fromJson = await draft(json);
    expect(fromJson).toContain('url: https://mcp.shadow.example/mcp\n');
    // The audit line's time is pino's clock, the table's the service's injected one.
    const timeless = (text: string): string => text.replace(/first seen .*/g, 'first seen …');
    expect(timeless(await draft(auditLines))).toBe(timeless(fromJson));
  });
});

describe('mcp-gate discover as a command (dist/main.js)', () => {
  test("the service's audit lines on stdin: draft entries on stdout, the summary on stderr", async () => {
    const child = spawn(process.execPath, [MAIN, 'discover', '--top', '1'], {
      env: cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    child.stdin.end(`${svc.logs.map((line) => JSON.stringify(line)).join('\n')}\n`);
    expect(await exited).toBe(0);
    expect(stderr).toMatch(
      /^discover: 2 unapproved servers from 0 discovery documents and \d+ log lines/,
    );
    const doc = parse(stdout) as { approved: { host: string; url?: string }[] };
    expect(doc.approved).toEqual([
      expect.objectContaining({
        host: 'mcp.shadow.example',
        url: 'https://mcp.shadow.example/mcp',
      }),
    ]);
  });
});

describe('GET /discovery without --discovery-token-file', () => {
  test('404: the endpoint is off; the gauge still counts', async () => {
    const plain = await startTestService({ allowlist: githubAllowlist(), now: () => NOW });
    const plainClient = createAuthzClient(plain.grpcAddress);
    try {
      await plainClient.check(
        envoyCheckRequest({
          authority: 'mcp.shadow.example',
          path: '/mcp',
          headers: STREAMABLE_POST,
          body: rpc('tools/list', {}, 1),
        }),
      );
      const response = await fetch(`${plain.httpUrl}/discovery`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(404);
      expect(await response.text()).toBe(
        'discovery is off: start serve with --discovery-token-file FILE\n',
      );
      const metrics = await (await fetch(`${plain.httpUrl}/metrics`)).text();
      expect(metrics).toContain(
        'mcp_gate_discovered_attempts{host="mcp.shadow.example",client="other"} 1',
      );
    } finally {
      plainClient.close();
      await plain.stop();
    }
  });

  test('an unreadable token file stops the start with a specific error', async () => {
    await expect(
      startTestService({
        allowlist: githubAllowlist(),
        flags: { 'discovery-token-file': path.join(tokenDir, 'absent') },
      }),
    ).rejects.toThrow(/--discovery-token-file .*absent: cannot read: ENOENT/);
  });
});
