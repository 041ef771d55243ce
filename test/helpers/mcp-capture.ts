/**
 * Captures the HTTP requests that the real MCP SDKs send, so that tests can feed genuine client
 * traffic into the gate instead of hand-written guesses.
 *
 * Each scenario starts a real SDK server on 127.0.0.1 (random port), puts a recording reverse
 * proxy (node:http) in front of it, and drives a real SDK client through the proxy. The proxy
 * records every request (method, path, lower-cased headers, body bytes) and the status and
 * content type of the answer, and forwards everything unchanged, streaming responses so that SSE
 * works. Everything is closed before `captureMcpTraffic` returns.
 *
 * The result is normalised so that two runs compare equal: session ids (UUIDs) become
 * `00000000-0000-4000-8000-00000000000N` in order of appearance (same length, so
 * `content-length` stays right), and the recording proxy's port in `host` becomes `<port>`.
 * JSON-RPC ids are deterministic in both SDK lines and are kept as sent.
 *
 * test/integration/mcp-capture.test.ts runs every scenario and compares the result with the
 * committed files in test/fixtures/mcp-traffic/ (`UPDATE_MCP_FIXTURES=1` rewrites them).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2ClientTransport,
} from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { NodeIncomingMessageLike } from '@modelcontextprotocol/node';
import type { JsonSchemaType } from '@modelcontextprotocol/server';
import {
  createMcpHandler,
  fromJsonSchema,
  McpServer as V2McpServer,
} from '@modelcontextprotocol/server';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as V1ClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport as V1ServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type {
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is what the scenario captures
type LegacySseClientTransport = SSEClientTransport;
// eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is what the scenario captures
type LegacySseServerTransport = SSEServerTransport;

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Where the committed capture files live. */
export const MCP_TRAFFIC_FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/mcp-traffic');

/** One HTTP request as the client sent it. */
export interface RecordedRequest {
  /** HTTP method (`POST`, `GET`, `DELETE`). */
  readonly method: string;
  /** Request target in origin form, query included. */
  readonly path: string;
  /** Lower-cased header name → value, in arrival order; repeated headers joined with `, ` (Node). */
  readonly headers: Readonly<Record<string, string>>;
  /** Body as UTF-8 text, or null when the request had no body bytes. */
  readonly body: string | null;
  /** What the request is, derived from its method and body (e.g. `tools/call get_issue`). */
  readonly note: string;
  /** The server's answer as it passed the proxy; informational. */
  readonly response: { readonly status: number; readonly contentType: string | null };
}

/** The contents of one `test/fixtures/mcp-traffic/<scenario>.json` file. */
export interface McpTrafficFixture {
  readonly scenario: McpScenarioName;
  /** The SDK package(s) and versions that produced the traffic. */
  readonly sdk: string;
  /** How the traffic was produced. */
  readonly source: string;
  readonly requests: readonly RecordedRequest[];
}

interface ScenarioSpec {
  readonly name: string;
  readonly sdkLine: 'v1' | 'v2';
  readonly source: string;
}

const V1_TOOL_CALLS =
  'tools/list, tools/call get_issue, tools/call delete_repo (its handler sends a server→client ping ' +
  'on the call’s SSE stream, so the client POSTs a JSON-RPC response), resources/read, prompts/get, ping';

/** Every scenario, in the order the fixtures are documented. */
export const MCP_SCENARIOS = [
  {
    name: 'v1-streamable-http-2025-11-25',
    sdkLine: 'v1',
    source:
      'v1 Client + StreamableHTTPClientTransport (default protocol, LATEST_PROTOCOL_VERSION) against a sessionful ' +
      `v1 McpServer + StreamableHTTPServerTransport: connect, ${V1_TOOL_CALLS}, then transport.terminateSession() ` +
      '(DELETE) and client.close(). terminateSession() runs before close() because close() aborts the signal the ' +
      'DELETE would use.',
  },
  {
    name: 'v1-streamable-http-2025-06-18',
    sdkLine: 'v1',
    source: pinnedSource('2025-06-18', ''),
  },
  {
    name: 'v1-streamable-http-2025-03-26',
    sdkLine: 'v1',
    source: pinnedSource(
      '2025-03-26',
      ' Then a JSON-RPC batch [ping, tools/call delete_repo] (batches exist only in 2025-03-26) is sent with ' +
        'the SDK transport’s own send(array); the v1 server answers it on one SSE stream.',
    ),
  },
  {
    name: 'v1-streamable-http-2024-11-05',
    sdkLine: 'v1',
    source: pinnedSource(
      '2024-11-05',
      ' 2024-11-05 defined only HTTP+SSE; this is what a v1 client negotiating 2024-11-05 over Streamable HTTP sends.',
    ),
  },
  {
    name: 'v1-legacy-sse-2024-11-05',
    sdkLine: 'v1',
    source:
      'v1 Client + SSEClientTransport against v1 McpServer + SSEServerTransport (GET /sse, POST ' +
      '/messages?sessionId=…), pinned to 2024-11-05 with the same initialize-only rewrite as the pinned ' +
      'Streamable HTTP scenarios (unpinned, the v1 client offers 2025-11-25 over this transport too): connect, ' +
      `${V1_TOOL_CALLS}, client.close(). Responses travel on the GET stream; every POST is answered 202.`,
  },
  {
    name: 'v2-auto-2026-07-28',
    sdkLine: 'v2',
    source:
      'v2 Client with versionNegotiation {mode: "auto"} + v2 StreamableHTTPClientTransport against ' +
      'createMcpHandler(McpServer factory) served by toNodeHandler on node:http: connect (server/discover probe, ' +
      'modern evidence, no initialize), tools/list (the client caches the x-mcp-header declarations), tools/call ' +
      'get_issue (repo → Mcp-Param-Repo), tools/call résumé_lookup (non-ASCII name and argument → =?base64?…?= ' +
      'values), tools/call delete_repo, resources/read, prompts/get, client.close().',
  },
  {
    name: 'v2-legacy-2025-11-25',
    sdkLine: 'v2',
    source:
      'v2 Client with the default versionNegotiation (legacy) + v2 StreamableHTTPClientTransport against the same ' +
      'createMcpHandler server, which serves 2025-era requests statelessly (no Mcp-Session-Id; GET answered 405): ' +
      'connect (initialize 2025-11-25), tools/list, tools/call get_issue, tools/call delete_repo, resources/read, ' +
      'prompts/get, ping, transport.terminateSession() (no session, so no DELETE), client.close().',
  },
  {
    name: 'v2-auto-fallback-to-v1-server',
    sdkLine: 'v2',
    source:
      'v2 Client with versionNegotiation {mode: "auto"} against the sessionful v1 McpServer + ' +
      'StreamableHTTPServerTransport (a 2025-only server): the server/discover probe is refused, the client falls ' +
      'back to initialize 2025-11-25 and continues as a 2025 client: tools/list, tools/call get_issue, tools/call ' +
      'delete_repo (server→client ping answered by a POSTed response), resources/read, prompts/get, ping, ' +
      'transport.terminateSession() (DELETE), client.close(). The v1 server package is @modelcontextprotocol/sdk.',
  },
] as const satisfies readonly ScenarioSpec[];

export type McpScenarioName = (typeof MCP_SCENARIOS)[number]['name'];

function pinnedSource(version: string, extra: string): string {
  return (
    `v1 Client pinned to ${version}. The v1 Client has no option for the requested version: it always sends ` +
    'initialize with LATEST_PROTOCOL_VERSION, and the v1 server echoes the requested version when it supports it ' +
    '(else answers with its latest). So the real Client and the real StreamableHTTPClientTransport are used, with ' +
    'a pass-through Transport wrapper between them that changes only params.protocolVersion of the initialize ' +
    `request to ${version}. The server echoes ${version}, the Client calls transport.setProtocolVersion() with it, ` +
    'and every later header and all framing come from the SDK itself. Against a sessionful v1 McpServer + ' +
    `StreamableHTTPServerTransport: connect, ${V1_TOOL_CALLS}, then transport.terminateSession() (DELETE) and ` +
    `client.close().${extra}`
  );
}

/** Runs one scenario live and returns the normalised fixture. */
export async function captureMcpTraffic(name: McpScenarioName): Promise<McpTrafficFixture> {
  const spec = MCP_SCENARIOS.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`unknown MCP scenario ${name}`);
  const live = await runScenario(name);
  return {
    scenario: name,
    sdk: sdkLabel(spec.sdkLine),
    source: spec.source,
    requests: normaliseRecords(live.records, live.proxyPort),
  };
}

/** Path of a scenario's committed fixture file. */
export function mcpTrafficFixturePath(name: McpScenarioName): string {
  return path.join(MCP_TRAFFIC_FIXTURE_DIR, `${name}.json`);
}

/** Reads a committed fixture (for unit tests feeding captured traffic into the pipeline). */
export function loadMcpTrafficFixture(name: McpScenarioName): McpTrafficFixture {
  // The file is written by this module from the McpTrafficFixture type; the integration test keeps
  // it in sync with live traffic, so a structural cast is all the validation needed here.
  return JSON.parse(readFileSync(mcpTrafficFixturePath(name), 'utf8')) as McpTrafficFixture;
}

function packageVersion(pkg: string): string {
  const file = path.join(REPO_ROOT, 'node_modules', pkg, 'package.json');
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed) {
    const { version } = parsed;
    if (typeof version === 'string') return `${pkg}@${version}`;
  }
  throw new Error(`no version in ${file}`);
}

function sdkLabel(line: 'v1' | 'v2'): string {
  if (line === 'v1') return packageVersion('@modelcontextprotocol/sdk');
  return [
    '@modelcontextprotocol/client',
    '@modelcontextprotocol/server',
    '@modelcontextprotocol/node',
  ]
    .map(packageVersion)
    .join(' + ');
}

// ---------------------------------------------------------------------------------------------
// Recording proxy
// ---------------------------------------------------------------------------------------------

interface LiveRecord {
  readonly method: string;
  readonly path: string;
  readonly rawHeaders: readonly string[];
  body: Buffer | null;
  status: number | undefined;
  contentType: string | null;
}

interface RecordingProxy {
  readonly url: string;
  readonly port: number;
  readonly records: LiveRecord[];
  /** Resolves once a recorded request matches and its response headers have come back. */
  waitFor(predicate: (record: LiveRecord) => boolean): Promise<void>;
  close(): Promise<void>;
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
  await new Promise<void>((resolve, reject) => {
    server.close((err) => {
      if (err === undefined) resolve();
      else reject(err);
    });
  });
}

async function startRecordingProxy(upstreamPort: number): Promise<RecordingProxy> {
  const records: LiveRecord[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const agent = new http.Agent({ keepAlive: false });

  const server = http.createServer((req, res) => {
    const record: LiveRecord = {
      method: req.method ?? '',
      path: req.url ?? '',
      rawHeaders: req.rawHeaders,
      body: null,
      status: undefined,
      contentType: null,
    };
    records.push(record);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      record.body = body.length > 0 ? body : null;
      const headers: Record<string, string | string[]> = {};
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        const key = req.rawHeaders[i]!;
        const value = req.rawHeaders[i + 1]!;
        const prior = headers[key];
        headers[key] =
          prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
      }
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: upstreamPort,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (upstreamRes) => {
          record.status = upstreamRes.statusCode;
          record.contentType = upstreamRes.headers['content-type'] ?? null;
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.rawHeaders);
          res.flushHeaders();
          upstreamRes.pipe(res);
          notify();
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
  const port = await listen(server);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    records,
    waitFor(predicate) {
      const done = (): boolean => records.some((r) => r.status !== undefined && predicate(r));
      if (done()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const waiter = (): void => {
          if (done()) {
            waiters.delete(waiter);
            resolve();
          }
        };
        waiters.add(waiter);
      });
    },
    async close() {
      await closeServer(server);
      agent.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function normaliseRecords(records: readonly LiveRecord[], proxyPort: number): RecordedRequest[] {
  const uuids = new Map<string, string>();
  const stableUuid = (text: string): string =>
    text.replace(UUID_RE, (uuid) => {
      const key = uuid.toLowerCase();
      let stable = uuids.get(key);
      if (stable === undefined) {
        stable = `00000000-0000-4000-8000-${String(uuids.size + 1).padStart(12, '0')}`;
        uuids.set(key, stable);
      }
      return stable;
    });

  return records.map((record) => {
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < record.rawHeaders.length; i += 2) {
      const key = record.rawHeaders[i]!.toLowerCase();
      let value = stableUuid(record.rawHeaders[i + 1]!);
      if (key === 'host') value = value.replace(`:${proxyPort}`, ':<port>');
      const prior = headers[key];
      headers[key] = prior === undefined ? value : `${prior}, ${value}`;
    }
    const body = record.body === null ? null : stableUuid(record.body.toString('utf8'));
    return {
      method: record.method,
      path: stableUuid(record.path),
      headers,
      body,
      note: describe(record.method, body),
      response: { status: record.status ?? 0, contentType: record.contentType },
    };
  });
}

function describeMessage(message: unknown): string {
  if (typeof message !== 'object' || message === null) return 'non-object JSON';
  const method =
    'method' in message && typeof message.method === 'string' ? message.method : undefined;
  if (method === undefined) {
    const id = 'id' in message ? JSON.stringify(message.id) : 'none';
    return 'result' in message ? `JSON-RPC result (id ${id})` : `JSON-RPC error (id ${id})`;
  }
  const params: unknown = 'params' in message ? message.params : undefined;
  if (typeof params === 'object' && params !== null) {
    if (
      method === 'initialize' &&
      'protocolVersion' in params &&
      typeof params.protocolVersion === 'string'
    ) {
      return `initialize ${params.protocolVersion}`;
    }
    if ('name' in params && typeof params.name === 'string') return `${method} ${params.name}`;
    if ('uri' in params && typeof params.uri === 'string') return `${method} ${params.uri}`;
  }
  return method;
}

function describe(method: string, body: string | null): string {
  if (body === null) {
    if (method === 'GET') return 'GET SSE stream';
    if (method === 'DELETE') return 'DELETE session';
    return `${method} without body`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `${method} with non-JSON body`;
  }
  if (Array.isArray(parsed)) return `batch [${parsed.map(describeMessage).join(', ')}]`;
  return describeMessage(parsed);
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

const ISSUE_ARGS = { owner: 'acme', repo: 'widgets', number: 42 } as const;
const RESOURCE_URI = 'file:///acme/widgets/README.md';

function buildV1Server(): V1McpServer {
  const server = new V1McpServer({ name: 'capture-server-v1', version: '1.0.0' });
  server.registerTool(
    'get_issue',
    {
      description: 'Read one issue',
      inputSchema: { owner: z.string(), repo: z.string(), number: z.number().int() },
    },
    ({ owner, repo, number }) => ({
      content: [{ type: 'text', text: `${owner}/${repo}#${number}: widgets wobble` }],
    }),
  );
  server.registerTool(
    'delete_repo',
    { description: 'Delete a repository', inputSchema: { owner: z.string(), repo: z.string() } },
    async ({ owner, repo }, extra) => {
      // A server→client request on the call's stream: the client answers it with a POSTed
      // JSON-RPC response, which the gate must not mistake for a request without a method.
      await extra.sendRequest({ method: 'ping' }, EmptyResultSchema);
      return { content: [{ type: 'text', text: `deleted ${owner}/${repo}` }] };
    },
  );
  server.registerResource('readme', RESOURCE_URI, { mimeType: 'text/markdown' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/markdown', text: '# Widgets\n' }],
  }));
  server.registerPrompt('summarize_issue', { argsSchema: { issue: z.string() } }, ({ issue }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Summarise issue ${issue}` } }],
  }));
  return server;
}

/** A real SDK server on 127.0.0.1 (random port). */
export interface RunningMcpServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts one of the SDK servers the scenarios use (tools get_issue and delete_repo — v1's pings
 * the client first —, resource file:///acme/widgets/README.md, prompt summarize_issue; the v2
 * server adds résumé_lookup) for end-to-end tests: `v1-streamable` (sessionful, endpoint /mcp),
 * `v1-sse` (GET /sse + POST /messages), `v2` (createMcpHandler, any path, both eras).
 */
export async function startMcpSdkServer(
  kind: 'v1-streamable' | 'v1-sse' | 'v2',
): Promise<RunningMcpServer> {
  switch (kind) {
    case 'v1-streamable':
      return startV1StreamableServer();
    case 'v1-sse':
      return startV1SseServer();
    case 'v2':
      return startV2Server();
  }
}

/** Runs an SDK request handler; a failure ends the exchange instead of becoming unhandled. */
function serve(handling: Promise<unknown>, res: http.ServerResponse): void {
  handling.catch(() => {
    res.destroy();
  });
}

async function startV1StreamableServer(): Promise<RunningMcpServer> {
  const sessions = new Map<string, V1ServerTransport>();
  const servers: V1McpServer[] = [];
  const httpServer = http.createServer((req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (existing !== undefined) {
      serve(existing.handleRequest(req, res), res);
      return;
    }
    if (req.method !== 'POST' || sessionId !== undefined) {
      res.writeHead(sessionId === undefined ? 400 : 404).end();
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
    const server = buildV1Server();
    servers.push(server);
    serve(
      server.connect(transport).then(() => transport.handleRequest(req, res)),
      res,
    );
  });
  const port = await listen(httpServer);
  return {
    port,
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await closeServer(httpServer);
    },
  };
}

async function startV1SseServer(): Promise<RunningMcpServer> {
  const sessions = new Map<string, LegacySseServerTransport>();
  const servers: V1McpServer[] = [];
  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/sse') {
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is what the scenario captures
      const transport = new SSEServerTransport('/messages', res);
      sessions.set(transport.sessionId, transport);
      const server = buildV1Server();
      servers.push(server);
      serve(server.connect(transport), res);
      return;
    }
    const transport = sessions.get(url.searchParams.get('sessionId') ?? '');
    if (req.method === 'POST' && url.pathname === '/messages' && transport !== undefined) {
      serve(transport.handlePostMessage(req, res), res);
      return;
    }
    res.writeHead(404).end();
  });
  const port = await listen(httpServer);
  return {
    port,
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await closeServer(httpServer);
    },
  };
}

interface IssueArgs {
  owner: string;
  repo: string;
  number: number;
}

function buildV2Server(): V2McpServer {
  const server = new V2McpServer({ name: 'capture-server-v2', version: '2.0.0' });
  server.registerTool(
    'get_issue',
    {
      description: 'Read one issue',
      inputSchema: fromJsonSchema<IssueArgs>({
        type: 'object',
        properties: {
          owner: { type: 'string' },
          // SEP-2243: the client mirrors this argument into an `Mcp-Param-Repo` header.
          repo: withMcpHeader({ type: 'string' }, 'Repo'),
          number: { type: 'integer' },
        },
        required: ['owner', 'repo', 'number'],
      }),
    },
    ({ owner, repo, number }) => ({
      content: [{ type: 'text', text: `${owner}/${repo}#${number}: widgets wobble` }],
    }),
  );
  server.registerTool(
    'delete_repo',
    {
      description: 'Delete a repository',
      inputSchema: fromJsonSchema<{ owner: string; repo: string }>({
        type: 'object',
        properties: { owner: { type: 'string' }, repo: { type: 'string' } },
        required: ['owner', 'repo'],
      }),
    },
    ({ owner, repo }) => ({ content: [{ type: 'text', text: `deleted ${owner}/${repo}` }] }),
  );
  // The SDK warns (SEP-986: tool names should be [A-Za-z0-9._-]) but registers the tool; the
  // warning is silenced so test output stays readable.
  withoutConsoleWarn(() =>
    server.registerTool(
      'résumé_lookup',
      {
        description: 'Look up a résumé',
        inputSchema: fromJsonSchema<{ candidate: string }>({
          type: 'object',
          properties: { candidate: withMcpHeader({ type: 'string' }, 'Candidate') },
          required: ['candidate'],
        }),
      },
      ({ candidate }) => ({ content: [{ type: 'text', text: `résumé of ${candidate}` }] }),
    ),
  );
  server.registerResource('readme', RESOURCE_URI, { mimeType: 'text/markdown' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/markdown', text: '# Widgets\n' }],
  }));
  server.registerPrompt(
    'summarize_issue',
    {
      argsSchema: fromJsonSchema<{ issue: string }>({
        type: 'object',
        properties: { issue: { type: 'string' } },
        required: ['issue'],
      }),
    },
    ({ issue }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Summarise issue ${issue}` } }],
    }),
  );
  return server;
}

/** Adds SEP-2243's `x-mcp-header` keyword, which the SDK's JSON Schema type does not declare. */
function withMcpHeader(property: JsonSchemaType, header: string): JsonSchemaType {
  return Object.assign(property, { 'x-mcp-header': header });
}

function withoutConsoleWarn<T>(fn: () => T): T {
  const original = console.warn;
  console.warn = () => undefined;
  try {
    return fn();
  } finally {
    console.warn = original;
  }
}

async function startV2Server(): Promise<RunningMcpServer> {
  const handler = createMcpHandler(() => buildV2Server());
  const nodeHandler = toNodeHandler(handler);
  const httpServer = http.createServer((req, res) => {
    // IncomingMessage has `method: string | undefined`, which the SDK's duck type declares as an
    // optional property; under exactOptionalPropertyTypes only a cast bridges the two.
    serve(nodeHandler(req as NodeIncomingMessageLike, res), res);
  });
  const port = await listen(httpServer);
  return {
    port,
    async close() {
      await handler.close();
      await closeServer(httpServer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/**
 * A pass-through Transport that rewrites `params.protocolVersion` of the `initialize` request, so
 * the real v1 Client (which always asks for LATEST_PROTOCOL_VERSION) negotiates an older
 * revision while the real SDK transport still does all the HTTP work. It can also send raw
 * messages (a batch) through the inner transport and collect their responses without the Client
 * seeing them.
 */
class PinnedVersionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  readonly #inner: V1ClientTransport | LegacySseClientTransport;
  readonly #version: string;
  readonly #pending = new Map<string | number, (message: JSONRPCMessage) => void>();

  constructor(inner: V1ClientTransport | LegacySseClientTransport, version: string) {
    this.#inner = inner;
    this.#version = version;
  }

  get sessionId(): string | undefined {
    // Client.connect() skips initialize when a session id is already set; SSE has none to offer.
    return this.#inner instanceof V1ClientTransport ? this.#inner.sessionId : undefined;
  }

  async start(): Promise<void> {
    const inner: Transport = this.#inner;
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => {
      const id = 'id' in message ? message.id : undefined;
      const waiter = id === undefined ? undefined : this.#pending.get(id);
      if (id !== undefined && waiter !== undefined && !('method' in message)) {
        this.#pending.delete(id);
        waiter(message);
        return;
      }
      this.onmessage?.(message, extra);
    };
    await inner.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const outgoing: JSONRPCMessage =
      'method' in message && message.method === 'initialize' && 'id' in message
        ? { ...message, params: { ...message.params, protocolVersion: this.#version } }
        : message;
    const inner: Transport = this.#inner;
    await inner.send(outgoing, options);
  }

  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion(version);
  }

  /** Sends `messages` as one JSON array (a 2025-03-26 batch) and resolves with their responses. */
  async sendBatch(messages: JSONRPCMessage[]): Promise<JSONRPCMessage[]> {
    if (!(this.#inner instanceof V1ClientTransport))
      throw new Error('batches need Streamable HTTP');
    const ids = messages.flatMap((m) => ('id' in m && 'method' in m ? [m.id] : []));
    const responses = Promise.all(
      ids.map((id) => new Promise<JSONRPCMessage>((resolve) => this.#pending.set(id, resolve))),
    );
    await this.#inner.send(messages);
    return responses;
  }

  async close(): Promise<void> {
    await this.#inner.close();
  }
}

async function runV1Operations(client: V1Client): Promise<void> {
  await client.listTools();
  await client.callTool({ name: 'get_issue', arguments: { ...ISSUE_ARGS } });
  await client.callTool({ name: 'delete_repo', arguments: { owner: 'acme', repo: 'widgets' } });
  await client.readResource({ uri: RESOURCE_URI });
  await client.getPrompt({ name: 'summarize_issue', arguments: { issue: '42' } });
  await client.ping();
}

const CLIENT_INFO = { name: 'mcp-gate-capture', version: '1.0.0' } as const;

async function runV1Streamable(proxy: RecordingProxy, pinned: string | undefined): Promise<void> {
  const sdkTransport = new V1ClientTransport(new URL(`${proxy.url}/mcp`));
  const wrapper =
    pinned === undefined ? undefined : new PinnedVersionTransport(sdkTransport, pinned);
  const client = new V1Client(CLIENT_INFO);
  await client.connect(wrapper ?? sdkTransport);
  // The standalone GET stream is opened fire-and-forget after notifications/initialized; wait for
  // it so the recorded order does not depend on a race with the next POST.
  await proxy.waitFor((r) => r.method === 'GET');
  await runV1Operations(client);
  if (pinned === '2025-03-26' && wrapper !== undefined) {
    await wrapper.sendBatch([
      { jsonrpc: '2.0', id: 'batch-1', method: 'ping' },
      {
        jsonrpc: '2.0',
        id: 'batch-2',
        method: 'tools/call',
        params: { name: 'get_issue', arguments: { ...ISSUE_ARGS } },
      },
    ]);
  }
  await sdkTransport.terminateSession();
  await client.close();
}

async function runV1LegacySse(proxy: RecordingProxy): Promise<void> {
  const client = new V1Client(CLIENT_INFO);
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is what the scenario captures
  const sdkTransport = new SSEClientTransport(new URL(`${proxy.url}/sse`));
  await client.connect(new PinnedVersionTransport(sdkTransport, '2024-11-05'));
  await runV1Operations(client);
  await client.close();
}

/**
 * `modern`: the v2 client negotiated 2026-07-28 (no GET stream, no ping, no session).
 * `legacy`: it speaks 2025-11-25, whether by default or after falling back from `auto`.
 */
async function runV2(
  proxy: RecordingProxy,
  mode: 'auto' | 'legacy',
  expectedEra: 'modern' | 'legacy',
): Promise<void> {
  const client = new V2Client(CLIENT_INFO, { versionNegotiation: { mode } });
  const transport = new V2ClientTransport(new URL(`${proxy.url}/mcp`));
  await client.connect(transport);
  if (expectedEra === 'legacy') await proxy.waitFor((r) => r.method === 'GET');
  await client.listTools();
  await client.callTool({ name: 'get_issue', arguments: { ...ISSUE_ARGS } });
  if (expectedEra === 'modern') {
    await client.callTool({ name: 'résumé_lookup', arguments: { candidate: 'Zoë Faßbender' } });
  }
  await client.callTool({ name: 'delete_repo', arguments: { owner: 'acme', repo: 'widgets' } });
  await client.readResource({ uri: RESOURCE_URI });
  await client.getPrompt({ name: 'summarize_issue', arguments: { issue: '42' } });
  if (expectedEra === 'legacy') {
    await client.ping();
    await transport.terminateSession();
  }
  await client.close();
}

async function runScenario(
  name: McpScenarioName,
): Promise<{ records: LiveRecord[]; proxyPort: number }> {
  const upstream =
    name === 'v1-legacy-sse-2024-11-05'
      ? await startV1SseServer()
      : name === 'v2-auto-2026-07-28' || name === 'v2-legacy-2025-11-25'
        ? await startV2Server()
        : await startV1StreamableServer();
  let proxy: RecordingProxy | undefined;
  try {
    proxy = await startRecordingProxy(upstream.port);
    switch (name) {
      case 'v1-streamable-http-2025-11-25':
        await runV1Streamable(proxy, undefined);
        break;
      case 'v1-streamable-http-2025-06-18':
        await runV1Streamable(proxy, '2025-06-18');
        break;
      case 'v1-streamable-http-2025-03-26':
        await runV1Streamable(proxy, '2025-03-26');
        break;
      case 'v1-streamable-http-2024-11-05':
        await runV1Streamable(proxy, '2024-11-05');
        break;
      case 'v1-legacy-sse-2024-11-05':
        await runV1LegacySse(proxy);
        break;
      case 'v2-auto-2026-07-28':
        await runV2(proxy, 'auto', 'modern');
        break;
      case 'v2-legacy-2025-11-25':
        await runV2(proxy, 'legacy', 'legacy');
        break;
      case 'v2-auto-fallback-to-v1-server':
        await runV2(proxy, 'auto', 'legacy');
        break;
    }
    return { records: proxy.records, proxyPort: proxy.port };
  } finally {
    await proxy?.close();
    await upstream.close();
  }
}
