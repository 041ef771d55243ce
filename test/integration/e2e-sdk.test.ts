/**
 * End to end: real MCP SDK clients → the Envoy emulator (absolute-form forward proxy, ext_authz
 * over gRPC with Envoy's protos) → the real mcp-gate service → real MCP SDK servers.
 *
 * Every scenario asserts what the person's client surfaces (result content, error class and
 * message), what the upstream server saw (request headers, which tool handlers ran), and the
 * CheckResponses the emulator recorded (reason per request).
 *
 * The SDK servers are built here rather than taken from test/helpers/mcp-capture.ts because the
 * tests must count tool-handler invocations and see the headers that reached the upstream.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  Client as V2Client,
  SdkError,
  SdkHttpError,
  StreamableHTTPClientTransport as V2ClientTransport,
} from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { NodeIncomingMessageLike } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  fromJsonSchema,
  McpServer as V2McpServer,
} from '@modelcontextprotocol/server';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  StreamableHTTPClientTransport as V1ClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport as V1ServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';

import { isDecisionId } from '../../src/core/decision-id.js';
import type {
  BufferSettings,
  CheckRecord,
  EnvoyEmulator,
  HeaderValueOptionObject,
  ProxyFetch,
} from '../helpers/envoy-emulator.js';
import { forwardProxyFetch, startEnvoyEmulator } from '../helpers/envoy-emulator.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { RecordedList } from '../helpers/recorded-list.js';
import { textOf } from '../helpers/tool-result.js';
import { stamped } from '../helpers/stamped.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const REVIEW_URL = 'https://mcp-review.corp.example/request';

/**
 * Tool rules: allow `get_*`, `list_*` and the résumé tools; deny `*delete*`. The brief asked for
 * `résumé_*`, but a glob may only hold printable ASCII (docs/allowlist.md "Globs",
 * src/core/policy/glob.ts checkGlob): the service refuses to start with it. `r?sum?_*` (`?` is one
 * code point) is the ASCII glob that approves `résumé_lookup`.
 */
const TOOL_RULES = `    tools:
      allow: ['get_*', 'list_*', 'r?sum?_*']
      deny: ['*delete*']
`;

const ALLOWLIST = stamped(`version: e2e.1
default_action: deny
mode: enforce
review_url: ${REVIEW_URL}
approved:
  - id: example-mcp
    host: mcp.example.com
    transport: http
    url: http://mcp.example.com/mcp
${TOOL_RULES}    review_ticket: SEC-1001
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
  - id: example-dry-run
    host: mcp-dry-run.example.com
    transport: http
    url: http://mcp-dry-run.example.com/mcp
${TOOL_RULES}    mode: dry-run
    review_ticket: SEC-1002
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`);

/** envoy/egress-proxy.yaml's `with_request_body`. */
const WITH_REQUEST_BODY: BufferSettings = {
  maxRequestBytes: 4_194_304,
  allowPartialMessage: true,
  packAsBytes: true,
};

const ISSUE_ARGS = { owner: 'acme', repo: 'widgets', number: 42 };
const DELETE_ARGS = { owner: 'acme', repo: 'widgets' };
const ISSUE_TEXT = 'acme/widgets#42: widgets wobble';
const CLIENT_INFO = { name: 'mcp-gate-e2e', version: '1.0.0' };
/** Client-sent headers that must never reach the upstream as the client wrote them. */
const FORGED_HEADERS = { 'x-mcp-gate-server': 'forged', 'x-mcp-gate-admin': '1' };

// ---------------------------------------------------------------------------------------------
// Instrumented SDK servers
// ---------------------------------------------------------------------------------------------

interface UpstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** A real SDK server that records the requests reaching it and counts tool-handler runs. */
interface InstrumentedServer {
  readonly port: number;
  readonly requests: UpstreamRequest[];
  /** Resolves with the first request (recorded or still to come) that matches. */
  waitForRequest(match: (request: UpstreamRequest) => boolean): Promise<UpstreamRequest>;
  /** How often each tool's handler ran. */
  calls(tool: string): number;
  close(): Promise<void>;
}

class ToolCounter {
  readonly #counts = new Map<string, number>();

  hit(tool: string): void {
    this.#counts.set(tool, (this.#counts.get(tool) ?? 0) + 1);
  }

  get(tool: string): number {
    return this.#counts.get(tool) ?? 0;
  }
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/** Runs an SDK request handler; a failure ends the exchange instead of becoming unhandled. */
function serve(handling: Promise<unknown>, res: http.ServerResponse): void {
  handling.catch(() => {
    res.destroy();
  });
}

function buildV1Server(counter: ToolCounter): V1McpServer {
  const server = new V1McpServer({ name: 'e2e-server-v1', version: '1.0.0' });
  server.registerTool(
    'get_issue',
    { inputSchema: { owner: z.string(), repo: z.string(), number: z.number().int() } },
    ({ owner, repo, number }) => {
      counter.hit('get_issue');
      return { content: [{ type: 'text', text: `${owner}/${repo}#${number}: widgets wobble` }] };
    },
  );
  server.registerTool(
    'delete_repo',
    { inputSchema: { owner: z.string(), repo: z.string() } },
    ({ owner, repo }) => {
      counter.hit('delete_repo');
      return { content: [{ type: 'text', text: `deleted ${owner}/${repo}` }] };
    },
  );
  return server;
}

/** Sessionful v1 McpServer + StreamableHTTPServerTransport on `/mcp`. */
async function startV1StreamableServer(): Promise<InstrumentedServer> {
  const counter = new ToolCounter();
  const requests = new RecordedList<UpstreamRequest>();
  const sessions = new Map<string, V1ServerTransport>();
  const servers: V1McpServer[] = [];
  const httpServer = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing !== undefined) {
      serve(existing.handleRequest(req, res), res);
      return;
    }
    if (req.method !== 'POST' || sessionId !== undefined || req.url !== '/mcp') {
      res.writeHead(400).end();
      return;
    }
    const transport: V1ServerTransport = new V1ServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    const server = buildV1Server(counter);
    servers.push(server);
    serve(
      server.connect(transport).then(() => transport.handleRequest(req, res)),
      res,
    );
  });
  const port = await listen(httpServer);
  return {
    port,
    requests: requests.items,
    waitForRequest: (match) => requests.waitFor(match),
    calls: (tool) => counter.get(tool),
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await closeServer(httpServer);
    },
  };
}

/** v1 McpServer + the legacy SSEServerTransport: GET `/mcp/sse`, POST `/mcp/messages`. */
async function startV1SseServer(): Promise<InstrumentedServer> {
  const counter = new ToolCounter();
  const requests = new RecordedList<UpstreamRequest>();
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is under test
  const sessions = new Map<string, SSEServerTransport>();
  const servers: V1McpServer[] = [];
  const httpServer = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/mcp/sse') {
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is under test
      const transport = new SSEServerTransport('/mcp/messages', res);
      sessions.set(transport.sessionId, transport);
      const server = buildV1Server(counter);
      servers.push(server);
      serve(server.connect(transport), res);
      return;
    }
    const transport = sessions.get(url.searchParams.get('sessionId') ?? '');
    if (req.method === 'POST' && url.pathname === '/mcp/messages' && transport !== undefined) {
      serve(transport.handlePostMessage(req, res), res);
      return;
    }
    res.writeHead(400).end();
  });
  const port = await listen(httpServer);
  return {
    port,
    requests: requests.items,
    waitForRequest: (match) => requests.waitFor(match),
    calls: (tool) => counter.get(tool),
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await closeServer(httpServer);
    },
  };
}

function buildV2Server(counter: ToolCounter): V2McpServer {
  const server = new V2McpServer({ name: 'e2e-server-v2', version: '2.0.0' });
  server.registerTool(
    'get_issue',
    {
      inputSchema: fromJsonSchema<{ owner: string; repo: string; number: number }>({
        type: 'object',
        properties: {
          owner: { type: 'string' },
          repo: { type: 'string' },
          number: { type: 'integer' },
        },
        required: ['owner', 'repo', 'number'],
      }),
    },
    ({ owner, repo, number }) => {
      counter.hit('get_issue');
      return { content: [{ type: 'text', text: `${owner}/${repo}#${number}: widgets wobble` }] };
    },
  );
  server.registerTool(
    'delete_repo',
    {
      inputSchema: fromJsonSchema<{ owner: string; repo: string }>({
        type: 'object',
        properties: { owner: { type: 'string' }, repo: { type: 'string' } },
        required: ['owner', 'repo'],
      }),
    },
    ({ owner, repo }) => {
      counter.hit('delete_repo');
      return { content: [{ type: 'text', text: `deleted ${owner}/${repo}` }] };
    },
  );
  // The SDK warns that the name is outside SEP-986's [A-Za-z0-9._-] but registers it; the
  // warning is silenced to keep the test output readable.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    server.registerTool(
      'résumé_lookup',
      {
        inputSchema: fromJsonSchema<{ candidate: string }>({
          type: 'object',
          properties: { candidate: { type: 'string' } },
          required: ['candidate'],
        }),
      },
      ({ candidate }) => {
        counter.hit('résumé_lookup');
        return { content: [{ type: 'text', text: `résumé of ${candidate}` }] };
      },
    );
  } finally {
    console.warn = warn;
  }
  return server;
}

/** createMcpHandler (both protocol eras, any path) on node:http. */
async function startV2Server(): Promise<InstrumentedServer> {
  const counter = new ToolCounter();
  const requests = new RecordedList<UpstreamRequest>();
  const handler = createMcpHandler(() => buildV2Server(counter));
  const nodeHandler = toNodeHandler(handler);
  const httpServer = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    // IncomingMessage has `method: string | undefined`, which the SDK's duck type declares as an
    // optional property; under exactOptionalPropertyTypes only a cast bridges the two.
    serve(nodeHandler(req as NodeIncomingMessageLike, res), res);
  });
  const port = await listen(httpServer);
  return {
    port,
    requests: requests.items,
    waitForRequest: (match) => requests.waitFor(match),
    calls: (tool) => counter.get(tool),
    async close() {
      await handler.close();
      await closeServer(httpServer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the emulator's records
// ---------------------------------------------------------------------------------------------

/** What one Check was about and how mcp-gate answered it. */
interface CheckSummary {
  /** `POST initialize`, `POST tools/call get_issue`, `GET`, `DELETE`, … */
  readonly request: string;
  readonly outcome: CheckRecord['outcome'];
  /** The decision's reason (deny header or allow metadata); `none` when no metadata (not MCP). */
  readonly reason: string;
  /** HTTP status of a denial, else undefined. */
  readonly status: number | undefined;
}

function headerValue(
  headers: readonly HeaderValueOptionObject[] | undefined,
  name: string,
): string | undefined {
  return headers?.find((h) => h.header?.key === name)?.header?.value;
}

/** A string field of the CheckResponse's `dynamic_metadata` (a protobuf Struct, decoded). */
function metadataString(record: CheckRecord, field: string): string | undefined {
  const metadata = record.response?.dynamic_metadata;
  if (typeof metadata !== 'object' || metadata === null || !('fields' in metadata)) {
    return undefined;
  }
  const fields: unknown = metadata.fields;
  if (typeof fields !== 'object' || fields === null || !(field in fields)) return undefined;
  const value: unknown = (fields as Record<string, unknown>)[field];
  if (typeof value !== 'object' || value === null || !('stringValue' in value)) return undefined;
  return typeof value.stringValue === 'string' ? value.stringValue : undefined;
}

function describeRpc(message: unknown): string {
  if (typeof message !== 'object' || message === null) return '?';
  if (!('method' in message) || typeof message.method !== 'string') return 'response';
  const params: unknown = 'params' in message ? message.params : undefined;
  if (
    message.method === 'tools/call' &&
    typeof params === 'object' &&
    params !== null &&
    'name' in params &&
    typeof params.name === 'string'
  ) {
    return `tools/call ${params.name}`;
  }
  return message.method;
}

function summarise(record: CheckRecord): CheckSummary {
  const http = record.request.attributes?.request?.http;
  const method = http?.method ?? '';
  const raw = http?.raw_body;
  let request = method;
  if (raw !== undefined && raw.length > 0) {
    request = `${method} ${describeRpc(JSON.parse(Buffer.from(raw).toString('utf8')))}`;
  }
  const deniedResponse = record.response?.denied_response;
  const reason =
    record.outcome === 'denied'
      ? (headerValue(deniedResponse?.headers, 'x-mcp-gate-reason') ?? '?')
      : (metadataString(record, 'reason') ?? 'none');
  return {
    request,
    outcome: record.outcome,
    reason,
    status: record.outcome === 'denied' ? (deniedResponse?.status?.code ?? 403) : undefined,
  };
}

const allowed = (request: string, reason = 'approved'): CheckSummary => ({
  request,
  outcome: 'allowed',
  reason,
  status: undefined,
});
const denied = (request: string, reason: string, status: number): CheckSummary => ({
  request,
  outcome: 'denied',
  reason,
  status,
});

/** The decision id mcp-gate put on the denial of `request` (as `summarise` names it). */
function denialDecisionId(emulator: EnvoyEmulator, request: string): string {
  const record = emulator.requests.find(
    (r) => r.outcome === 'denied' && summarise(r).request === request,
  );
  const id = headerValue(record?.response?.denied_response?.headers, 'x-mcp-gate-decision-id');
  if (id === undefined) throw new Error(`no denial recorded for ${request}`);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Fixture lifecycle
// ---------------------------------------------------------------------------------------------

let gate: TestService | undefined;

/** What afterEach closes, in reverse order of start: clients, then emulators, then servers. */
const closers: (() => Promise<void>)[] = [];

function service(): TestService {
  if (gate === undefined) throw new Error('mcp-gate did not start');
  return gate;
}

beforeAll(async () => {
  gate = await startTestService({ allowlist: ALLOWLIST, now: () => NOW });
});
afterAll(async () => {
  await gate?.stop();
});
afterEach(async () => {
  const failures: unknown[] = [];
  for (const close of closers.splice(0).reverse()) {
    await close().catch((error: unknown) => failures.push(error));
  }
  if (failures.length > 0) throw new AggregateError(failures, 'closing the test fixtures failed');
});

async function upstream(kind: 'v1-streamable' | 'v1-sse' | 'v2'): Promise<{
  server: InstrumentedServer;
  emulator: EnvoyEmulator;
  fetch: ProxyFetch;
}> {
  const server =
    kind === 'v1-streamable'
      ? await startV1StreamableServer()
      : kind === 'v1-sse'
        ? await startV1SseServer()
        : await startV2Server();
  closers.push(() => server.close());
  const emulator = await startEnvoyEmulator({
    authzAddress: service().grpcAddress,
    upstream: { host: '127.0.0.1', port: server.port },
    withRequestBody: WITH_REQUEST_BODY,
  });
  closers.push(() => emulator.close());
  return { server, emulator, fetch: forwardProxyFetch(emulator.url) };
}

function track<T extends { close(): Promise<void> }>(client: T): T {
  closers.push(() => client.close());
  return client;
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

describe('v1 SDK, Streamable HTTP (2025-11-25)', () => {
  test('allowed calls work; a denied tool is a tool result with the review link; the session goes on', async () => {
    const { server, emulator, fetch } = await upstream('v1-streamable');
    const client = track(new V1Client(CLIENT_INFO));
    await client.connect(
      new V1ClientTransport(new URL('http://mcp.example.com/mcp'), {
        fetch,
        requestInit: { headers: FORGED_HEADERS },
      }),
    );
    expect(client.getServerVersion()?.name).toBe('e2e-server-v1');
    // The standalone GET stream is opened fire-and-forget after notifications/initialized.
    // The v1 client opens its GET stream without awaiting it.
    await emulator.waitForRecord((r) => summarise(r).request === 'GET');

    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name)).toEqual(['get_issue', 'delete_repo']);

    const issue = await client.callTool({ name: 'get_issue', arguments: ISSUE_ARGS });
    expect(issue).toEqual({ content: [{ type: 'text', text: ISSUE_TEXT }] });

    const refused = await client.callTool({ name: 'delete_repo', arguments: DELETE_ARGS });
    const decisionId = denialDecisionId(emulator, 'POST tools/call delete_repo');
    expect(isDecisionId(decisionId)).toBe(true);
    expect(refused).toEqual({
      content: [
        {
          type: 'text',
          text: `Tool delete_repo on MCP server example-mcp is not approved. Request it: ${REVIEW_URL}?host=mcp.example.com&tool=delete_repo&entry=example-mcp&decision=${decisionId}`,
        },
      ],
      isError: true,
      resultType: 'complete',
    });
    expect(server.calls('delete_repo')).toBe(0);
    expect(server.calls('get_issue')).toBe(1);

    // Same session afterwards.
    const again = await client.listTools();
    expect(again.tools).toHaveLength(2);

    expect(emulator.requests.map(summarise)).toEqual([
      allowed('POST initialize'),
      allowed('POST notifications/initialized'),
      allowed('GET'),
      allowed('POST tools/list'),
      allowed('POST tools/call get_issue'),
      denied('POST tools/call delete_repo', 'tool_not_allowed', 200),
      allowed('POST tools/list'),
    ]);
    const deniedRecord = emulator.requests[5]!;
    expect(headerValue(deniedRecord.response?.denied_response?.headers, 'content-type')).toBe(
      'application/json',
    );
  });

  test('allowed requests reach the upstream with x-mcp-gate-server; forged x-mcp-gate-* headers do not', async () => {
    const { server, emulator, fetch } = await upstream('v1-streamable');
    const client = track(new V1Client(CLIENT_INFO));
    const transport = new V1ClientTransport(new URL('http://mcp.example.com/mcp'), {
      fetch,
      requestInit: { headers: FORGED_HEADERS },
    });
    await client.connect(transport);
    // The v1 client opens its GET stream without awaiting it.
    await server.waitForRequest((r) => r.method === 'GET');
    await client.callTool({ name: 'get_issue', arguments: ISSUE_ARGS });
    await transport.terminateSession();

    // Every request the client sent carried the forged headers; every one reached the upstream.
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'GET', 'POST', 'DELETE']);
    const allowedIds = emulator.requests.map((r) => {
      expect(r.outcome).toBe('allowed');
      return headerValue(r.response?.ok_response?.headers, 'x-mcp-gate-decision-id');
    });
    for (const request of server.requests) {
      expect(request.headers['x-mcp-gate-server']).toBe('example-mcp');
      expect(request.headers).not.toHaveProperty('x-mcp-gate-admin');
      expect(request.headers).not.toHaveProperty('x-mcp-gate-would-deny');
      const id = request.headers['x-mcp-gate-decision-id'];
      expect(typeof id === 'string' && isDecisionId(id)).toBe(true);
      expect(allowedIds).toContain(id);
    }
    // The forged headers were on the wire: mcp-gate saw them and ordered them removed.
    for (const record of emulator.requests) {
      expect(record.request.attributes?.request?.http?.headers).toMatchObject(FORGED_HEADERS);
      expect(record.response?.ok_response?.headers_to_remove).toEqual(['x-mcp-gate-admin']);
    }
  });
});

describe('v1 SDK, legacy HTTP+SSE (2024-11-05)', () => {
  test('a denied tool surfaces as an error carrying the 403 text; the session goes on', async () => {
    const { server, emulator, fetch } = await upstream('v1-sse');
    const client = track(new V1Client(CLIENT_INFO));
    await client.connect(
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is under test
      new SSEClientTransport(new URL('http://mcp.example.com/mcp/sse'), { fetch }),
    );

    const issue = await client.callTool({ name: 'get_issue', arguments: ISSUE_ARGS });
    expect(issue).toEqual({ content: [{ type: 'text', text: ISSUE_TEXT }] });

    const failure = await client.callTool({ name: 'delete_repo', arguments: DELETE_ARGS }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const decisionId = denialDecisionId(emulator, 'POST tools/call delete_repo');
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(
      `Error POSTing to endpoint (HTTP 403): Tool delete_repo on MCP server example-mcp is not approved. Request it: ${REVIEW_URL}?host=mcp.example.com&tool=delete_repo&entry=example-mcp&decision=${decisionId}`,
    );
    expect(server.calls('delete_repo')).toBe(0);

    const again = await client.callTool({ name: 'get_issue', arguments: ISSUE_ARGS });
    expect(textOf(again)).toBe(ISSUE_TEXT);
    expect(server.calls('get_issue')).toBe(2);

    expect(emulator.requests.map(summarise)).toEqual([
      allowed('GET'),
      allowed('POST initialize'),
      allowed('POST notifications/initialized'),
      allowed('POST tools/call get_issue'),
      denied('POST tools/call delete_repo', 'tool_not_allowed', 403),
      allowed('POST tools/call get_issue'),
    ]);
  });
});

describe('v2 SDK, auto version negotiation (2026-07-28)', () => {
  test('an allowed call works; a denied tool resolves as an isError result, not INVALID_RESULT', async () => {
    const { server, emulator, fetch } = await upstream('v2');
    const client = track(new V2Client(CLIENT_INFO, { versionNegotiation: { mode: 'auto' } }));
    await client.connect(new V2ClientTransport(new URL('http://mcp.example.com/mcp'), { fetch }));
    await client.listTools();

    const issue = await client.callTool({ name: 'get_issue', arguments: ISSUE_ARGS });
    expect(textOf(issue)).toBe(ISSUE_TEXT);
    expect(issue.isError).not.toBe(true);

    const outcome = await client.callTool({ name: 'delete_repo', arguments: DELETE_ARGS }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if ('error' in outcome) {
      const code = outcome.error instanceof SdkError ? outcome.error.code : undefined;
      throw new Error(`callTool threw (${String(code)}): ${String(outcome.error)}`);
    }
    const decisionId = denialDecisionId(emulator, 'POST tools/call delete_repo');
    expect(outcome.result.isError).toBe(true);
    expect(textOf(outcome.result)).toBe(
      `Tool delete_repo on MCP server example-mcp is not approved. Request it: ${REVIEW_URL}?host=mcp.example.com&tool=delete_repo&entry=example-mcp&decision=${decisionId}`,
    );
    expect(server.calls('delete_repo')).toBe(0);
    expect(server.calls('get_issue')).toBe(1);

    expect(emulator.requests.map(summarise)).toEqual([
      allowed('POST server/discover'),
      allowed('POST tools/list'),
      allowed('POST tools/call get_issue'),
      denied('POST tools/call delete_repo', 'tool_not_allowed', 200),
    ]);
    const call = emulator.requests[3]!.request.attributes?.request?.http?.headers;
    expect(call).toMatchObject({
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'delete_repo',
    });
  });

  test('a non-ASCII tool name travels base64-encoded in Mcp-Name and is approved by its glob', async () => {
    const { server, emulator, fetch } = await upstream('v2');
    const client = track(new V2Client(CLIENT_INFO, { versionNegotiation: { mode: 'auto' } }));
    await client.connect(new V2ClientTransport(new URL('http://mcp.example.com/mcp'), { fetch }));
    await client.listTools();

    const result = await client.callTool({
      name: 'résumé_lookup',
      arguments: { candidate: 'Zoë Faßbender' },
    });
    expect(result.isError).not.toBe(true);
    expect(textOf(result)).toBe('résumé of Zoë Faßbender');
    expect(server.calls('résumé_lookup')).toBe(1);

    const record = emulator.requests.at(-1)!;
    expect(summarise(record)).toEqual(allowed('POST tools/call résumé_lookup'));
    expect(record.request.attributes?.request?.http?.headers?.['mcp-name']).toBe(
      `=?base64?${Buffer.from('résumé_lookup', 'utf8').toString('base64')}?=`,
    );
    expect(metadataString(record, 'tool')).toBe('résumé_lookup');
    expect(server.requests.at(-1)?.headers['x-mcp-gate-server']).toBe('example-mcp');
  });
});

describe('unapproved host', () => {
  test('v1 connect() rejects with the 403 text and review link; no OAuth or SSE fallback follows', async () => {
    const { server, emulator, fetch } = await upstream('v1-streamable');
    const client = new V1Client(CLIENT_INFO);
    const transport = new V1ClientTransport(new URL('http://mcp.unlisted.example/mcp'), { fetch });
    const failure = await client.connect(transport).then(
      () => undefined,
      (error: unknown) => error,
    );
    await client.close();

    expect(emulator.requests).toHaveLength(1);
    expect(summarise(emulator.requests[0]!)).toEqual(denied('POST initialize', 'unapproved', 403));
    const record = emulator.requests[0]!;
    expect(record.request.attributes?.request?.http?.headers).not.toHaveProperty(
      'mcp-protocol-version',
    );
    const decisionId = denialDecisionId(emulator, 'POST initialize');
    expect(failure).toBeInstanceOf(StreamableHTTPError);
    expect((failure as StreamableHTTPError).code).toBe(403);
    const text = `MCP server mcp.unlisted.example is not approved for use here. Request a security review: ${REVIEW_URL}?host=mcp.unlisted.example&decision=${decisionId}`;
    expect((failure as Error).message).toContain('is not approved');
    expect((failure as Error).message).toContain(
      `${REVIEW_URL}?host=mcp.unlisted.example&decision=${decisionId}`,
    );
    expect((failure as Error).message).toBe(
      `Streamable HTTP error: Error POSTing to endpoint: ${text}`,
    );
    expect(server.requests).toEqual([]);
  });

  test('v2 auto connect() rejects after one denied server/discover; no initialize retry follows', async () => {
    const { server, emulator, fetch } = await upstream('v2');
    const client = new V2Client(CLIENT_INFO, { versionNegotiation: { mode: 'auto' } });
    const failure = await client
      .connect(new V2ClientTransport(new URL('http://mcp.unlisted.example/mcp'), { fetch }))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await client.close();
    // A 403 ends version negotiation: the client does not fall back to initialize (it would
    // after a 200 JSON-RPC error), so exactly one Check happened. The SDK keeps our text in
    // `data.text` and shows a generic message (docs/wire/mcp.md, What clients show).
    expect(emulator.requests.map(summarise)).toEqual([
      denied('POST server/discover', 'unapproved', 403),
    ]);
    const decisionId = denialDecisionId(emulator, 'POST server/discover');
    expect(failure).toBeInstanceOf(SdkHttpError);
    expect(failure).toMatchObject({
      code: 'CLIENT_HTTP_FORBIDDEN',
      message: 'Version negotiation failed: the server denied access (HTTP 403)',
      data: {
        status: 403,
        text: `MCP server mcp.unlisted.example is not approved for use here. Request a security review: ${REVIEW_URL}?host=mcp.unlisted.example&decision=${decisionId}`,
      },
    });
    expect(server.requests).toEqual([]);
  });
});

describe('dry-run entry', () => {
  test('a would-be-denied tool runs, and the upstream is told x-mcp-gate-would-deny', async () => {
    const { server, emulator, fetch } = await upstream('v1-streamable');
    const client = track(new V1Client(CLIENT_INFO));
    await client.connect(
      new V1ClientTransport(new URL('http://mcp-dry-run.example.com/mcp'), { fetch }),
    );
    const result = await client.callTool({ name: 'delete_repo', arguments: DELETE_ARGS });
    expect(result).toEqual({ content: [{ type: 'text', text: 'deleted acme/widgets' }] });
    expect(server.calls('delete_repo')).toBe(1);
    await client.callTool({ name: 'get_issue', arguments: ISSUE_ARGS });

    const calls = server.requests.filter((r) => r.method === 'POST').slice(-2);
    expect(calls[0]?.headers['x-mcp-gate-would-deny']).toBe('tool_not_allowed');
    expect(calls[0]?.headers['x-mcp-gate-server']).toBe('example-dry-run');
    expect(calls[1]?.headers).not.toHaveProperty('x-mcp-gate-would-deny');
    expect(calls[1]?.headers['x-mcp-gate-server']).toBe('example-dry-run');

    const summaries = emulator.requests.map(summarise);
    expect(summaries).toContainEqual(allowed('POST tools/call delete_repo', 'tool_not_allowed'));
    expect(summaries).toContainEqual(allowed('POST tools/call get_issue'));
    expect(summaries.every((s) => s.outcome === 'allowed')).toBe(true);
    const dry = emulator.requests.find(
      (r) => summarise(r).request === 'POST tools/call delete_repo',
    );
    expect(dry?.response?.dynamic_metadata).toMatchObject({
      fields: { dry_run: { boolValue: true } },
    });
    const decision = await service().waitForLog(
      (l) => l['msg'] === 'decision' && l['tool'] === 'delete_repo' && l['dry_run'] === true,
    );
    expect(decision).toMatchObject({
      decision: 'would_deny',
      reason: 'tool_not_allowed',
      entry: 'example-dry-run',
    });
  });
});
