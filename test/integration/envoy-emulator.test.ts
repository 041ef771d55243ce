/**
 * Proves the Envoy emulator (test/helpers/envoy-emulator.ts) against a trivial authz server
 * written here with grpc-js and Envoy's own protos, so later end-to-end tests can trust it.
 *
 * The authz server decides from the request: header `x-authz` (`deny`, `deny-default-status`,
 * `deny-json`, `deny-with-ok-response`, `hang`) or a JSON-RPC `tools/call` of `delete_repo` in the
 * body (denied); everything else is allowed with a fixed set of header mutations.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

import * as grpc from '@grpc/grpc-js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';

import type { CheckRequest } from '../../src/envoy/check-types.js';
import type {
  BufferSettings,
  CheckResponseObject,
  EnvoyEmulator,
  EnvoyEmulatorOptions,
} from '../helpers/envoy-emulator.js';
import {
  checkRequestFromRecorded,
  envoyAuthorizationService,
  forwardProxyFetch,
  startEnvoyEmulator,
} from '../helpers/envoy-emulator.js';
import { authorizationService } from '../../src/envoy/proto.js';
import type { RunningMcpServer } from '../helpers/mcp-capture.js';
import { loadMcpTrafficFixture, MCP_SCENARIOS, startMcpSdkServer } from '../helpers/mcp-capture.js';

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const BUFFER_ALL: BufferSettings = {
  maxRequestBytes: 8192,
  allowPartialMessage: true,
  packAsBytes: true,
};

// ---------------------------------------------------------------------------------------------
// Test authz server
// ---------------------------------------------------------------------------------------------

const ALLOW: CheckResponseObject = {
  status: { code: 0 },
  ok_response: {
    headers: [
      { header: { key: 'x-gate-decision', value: 'allow' }, append: { value: false } },
      { header: { key: 'x-existing', value: 'new' }, append: { value: false } },
      { header: { key: 'x-multi', value: 'second' }, append: { value: true } },
      { header: { key: 'x-overwrite-action', value: 'set' }, append_action: 2 },
    ],
    headers_to_remove: ['x-secret', ':path', 'host'],
    response_headers_to_add: [
      { header: { key: 'x-authz-note', value: 'checked' }, append: { value: false } },
    ],
  },
};

function deny(code: number, body: string, contentType?: string): CheckResponseObject {
  const headers = [
    { header: { key: 'x-mcp-gate-reason', value: 'tool_not_allowed' }, append: { value: false } },
  ];
  if (contentType !== undefined)
    headers.push({ header: { key: 'content-type', value: contentType }, append: { value: false } });
  return {
    status: { code: grpc.status.PERMISSION_DENIED },
    denied_response: { status: { code }, headers, body },
  };
}

function decide(request: CheckRequest): CheckResponseObject | 'hang' {
  const http = request.attributes?.request?.http;
  const headers = http?.headers ?? {};
  const raw = utf8(http?.raw_body) ?? http?.body ?? '';
  if (raw.includes('"tools/call"') && raw.includes('"delete_repo"')) {
    return deny(
      403,
      'Blocked by corporate MCP egress policy: delete_repo is not on the allowlist.',
    );
  }
  switch (headers['x-authz']) {
    case 'deny':
      return deny(451, 'Blocked by policy');
    case 'deny-default-status':
      return deny(0, 'Blocked by policy');
    case 'deny-json':
      return deny(
        403,
        '{"jsonrpc":"2.0","error":{"code":-31001,"message":"blocked"}}',
        'application/json',
      );
    case 'deny-with-ok-response':
      return { status: { code: grpc.status.PERMISSION_DENIED }, ok_response: { headers: [] } };
    case 'hang':
      return 'hang';
    case undefined:
    default:
      return ALLOW;
  }
}

interface AuthzServer {
  readonly address: string;
  readonly received: CheckRequest[];
  close(): void;
}

async function startAuthzServer(): Promise<AuthzServer> {
  const server = new grpc.Server();
  const received: CheckRequest[] = [];
  server.addService(envoyAuthorizationService(), {
    Check(
      call: grpc.ServerUnaryCall<CheckRequest, CheckResponseObject>,
      callback: grpc.sendUnaryData<CheckResponseObject>,
    ) {
      received.push(call.request);
      const decision = decide(call.request);
      if (decision !== 'hang') callback(null, decision);
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err === null) resolve(bound);
      else reject(err);
    });
  });
  return {
    address: `127.0.0.1:${port}`,
    received,
    close: () => {
      server.forceShutdown();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Test upstream
// ---------------------------------------------------------------------------------------------

interface UpstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Upstream {
  readonly port: number;
  readonly received: UpstreamRequest[];
  /** Lets the SSE endpoint send its second event. */
  releaseSecondEvent(): void;
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const received: UpstreamRequest[] = [];
  let release: () => void = () => undefined;
  const second = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('event: message\ndata: one\n\n');
        void second.then(() => res.end('event: message\ndata: two\n\n'));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    releaseSecondEvent: () => {
      release();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------------------------

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one request to the emulator with node:http (so tests control every header line). */
function send(
  emulator: EnvoyEmulator,
  request: {
    method?: string | undefined;
    target?: string | undefined;
    headers?: Record<string, string | string[]> | undefined;
    body?: Buffer | string | undefined;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: emulator.port,
        method: request.method ?? 'POST',
        path: request.target ?? '/mcp',
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    for (const [name, value] of Object.entries(request.headers ?? {})) req.setHeader(name, value);
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Writes raw bytes to the emulator; resolves with the whole answer (send `Connection: close`). */
function sendRaw(emulator: EnvoyEmulator, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(emulator.port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('error', reject);
  });
}

function utf8(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
}

const JSON_BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue"}}';

let authz: AuthzServer;
let upstream: Upstream;
const emulators: EnvoyEmulator[] = [];

async function emulator(options: Partial<EnvoyEmulatorOptions> = {}): Promise<EnvoyEmulator> {
  const started = await startEnvoyEmulator({
    authzAddress: authz.address,
    upstream: { host: '127.0.0.1', port: upstream.port },
    withRequestBody: BUFFER_ALL,
    ...options,
  });
  emulators.push(started);
  return started;
}

function onlyCheck(e: EnvoyEmulator): CheckRequest {
  expect(e.requests).toHaveLength(1);
  return e.requests[0]!.request;
}

beforeAll(async () => {
  authz = await startAuthzServer();
});

afterAll(() => {
  authz.close();
});

beforeEach(async () => {
  authz.received.length = 0;
  upstream = await startUpstream();
});

afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
  await upstream.close();
});

// ---------------------------------------------------------------------------------------------
// The CheckRequest
// ---------------------------------------------------------------------------------------------

describe('envoy emulator – CheckRequest', () => {
  test('origin-form POST: pseudo-headers, no host, generated ids, joined duplicates, body', async () => {
    const e = await emulator();
    const reply = await send(e, {
      target: '/mcp?x=1',
      headers: {
        host: 'mcp.example.com:8080',
        'content-type': 'application/json',
        'x-dup': ['a', 'b'],
        'x-envoy-auth-partial-body': 'true',
        'proxy-connection': 'keep-alive',
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
      },
      body: JSON_BODY,
    });
    expect(reply.status).toBe(200);
    const check = onlyCheck(e);
    // The emulator records exactly what the authz server decoded.
    expect(authz.received).toEqual([check]);
    const attributes = check.attributes!;
    const httpReq = attributes.request!.http!;
    const headers = httpReq.headers!;
    expect(headers).toMatchObject({
      ':authority': 'mcp.example.com:8080',
      ':method': 'POST',
      ':path': '/mcp?x=1',
      ':scheme': 'http',
      'content-type': 'application/json',
      'x-dup': 'a,b',
      'x-forwarded-proto': 'http',
      'x-envoy-auth-partial-body': 'false',
    });
    expect(headers['x-request-id']).toMatch(UUID4);
    for (const gone of [
      'host',
      'connection',
      'keep-alive',
      'proxy-connection',
      'transfer-encoding',
    ]) {
      expect(headers).not.toHaveProperty(gone);
    }
    expect(httpReq).toMatchObject({
      method: 'POST',
      path: '/mcp?x=1',
      host: 'mcp.example.com:8080',
      scheme: 'http',
      protocol: 'HTTP/1.1',
      size: String(Buffer.byteLength(JSON_BODY)),
    });
    expect(utf8(httpReq.raw_body)).toBe(JSON_BODY);
    expect(httpReq.body).toBeUndefined();
    expect(httpReq.id).toMatch(/^\d{1,20}$/);
    expect(BigInt(httpReq.id!)).toBeLessThan(2n ** 64n);
    expect(httpReq.query).toBeUndefined();
    expect(attributes.source?.address?.socket_address?.address).toBe('127.0.0.1');
    expect(attributes.destination?.address?.socket_address).toMatchObject({
      address: '127.0.0.1',
      port_value: e.port,
    });
    expect(Number(attributes.request!.time!.seconds)).toBeGreaterThan(1_700_000_000);
    // Envoy always sets these; on the wire an empty map is nothing and an empty message is `{}`.
    expect(attributes.context_extensions).toBeUndefined();
    expect(attributes.metadata_context).toEqual({});
    expect(attributes.route_metadata_context).toEqual({});
  });

  test('absolute-form request: authority and scheme come from the URL, Host is ignored', async () => {
    const e = await emulator();
    const reply = await send(e, {
      target: 'http://mcp.example.com/mcp?session=abc',
      headers: { host: 'ignored.example', 'content-type': 'application/json' },
      body: JSON_BODY,
    });
    expect(reply.status).toBe(200);
    const httpReq = onlyCheck(e).attributes!.request!.http!;
    expect(httpReq.host).toBe('mcp.example.com');
    expect(httpReq.path).toBe('/mcp?session=abc');
    expect(httpReq.headers![':authority']).toBe('mcp.example.com');
    expect(upstream.received[0]!.headers.host).toBe('mcp.example.com');
    expect(upstream.received[0]!.url).toBe('/mcp?session=abc');
  });

  test('GET without a body: no body fields, no partial-body header, no size', async () => {
    const e = await emulator();
    await send(e, {
      method: 'GET',
      headers: { host: 'mcp.example.com', 'x-envoy-auth-partial-body': 'true' },
    });
    const httpReq = onlyCheck(e).attributes!.request!.http!;
    expect(httpReq.raw_body).toBeUndefined();
    expect(httpReq.body).toBeUndefined();
    expect(httpReq.size).toBeUndefined();
    expect(httpReq.headers).not.toHaveProperty('x-envoy-auth-partial-body');
  });

  test('no with_request_body: checked at headers time without body fields; the body still goes upstream', async () => {
    const e = await emulator({ withRequestBody: undefined });
    await send(e, { headers: { host: 'mcp.example.com' }, body: JSON_BODY });
    const httpReq = onlyCheck(e).attributes!.request!.http!;
    expect(httpReq.raw_body).toBeUndefined();
    expect(httpReq.headers).not.toHaveProperty('x-envoy-auth-partial-body');
    expect(upstream.received[0]!.body.toString('utf8')).toBe(JSON_BODY);
  });

  test('pack_as_bytes false: body is a UTF-8-sanitised string (one ! per bad byte)', async () => {
    const e = await emulator({ withRequestBody: { ...BUFFER_ALL, packAsBytes: false } });
    const bytes = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('é"}'),
    ]);
    await send(e, { headers: { host: 'mcp.example.com' }, body: bytes });
    const httpReq = onlyCheck(e).attributes!.request!.http!;
    expect(httpReq.body).toBe('{"a":"!!é"}');
    expect(httpReq.raw_body).toBeUndefined();
    expect(httpReq.size).toBe(String(bytes.length));
    expect(upstream.received[0]!.body.equals(bytes)).toBe(true);
  });

  test('pack_as_bytes true: raw_body keeps the exact bytes', async () => {
    const e = await emulator();
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0x7d]);
    await send(e, { headers: { host: 'mcp.example.com' }, body: bytes });
    expect(Buffer.from(onlyCheck(e).attributes!.request!.http!.raw_body!).equals(bytes)).toBe(true);
  });

  test('allow_partial_message true: the first max_request_bytes are sent, partial-body header true', async () => {
    const e = await emulator({
      withRequestBody: { maxRequestBytes: 16, allowPartialMessage: true, packAsBytes: true },
    });
    const body = 'x'.repeat(100);
    const reply = await send(e, { headers: { host: 'mcp.example.com' }, body });
    expect(reply.status).toBe(200);
    const httpReq = onlyCheck(e).attributes!.request!.http!;
    expect(utf8(httpReq.raw_body)).toBe('x'.repeat(16));
    expect(httpReq.headers!['x-envoy-auth-partial-body']).toBe('true');
    expect(Number(httpReq.size)).toBeGreaterThanOrEqual(16);
    expect(upstream.received[0]!.body.toString()).toBe(body);
  });

  test('allow_partial_message false: a larger body gets 413 and authz is never called', async () => {
    const e = await emulator({
      withRequestBody: { maxRequestBytes: 16, allowPartialMessage: false, packAsBytes: true },
    });
    const reply = await send(e, { headers: { host: 'mcp.example.com' }, body: 'x'.repeat(100) });
    expect(reply.status).toBe(413);
    expect(e.requests).toHaveLength(0);
    expect(authz.received).toHaveLength(0);
    expect(upstream.received).toHaveLength(0);
  });

  test('allow_partial_message false: a body of exactly max_request_bytes is checked whole', async () => {
    const e = await emulator({
      withRequestBody: { maxRequestBytes: 16, allowPartialMessage: false, packAsBytes: true },
    });
    await send(e, { headers: { host: 'mcp.example.com' }, body: 'y'.repeat(16) });
    expect(onlyCheck(e).attributes!.request!.http!.headers!['x-envoy-auth-partial-body']).toBe(
      'false',
    );
  });

  // Header bytes are written on a raw socket: node:http would encode 'é' as UTF-8 itself.
  const LATIN1_REQUEST = Buffer.concat([
    Buffer.from('GET /mcp HTTP/1.1\r\nHost: mcp.example.com\r\nX-Latin: caf'),
    Buffer.from([0xe9]),
    Buffer.from('\r\nX-Utf8: caf\u00e9\r\nConnection: close\r\n\r\n', 'utf8'),
  ]);

  test('map headers are UTF-8 sanitised: a lone latin1 byte becomes !, valid UTF-8 stays', async () => {
    const e = await emulator();
    expect(await sendRaw(e, LATIN1_REQUEST)).toMatch(/^HTTP\/1\.1 200 /);
    const headers = onlyCheck(e).attributes!.request!.http!.headers!;
    expect(headers['x-latin']).toBe('caf!');
    expect(headers['x-utf8']).toBe('caf\u00e9');
  });

  test('encode_raw_headers: headers empty, header_map carries the raw bytes in order', async () => {
    const e = await emulator({ encodeRawHeaders: true });
    await send(e, { headers: { host: 'mcp.example.com' }, body: JSON_BODY });
    await sendRaw(e, LATIN1_REQUEST);
    expect(e.requests).toHaveLength(2);
    const [post, get] = e.requests.map((r) => r.request.attributes!.request!.http!);
    expect(post!.headers).toBeUndefined(); // empty map: absent after decoding
    const entries = post!.header_map!.headers!;
    expect(entries.slice(0, 4).map((h) => h.key)).toEqual([
      ':authority',
      ':path',
      ':method',
      ':scheme',
    ]);
    expect(entries.every((h) => h.value === undefined && Buffer.isBuffer(h.raw_value))).toBe(true);
    expect(utf8(entries.find((h) => h.key === 'x-envoy-auth-partial-body')?.raw_value)).toBe(
      'false',
    );
    const latin = get!.header_map!.headers!.find((h) => h.key === 'x-latin');
    expect(Buffer.from(latin!.raw_value!).equals(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe(true);
    expect(get!.header_map!.headers!.some((h) => h.key === 'x-envoy-auth-partial-body')).toBe(
      false,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Applying the CheckResponse
// ---------------------------------------------------------------------------------------------

describe('envoy emulator – CheckResponse', () => {
  test('OK: header mutations reach the upstream, headers_to_remove works, response headers added', async () => {
    const e = await emulator();
    const reply = await send(e, {
      headers: {
        host: 'mcp.example.com',
        'x-existing': 'old',
        'x-multi': 'first',
        'x-overwrite-action': 'old',
        'x-secret': 'token',
      },
      body: JSON_BODY,
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('{"ok":true}');
    expect(reply.headers['x-upstream']).toBe('yes');
    expect(reply.headers['x-authz-note']).toBe('checked');
    expect(e.requests[0]!.outcome).toBe('allowed');
    const got = upstream.received[0]!;
    expect(got.headers).toMatchObject({
      host: 'mcp.example.com',
      'x-gate-decision': 'allow',
      'x-existing': 'new',
      'x-multi': 'first,second',
      'x-overwrite-action': 'set',
      'x-forwarded-proto': 'http',
    });
    expect(got.headers['x-request-id']).toBe(
      e.requests[0]!.request.attributes!.request!.http!.headers!['x-request-id'],
    );
    expect(got.headers).not.toHaveProperty('x-secret');
    expect(got.headers).not.toHaveProperty('x-envoy-auth-partial-body');
    expect(got.url).toBe('/mcp');
    expect(got.body.toString()).toBe(JSON_BODY);
  });

  test('denied: status, headers and body of denied_response reach the client; text/plain added', async () => {
    const e = await emulator();
    const reply = await send(e, {
      headers: { host: 'mcp.example.com', 'x-authz': 'deny' },
      body: JSON_BODY,
    });
    expect(reply.status).toBe(451);
    expect(reply.body).toBe('Blocked by policy');
    expect(reply.headers['content-type']).toBe('text/plain');
    expect(reply.headers['x-mcp-gate-reason']).toBe('tool_not_allowed');
    expect(e.requests[0]!.outcome).toBe('denied');
    expect(e.requests[0]!.response?.denied_response?.status?.code).toBe(451);
    expect(upstream.received).toHaveLength(0);
  });

  test('denied without an HTTP status: 403', async () => {
    const e = await emulator();
    const reply = await send(e, {
      headers: { host: 'mcp.example.com', 'x-authz': 'deny-default-status' },
    });
    expect(reply.status).toBe(403);
    expect(reply.body).toBe('Blocked by policy');
  });

  test('denied with its own content-type: kept', async () => {
    const e = await emulator();
    const reply = await send(e, {
      headers: { host: 'mcp.example.com', 'x-authz': 'deny-json' },
      body: JSON_BODY,
    });
    expect(reply.status).toBe(403);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body)).toMatchObject({ error: { code: -31001 } });
  });

  test('non-OK status with an ok_response: 403 with an empty body', async () => {
    const e = await emulator();
    const reply = await send(e, {
      headers: { host: 'mcp.example.com', 'x-authz': 'deny-with-ok-response' },
    });
    expect(reply.status).toBe(403);
    expect(reply.body).toBe('');
    expect(upstream.received).toHaveLength(0);
  });

  test('authz timeout: status_on_error (403) with an empty body', async () => {
    const e = await emulator({ timeoutMs: 100 });
    const reply = await send(e, {
      headers: { host: 'mcp.example.com', 'x-authz': 'hang' },
      body: JSON_BODY,
    });
    expect(reply.status).toBe(403);
    expect(reply.body).toBe('');
    expect(e.requests[0]).toMatchObject({
      outcome: 'error',
      error: { code: grpc.status.DEADLINE_EXCEEDED },
    });
    expect(upstream.received).toHaveLength(0);
  });

  test('authz unreachable: the configured status_on_error with an empty body', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) =>
      closed.close(() => {
        resolve();
      }),
    );
    const e = await emulator({ authzAddress: `127.0.0.1:${deadPort}`, statusOnError: 503 });
    const reply = await send(e, { headers: { host: 'mcp.example.com' }, body: JSON_BODY });
    expect(reply.status).toBe(503);
    expect(reply.body).toBe('');
    expect(e.requests[0]).toMatchObject({
      outcome: 'error',
      error: { code: grpc.status.UNAVAILABLE },
    });
  });

  test('an SSE answer streams through: the first event arrives before the upstream finishes', async () => {
    const e = await emulator();
    const response = await fetch(`${e.url}/events`, { headers: { accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('data: one\n\n')) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += decoder.decode(value, { stream: true });
    }
    expect(text).not.toContain('two');
    upstream.releaseSecondEvent();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toBe('event: message\ndata: one\n\nevent: message\ndata: two\n\n');
  });
});

// ---------------------------------------------------------------------------------------------
// Real SDK traffic through the emulator
// ---------------------------------------------------------------------------------------------

describe('envoy emulator – real MCP SDK client', () => {
  let mcpServer: RunningMcpServer | undefined;

  afterEach(async () => {
    await mcpServer?.close();
    mcpServer = undefined;
  });

  test('v1 client via absolute-form proxy requests: allowed calls work, a denied tool gets the text', async () => {
    mcpServer = await startMcpSdkServer('v1-streamable');
    const e = await startEnvoyEmulator({
      authzAddress: authz.address,
      upstream: { host: '127.0.0.1', port: mcpServer.port },
      withRequestBody: BUFFER_ALL,
    });
    emulators.push(e);
    const client = new Client({ name: 'emulator-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL('http://mcp.example.com/mcp'), {
      fetch: forwardProxyFetch(e.url),
    });
    await client.connect(transport);
    const result = await client.callTool({
      name: 'get_issue',
      arguments: { owner: 'acme', repo: 'widgets', number: 42 },
    });
    expect(result.content).toEqual([{ type: 'text', text: 'acme/widgets#42: widgets wobble' }]);
    await expect(
      client.callTool({ name: 'delete_repo', arguments: { owner: 'acme', repo: 'widgets' } }),
    ).rejects.toThrow(
      /Blocked by corporate MCP egress policy: delete_repo is not on the allowlist\./,
    );
    await client.close();

    const checks = e.requests.map((r) => r.request.attributes!.request!.http!);
    expect(checks.every((h) => h.host === 'mcp.example.com' && h.path === '/mcp')).toBe(true);
    const first = checks[0]!;
    expect(JSON.parse(utf8(first.raw_body)!)).toMatchObject({ method: 'initialize' });
    expect(first.headers).not.toHaveProperty('mcp-session-id');
    expect(first.headers!['x-envoy-auth-partial-body']).toBe('false');
    const get = checks.find((h) => h.method === 'GET');
    expect(get?.headers).toMatchObject({ accept: 'text/event-stream' });
    expect(get?.raw_body).toBeUndefined();
    expect(e.requests.map((r) => r.outcome)).toContain('denied');

    // Wire compatibility: mcp-gate's own proto/ decodes every CheckRequest Envoy's protos encoded
    // into exactly what the emulator recorded (decoded with Envoy's protos).
    const envoySerialize = envoyAuthorizationService()['Check']!.requestSerialize;
    for (const { request } of e.requests) {
      expect(authorizationService.Check.requestDeserialize(envoySerialize(request))).toEqual(
        request,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// checkRequestFromRecorded
// ---------------------------------------------------------------------------------------------

describe('checkRequestFromRecorded', () => {
  test.each(MCP_SCENARIOS.map((s) => s.name))(
    '%s: every captured request becomes an Envoy-shaped CheckRequest',
    (name) => {
      for (const recorded of loadMcpTrafficFixture(name).requests) {
        const check = checkRequestFromRecorded(recorded, { authority: 'mcp.example.com' });
        const httpReq = check.attributes!.request!.http!;
        expect(httpReq.headers).toMatchObject({
          ':authority': 'mcp.example.com',
          ':method': recorded.method,
          ':path': recorded.path,
          ':scheme': 'http',
          'x-forwarded-proto': 'http',
        });
        expect(httpReq.headers).not.toHaveProperty('host');
        expect(httpReq.headers).not.toHaveProperty('connection');
        expect(check.attributes!.metadata_context).toEqual({});
        if (recorded.body === null) {
          expect(httpReq.raw_body).toBeUndefined();
          expect(httpReq.headers).not.toHaveProperty('x-envoy-auth-partial-body');
        } else {
          expect(utf8(httpReq.raw_body)).toBe(recorded.body);
          expect(httpReq.size).toBe(String(Buffer.byteLength(recorded.body)));
          expect(httpReq.headers!['x-envoy-auth-partial-body']).toBe('false');
        }
      }
    },
  );

  test('matches what the emulator sends for the same request', async () => {
    const recorded = loadMcpTrafficFixture('v2-auto-2026-07-28').requests.find(
      (r) => r.note === 'tools/call résumé_lookup',
    )!;
    const e = await emulator();
    const headers: Record<string, string> = { ...recorded.headers, host: 'mcp.example.com' };
    await send(e, {
      method: recorded.method,
      target: recorded.path,
      headers,
      body: recorded.body ?? undefined,
    });
    const viaEmulator = onlyCheck(e);
    const requestId = viaEmulator.attributes!.request!.http!.headers!['x-request-id']!;
    const time = viaEmulator.attributes!.request!.time!;
    const built = checkRequestFromRecorded(recorded, {
      authority: 'mcp.example.com',
      withRequestBody: BUFFER_ALL,
      requestId,
      streamId: viaEmulator.attributes!.request!.http!.id!,
      time: new Date(Number(time.seconds) * 1000 + (time.nanos ?? 0) / 1_000_000),
      source: {
        address: '127.0.0.1',
        port: viaEmulator.attributes!.source!.address!.socket_address!.port_value!,
      },
      destination: { address: '127.0.0.1', port: e.port },
    });
    expect(built).toEqual(viaEmulator);
  });

  test('options: no body buffering, pack_as_bytes false, 413 when partial messages are off', () => {
    const recorded = loadMcpTrafficFixture('v1-streamable-http-2025-11-25').requests[0]!;
    const none = checkRequestFromRecorded(recorded, { withRequestBody: null }).attributes!.request!
      .http!;
    expect(none.raw_body).toBeUndefined();
    expect(none.headers).not.toHaveProperty('x-envoy-auth-partial-body');
    const text = checkRequestFromRecorded(recorded, {
      withRequestBody: { maxRequestBytes: 10, allowPartialMessage: true, packAsBytes: false },
    }).attributes!.request!.http!;
    expect(text.body).toBe(recorded.body!.slice(0, 10));
    expect(text.headers!['x-envoy-auth-partial-body']).toBe('true');
    expect(() =>
      checkRequestFromRecorded(recorded, {
        withRequestBody: { maxRequestBytes: 10, allowPartialMessage: false, packAsBytes: true },
      }),
    ).toThrow(/413/);
  });
});
