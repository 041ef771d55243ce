/**
 * Runs every MCP traffic scenario live (real SDK client → recording proxy → real SDK server) and
 * checks that the committed fixtures in test/fixtures/mcp-traffic/ still match what the SDKs
 * send. `UPDATE_MCP_FIXTURES=1 npx vitest run test/integration/mcp-capture.test.ts` rewrites
 * them. The second block pins the wire facts the gate relies on, per revision.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

import { describe, expect, test } from 'vitest';

import type { McpTrafficFixture, RecordedRequest } from '../helpers/mcp-capture.js';
import {
  captureMcpTraffic,
  loadMcpTrafficFixture,
  MCP_SCENARIOS,
  MCP_TRAFFIC_FIXTURE_DIR,
  mcpTrafficFixturePath,
} from '../helpers/mcp-capture.js';

const UPDATE = process.env['UPDATE_MCP_FIXTURES'] === '1';

function jsonBody(request: RecordedRequest): unknown {
  return request.body === null ? undefined : JSON.parse(request.body);
}

function decodeHeaderValue(value: string): string {
  const match = /^=\?base64\?(.*)\?=$/.exec(value);
  return match === null ? value : Buffer.from(match[1]!, 'base64').toString('utf8');
}

describe('MCP traffic captures – live SDK traffic matches the committed fixtures', () => {
  test.each(MCP_SCENARIOS.map((s) => s.name))('%s', async (name) => {
    const live = await captureMcpTraffic(name);
    const file = mcpTrafficFixturePath(name);
    if (UPDATE) {
      mkdirSync(MCP_TRAFFIC_FIXTURE_DIR, { recursive: true });
      writeFileSync(file, `${JSON.stringify(live, null, 2)}\n`);
      return;
    }
    expect(existsSync(file), `${file} is missing: run with UPDATE_MCP_FIXTURES=1`).toBe(true);
    expect(live).toEqual(loadMcpTrafficFixture(name));
  });
});

describe('MCP traffic captures – wire facts per revision', () => {
  const fixture = (name: McpTrafficFixture['scenario']): McpTrafficFixture =>
    loadMcpTrafficFixture(name);

  test.each([
    'v1-streamable-http-2025-11-25',
    'v1-streamable-http-2025-06-18',
    'v1-streamable-http-2025-03-26',
    'v1-streamable-http-2024-11-05',
    'v2-legacy-2025-11-25',
  ] as const)(
    '%s: initialize carries no MCP header; every later request carries the negotiated version',
    (name) => {
      const [initialize, ...rest] = fixture(name).requests;
      const version = /\d{4}-\d{2}-\d{2}$/.exec(name)![0];
      expect(jsonBody(initialize!)).toMatchObject({
        method: 'initialize',
        params: { protocolVersion: version },
      });
      expect(Object.keys(initialize!.headers).filter((h) => h.startsWith('mcp-'))).toEqual([]);
      for (const request of rest) expect(request.headers['mcp-protocol-version']).toBe(version);
      const posts = fixture(name).requests.filter((r) => r.method === 'POST');
      for (const post of posts)
        expect(post.headers['accept']).toBe('application/json, text/event-stream');
    },
  );

  test('v1 sessionful servers: every request after initialize echoes mcp-session-id, DELETE ends it', () => {
    const { requests } = fixture('v1-streamable-http-2025-11-25');
    for (const request of requests.slice(1))
      expect(request.headers['mcp-session-id']).toMatch(/^0{8}-/);
    expect(requests.map((r) => r.method)).toEqual(expect.arrayContaining(['GET', 'DELETE']));
    expect(requests.find((r) => r.method === 'DELETE')?.headers['accept']).toBe('*/*');
  });

  test('client-sent JSON-RPC responses (answer to a server ping) are POSTed without a method', () => {
    const { requests } = fixture('v1-streamable-http-2025-11-25');
    const response = requests.find((r) => r.note.startsWith('JSON-RPC result'));
    expect(jsonBody(response!)).toEqual({ jsonrpc: '2.0', id: 0, result: {} });
    expect(response!.response.status).toBe(202);
  });

  test('2025-03-26: a batch can hide tools/call behind ping', () => {
    const batch = fixture('v1-streamable-http-2025-03-26').requests.find((r) =>
      r.note.startsWith('batch'),
    );
    expect(jsonBody(batch!)).toEqual([
      { jsonrpc: '2.0', id: 'batch-1', method: 'ping' },
      expect.objectContaining({
        method: 'tools/call',
        params: expect.objectContaining({ name: 'get_issue' }),
      }),
    ]);
  });

  test('legacy HTTP+SSE: GET /sse first, then POSTs to /messages?sessionId=… with accept */*, all 202', () => {
    const [get, ...posts] = fixture('v1-legacy-sse-2024-11-05').requests;
    expect(get).toMatchObject({ method: 'GET', path: '/sse', body: null });
    expect(get!.headers['accept']).toBe('text/event-stream');
    for (const post of posts) {
      expect(post.path).toMatch(/^\/messages\?sessionId=[0-9a-f-]{36}$/);
      expect(post.headers['accept']).toBe('*/*');
      expect(post.response.status).toBe(202);
    }
  });

  test('2026-07-28: mcp-method/mcp-name mirror the body, _meta envelope, no session/initialize/GET', () => {
    const { requests } = fixture('v2-auto-2026-07-28');
    expect(requests.map((r) => r.method).every((m) => m === 'POST')).toBe(true);
    expect(requests[0]!.note).toBe('server/discover');
    for (const request of requests) {
      const body = jsonBody(request) as {
        method: string;
        params: { name?: string; uri?: string; _meta: Record<string, unknown> };
      };
      expect(request.headers['mcp-protocol-version']).toBe('2026-07-28');
      expect(request.headers['mcp-method']).toBe(body.method);
      expect(request.headers).not.toHaveProperty('mcp-session-id');
      expect(body.params._meta['io.modelcontextprotocol/protocolVersion']).toBe('2026-07-28');
      const name = body.params.name ?? body.params.uri;
      if (['tools/call', 'prompts/get', 'resources/read'].includes(body.method)) {
        expect(decodeHeaderValue(request.headers['mcp-name']!)).toBe(name);
      }
    }
    const resume = requests.find((r) => r.note === 'tools/call résumé_lookup')!;
    expect(resume.headers['mcp-name']).toBe('=?base64?csOpc3Vtw6lfbG9va3Vw?=');
    expect(decodeHeaderValue(resume.headers['mcp-param-candidate']!)).toBe('Zoë Faßbender');
    expect(requests.find((r) => r.note === 'tools/call get_issue')!.headers['mcp-param-repo']).toBe(
      'widgets',
    );
  });

  test('v2 auto against a 2025-only server: server/discover is refused, then a plain initialize', () => {
    const [discover, initialize] = fixture('v2-auto-fallback-to-v1-server').requests;
    expect(discover!.note).toBe('server/discover');
    expect(discover!.response.status).toBe(400);
    expect(initialize!.note).toBe('initialize 2025-11-25');
    expect(Object.keys(initialize!.headers).filter((h) => h.startsWith('mcp-'))).toEqual([]);
  });
});
