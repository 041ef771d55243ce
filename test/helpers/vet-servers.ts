/**
 * Servers for the `mcp-gate vet` tests, all on 127.0.0.1 with random ports: a real MCP server
 * (the v2 SDK's McpServer behind createMcpHandler) on node:https with the HSTS and
 * mcp-protocol-version response headers under the test's control, the same server on plain
 * node:http, a redirect to https, a port that resets every connection, and one that accepts
 * connections and never answers. Certificates come from src/certs/x509.ts, made per test run.
 * Every server records the requests it got, so tests can prove what was (not) sent.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { ServerOptions as HttpsOptions } from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

import type { NodeIncomingMessageLike } from '@modelcontextprotocol/node';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { JsonSchemaType } from '@modelcontextprotocol/server';
import { createMcpHandler, fromJsonSchema, McpServer } from '@modelcontextprotocol/server';
import { Server as V1Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport as V1Transport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { createCertificateAuthority, issueLeafCertificate } from '../../src/certs/x509.js';
import type { CertificateAndKey } from '../../src/certs/x509.js';

const DAY_MS = 86_400_000;

/** The certificates of one test run. */
export interface VetPki {
  /** The CA the tests pass with --ca. */
  readonly ca: CertificateAndKey;
  /** 90 days left. */
  readonly good: CertificateAndKey;
  /** 5 days left. */
  readonly expiring: CertificateAndKey;
  /** Expired 70 days ago, from the same CA. */
  readonly expired: CertificateAndKey;
  /** Its own issuer: trusted by nobody. */
  readonly selfSigned: CertificateAndKey;
}

export async function createVetPki(): Promise<VetPki> {
  const now = Date.now();
  // The CA starts 200 days back, so a leaf issued "100 days ago" is inside its validity.
  const ca = await createCertificateAuthority({
    commonName: 'vet test CA',
    validityDays: 3650,
    now: new Date(now - 200 * DAY_MS),
  });
  const leaf = (validityDays: number, issuedDaysAgo = 0): Promise<CertificateAndKey> =>
    issueLeafCertificate({
      ca,
      dnsNames: [],
      ipAddresses: ['127.0.0.1'],
      validityDays,
      usage: 'server',
      now: new Date(now - issuedDaysAgo * DAY_MS),
    });
  const [good, expiring, expired, selfSigned] = await Promise.all([
    leaf(90),
    leaf(5),
    leaf(30, 100),
    createCertificateAuthority({ commonName: '127.0.0.1', validityDays: 90 }),
  ]);
  return { ca, good, expiring, expired, selfSigned };
}

/** A request a test server received. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface RunningServer {
  readonly port: number;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** The tools of the test server: two read-only, one destructive, one with no hints, one glob. */
export const TEST_TOOLS = {
  readOnly: ['get_issue', 'search_issues'],
  others: ['delete_repo', 'create_issue'],
  /** Read-only, but its name is a glob that would approve every tool. */
  glob: '*',
  /**
   * Declares x-mcp-header on an object property, which SEP-2243 forbids: a 2026-07-28 client
   * drops it from tools/list (and says so on the console).
   */
  dropped: 'bad_header_tool',
} as const;

function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'acme-issues', version: '3.1.0' });
  const tool = (name: string, annotations: Record<string, boolean>): void => {
    server.registerTool(name, { description: name, annotations }, () => ({
      content: [{ type: 'text', text: name }],
    }));
  };
  tool('get_issue', { readOnlyHint: true });
  tool('search_issues', { readOnlyHint: true, openWorldHint: false });
  tool('delete_repo', { destructiveHint: true });
  tool('create_issue', {});
  server.registerTool(
    TEST_TOOLS.dropped,
    {
      description: 'x-mcp-header on an object',
      inputSchema: fromJsonSchema<{ q: object }>({
        type: 'object',
        properties: { q: { type: 'object', 'x-mcp-header': 'Query' } as JsonSchemaType },
      }),
      annotations: { readOnlyHint: true },
    },
    () => ({ content: [] }),
  );
  // The SDK warns that "*" is not a recommended tool name (SEP-986) but registers it.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    tool(TEST_TOOLS.glob, { readOnlyHint: true });
  } finally {
    console.warn = warn;
  }
  return server;
}

export interface McpHttpsOptions {
  readonly cert: CertificateAndKey;
  /** The Strict-Transport-Security value, or null for none. */
  readonly hsts: string | null;
  /** An mcp-protocol-version header to put on every response (a function: per request). */
  readonly protocolHeader?: string | ((req: IncomingMessage) => string | undefined);
  /** Answer 401 unless this authorization header is sent. */
  readonly requireAuthorization?: string;
  /** Extra TLS server options (protocol versions, ciphers). */
  readonly tls?: HttpsOptions;
  /** Never answer HTTP requests (TLS completes, then silence). */
  readonly silent?: boolean;
}

/** The MCP test server on https. */
export function startMcpHttps(options: McpHttpsOptions): Promise<RunningServer> {
  const mcp = createMcpHandler(() => buildMcpServer());
  const handler = toNodeHandler(mcp);
  const server = https.createServer(
    { cert: options.cert.certPem, key: options.cert.keyPem, ...options.tls },
    (req, res) => {
      if (options.silent === true) return;
      if (options.hsts !== null) res.setHeader('strict-transport-security', options.hsts);
      const { protocolHeader } = options;
      const version = typeof protocolHeader === 'function' ? protocolHeader(req) : protocolHeader;
      if (version !== undefined) res.setHeader('mcp-protocol-version', version);
      const required = options.requireAuthorization;
      if (required !== undefined && req.headers.authorization !== required) {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('unauthorized');
        return;
      }
      void serveMcp(handler, req, res);
    },
  );
  return listening(server, async () => {
    await mcp.close();
  });
}

export interface LegacyMcpOptions {
  readonly cert: CertificateAndKey;
  readonly hsts: string;
  /** How many tools tools/list returns, all marked read-only. */
  readonly tools: number;
  /** Every page carries a nextCursor: a pagination that never ends. */
  readonly endlessPages?: boolean;
  /** Never answer tools/list (the handshake completes). */
  readonly stallToolsList?: boolean;
}

/**
 * A 2025-era MCP server on https: the v1 SDK's low-level Server over its stateless Streamable
 * HTTP transport, one server per request. It answers server/discover with an error, so a
 * client negotiating 2026-07-28 falls back to initialize.
 */
export function startLegacyMcpHttps(options: LegacyMcpOptions): Promise<RunningServer> {
  const tools = Array.from({ length: options.tools }, (_, i) => ({
    name: `read_${i}`,
    inputSchema: { type: 'object' as const },
    annotations: { readOnlyHint: true },
  }));
  const server = https.createServer(
    { cert: options.cert.certPem, key: options.cert.keyPem },
    (req, res) => {
      res.setHeader('strict-transport-security', options.hsts);
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the low-level Server is the one that lets tools/list page as the test needs
      const mcp = new V1Server(
        { name: 'legacy-notes', version: '0.9.0' },
        { capabilities: { tools: {} } },
      );
      mcp.setRequestHandler(ListToolsRequestSchema, async (request) => ({
        ...(options.stallToolsList === true ? await new Promise<never>(() => undefined) : {}),
        tools,
        // A new cursor every page (a repeated one would look like the end to the client).
        ...(options.endlessPages === true
          ? { nextCursor: String(Number(request.params?.cursor ?? '0') + 1) }
          : {}),
      }));
      // No sessionIdGenerator: stateless.
      const transport = new V1Transport({});
      res.once('close', () => void mcp.close());
      void mcp
        .connect(transport)
        .then(() => transport.handleRequest(req, res))
        .catch(() => res.destroy());
    },
  );
  return listening(server);
}

/** The MCP test server on plain http: what plaintext_accepted is about. */
export function startMcpHttp(): Promise<RunningServer> {
  const mcp = createMcpHandler(() => buildMcpServer());
  const handler = toNodeHandler(mcp);
  const server = http.createServer((req, res) => void serveMcp(handler, req, res));
  return listening(server, async () => {
    await mcp.close();
  });
}

/** Plain http answering every request with a redirect (to https://, or wherever `to` says). */
export function startRedirect(to: (req: IncomingMessage) => string): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(301, { location: to(req) });
    res.end();
  });
  return listening(server);
}

/** A port that accepts TCP connections and resets them at once. */
export function startResetting(): Promise<RunningServer> {
  const server = net.createServer((socket) => socket.resetAndDestroy());
  return listening(server);
}

/** A port that accepts TCP connections and never sends a byte. */
export function startSilent(): Promise<RunningServer> {
  const server = net.createServer(() => undefined);
  return listening(server);
}

async function serveMcp(
  handler: ReturnType<typeof toNodeHandler>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    // IncomingMessage declares `method: string | undefined`, the SDK's duck type an optional
    // property; under exactOptionalPropertyTypes only a cast bridges the two.
    await handler(req as NodeIncomingMessageLike, res);
  } catch {
    res.destroy();
  }
}

async function listening(
  server: net.Server,
  beforeClose: () => Promise<void> = () => Promise.resolve(),
): Promise<RunningServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    async close() {
      await beforeClose();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
