import { gzipSync } from 'node:zlib';
import { rename, symlink, unlink, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isDecisionId } from '../../src/core/decision-id.js';
import * as grpc from '@grpc/grpc-js';
import { createAuthzClient, headerOf } from '../helpers/authz-client.js';
import type { AuthzClient, EnvoyCheckResponse } from '../helpers/authz-client.js';
import { ENVOY_TO_OBJECT, envoyCheckResponseType } from '../helpers/envoy-protos.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { rpc } from '../helpers/facts.js';
import { githubAllowlist } from '../helpers/github-allowlist.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { restamped } from '../helpers/stamped.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

export const ALLOWLIST = githubAllowlist({
  mode: 'enforce',
  allow: ['get_*', 'list_*'],
  deny: ['*delete*', 'delete_repo'],
  expiresOn: '2027-04-18',
});

const SESSION = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
  'mcp-protocol-version': '2025-11-25',
  'user-agent': 'claude-code/2.1.221 (cli)',
  authorization: 'Bearer secret-token-value',
};
const GH = { authority: 'api.githubcopilot.com', path: '/mcp/' };
const call = (tool: string, id: number | string = 7): string =>
  rpc('tools/call', { name: tool, arguments: { q: 'x' } }, id);

let svc: TestService;
let client: AuthzClient;

beforeEach(async () => {
  svc = await startTestService({
    allowlist: ALLOWLIST,
    knownHosts: 'hosts: [mcp.notion.com]\n',
    now: () => NOW,
  });
  client = createAuthzClient(svc.grpcAddress);
});
afterEach(async () => {
  client.close();
  await svc.stop();
});

describe('Check over gRPC', () => {
  test('bytes that are not a CheckRequest: a deny (internal_error, 503), never a gRPC error', async () => {
    const raw = new grpc.Client(svc.grpcAddress, grpc.credentials.createInsecure());
    try {
      // A length-delimited field 1 that claims 255 bytes but carries 1.
      const garbage = Buffer.from([0x0a, 0xff, 0x01, 0x00]);
      const response = await new Promise<EnvoyCheckResponse>((resolve, reject) => {
        raw.makeUnaryRequest(
          '/envoy.service.auth.v3.Authorization/Check',
          (bytes: Buffer) => bytes,
          (bytes: Buffer) =>
            envoyCheckResponseType.toObject(
              envoyCheckResponseType.decode(bytes),
              ENVOY_TO_OBJECT,
            ) as EnvoyCheckResponse,
          garbage,
          (err, value) => {
            if (err !== null || value === undefined) reject(err ?? new Error('no response'));
            else resolve(value);
          },
        );
      });
      expect(response.status?.code).toBe(7);
      expect(response.denied_response?.status?.code).toBe('ServiceUnavailable');
      expect(headerOf(response.denied_response?.headers, 'x-mcp-gate-reason')).toBe(
        'internal_error',
      );
      await svc.waitForLog((l) => l['msg'] === 'CheckRequest bytes could not be decoded; denied');
    } finally {
      raw.close();
    }
  });

  test('approved tools/call – OK, upstream learns entry and decision, forged headers removed', async () => {
    const response = await client.check(
      envoyCheckRequest({
        ...GH,
        headers: { ...SESSION, 'x-mcp-gate-server': 'forged', 'x-mcp-gate-trusted': 'yes' },
        body: call('get_issue'),
        packAsBytes: true,
      }),
    );
    expect(response.status?.code ?? 0).toBe(0);
    const ok = response.ok_response;
    expect(headerOf(ok?.headers, 'x-mcp-gate-server')).toBe('github-official');
    expect(isDecisionId(headerOf(ok?.headers, 'x-mcp-gate-decision-id') ?? '')).toBe(true);
    expect(ok?.headers?.every((h) => h.append?.value === false)).toBe(true);
    // x-mcp-gate-server is overwritten by append:false; the other forged header is removed.
    expect(ok?.headers_to_remove).toEqual(['x-mcp-gate-trusted']);
  });

  test('non-MCP request – OK and untouched', async () => {
    const response = await client.check(
      envoyCheckRequest({
        authority: 'api.github.com',
        path: '/repos/a/b',
        method: 'GET',
        headers: { accept: 'application/json' },
      }),
    );
    expect(response.status?.code ?? 0).toBe(0);
    expect(response.http_response).toBeUndefined();
    expect(response.dynamic_metadata).toBeUndefined();
  });

  test('denied tool on Streamable HTTP – 200 JSON-RPC tool result echoing the id', async () => {
    const response = await client.check(
      envoyCheckRequest({ ...GH, headers: SESSION, body: call('delete_repo', 'req-"9"') }),
    );
    expect(response.status?.code).toBe(7);
    const denied = response.denied_response;
    expect(denied?.status?.code).toBe('OK');
    expect(headerOf(denied?.headers, 'content-type')).toBe('application/json');
    expect(headerOf(denied?.headers, 'x-mcp-gate-reason')).toBe('tool_not_allowed');
    const decisionId = headerOf(denied?.headers, 'x-mcp-gate-decision-id') ?? '';
    expect(isDecisionId(decisionId)).toBe(true);
    const body = JSON.parse(denied?.body ?? '') as {
      jsonrpc: string;
      id: string;
      result: { content: { type: string; text: string }[]; isError: boolean; resultType: string };
    };
    expect(body.jsonrpc).toBe('2.0');
    expect(body.id).toBe('req-"9"');
    expect(body.result.isError).toBe(true);
    expect(body.result.resultType).toBe('complete');
    expect(body.result.content[0]?.text).toBe(
      `Tool delete_repo on MCP server github-official is not approved. Request it: https://mcp-review.corp.example/request?host=api.githubcopilot.com&tool=delete_repo&entry=github-official&decision=${decisionId}`,
    );
  });

  test('unapproved server, first initialize without MCP headers – 403 text with review link', async () => {
    const response = await client.check(
      envoyCheckRequest({
        authority: 'mcp.evil.example',
        path: '/mcp',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: rpc(
          'initialize',
          {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'x', version: '1' },
          },
          0,
        ),
      }),
    );
    const denied = response.denied_response;
    expect(response.status?.code).toBe(7);
    expect(denied?.status?.code).toBe('Forbidden');
    expect(headerOf(denied?.headers, 'content-type')).toBe('text/plain; charset=utf-8');
    expect(headerOf(denied?.headers, 'x-mcp-gate-reason')).toBe('unapproved');
    expect(denied?.body).toMatch(/^MCP server mcp\.evil\.example is not approved/);
    expect(denied?.body).toContain(
      'https://mcp-review.corp.example/request?host=mcp.evil.example&decision=',
    );
  });

  test('truncated tools/call – 403 uninspectable with detail header', async () => {
    const response = await client.check(
      envoyCheckRequest({ ...GH, headers: SESSION, body: call('get_issue'), maxRequestBytes: 40 }),
    );
    const denied = response.denied_response;
    expect(denied?.status?.code).toBe('Forbidden');
    expect(headerOf(denied?.headers, 'x-mcp-gate-reason')).toBe('uninspectable');
    expect(headerOf(denied?.headers, 'x-mcp-gate-detail')).toBe('truncated');
  });

  test.each([
    { name: 'headers map, body string', options: {} },
    {
      name: 'header_map (encode_raw_headers), raw_body',
      options: { encodeRawHeaders: true, packAsBytes: true },
    },
    { name: 'gzip body as raw_body', options: { packAsBytes: true, gzip: true } },
  ])('same decision through $name', async ({ options }) => {
    const { gzip, ...rest } = options as {
      gzip?: boolean;
      encodeRawHeaders?: boolean;
      packAsBytes?: boolean;
    };
    const body = gzip === true ? gzipSync(call('delete_repo')) : call('delete_repo');
    const headers = gzip === true ? { ...SESSION, 'content-encoding': 'gzip' } : SESSION;
    const response = await client.check(envoyCheckRequest({ ...GH, headers, body, ...rest }));
    expect(headerOf(response.denied_response?.headers, 'x-mcp-gate-reason')).toBe(
      'tool_not_allowed',
    );
  });

  test('CONNECT to a known MCP host that is not approved – 403', async () => {
    const response = await client.check(
      envoyCheckRequest({ method: 'CONNECT', authority: 'mcp.notion.com:443' }),
    );
    expect(response.denied_response?.status?.code).toBe('Forbidden');
    expect(headerOf(response.denied_response?.headers, 'x-mcp-gate-reason')).toBe('unapproved');
  });

  test('network filter check (SNI only) to a known MCP host – denied; to another host – allowed', async () => {
    const known = await client.check({ attributes: { tls_session: { sni: 'mcp.notion.com' } } });
    expect(known.status?.code).toBe(7);
    expect(headerOf(known.denied_response?.headers, 'x-mcp-gate-reason')).toBe('unapproved');
    const other = await client.check({ attributes: { tls_session: { sni: 'www.example.org' } } });
    expect(other.status?.code ?? 0).toBe(0);
  });

  test('network filter check (SNI only) to a host whose entry has tool rules – tunnel_not_inspected', async () => {
    const response = await client.check({
      attributes: { tls_session: { sni: 'api.githubcopilot.com' } },
    });
    expect(response.status?.code).toBe(7);
    expect(headerOf(response.denied_response?.headers, 'x-mcp-gate-reason')).toBe('uninspectable');
    expect(response.denied_response?.body).toContain("to the proxy's TLS inspection");
  });

  test('one audit line per MCP decision; credentials and arguments never logged', async () => {
    const request = envoyCheckRequest({
      ...GH,
      headers: SESSION,
      body: call('delete_repo'),
      requestId: 'req-123',
    });
    const response = await client.check(request);
    const decisionId = headerOf(response.denied_response?.headers, 'x-mcp-gate-decision-id');
    const line = await svc.waitForLog(
      (l) => l['msg'] === 'decision' && l['decision_id'] === decisionId,
    );
    expect(line).toMatchObject({
      request_id: 'req-123',
      decision: 'deny',
      reason: 'tool_not_allowed',
      dry_run: false,
      host: 'api.githubcopilot.com',
      path: '/mcp/',
      http_method: 'POST',
      methods: ['tools/call'],
      tool: 'delete_repo',
      client: 'claude-code',
      user_agent: 'claude-code/2.1.221 (cli)',
      protocol_version: '2025-11-25',
      entry: 'github-official',
      review_ticket: 'SEC-4902',
      allowlist_version: '2026.11',
    });
    expect(typeof line['time']).toBe('string');
    const everything = JSON.stringify(svc.logs);
    expect(everything).not.toContain('secret-token-value');
    expect(everything).not.toContain('"q"');
  });

  test('metrics: bounded labels, literal tool names only', async () => {
    await client.check(envoyCheckRequest({ ...GH, headers: SESSION, body: call('delete_repo') }));
    await client.check(
      envoyCheckRequest({ ...GH, headers: SESSION, body: call('delete_everything_now') }),
    );
    await client.check(envoyCheckRequest({ ...GH, headers: SESSION, body: call('get_issue') }));
    await client.check(
      envoyCheckRequest({ authority: 'mcp.random-1.example', headers: SESSION, body: call('x1') }),
    );
    await client.check(
      envoyCheckRequest({ authority: 'mcp.random-2.example', headers: SESSION, body: call('x2') }),
    );
    const text = await (await fetch(`${svc.httpUrl}/metrics`)).text();
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="deny",reason="tool_not_allowed",server="github-official",tool="delete_repo",client="claude-code"} 1',
    );
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="deny",reason="tool_not_allowed",server="github-official",tool="other",client="claude-code"} 1',
    );
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="allow",reason="approved",server="github-official",tool="other",client="claude-code"} 1',
    );
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="deny",reason="unapproved",server="unlisted",tool="other",client="claude-code"} 2',
    );
    // Request hosts are label values only in the discovery gauge, which holds a bounded top N
    // (docs/discovery.md); every other series keeps to fixed vocabularies and the allowlist.
    const lines = text.split('\n');
    expect(lines.filter((l) => l.includes('random-1'))).toEqual([
      'mcp_gate_discovered_attempts{host="mcp.random-1.example",client="claude-code"} 1',
    ]);
    expect(text).toContain('mcp_gate_allowlist_entries 1');
    expect(text).toContain('mcp_gate_allowlist_info{version="2026.11",sha256="');
    expect(text).toContain('mcp_gate_allowlist_reloads_total{result="success"} 1');
    expect(text).toMatch(/mcp_gate_check_duration_seconds_count 5/);
  });
});

describe('health and readiness', () => {
  test('gRPC health SERVING for "" and the Authorization service; unknown names are NOT_FOUND', async () => {
    expect(await client.health('')).toBe('SERVING');
    expect(await client.health('envoy.service.auth.v3.Authorization')).toBe('SERVING');
    await expect(client.health('something.else')).rejects.toMatchObject({ code: 5 });
    expect((await fetch(`${svc.httpUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${svc.httpUrl}/healthz`)).status).toBe(200);
  });
});

describe('hot reload', () => {
  // A reviewed change: a tool glob added, then re-stamped.
  const v2 = restamped(
    ALLOWLIST.replace('version: 2026.11', 'version: 2026.12').replace(
      '"get_*", "list_*"',
      '"get_*", "list_*", "create_*"',
    ),
  );

  test('a valid change is picked up by the directory watcher', async () => {
    const before = await client.check(
      envoyCheckRequest({ ...GH, headers: SESSION, body: call('create_issue') }),
    );
    expect(headerOf(before.denied_response?.headers, 'x-mcp-gate-reason')).toBe('tool_not_allowed');
    const reloaded = svc.waitForLog(
      (l) => l['msg'] === 'allowlist reloaded' && l['version'] === '2026.12',
    );
    await writeFile(svc.allowlistPath, v2);
    await reloaded;
    const after = await client.check(
      envoyCheckRequest({ ...GH, headers: SESSION, body: call('create_issue') }),
    );
    expect(after.status?.code ?? 0).toBe(0);
  });

  test('an invalid file is rejected with its errors; the last good allowlist keeps serving', async () => {
    await writeFile(
      svc.allowlistPath,
      ALLOWLIST.replace('expires_on: 2027-04-18', 'expires_on: 2027-13-45'),
    );
    await svc.service.store.reload('test');
    const rejected = await svc.waitForLog(
      (l) => l['msg'] === 'allowlist reload rejected; the last good allowlist stays in force',
    );
    expect(JSON.stringify(rejected['errors'])).toMatch(/allowlist\.yaml:\d+:\d+ /);
    const response = await client.check(
      envoyCheckRequest({ ...GH, headers: SESSION, body: call('get_issue') }),
    );
    expect(response.status?.code ?? 0).toBe(0);
    expect(await client.health('')).toBe('SERVING');
    const text = await (await fetch(`${svc.httpUrl}/metrics`)).text();
    expect(text).toContain('mcp_gate_allowlist_reloads_total{result="failure"} 1');
    expect(text).toContain('mcp_gate_allowlist_info{version="2026.11"');
  });

  test('a deleted file keeps the last good allowlist', async () => {
    await unlink(svc.allowlistPath);
    await svc.service.store.reload('test');
    await svc.waitForLog(
      (l) => l['msg'] === 'allowlist reload rejected; the last good allowlist stays in force',
    );
    const response = await client.check(
      envoyCheckRequest({ ...GH, headers: SESSION, body: call('get_issue') }),
    );
    expect(response.status?.code ?? 0).toBe(0);
  });

  test('an unchanged file is not reloaded', async () => {
    await svc.service.store.reload('test');
    await writeFile(svc.allowlistPath, ALLOWLIST);
    await svc.service.store.reload('test');
    expect(svc.logs.filter((l) => l['msg'] === 'allowlist reloaded')).toEqual([]);
  });

  test('a Kubernetes ConfigMap ..data symlink swap is picked up', async () => {
    // Recreate the ConfigMap layout: allowlist.yaml -> ..data/allowlist.yaml, ..data -> ..<ts1>.
    await svc.stop();
    const first = await startTestService({ allowlist: ALLOWLIST, now: () => NOW });
    const dir = first.dir;
    const v1Dir = path.join(dir, '..2026_11_21_v1');
    const v2Dir = path.join(dir, '..2026_11_21_v2');
    await mkdir(v1Dir);
    await mkdir(v2Dir);
    await writeFile(path.join(v1Dir, 'allowlist.yaml'), ALLOWLIST);
    await writeFile(path.join(v2Dir, 'allowlist.yaml'), v2);
    await symlink('..2026_11_21_v1', path.join(dir, '..data'));
    await unlink(first.allowlistPath);
    await symlink('..data/allowlist.yaml', first.allowlistPath);
    await first.service.store.reload('test');

    const reloaded = first.waitForLog(
      (l) => l['msg'] === 'allowlist reloaded' && l['version'] === '2026.12',
    );
    await symlink('..2026_11_21_v2', path.join(dir, '..data_tmp'));
    await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await reloaded;
    svc = first;
  });
});

describe('shutdown', () => {
  test('a health Watch sees NOT_SERVING as soon as shutdown begins; then readiness is gone', async () => {
    const statuses: string[] = [];
    const stream = client.watchHealth('');
    // Cancelling our own stream at the end surfaces as a CANCELLED error event; that is expected.
    const streamErrors: unknown[] = [];
    stream.on('error', (err: { code?: number }) => {
      if (err.code !== 1) streamErrors.push(err);
    });
    const serving = new Promise<void>((resolve) => {
      stream.on('data', (status: string) => {
        statuses.push(status);
        if (status === 'SERVING') resolve();
      });
    });
    await serving;
    const notServing = new Promise<void>((resolve) => {
      stream.on('data', (status: string) => {
        if (status === 'NOT_SERVING') resolve();
      });
    });
    const stopping = svc.service.stop();
    await notServing;
    stream.cancel();
    await stopping;
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    expect(streamErrors).toEqual([]);
    await expect(fetch(`${svc.httpUrl}/readyz`)).rejects.toThrow();
  });
});
