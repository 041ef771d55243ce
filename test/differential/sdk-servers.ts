/**
 * Real MCP SDK servers on loopback for the differential suite: `send` puts exact request bytes on
 * a fresh TCP connection to each server and reports, per server, the HTTP status and the tools
 * that actually ran for that request, so mcp-gate's verdicts can be held to what servers execute.
 *
 * What each server does with the traits the suite attacks. Each fact was read in the node_modules
 * file named and then observed through this harness (the ones the suite leans on are asserted in
 * test/differential/sdk-servers.test.ts). Shared by all four: duplicate JSON keys resolve to the
 * last (`JSON.parse`); a message with a top-level member the JSON-RPC schema does not know (a
 * case variant such as `"Method"` beside `"method"`, or any extra member) or an `id` of null
 * fails the schema, 400, while unknown members inside `params` (`"Name"`) are accepted and
 * ignored; no initialize is needed before tools/call (@modelcontextprotocol/sdk dist/esm/shared/protocol.js dispatches any request it has
 * a handler for).
 *
 * `v1-express-streamable`: Express 5 (`express`), `express.json()`, then the v1
 * `StreamableHTTPServerTransport` stateless (fresh McpServer and transport per request) given
 * `req.body` as `parsedBody`, mounted with `app.use` at `/mcp/open` and then `/mcp`.
 *  - Body parser and limit: configured as `createMcpExpressApp` configures it
 *    (@modelcontextprotocol/sdk dist/esm/server/express.js): `express.json()` with no options, so
 *    the limit is body-parser's default of 100 KiB, 102400 bytes (body-parser lib/utils.js), not
 *    4 MiB: one byte more is 413. The helper itself is not used because it also installs a Host
 *    check passing only localhost names (dist/esm/server/middleware/hostHeaderValidation.js),
 *    which would answer 403 to any request naming a real MCP server's host and hide the rest.
 *  - Content-Encoding (body-parser lib/read.js): the lowercased value `gzip`, `deflate` (zlib
 *    format; raw deflate fails to inflate, 400) and `br` are inflated before the limit applies;
 *    `zstd` only when node:zlib has `createZstdDecompress` (Node 20 has not: 415); `identity` or
 *    none is read as is; anything else, a list like `gzip, gzip` included, is 415.
 *  - Charset: from the first Content-Type header (node:http keeps only the first of repeated
 *    Content-Type headers in `req.headers`), default utf-8; it must start with `utf-` or 415, and
 *    iconv-lite must know it or 415 (`utf-9`). So `utf-7`, `utf-16` (BOM-sniffed, little-endian
 *    without one), `utf-16le`, `utf-32` are decoded and run; `latin1` and `us-ascii` are 415.
 *  - The transport re-checks Content-Type on the web `Request` that @hono/node-server
 *    (dist/index.mjs) builds, which joins repeated Content-Type headers with ", "; the SDK's
 *    media-type parser (dist/esm/shared/mediaType.js) finds no media type in a joined value, so
 *    repeated Content-Type headers are 415 though body-parser read the first. That conversion
 *    also answers 400 for a backslash in the path below the mount or a Host it cannot make a URL
 *    of (`exa_mple.com:99999`, `a@b`, empty).
 *  - Batches (dist/esm/server/webStandardStreamableHttp.js): an array of up to 100 messages,
 *    each schema-checked (one bad element, or a nested array, fails the POST, 400); 101 is 400;
 *    an initialize with anything else is 400. A repeated id runs every call.
 *  - `mcp-protocol-version`: absent means 2025-03-26; present, it must be a supported revision
 *    (dist/esm/types.js: 2024-10-07 to 2025-11-25; `2026-07-28` is 400) or 400; not checked on
 *    an initialize.
 *  - Paths: Express's router matches the raw, undecoded path, case-insensitively, a whole segment
 *    at a time, without resolving dot segments: `/mcp/x/../open/` is under `/mcp` but its second
 *    segment is `x`, not `open`, so the `/mcp` mount serves it; `/MCP/OPEN` is `/mcp/open`;
 *    `/mcp/../x` is `/mcp`; `/x/../mcp`, `/mcp%2Fopen` and `/mcp\open` match nothing, 404. An
 *    absolute-form target is routed by its path.
 *
 * `v1-sse`: the v1 legacy `SSEServerTransport` (dist/esm/server/sse.js) on node:http, mount
 * `/sse`. `send` opens a fresh GET `/sse` stream per request (so runs belong to one request),
 * reads its endpoint event, and sends the request's method, headers and body to that message
 * endpoint (`POST /messages?sessionId=`, other methods 405); the request's path is not used.
 *  - Content-Encoding: none handled; compressed bytes are decoded as text and fail, 400.
 *  - Charset: the first Content-Type header must parse strictly (content-type package) as
 *    application/json, else 400 (`application/json;` is 400 here, accepted elsewhere); its
 *    `charset` (default utf-8) goes to raw-body, which decodes with iconv-lite: `utf-7`, `utf-16`,
 *    `latin1`, `us-ascii` are all accepted, an unknown charset is 400.
 *  - Batches: each POST must be one JSON-RPC message; an array is 400.
 *  - `mcp-protocol-version`: ignored, any value runs.
 *  - Body limit: 4 MiB (`4mb` to raw-body); one byte more is 400 (every read failure is 400).
 *    A parsed message is answered 202 and its JSON-RPC response goes down the SSE stream.
 *  - A Host no URL can be made of (`exa_mple.com:99999`) throws outside the transport's own
 *    error handling: answered 500 here, as a framework would answer a rejected handler.
 *
 * `v2-node`: the v2 SDK, `McpServer` from @modelcontextprotocol/server with
 * `NodeStreamableHTTPServerTransport` from @modelcontextprotocol/node, stateless, on node:http.
 * The v2 node:http example (@modelcontextprotocol/node README.md) routes nothing, so routing here
 * is a plain string test on the raw `req.url` up to `?`: it must be `/mcp` or start with `/mcp/`,
 * as written (no dot segments resolved, no decoding, case-sensitive): `/mcp/../x` and
 * `/mcp/x/../open/` are served, `/x/../mcp`, `/MCP`, an absolute-form target are 404.
 *  - The node transport converts the request with @hono/node-server as above (repeated
 *    Content-Type 415, backslash below the mount 400, bad Host 400); the v2 web-standard
 *    transport (@modelcontextprotocol/server dist/index.mjs) reads the body itself with a UTF-8
 *    `TextDecoder`: the charset parameter is ignored (`utf-7` and `utf-16` bodies fail, 400;
 *    `latin1`, `us-ascii`, `utf-9` labels run as UTF-8; a UTF-8 BOM is dropped) and so is
 *    Content-Encoding (a gzip body is 400; a `zstd` label on a plain body runs).
 *  - Batches and `mcp-protocol-version` as in v1 (@modelcontextprotocol/core dist/schemas-*.mjs
 *    lists the same revisions); body limit 4 MiB, 413 (a declared Content-Length over it is
 *    refused unread).
 *
 * `v1-webstandard`: the v1 `WebStandardStreamableHTTPServerTransport` (JSON responses, as in
 * test/property/sdk-server.ts) behind a node:http server standing in for a fetch runtime (Workers,
 * Deno, Bun): the raw header lines are appended to a `Headers` in order (repeats joined with ", "
 * by the Fetch rules), the body bytes are passed untouched (dropped for GET and HEAD, which a
 * `Request` cannot carry), and the URL is parsed by WHATWG `URL` from the Host header and the raw
 * target, which resolves `..`, `%2e%2e` and `\` before routing on the resolved pathname (`/mcp`
 * or below): `/x/../mcp`, `/x/%2e%2e/mcp`, `/mcp\open` are served, `/mcp/../x` and `/MCP` are
 * 404; an empty Host makes the first path segment the host (404). A target `URL` or `Request`
 * refuses is 400.
 *  - Charset and Content-Encoding ignored (UTF-8 `TextDecoder`, dist/esm/server/requestBody.js),
 *    batches and `mcp-protocol-version` as above, body limit 4 MiB, 413.
 *
 * On all three streamable servers GET is answered 405 before any transport, as the SDK's
 * stateless example does (dist/esm/examples/server/simpleStatelessStreamableHttp.js): a stateless
 * GET stream never ends and runs nothing. A WebSocket upgrade request is therefore 405 as a GET
 * and handled as an ordinary request as a POST (node:http treats Upgrade as a plain header when
 * nothing listens for upgrades). Express's own error responses (body-parser's 400/413/415) keep
 * Express's status without its error logging.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | undefined;
}
export interface ToolRun {
  readonly mount: string;
  readonly tool: string;
}
export interface ServerRun {
  readonly server: string;
  /**
   * The status line received, even when the body then did not end within the bound (an SSE
   * response whose request is never answered); 0 when no response head arrived at all.
   */
  readonly status: number;
  readonly ran: readonly ToolRun[];
}
export interface SdkServers {
  readonly names: readonly string[];
  send(request: RawRequest): Promise<readonly ServerRun[]>;
  close(): Promise<void>;
}

/** Thrown by `send`, before any connection is opened, for a request node:http will not write. */
export class UnsendableRequestError extends Error {
  override readonly name = 'UnsendableRequestError';
}

/**
 * Upper bound on one exchange: a response that never ends (a server that never answers a
 * request, e.g. one a batch also cancels) is cut here and reported with what ran so far.
 */
const DEFAULT_TIMEOUT_MS = 3_000;

type ServerName = 'v1-express-streamable' | 'v1-sse' | 'v2-node' | 'v1-webstandard';

/**
 * Starts the four servers on 127.0.0.1, each offering every tool in `tools`. `send` reaches all
 * four in parallel and resolves in `names` order; overlapping sends are kept apart. `timeoutMs`
 * bounds each exchange (default 3 s) and is only reached by requests a server never finishes.
 */
export async function startSdkServers(options: {
  readonly tools: readonly string[];
  readonly timeoutMs?: number;
}): Promise<SdkServers> {
  const tools = [...options.tools];
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started: Started[] = [];
  try {
    started.push(await startExpressStreamable(tools, timeoutMs));
    started.push(await startSse(tools, timeoutMs));
    started.push(await startV2Node(tools, timeoutMs));
    started.push(await startWebStandard(tools, timeoutMs));
  } catch (error) {
    await Promise.all(started.map((server) => server.close()));
    throw error;
  }
  let closed = false;
  return {
    names: started.map((server) => server.name),
    async send(request) {
      if (closed) throw new Error('SdkServers: send after close');
      assertSendable(request);
      return Promise.all(started.map((server) => server.send(request)));
    },
    async close() {
      closed = true;
      await Promise.all(started.map((server) => server.close()));
      // Closed handles leave the loop's list on its next turn; callers may look right after.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}

interface Started {
  readonly name: ServerName;
  send(request: RawRequest): Promise<ServerRun>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Knowing when a request is finished on the server.

/**
 * Counts the JSON-RPC requests one server instance was handed and the responses it sent, so the
 * harness knows when every tool call of a request has run. The SDK starts each handler in a
 * promise chain after dispatch, and a handler can outlive the HTTP response (a batch repeating an
 * id ends the response at the first answer; a closed transport aborts the reply but not the
 * handler), so "response ended" alone would miss runs. Idle means every request answered, or the
 * transport closed; either way one macrotask turn follows, so handler chains already queued as
 * microtasks (all these tools are synchronous) have recorded their runs.
 */
class Inflight {
  #pending = 0;
  #closed = false;
  readonly #waiters: (() => void)[] = [];

  received(message: unknown): void {
    if (isObject(message) && 'method' in message && 'id' in message) this.#pending += 1;
  }

  sent(message: unknown): void {
    if (isObject(message) && 'id' in message && !('method' in message)) {
      this.#pending -= 1;
      this.#wake();
    }
  }

  closed(): void {
    this.#closed = true;
    this.#wake();
  }

  /** Resolves when idle (see the class comment) or after `timeoutMs`, whichever is first. */
  idle(timeoutMs: number): Promise<void> {
    const settled = new Promise<void>((resolve) => {
      if (this.#isIdle()) {
        resolve();
        return;
      }
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return settled.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  }

  #isIdle(): boolean {
    return this.#closed || this.#pending <= 0;
  }

  #wake(): void {
    if (!this.#isIdle()) return;
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** The part of the v1 and v2 transports the SDK's Protocol drives: set by `connect`. */
interface DrivenTransport {
  onmessage?: ((message: never, extra?: never) => void) | undefined;
  onclose?: (() => void) | undefined;
  send(message: never, options?: never): Promise<void>;
}

/** Taps a connected transport; must run after `connect`, which installs the Protocol's callbacks. */
function instrument(transport: DrivenTransport, inflight: Inflight): void {
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    inflight.received(message);
    deliver?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    inflight.sent(message);
    return send(message, options);
  };
  const onclose = transport.onclose;
  transport.onclose = () => {
    inflight.closed();
    onclose?.();
  };
}

/** One request's record on a streamable server: the tools it ran and its in-flight count. */
interface Entry {
  readonly runs: ToolRun[];
  readonly inflight: Inflight;
}

/**
 * Per-request records keyed by the client's TCP port: every `send` uses a fresh connection, so
 * the server side (`req.socket.remotePort`) and the client side (`socket.localPort`) name the same
 * request without the harness adding a header of its own.
 */
class Entries {
  readonly #byPort = new Map<number, Entry>();

  open(req: IncomingMessage): Entry {
    const port = req.socket.remotePort ?? -1;
    let entry = this.#byPort.get(port);
    if (entry === undefined) {
      entry = { runs: [], inflight: new Inflight() };
      this.#byPort.set(port, entry);
    }
    return entry;
  }

  async take(port: number | undefined, timeoutMs: number): Promise<ToolRun[]> {
    if (port === undefined) return [];
    const entry = this.#byPort.get(port);
    if (entry === undefined) return [];
    // Forgotten before waiting: a later connection reusing the port starts a record of its own,
    // while a late handler of this request still records into the entry it holds.
    this.#byPort.delete(port);
    await entry.inflight.idle(timeoutMs);
    return entry.runs;
  }
}

// ---------------------------------------------------------------------------------------------
// The MCP servers.

const text = (tool: string) => ({ content: [{ type: 'text' as const, text: `ran ${tool}` }] });

function v1Server(tools: readonly string[], record: (tool: string) => void): McpServerV1 {
  const server = new McpServerV1({ name: 'differential-v1', version: '1.0.0' });
  for (const tool of tools) {
    server.registerTool(tool, { description: tool }, () => {
      record(tool);
      return text(tool);
    });
  }
  return server;
}

function v2Server(tools: readonly string[], record: (tool: string) => void): McpServerV2 {
  const server = new McpServerV2({ name: 'differential-v2', version: '1.0.0' });
  for (const tool of tools) {
    server.registerTool(tool, { description: tool }, () => {
      record(tool);
      return text(tool);
    });
  }
  return server;
}

function methodNotAllowed(res: ServerResponse): void {
  res.writeHead(405, { 'content-type': 'application/json', allow: 'POST, DELETE' });
  res.end(
    JSON.stringify({
      jsonrpc: '2.0',
      error: { code: -32000, message: 'Method not allowed.' },
      id: null,
    }),
  );
}

function failed(res: ServerResponse, status: number): void {
  if (!res.headersSent) res.writeHead(status);
  res.end();
}

/** Is `path` the mount itself or below it, compared as plain strings. */
function underMount(path: string, mount: string): boolean {
  return path === mount || path.startsWith(`${mount}/`);
}

// Express has no type declarations in this project; these are the few calls made on it.
type Next = (error?: unknown) => void;
type ExpressRequest = IncomingMessage & { body?: unknown };
type Handler = (req: ExpressRequest, res: ServerResponse, next: Next) => void;
type ErrorHandler = (error: unknown, req: ExpressRequest, res: ServerResponse, next: Next) => void;
interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void;
  use(handler: Handler | ErrorHandler): void;
  use(path: string, handler: Handler): void;
}
interface ExpressModule {
  (): ExpressApp;
  json(): Handler;
}

async function startExpressStreamable(
  tools: readonly string[],
  timeoutMs: number,
): Promise<Started> {
  const express = createRequire(import.meta.url)('express') as ExpressModule;
  const entries = new Entries();
  const app = express();
  app.use(express.json());
  // `/mcp/open` first: Express runs the first matching mount, and `/mcp` matches below it too.
  for (const mount of ['/mcp/open', '/mcp']) {
    app.use(mount, (req, res) => {
      if (req.method === 'GET') {
        methodNotAllowed(res);
        return;
      }
      const entry = entries.open(req);
      const server = v1Server(tools, (tool) => entry.runs.push({ mount, tool }));
      // No sessionIdGenerator: stateless.
      const transport = new StreamableHTTPServerTransport({});
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      server
        .connect(transport)
        .then(() => {
          instrument(transport, entry.inflight);
          return transport.handleRequest(req, res, req.body);
        })
        .catch(() => {
          failed(res, 500);
        });
    });
  }
  // Replaces Express's final error handler only to keep its status without its stack logging.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express knows an error handler by its four parameters
  app.use((error: unknown, _req: ExpressRequest, res: ServerResponse, _next: Next) => {
    failed(res, httpErrorStatus(error));
  });
  const server = await listen(createServer(app));
  return {
    name: 'v1-express-streamable',
    async send(request) {
      const { status, localPort } = await exchange(server.port, request, request.path, timeoutMs);
      return {
        server: 'v1-express-streamable',
        status,
        ran: await entries.take(localPort, timeoutMs),
      };
    },
    close: () => server.close(),
  };
}

/** The status Express's final handler gives an error (the finalhandler package). */
function httpErrorStatus(error: unknown): number {
  if (isObject(error)) {
    for (const key of ['status', 'statusCode'] as const) {
      const value: unknown = (error as Record<string, unknown>)[key];
      if (typeof value === 'number' && value >= 400 && value < 600) return value;
    }
  }
  return 500;
}

interface SseSession {
  readonly runs: ToolRun[];
  readonly inflight: Inflight;
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is what this server observes
  readonly transport: SSEServerTransport;
}

async function startSse(tools: readonly string[], timeoutMs: number): Promise<Started> {
  const sessions = new Map<string, SseSession>();
  const http = createServer((req, res) => {
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    if (path === '/sse' && req.method === 'GET') {
      const runs: ToolRun[] = [];
      const inflight = new Inflight();
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the legacy HTTP+SSE transport is what this server observes
      const transport = new SSEServerTransport('/messages', res);
      const server = v1Server(tools, (tool) => runs.push({ mount: '/sse', tool }));
      sessions.set(transport.sessionId, { runs, inflight, transport });
      res.on('close', () => {
        sessions.delete(transport.sessionId);
        void server.close();
      });
      server
        .connect(transport)
        .then(() => {
          instrument(transport, inflight);
        })
        .catch(() => {
          failed(res, 500);
        });
      return;
    }
    if (path === '/messages') {
      if (req.method !== 'POST') {
        methodNotAllowed(res);
        return;
      }
      const sessionId = new URLSearchParams(query === -1 ? '' : target.slice(query + 1)).get(
        'sessionId',
      );
      const session = sessionId === null ? undefined : sessions.get(sessionId);
      if (session === undefined) {
        failed(res, 404);
        return;
      }
      // handlePostMessage answers its own failures and also rethrows one of them.
      session.transport.handlePostMessage(req, res).catch(() => {
        failed(res, 500);
      });
      return;
    }
    failed(res, 404);
  });
  const server = await listen(http);
  return {
    name: 'v1-sse',
    async send(request) {
      const stream = await openSseStream(server.port, timeoutMs);
      try {
        const { status } = await exchange(server.port, request, stream.endpoint, timeoutMs);
        const session = sessions.get(stream.sessionId);
        if (session === undefined) return { server: 'v1-sse', status, ran: [] };
        await session.inflight.idle(timeoutMs);
        return { server: 'v1-sse', status, ran: [...session.runs] };
      } finally {
        stream.close();
      }
    },
    close: async () => {
      for (const session of sessions.values()) await session.transport.close();
      await server.close();
    },
  };
}

interface SseStream {
  readonly endpoint: string;
  readonly sessionId: string;
  close(): void;
}

/** Opens GET /sse and resolves with the message endpoint from its first `endpoint` event. */
function openSseStream(port: number, timeoutMs: number): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'GET',
      path: '/sse',
      headers: { accept: 'text/event-stream' },
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error('v1-sse: no endpoint event'));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        const endpoint = /^event: endpoint\ndata: (.*)\n\n/m.exec(buffered)?.[1];
        if (endpoint === undefined) return;
        clearTimeout(timer);
        const sessionId = new URL(endpoint, 'http://127.0.0.1').searchParams.get('sessionId') ?? '';
        // Later events (the JSON-RPC responses) are drained unread: the server side counts them.
        buffered = '';
        res.removeAllListeners('data');
        res.resume();
        resolve({ endpoint, sessionId, close: () => req.destroy() });
      });
    });
    req.end();
  });
}

async function startV2Node(tools: readonly string[], timeoutMs: number): Promise<Started> {
  const entries = new Entries();
  const http = createServer((req, res) => {
    const target = req.url ?? '';
    const query = target.indexOf('?');
    if (!underMount(query === -1 ? target : target.slice(0, query), '/mcp')) {
      failed(res, 404);
      return;
    }
    if (req.method === 'GET') {
      methodNotAllowed(res);
      return;
    }
    const entry = entries.open(req);
    const server = v2Server(tools, (tool) => entry.runs.push({ mount: '/mcp', tool }));
    // No sessionIdGenerator: stateless.
    const transport = new NodeStreamableHTTPServerTransport({});
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => {
        instrument(transport, entry.inflight);
        return transport.handleRequest(req, res);
      })
      .catch(() => {
        failed(res, 500);
      });
  });
  const server = await listen(http);
  return {
    name: 'v2-node',
    async send(request) {
      const { status, localPort } = await exchange(server.port, request, request.path, timeoutMs);
      return { server: 'v2-node', status, ran: await entries.take(localPort, timeoutMs) };
    },
    close: () => server.close(),
  };
}

async function startWebStandard(tools: readonly string[], timeoutMs: number): Promise<Started> {
  const entries = new Entries();
  const http = createServer((req, res) => {
    serveWebStandard(req, res, tools, entries).catch(() => {
      failed(res, 500);
    });
  });
  const server = await listen(http);
  return {
    name: 'v1-webstandard',
    async send(request) {
      const { status, localPort } = await exchange(server.port, request, request.path, timeoutMs);
      return { server: 'v1-webstandard', status, ran: await entries.take(localPort, timeoutMs) };
    },
    close: () => server.close(),
  };
}

async function serveWebStandard(
  req: IncomingMessage,
  res: ServerResponse,
  tools: readonly string[],
  entries: Entries,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const method = req.method ?? 'GET';
  let request: Request;
  try {
    const target = req.url ?? '/';
    const url = new URL(
      target.startsWith('/') ? `http://${req.headers.host ?? ''}${target}` : target,
    );
    if (!underMount(url.pathname, '/mcp')) {
      failed(res, 404);
      return;
    }
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    }
    const carriesBody = method !== 'GET' && method !== 'HEAD';
    request = new Request(url, {
      method,
      headers,
      ...(carriesBody && { body: Buffer.concat(chunks) }),
    });
  } catch {
    failed(res, 400);
    return;
  }
  if (method === 'GET') {
    methodNotAllowed(res);
    return;
  }
  const entry = entries.open(req);
  const server = v1Server(tools, (tool) => entry.runs.push({ mount: '/mcp', tool }));
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  instrument(transport, entry.inflight);
  const response = await transport.handleRequest(request);
  res.writeHead(response.status, [...response.headers].flat());
  if (response.body !== null) {
    for await (const chunk of response.body) res.write(chunk);
  }
  res.end();
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing.

interface Listening {
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/**
 * The header lines to write, in order and with their casing, plus the ones node:http itself adds
 * when given a header object (Host, and Content-Length for a body), because node adds neither
 * when given the header list that keeps repeats and order. Content-Length is also added for a
 * body on GET/HEAD/DELETE/OPTIONS, where node would send the body unframed.
 */
function wireHeaders(request: RawRequest, port: number): string[] {
  const lines: string[] = [];
  const names = new Set<string>();
  for (const [name, value] of request.headers) {
    lines.push(name, value);
    names.add(name.toLowerCase());
  }
  if (!names.has('host')) lines.push('Host', `127.0.0.1:${port}`);
  if (!names.has('content-length') && !names.has('transfer-encoding')) {
    if (request.body !== undefined) lines.push('Content-Length', String(request.body.byteLength));
    else if (!BODYLESS_METHODS.has(request.method.toUpperCase())) lines.push('Content-Length', '0');
  }
  return lines;
}

/** Methods for which node:http frames no empty body (it writes Content-Length: 0 for the rest). */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/**
 * Lets node:http run every check it makes on a request (method token, path characters, header
 * names and values) against an agent that never connects, so a refused request throws here,
 * before any server sees a connection, with node's own reason.
 */
function assertSendable(request: RawRequest): void {
  const agent = Object.assign(new Agent(), { addRequest: () => undefined });
  try {
    httpRequest({
      host: '127.0.0.1',
      port: 9,
      method: request.method,
      path: request.path,
      headers: wireHeaders(request, 9),
      agent,
    });
  } catch (error) {
    throw new UnsendableRequestError(
      `node:http will not send this request: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/**
 * Sends one request on a fresh connection and waits for its response to end (or `timeoutMs`).
 * Resolves with the status (0 without a response head) and the client port naming the request.
 */
function exchange(
  port: number,
  request: RawRequest,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; localPort: number | undefined }> {
  return new Promise((resolve) => {
    let status = 0;
    let localPort: number | undefined;
    const req: ClientRequest = httpRequest({
      host: '127.0.0.1',
      port,
      method: request.method,
      path,
      headers: wireHeaders(request, port),
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(), timeoutMs);
    req.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        localPort = socket.localPort;
      });
    });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.resume();
    });
    // A server may answer and close before reading the whole body; the status already read stands.
    req.on('error', () => undefined);
    req.on('close', () => {
      clearTimeout(timer);
      resolve({ status, localPort });
    });
    const body = request.body;
    req.end(
      body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    );
  });
}
