/**
 * End to end through TLS interception (issue 10): a real MCP SDK client with an HTTPS proxy
 * (undici's ProxyAgent: CONNECT, then TLS inside the tunnel) → the egress stand-in doing
 * what `mcp-gate render-envoy` rendered for this allowlist (test/helpers/egress-emulator.ts) →
 * the real mcp-gate service (ext_authz over gRPC with Envoy's protos) → a real MCP SDK server on
 * HTTPS with a certificate from a separate "public" CA.
 *
 * Everything on the Envoy side comes from the real commands run on the fixture allowlist:
 * `issue-certs --create-ca` makes the corporate CA, `issue-certs` the interception certificate,
 * `render-envoy` the listeners, routes, clusters and SDS files the stand-in reads. What only a
 * real Envoy can prove is listed at the top of egress-emulator.ts and in the README.
 */
import { execFile } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';

import { createCertificateAuthority, issueLeafCertificate } from '../../src/certs/x509.js';
import type { CertificateAndKey } from '../../src/certs/x509.js';
import { isDecisionId } from '../../src/core/decision-id.js';
import type { EgressConfig, EgressEmulator } from '../helpers/egress-emulator.js';
import {
  loadRenderedEgress,
  loopbackResolver,
  startEgressEmulator,
} from '../helpers/egress-emulator.js';
import type { CheckRecord, HeaderValueOptionObject } from '../helpers/envoy-emulator.js';
import { closeHttpServer, forwardProxyFetch, listenOnLoopback } from '../helpers/envoy-emulator.js';
import { RecordedList } from '../helpers/recorded-list.js';
import { cleanEnv, MAIN, ROOT } from '../helpers/serve-process.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { textOf } from '../helpers/tool-result.js';

const run = promisify(execFile);

const FIXTURE = path.join(ROOT, 'test/fixtures/interception/allowlist.yaml');
const NOW = Date.parse('2026-11-21T12:00:00Z');
const REVIEW_URL = 'https://mcp-review.corp.example/request';
const INSPECTED = 'mcp.inspected.example';
const HOST_ONLY = 'mcp.hostonly.example';
/** A host under the fixture's `*.tools.example` pattern. */
const UNDER_WILDCARD = 'issues.tools.example';
const CLIENT_INFO = { name: 'mcp-gate-interception-e2e', version: '1.0.0' };
const ISSUE_ARGS = { owner: 'acme', repo: 'widgets', number: 42 };
const DELETE_ARGS = { owner: 'acme', repo: 'widgets' };

// ---------------------------------------------------------------------------------------------
// A real SDK server on HTTPS
// ---------------------------------------------------------------------------------------------

interface UpstreamRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

interface HttpsMcpServer {
  readonly port: number;
  readonly requests: RecordedList<UpstreamRequest>;
  /** TLS handshakes the server completed (a refused upstream leg never gets this far). */
  handshakes: number;
  calls(tool: string): number;
  /** Lets a running `get_report` finish; the test calls it once it saw the progress event. */
  releaseReport(): void;
  close(): Promise<void>;
}

/**
 * v1 McpServer + StreamableHTTPServerTransport (sessions, SSE answers) on node:https. `get_report`
 * sends a progress notification and answers only after the test received it, so the call
 * completes only if every hop streams the SSE answer instead of buffering it.
 */
async function startHttpsMcpServer(identity: CertificateAndKey): Promise<HttpsMcpServer> {
  const counts = new Map<string, number>();
  const hit = (tool: string): void => {
    counts.set(tool, (counts.get(tool) ?? 0) + 1);
  };
  let release: () => void = () => undefined;
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const servers: McpServer[] = [];
  const requests = new RecordedList<UpstreamRequest>();

  const build = (): McpServer => {
    const server = new McpServer({ name: 'interception-e2e-server', version: '1.0.0' });
    server.registerTool(
      'get_issue',
      { inputSchema: { owner: z.string(), repo: z.string(), number: z.number().int() } },
      ({ owner, repo, number }) => {
        hit('get_issue');
        return { content: [{ type: 'text', text: `${owner}/${repo}#${String(number)}: wobbles` }] };
      },
    );
    server.registerTool(
      'delete_repo',
      { inputSchema: { owner: z.string(), repo: z.string() } },
      ({ owner, repo }) => {
        hit('delete_repo');
        return { content: [{ type: 'text', text: `deleted ${owner}/${repo}` }] };
      },
    );
    server.registerTool(
      'get_report',
      { inputSchema: { topic: z.string() } },
      async ({ topic }, extra) => {
        hit('get_report');
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        const progressToken = extra._meta?.progressToken;
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: 1, total: 2 },
          });
        }
        await released;
        return { content: [{ type: 'text', text: `report on ${topic}` }] };
      },
    );
    servers.push(server);
    return server;
  };

  const httpsServer = https.createServer(
    { cert: identity.certPem, key: identity.keyPem },
    (req, res) => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const sessionId = req.headers['mcp-session-id'];
      const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      const fail = (): void => {
        res.destroy();
      };
      if (existing !== undefined) {
        existing.handleRequest(req, res).catch(fail);
        return;
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, transport);
        },
      });
      build()
        .connect(transport)
        .then(() => transport.handleRequest(req, res))
        .catch(fail);
    },
  );
  const result: HttpsMcpServer = {
    port: await listenOnLoopback(httpsServer),
    requests,
    handshakes: 0,
    calls: (tool) => counts.get(tool) ?? 0,
    releaseReport: () => {
      release();
    },
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await closeHttpServer(httpsServer);
    },
  };
  httpsServer.on('secureConnection', () => {
    result.handshakes += 1;
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// The client side: fetch through an HTTPS proxy, trusting given CAs
// ---------------------------------------------------------------------------------------------

type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** undici's fetch through its ProxyAgent: CONNECT to the proxy, TLS to the target inside. */
function fetchThroughProxy(proxyUrl: string, trusted: readonly string[]): FetchLike {
  const agent = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: [...trusted] } });
  closers.push(() => agent.close());
  return async (url, init) => {
    // The DOM and undici type RequestInit's optional fields differently (under
    // exactOptionalPropertyTypes) but take the same values.
    const res = await undiciFetch(url, { ...(init as object), dispatcher: agent });
    // undici 7's Response is not the global class; the body stream is handed over unread, so
    // SSE still streams.
    return new Response(res.body, {
      status: res.status,
      statusText: res.statusText,
      headers: [...res.headers],
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Reading the records
// ---------------------------------------------------------------------------------------------

function headerOf(
  headers: readonly HeaderValueOptionObject[] | undefined,
  name: string,
): string | undefined {
  return headers?.find((h) => h.header?.key === name)?.header?.value;
}

/** `CONNECT mcp.x:443`, `POST tools/call delete_repo`, `GET`, … */
function describeCheck(record: CheckRecord): string {
  const request = record.request.attributes?.request?.http;
  const method = request?.method ?? '';
  if (method === 'CONNECT') return `CONNECT ${request?.host ?? ''}`;
  const raw = request?.raw_body;
  if (raw === undefined || raw.length === 0) return method;
  const message = JSON.parse(Buffer.from(raw).toString('utf8')) as {
    method?: string;
    params?: { name?: string };
  };
  const rpc = message.method ?? 'response';
  return rpc === 'tools/call'
    ? `${method} ${rpc} ${message.params?.name ?? ''}`
    : `${method} ${rpc}`;
}

/** The reason mcp-gate gave: the deny header, or the allow's dynamic metadata. */
function reasonOf(record: CheckRecord): string {
  if (record.outcome === 'denied') {
    return headerOf(record.response?.denied_response?.headers, 'x-mcp-gate-reason') ?? '?';
  }
  const metadata = record.response?.dynamic_metadata as
    { fields?: Record<string, { stringValue?: string }> } | undefined;
  return metadata?.fields?.['reason']?.stringValue ?? 'none';
}

function decisions(gate: TestService): Record<string, unknown>[] {
  return gate.logs.filter((line) => line['msg'] === 'decision');
}

// ---------------------------------------------------------------------------------------------
// Fixtures: CAs, certificates, rendered config, mcp-gate
// ---------------------------------------------------------------------------------------------

let dir = '';
let gate: TestService | undefined;
let corporateCa = '';
let publicCa: CertificateAndKey | undefined;
let inspectedIdentity: CertificateAndKey | undefined;
let hostOnlyIdentity: CertificateAndKey | undefined;
let rogueIdentity: CertificateAndKey | undefined;
let wildcardHostIdentity: CertificateAndKey | undefined;
/** What render-envoy rendered for the fixture allowlist. */
let rendered: EgressConfig | undefined;
/** What it rendered for the allowlist before inspected-mcp had tool rules: stale files. */
let renderedStale: EgressConfig | undefined;

const closers: (() => Promise<void>)[] = [];

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} was not set up`);
  return value;
}

async function mcpGate(...args: string[]): Promise<void> {
  await run(process.execPath, [MAIN, ...args], { cwd: dir, env: cleanEnv() });
}

/** render-envoy with every path in the files pointing into this test's temp dir; the out dir. */
async function renderEnvoy(allowlist: string, out: string): Promise<string> {
  const outDir = path.join(dir, out);
  await mcpGate(
    'render-envoy',
    ...['--allowlist', allowlist, '--out', outDir, '--known-hosts', 'none'],
    ...['--certs-dir', path.join(dir, 'certs'), '--dynamic-dir', outDir],
    ...['--ca-bundle', path.join(dir, 'public-ca.pem')],
  );
  return outDir;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-interception-'));
  const current = await readFile(FIXTURE, 'utf8');
  const stale = current.replace(/ {4}url: .*\n {4}tools:\n(?: {6}.*\n)+/, '');
  expect(stale).not.toBe(current);
  const staleAllowlist = path.join(dir, 'stale-allowlist.yaml');
  await writeFile(staleAllowlist, stale);

  // The corporate CA managed devices trust; the "public" CA the real servers' certificates
  // chain to; and a CA nobody trusts.
  const [, publicRoot, rogueCa] = await Promise.all([
    mcpGate('issue-certs', '--create-ca', path.join(dir, 'corporate-ca')),
    createCertificateAuthority({ commonName: 'Test Public Root', validityDays: 30 }),
    createCertificateAuthority({ commonName: 'Rogue Root', validityDays: 30 }),
  ]);
  publicCa = publicRoot;
  await writeFile(path.join(dir, 'public-ca.pem'), publicRoot.certPem);
  const leaf = (ca: CertificateAndKey, host: string): Promise<CertificateAndKey> =>
    issueLeafCertificate({ ca, dnsNames: [host], validityDays: 30, usage: 'server' });

  // The rendered files only name the certificate files, so the commands can run side by side.
  const [, renderedDir, staleDir, identities, service] = await Promise.all([
    mcpGate(
      'issue-certs',
      ...['--allowlist', FIXTURE, '--known-hosts', 'none', '--out', path.join(dir, 'certs')],
      ...['--ca-cert', path.join(dir, 'corporate-ca/ca.crt')],
      ...['--ca-key', path.join(dir, 'corporate-ca/ca.key')],
    ),
    renderEnvoy(FIXTURE, 'rendered'),
    renderEnvoy(staleAllowlist, 'rendered-stale'),
    Promise.all([
      leaf(publicRoot, INSPECTED),
      leaf(publicRoot, HOST_ONLY),
      leaf(rogueCa, INSPECTED),
      leaf(publicRoot, UNDER_WILDCARD),
    ]),
    startTestService({ allowlist: current, now: () => NOW }),
  ]);
  gate = service;
  [inspectedIdentity, hostOnlyIdentity, rogueIdentity, wildcardHostIdentity] = identities;
  corporateCa = await readFile(path.join(dir, 'corporate-ca/ca.crt'), 'utf8');
  [rendered, renderedStale] = await Promise.all([
    loadRenderedEgress(renderedDir),
    loadRenderedEgress(staleDir),
  ]);
}, 30_000);

afterAll(async () => {
  await gate?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  const failures: unknown[] = [];
  for (const close of closers.splice(0).reverse()) {
    await close().catch((error: unknown) => failures.push(error));
  }
  if (failures.length > 0) throw new AggregateError(failures, 'closing the test fixtures failed');
});

async function server(identity: CertificateAndKey | undefined): Promise<HttpsMcpServer> {
  const started = await startHttpsMcpServer(need(identity, 'the server certificate'));
  closers.push(() => started.close());
  return started;
}

async function standIn(
  config: EgressConfig | undefined,
  ports: Readonly<Record<string, number>>,
): Promise<EgressEmulator> {
  const emulator = await startEgressEmulator({
    authzAddress: need(gate, 'mcp-gate').grpcAddress,
    config: need(config, 'the rendered config'),
    resolve: loopbackResolver(ports),
  });
  closers.push(() => emulator.close());
  return emulator;
}

/** What `connect()` rejected with (undefined when it succeeded); the client is closed. */
async function connectFailure(url: string, fetch: FetchLike): Promise<unknown> {
  const client = new Client(CLIENT_INFO);
  const failure = await client
    .connect(new StreamableHTTPClientTransport(new URL(url), { fetch }))
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  await client.close();
  return failure;
}

function track(client: Client): Client {
  closers.push(() => client.close());
  return client;
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

describe('what render-envoy rendered', () => {
  test('intercepts the hosts with tool rules on 443, with the issued certificates; stale files miss the changed entry', () => {
    const config = need(rendered, 'rendered');
    expect([...config.intercepted.keys()].sort()).toEqual([
      '*.tools.example:443',
      `${INSPECTED}:443`,
    ]);
    // One listener for port 443, so both names reach the same chains, chosen by SNI.
    const chains = config.intercepted.get(`${INSPECTED}:443`) ?? [];
    expect(config.intercepted.get('*.tools.example:443')).toBe(chains);
    expect(chains.map((c) => c.serverNames)).toEqual([['*.tools.example'], [INSPECTED]]);
    const [wildcard, exact] = chains;
    // The certificates Envoy serves are the ones issue-certs signed with the corporate CA.
    const corporate = new X509Certificate(corporateCa).publicKey;
    const served = new X509Certificate(exact?.certPem ?? '');
    expect(served.verify(corporate)).toBe(true);
    expect(served.checkHost(INSPECTED)).toBe(INSPECTED);
    const servedWildcard = new X509Certificate(wildcard?.certPem ?? '');
    expect(servedWildcard.verify(corporate)).toBe(true);
    expect(servedWildcard.checkHost(UNDER_WILDCARD)).toBe('*.tools.example');
    expect(exact?.upstream).toMatchObject({
      kind: 'exact',
      host: INSPECTED,
      port: 443,
      sni: INSPECTED,
    });
    expect(wildcard?.upstream).toMatchObject({ kind: 'dynamic', port: 443 });
    expect(config.withRequestBody).toEqual({
      maxRequestBytes: 4_194_304,
      allowPartialMessage: true,
      packAsBytes: true,
    });
    expect(config.paths).toEqual({ normalize: true, mergeSlashes: true });
    expect([...need(renderedStale, 'renderedStale').intercepted.keys()]).toEqual([
      '*.tools.example:443',
    ]);
  });
});

describe('a host in the inspection set, intercepted', () => {
  test('approved tools work and stream; a denied tool is the tool-error result with the review link', async () => {
    const upstream = await server(inspectedIdentity);
    const emulator = await standIn(rendered, { [`${INSPECTED}:443`]: upstream.port });
    // Only the corporate CA: the session works only if the stand-in's certificate is the one
    // the client saw, i.e. the tunnel really was intercepted.
    const fetch = fetchThroughProxy(emulator.url, [corporateCa]);
    const client = track(new Client(CLIENT_INFO));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`https://${INSPECTED}/mcp`), { fetch }),
    );
    // The v1 client opens its standalone GET stream without awaiting it; wait until it reached
    // the server, so the order of what follows is fixed.
    await upstream.requests.waitFor((r) => r.method === 'GET');

    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name)).toEqual(['get_issue', 'delete_repo', 'get_report']);
    const issue = await client.callTool({ name: 'get_issue', arguments: ISSUE_ARGS });
    expect(issue).toEqual({ content: [{ type: 'text', text: 'acme/widgets#42: wobbles' }] });

    const progress: number[] = [];
    const report = await client.callTool(
      { name: 'get_report', arguments: { topic: 'q3' } },
      undefined,
      {
        onprogress: (event) => {
          progress.push(event.progress);
          upstream.releaseReport();
        },
      },
    );
    expect(progress).toEqual([1]);
    expect(textOf(report)).toBe('report on q3');

    const refused = await client.callTool({ name: 'delete_repo', arguments: DELETE_ARGS });
    const denial = emulator.checks.find((r) => describeCheck(r) === 'POST tools/call delete_repo');
    const decisionId = headerOf(
      denial?.response?.denied_response?.headers,
      'x-mcp-gate-decision-id',
    );
    expect(isDecisionId(decisionId ?? '')).toBe(true);
    expect(refused).toEqual({
      content: [
        {
          type: 'text',
          text: `Tool delete_repo on MCP server inspected-mcp is not approved. Request it: ${REVIEW_URL}?host=${INSPECTED}&tool=delete_repo&entry=inspected-mcp&decision=${String(decisionId)}`,
        },
      ],
      isError: true,
      resultType: 'complete',
    });
    expect(upstream.calls('delete_repo')).toBe(0);
    expect(upstream.calls('get_issue')).toBe(1);

    // No Check on the CONNECT (ext_authz is off on the intercept route); every decrypted
    // request was checked with its body, as HTTPS to the host the certificate names.
    expect(emulator.connects.every((c) => c.route === 'intercepted' && c.status === 200)).toBe(
      true,
    );
    expect(emulator.checks.map((r) => [describeCheck(r), r.outcome, reasonOf(r)])).toEqual([
      ['POST initialize', 'allowed', 'approved'],
      ['POST notifications/initialized', 'allowed', 'approved'],
      ['GET', 'allowed', 'approved'],
      ['POST tools/list', 'allowed', 'approved'],
      ['POST tools/call get_issue', 'allowed', 'approved'],
      ['POST tools/call get_report', 'allowed', 'approved'],
      ['POST tools/call delete_repo', 'denied', 'tool_not_allowed'],
    ]);
    for (const record of emulator.checks) {
      const attributes = record.request.attributes;
      expect(attributes?.request?.http).toMatchObject({
        host: INSPECTED,
        scheme: 'https',
        path: '/mcp',
      });
      expect(attributes?.destination?.principal).toBe(INSPECTED);
    }
    expect(denial?.response?.denied_response?.status?.code).toBe(200);

    // The allowed requests reached the real server re-encrypted, marked by mcp-gate.
    expect(upstream.requests.items.map((r) => r.method)).toEqual([
      'POST',
      'POST',
      'GET',
      'POST',
      'POST',
      'POST',
    ]);
    for (const request of upstream.requests.items) {
      expect(request.headers['x-mcp-gate-server']).toBe('inspected-mcp');
    }

    const audit = await need(gate, 'mcp-gate').waitForLog(
      (l) => l['msg'] === 'decision' && l['decision_id'] === decisionId,
    );
    expect(audit).toMatchObject({
      decision: 'deny',
      reason: 'tool_not_allowed',
      tool: 'delete_repo',
      entry: 'inspected-mcp',
      host: INSPECTED,
      http_method: 'POST',
    });
    expect(audit['detail'] ?? null).toBeNull();
    const allowedCall = decisions(need(gate, 'mcp-gate')).find(
      (l) => l['tool'] === 'get_issue' && l['host'] === INSPECTED,
    );
    expect(allowedCall).toMatchObject({
      decision: 'allow',
      reason: 'approved',
      entry: 'inspected-mcp',
    });
  });

  test('an upstream certificate the trust bundle does not vouch for is refused: fail closed', async () => {
    // DNS (here the resolver) sends the inspected host to a server whose certificate for that
    // very name chains to a CA the rendered trusted_ca does not hold.
    const rogue = await server(rogueIdentity);
    const emulator = await standIn(rendered, { [`${INSPECTED}:443`]: rogue.port });
    const fetch = fetchThroughProxy(emulator.url, [corporateCa]);
    const failure = await connectFailure(`https://${INSPECTED}/mcp`, fetch);

    expect(failure).toBeInstanceOf(StreamableHTTPError);
    expect((failure as StreamableHTTPError).code).toBe(503);
    // mcp-gate approved the initialize; the stand-in refused to send it to an unverified server.
    expect(emulator.checks.map((r) => [describeCheck(r), r.outcome])).toEqual([
      ['POST initialize', 'allowed'],
    ]);
    expect(emulator.tlsFailures).toEqual([
      { side: 'upstream', serverName: INSPECTED, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    ]);
    expect(rogue.handshakes).toBe(0);
    expect(rogue.requests.items).toEqual([]);
  });

  test('a TLS name without a filter chain is closed; an authority other than the SNI is 421, unchecked', async () => {
    const upstream = await server(inspectedIdentity);
    const emulator = await standIn(rendered, { [`${INSPECTED}:443`]: upstream.port });

    const wrongName = await tunnelledTls(emulator, `${INSPECTED}:443`, HOST_ONLY);
    expect(wrongName).toMatchObject({ error: expect.any(String) });
    await emulator.waitForTlsFailure((f) => f.side === 'downstream');
    expect(emulator.tlsFailures).toEqual([
      { side: 'downstream', serverName: HOST_ONLY, code: 'no_filter_chain' },
    ]);

    const misdirected = await tunnelledTls(emulator, `${INSPECTED}:443`, INSPECTED, HOST_ONLY);
    expect(misdirected).toEqual({
      status: 421,
      body: `this connection serves ${INSPECTED} only\n`,
    });
    expect(emulator.checks).toEqual([]);
    expect(upstream.requests.items).toEqual([]);
  });

  test('the path is normalised as the rendered HCM says before it is checked and sent on', async () => {
    const upstream = await server(inspectedIdentity);
    const emulator = await standIn(rendered, { [`${INSPECTED}:443`]: upstream.port });
    // Backslash as separator, an encoded dot-dot segment, a doubled slash.
    await tunnelledTls(emulator, `${INSPECTED}:443`, INSPECTED, INSPECTED, '/api/%2e%2E/\\mcp?x=1');
    expect(emulator.checks.map((r) => r.request.attributes?.request?.http?.path)).toEqual([
      '/mcp?x=1',
    ]);
    const seen = await upstream.requests.waitFor(() => true);
    expect(seen.url).toBe('/mcp?x=1');
  });
});

/**
 * A CONNECT through the stand-in, then TLS with `serverName` trusting only the corporate CA, then
 * one GET of `requestPath` (raw, as written) with `Host: hostHeader`: the response, or the error
 * that ended the attempt.
 */
async function tunnelledTls(
  emulator: EgressEmulator,
  authority: string,
  serverName: string,
  hostHeader = serverName,
  requestPath = '/mcp',
): Promise<{ status: number; body: string } | { error: string }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const connect = http.request({
      host: '127.0.0.1',
      port: emulator.port,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority },
    });
    connect.once('connect', (res, tunnel) => {
      if (res.statusCode === 200) resolve(tunnel);
      else reject(new Error(`CONNECT answered ${String(res.statusCode)}`));
    });
    connect.once('error', reject);
    connect.end();
  });
  closers.push(() => {
    socket.destroy();
    return Promise.resolve();
  });
  return new Promise((resolve) => {
    const request = https.request(
      {
        createConnection: () => tls.connect({ socket, servername: serverName, ca: corporateCa }),
        host: hostHeader,
        path: requestPath,
        headers: { host: hostHeader, accept: 'text/event-stream' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    request.once('error', (error) => {
      resolve({ error: error.message });
    });
    request.end();
  });
}

describe('a wildcard pattern in the inspection set', () => {
  test('any host under it is intercepted with the wildcard certificate and verified as itself upstream', async () => {
    const upstream = await server(wildcardHostIdentity);
    const emulator = await standIn(rendered, { [`${UNDER_WILDCARD}:443`]: upstream.port });
    const fetch = fetchThroughProxy(emulator.url, [corporateCa]);
    const client = track(new Client(CLIENT_INFO));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`https://${UNDER_WILDCARD}/mcp`), { fetch }),
    );
    const issue = await client.callTool({ name: 'get_issue', arguments: ISSUE_ARGS });
    expect(textOf(issue)).toBe('acme/widgets#42: wobbles');
    const refused = await client.callTool({ name: 'delete_repo', arguments: DELETE_ARGS });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain(
      'Tool delete_repo on MCP server wildcard-mcp is not approved',
    );
    expect(upstream.calls('delete_repo')).toBe(0);

    expect(emulator.connects.every((c) => c.route === 'intercepted')).toBe(true);
    const calls = emulator.checks.filter((r) => describeCheck(r).startsWith('POST tools/call'));
    expect(calls.map((r) => [describeCheck(r), r.outcome, reasonOf(r)])).toEqual([
      ['POST tools/call get_issue', 'allowed', 'approved'],
      ['POST tools/call delete_repo', 'denied', 'tool_not_allowed'],
    ]);
    for (const record of emulator.checks) {
      expect(record.request.attributes?.request?.http?.host).toBe(UNDER_WILDCARD);
      expect(record.request.attributes?.destination?.principal).toBe('*.tools.example');
    }
  });
});

describe('plain tunnels (CONNECT checked on its authority)', () => {
  test('stale rendered config: a CONNECT to an inspection-set host is denied tunnel_not_inspected', async () => {
    const upstream = await server(inspectedIdentity);
    const emulator = await standIn(renderedStale, { [`${INSPECTED}:443`]: upstream.port });
    const fetch = fetchThroughProxy(emulator.url, [
      corporateCa,
      need(publicCa, 'public CA').certPem,
    ]);
    const failure = await connectFailure(`https://${INSPECTED}/mcp`, fetch);
    expect(failure).toBeInstanceOf(Error);

    // One headers-only Check, as Envoy sends a CONNECT: authority with port, no path, no body.
    expect(emulator.checks).toHaveLength(1);
    const check = emulator.checks[0]!;
    expect(check.request.attributes?.request?.http).toMatchObject({
      method: 'CONNECT',
      host: `${INSPECTED}:443`,
      scheme: 'http',
    });
    expect(check.request.attributes?.request?.http?.path ?? '').toBe('');
    expect(check.request.attributes?.request?.http?.raw_body).toBeUndefined();
    expect(check.request.attributes?.request?.http?.headers).not.toHaveProperty(':path');
    expect([check.outcome, reasonOf(check)]).toEqual(['denied', 'uninspectable']);
    const decisionId = headerOf(check.response?.denied_response?.headers, 'x-mcp-gate-decision-id');

    // The CONNECT got Envoy's local reply (403 with mcp-gate's text) and went no further.
    expect(emulator.connects).toEqual([
      expect.objectContaining({ authority: `${INSPECTED}:443`, route: 'checked', status: 403 }),
    ]);
    expect(emulator.connects[0]?.body).toContain('render-envoy');
    expect(upstream.handshakes).toBe(0);

    const audit = await need(gate, 'mcp-gate').waitForLog(
      (l) => l['msg'] === 'decision' && l['decision_id'] === decisionId,
    );
    expect(audit).toMatchObject({
      decision: 'deny',
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
      entry: 'inspected-mcp',
      host: INSPECTED,
      port: 443,
      http_method: 'CONNECT',
    });
  });

  test('a host approved host-only passes as a plain tunnel; its tools are never seen', async () => {
    const upstream = await server(hostOnlyIdentity);
    const emulator = await standIn(rendered, { [`${HOST_ONLY}:443`]: upstream.port });
    // Not intercepted: the client meets the server's own certificate, from the public CA.
    const fetch = fetchThroughProxy(emulator.url, [need(publicCa, 'public CA').certPem]);
    const client = track(new Client(CLIENT_INFO));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`https://${HOST_ONLY}/mcp`), { fetch }),
    );
    const result = await client.callTool({ name: 'delete_repo', arguments: DELETE_ARGS });
    expect(textOf(result)).toBe('deleted acme/widgets');
    expect(upstream.calls('delete_repo')).toBe(1);
    // The GET stream's tunnel is opened without being awaited; once it reached the server,
    // every CONNECT this session made has been decided.
    await upstream.requests.waitFor((r) => r.method === 'GET');

    // Every Check was a CONNECT (one per connection undici opened), allowed on the host alone.
    expect(emulator.checks.length).toBeGreaterThan(0);
    for (const record of emulator.checks) {
      expect([describeCheck(record), record.outcome, reasonOf(record)]).toEqual([
        `CONNECT ${HOST_ONLY}:443`,
        'allowed',
        'approved',
      ]);
    }
    expect(emulator.connects.every((c) => c.route === 'checked' && c.status === 200)).toBe(true);
    for (const record of emulator.checks) {
      const id = headerOf(record.response?.ok_response?.headers, 'x-mcp-gate-decision-id');
      expect(isDecisionId(id ?? '')).toBe(true);
      const line = await need(gate, 'mcp-gate').waitForLog(
        (l) => l['msg'] === 'decision' && l['decision_id'] === id,
      );
      expect(line).toMatchObject({
        decision: 'allow',
        reason: 'approved',
        entry: 'host-only-mcp',
        host: HOST_ONLY,
        port: 443,
        http_method: 'CONNECT',
      });
    }
  });
});

describe('plain http:// through the proxy (absolute form)', () => {
  test('is checked with its body, so a denied tool call never leaves', async () => {
    const emulator = await standIn(rendered, {});
    const response = await forwardProxyFetch(emulator.url)(`http://${INSPECTED}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'delete_repo', arguments: DELETE_ARGS },
      }),
    });
    const text = await response.text();
    expect(emulator.checks).toHaveLength(1);
    const check = emulator.checks[0]!;
    expect([describeCheck(check), check.outcome, reasonOf(check)]).toEqual([
      'POST tools/call delete_repo',
      'denied',
      'tool_not_allowed',
    ]);
    expect(check.request.attributes?.request?.http).toMatchObject({
      host: INSPECTED,
      scheme: 'http',
      path: '/mcp',
    });
    expect(check.request.attributes?.request?.http?.headers?.['x-envoy-auth-partial-body']).toBe(
      'false',
    );
    expect(response.status).toBe(check.response?.denied_response?.status?.code);
    expect(text).toContain('Tool delete_repo on MCP server inspected-mcp is not approved');
    expect(emulator.connects).toEqual([]);
  });
});
