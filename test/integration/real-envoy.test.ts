/**
 * Real MCP SDK clients through a real Envoy (`$ENVOY_BIN`) running the repository's own
 * envoy/egress-proxy.yaml, asking the real mcp-gate service, in front of real SDK servers.
 *
 * Skipped (and reported as skipped) when ENVOY_BIN is unset:
 *   ENVOY_BIN=/usr/local/bin/envoy npx vitest run test/integration/real-envoy.test.ts
 *
 * The config is envoy/egress-proxy.yaml with only the listener (bound to 127.0.0.1 instead of
 * 0.0.0.0), the admin port, the directory of the rendered files (render-envoy's output for an
 * empty inspection set) and the mcp_gate cluster (cleartext loopback instead of the gateway's
 * mutual TLS) changed; the ext_authz filter, the dynamic forward proxy, the rendered routes and
 * the health check are as shipped. The client uses Envoy as an
 * explicit HTTP proxy (absolute-form requests, `forwardProxyFetch`) and names the SDK server by
 * its real address, `http://127.0.0.1:<port>/mcp`, which the dynamic forward proxy resolves
 * without DNS. The allowlist approves host 127.0.0.1 on that port only, so the same host on
 * another port is an unlisted MCP server.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';

import { isDecisionId } from '../../src/core/decision-id.js';
import { DEFAULT_CA_BUNDLE } from '../../src/envoy-render/layout.js';
import { renderEnvoy } from '../../src/envoy-render/render.js';
import { writeRenderedFiles } from '../../src/envoy-render/write.js';
import { forwardProxyFetch } from '../helpers/envoy-emulator.js';
import type { ProxyFetch } from '../helpers/envoy-emulator.js';
import { startMcpSdkServer } from '../helpers/mcp-capture.js';
import type { RunningMcpServer } from '../helpers/mcp-capture.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';
import { textOf } from '../helpers/tool-result.js';
import { stamped } from '../helpers/stamped.js';

const ENVOY_BIN = process.env['ENVOY_BIN'] ?? '';
const ENVOY_YAML = path.resolve(import.meta.dirname, '../../envoy/egress-proxy.yaml');
const NOW = Date.parse('2026-11-21T12:00:00Z');
const REVIEW_URL = 'https://mcp-review.corp.example/request';
/** `127.0.0.1` as the review link writes it: digits are always percent-encoded there. */
const HOST_IN_LINK = '%31%32%37.%30.%30.%31';
const READY_TIMEOUT_MS = 20_000;
const EXIT_GRACE_MS = 5_000;

function allowlist(port: number): string {
  return stamped(`version: real-envoy.1
default_action: deny
review_url: ${REVIEW_URL}
approved:
  - id: local-mcp
    host: 127.0.0.1
    transport: http
    url: http://127.0.0.1:${port}/mcp
    tools:
      allow: ['get_*', 'list_*']
      deny: ['*delete*']
    review_ticket: SEC-3001
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2027-04-18
`);
}

type Node = Record<string, unknown>;

/** The one object in `list` whose `name` is `name` (a changed egress-proxy.yaml fails loudly). */
function byName(list: unknown, name: string): Node {
  const found = (list as Node[]).filter((item) => item['name'] === name);
  if (found.length !== 1 || found[0] === undefined) {
    throw new Error(`envoy/egress-proxy.yaml: expected exactly one ${JSON.stringify(name)}`);
  }
  return found[0];
}

/**
 * envoy/egress-proxy.yaml with the listener on loopback, the admin port moved, the dynamic
 * files read from `dynamicDir`, and mcp_gate as the test service's cleartext loopback port (the
 * file's gateway layout reaches it over mutual TLS by its Service name).
 */
function envoyConfig(
  shipped: string,
  ports: { readonly listener: number; readonly gate: number; readonly admin: number },
  dynamicDir: string,
): string {
  const config = parse(shipped.replaceAll('/etc/envoy/dynamic', dynamicDir)) as Node;
  const statics = config['static_resources'] as Node;
  byName(statics['listeners'], 'egress')['address'] = {
    socket_address: { address: '127.0.0.1', port_value: ports.listener },
  };
  const gate = byName(statics['clusters'], 'mcp_gate');
  delete gate['transport_socket'];
  gate['type'] = 'STATIC';
  gate['load_assignment'] = {
    cluster_name: 'mcp_gate',
    endpoints: [
      {
        lb_endpoints: [
          {
            endpoint: {
              address: { socket_address: { address: '127.0.0.1', port_value: ports.gate } },
            },
          },
        ],
      },
    ],
  };
  config['admin'] = {
    address: { socket_address: { address: '127.0.0.1', port_value: ports.admin } },
  };
  return stringify(config);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

interface RunningEnvoy {
  readonly process: ChildProcess;
  readonly proxyUrl: string;
  readonly adminUrl: string;
  /** Everything Envoy wrote to stdout and stderr (its log), for failure messages. */
  readonly log: () => string;
}

async function startEnvoy(
  configPath: string,
  listener: number,
  admin: number,
): Promise<RunningEnvoy> {
  const child = spawn(
    ENVOY_BIN,
    [
      '-c',
      configPath,
      '--log-level',
      'warn',
      // No shared-memory segment: tests may run beside another Envoy.
      '--disable-hot-restart',
      '--concurrency',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  const envoy: RunningEnvoy = {
    process: child,
    proxyUrl: `http://127.0.0.1:${listener}`,
    adminUrl: `http://127.0.0.1:${admin}`,
    log: () => log,
  };
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  await spawned;
  // A later failure (e.g. of kill) must not become an unhandled 'error' event.
  child.on('error', (error) => (log += `\n[spawn] ${String(error)}`));
  // /ready is 200 once Envoy is LIVE: listeners bound and the mcp_gate cluster initialised,
  // which includes its first gRPC health check against mcp-gate.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`envoy exited (${child.exitCode ?? child.signalCode}) before ready:\n${log}`);
    }
    const ready = await fetch(`${envoy.adminUrl}/ready`, {
      signal: AbortSignal.timeout(1000),
    }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return envoy;
    if (Date.now() > deadline) {
      await stopEnvoy(envoy);
      throw new Error(`envoy not ready after ${READY_TIMEOUT_MS} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGTERM, then SIGKILL if Envoy has not exited within the grace period. */
async function stopEnvoy(envoy: RunningEnvoy): Promise<void> {
  const child = envoy.process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
  }, EXIT_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** A counter from Envoy's admin `/stats` (0 when absent). */
async function envoyStat(envoy: RunningEnvoy, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${envoy.adminUrl}/stats?filter=ext_authz`)).text();
  const match = pattern.exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

describe.runIf(ENVOY_BIN !== '')('real Envoy (ENVOY_BIN) in front of mcp-gate', () => {
  let dir: string | undefined;
  let approvedServer: RunningMcpServer | undefined;
  let unlistedServer: RunningMcpServer | undefined;
  let gate: TestService | undefined;
  let envoy: RunningEnvoy | undefined;
  let fetchViaEnvoy: ProxyFetch;

  beforeAll(async () => {
    approvedServer = await startMcpSdkServer('v1-streamable');
    unlistedServer = await startMcpSdkServer('v1-streamable');
    gate = await startTestService({ allowlist: allowlist(approvedServer.port), now: () => NOW });
    dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-envoy-'));
    const listener = await freePort();
    const admin = await freePort();
    const configPath = path.join(dir, 'envoy.yaml');
    const gatePort = Number(gate.grpcAddress.slice(gate.grpcAddress.lastIndexOf(':') + 1));
    // Nothing intercepted: these requests are plain http:// through the proxy.
    const dynamicDir = path.join(dir, 'dynamic');
    await writeRenderedFiles(
      dynamicDir,
      renderEnvoy([], {
        dynamicDir,
        certsDir: path.join(dir, 'certs'),
        caBundle: DEFAULT_CA_BUNDLE,
        mcpGateClientDir: path.join(dir, 'mcp-gate-client'),
      }),
    );
    await writeFile(
      configPath,
      envoyConfig(
        await readFile(ENVOY_YAML, 'utf8'),
        { listener, gate: gatePort, admin },
        dynamicDir,
      ),
    );
    envoy = await startEnvoy(configPath, listener, admin);
    fetchViaEnvoy = forwardProxyFetch(envoy.proxyUrl);
  });

  afterAll(async () => {
    if (envoy !== undefined) await stopEnvoy(envoy);
    await approvedServer?.close();
    await unlistedServer?.close();
    await gate?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('approved server: calls work, a denied tool is a tool result, the session goes on', async () => {
    const port = approvedServer!.port;
    const client = new Client({ name: 'mcp-gate-real-envoy', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
      fetch: fetchViaEnvoy,
    });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()?.name).toBe('capture-server-v1');

      const issue = await client.callTool({
        name: 'get_issue',
        arguments: { owner: 'acme', repo: 'widgets', number: 42 },
      });
      expect(issue).toEqual({
        content: [{ type: 'text', text: 'acme/widgets#42: widgets wobble' }],
      });

      const refused = await client.callTool({
        name: 'delete_repo',
        arguments: { owner: 'acme', repo: 'widgets' },
      });
      const line = await gate!.waitForLog(
        (l) => l['msg'] === 'decision' && l['tool'] === 'delete_repo',
      );
      expect(line).toMatchObject({
        decision: 'deny',
        reason: 'tool_not_allowed',
        host: '127.0.0.1',
        port,
        path: '/mcp',
        entry: 'local-mcp',
      });
      // Envoy generated the request id; mcp-gate logged it.
      expect(line['request_id']).toMatch(/^[0-9a-f-]{36}$/);
      const decisionId = String(line['decision_id']);
      expect(isDecisionId(decisionId)).toBe(true);
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toBe(
        `Tool delete_repo on MCP server local-mcp is not approved. Request it: ${REVIEW_URL}?host=${HOST_IN_LINK}&tool=delete_repo&entry=local-mcp&decision=${decisionId}`,
      );

      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('get_issue');
    } finally {
      await client.close();
    }

    const approvedCall = await gate!.waitForLog(
      (l) => l['msg'] === 'decision' && l['tool'] === 'get_issue',
    );
    expect(approvedCall).toMatchObject({ decision: 'allow', reason: 'approved', port });
  });

  test('the same host on an unlisted port: connect() rejects with the 403 text', async () => {
    const port = unlistedServer!.port;
    const before = gate!.logs.filter((l) => l['msg'] === 'decision').length;
    const client = new Client({ name: 'mcp-gate-real-envoy', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
      fetch: fetchViaEnvoy,
    });
    const failure = await client.connect(transport).then(
      () => undefined,
      (error: unknown) => error,
    );
    await client.close();

    const line = await gate!.waitForLog((l) => l['msg'] === 'decision' && l['port'] === port);
    expect(line).toMatchObject({
      decision: 'deny',
      reason: 'unapproved',
      host: '127.0.0.1',
      port,
      methods: ['initialize'],
    });
    // One request only: a 403 text starts no OAuth discovery and no transport fallback.
    const decisions = gate!.logs.filter((l) => l['msg'] === 'decision').slice(before);
    expect(decisions).toEqual([line]);
    const decisionId = String(line['decision_id']);
    expect(failure).toBeInstanceOf(StreamableHTTPError);
    expect((failure as StreamableHTTPError).code).toBe(403);
    expect((failure as Error).message).toBe(
      `Streamable HTTP error: Error POSTing to endpoint: MCP server 127.0.0.1 is not approved for use here. Request a security review: ${REVIEW_URL}?host=${HOST_IN_LINK}&decision=${decisionId}`,
    );
  });

  test("Envoy's own ext_authz counters saw both denials", async () => {
    // http.<hcm stat_prefix>.ext_authz.<filter stat_prefix>.<counter>
    expect(await envoyStat(envoy!, /^http\.egress\.ext_authz\.mcp_gate\.denied: (\d+)$/m)).toBe(2);
    expect(
      await envoyStat(envoy!, /^http\.egress\.ext_authz\.mcp_gate\.ok: (\d+)$/m),
    ).toBeGreaterThanOrEqual(4);
    expect(await envoyStat(envoy!, /^http\.egress\.ext_authz\.mcp_gate\.error: (\d+)$/m)).toBe(0);
  });
});
