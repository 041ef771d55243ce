/**
 * Worker mode, `mcp-gate serve --workers 2`, as a real process tree (the sources run through
 * tsx, entered by test/helpers/main-from-sources.ts so that the reload thread boots through tsx
 * too, so the suite does not depend on a build): a primary that supervises and two service
 * workers sharing the gRPC port through node:cluster.
 *
 * Each Check goes over a fresh HTTP/2 connection, because cluster hands out connections, not
 * requests, in turn: two connections reach both workers, and the audit lines (which name their
 * worker) show who decided. Waits are for log lines and exits, never sleeps.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';

import type { CheckRequest } from '../../src/envoy/check-types.js';
import { headerOf } from '../helpers/authz-client.js';
import type { EnvoyCheckResponse } from '../helpers/authz-client.js';
import {
  ENVOY_TO_OBJECT,
  envoyCheckRequestType,
  envoyCheckResponseType,
} from '../helpers/envoy-protos.js';
import type { DiscoverySnapshot } from '../../src/discovery/table.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import { rpc } from '../helpers/facts.js';
import { githubAllowlist, githubToolCall, SESSION_HEADERS } from '../helpers/github-allowlist.js';
import { cleanEnv, killServeProcesses, ROOT, trackChild } from '../helpers/serve-process.js';
import type { Exit, LogLine } from '../helpers/serve-process.js';

const MAIN_TS = path.join(ROOT, 'test/helpers/main-from-sources.ts');
/** Three processes compile TypeScript at start on a shared machine: allow for it. */
const START_MS = 60_000;
const TEST_MS = 120_000;

const tempDirs: string[] = [];

afterEach(async () => {
  await killServeProcesses();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Cluster {
  readonly logs: LogLine[];
  readonly exited: Promise<Exit>;
  readonly stderr: () => string;
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the `count`-th log line matching (past or future); rejects on exit first. */
  waitForLogs(what: string, predicate: (l: LogLine) => boolean, count?: number): Promise<LogLine[]>;
}

function startCluster(args: readonly string[]): Cluster {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN_TS, 'serve', ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let rest = '';
  let stderr = '';
  let done = false;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() !== '') logs.push(JSON.parse(text) as LogLine);
    }
    for (const wake of [...waiters]) wake();
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      child.stdout.once('close', () => {
        done = true;
        for (const wake of [...waiters]) wake();
      });
      resolve({ code, signal });
    });
  });
  return {
    logs,
    exited,
    stderr: () => stderr,
    signal: (signal) => child.kill(signal),
    waitForLogs(what, predicate, count = 1) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${count} log line(s) "${what}" in time; stderr: ${stderr}`));
        }, START_MS);
        const check = (): void => {
          const found = logs.filter(predicate);
          if (found.length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(found);
          } else if (done) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`exited before log line(s) "${what}"; stderr: ${stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The primary's line once every worker is ready (workers log theirs with a `worker` field). */
const clusterListening = (l: LogLine): boolean =>
  l['msg'] === 'mcp-gate listening' && l['workers'] !== undefined;

async function allowlistFile(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-workers-'));
  tempDirs.push(dir);
  const file = path.join(dir, 'allowlist.yaml');
  await writeFile(file, text);
  return file;
}

function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** One Check over its own HTTP/2 connection (TCP `host:port` or `unix:/path`). */
async function checkOnNewConnection(
  grpc: string,
  request: CheckRequest,
): Promise<EnvoyCheckResponse> {
  const session = grpc.startsWith('unix:')
    ? http2.connect('http://localhost', { createConnection: () => connect(grpc.slice(5)) })
    : http2.connect(`http://${grpc}`);
  try {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/envoy.service.auth.v3.Authorization/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.end(grpcFrame(envoyCheckRequestType.encode(request).finish()));
    await new Promise<void>((resolve, reject) => {
      stream.once('close', resolve);
      stream.once('error', reject);
    });
    const body = Buffer.concat(chunks);
    expect(body.length).toBeGreaterThanOrEqual(5);
    return envoyCheckResponseType.toObject(
      envoyCheckResponseType.decode(body.subarray(5, 5 + body.readUInt32BE(1))),
      ENVOY_TO_OBJECT,
    );
  } finally {
    session.close();
  }
}

/** `allow` or the deny reason. */
function verdictOf(response: EnvoyCheckResponse): string {
  if (response.status?.code === 0) return 'allow';
  return headerOf(response.denied_response?.headers, 'x-mcp-gate-reason') ?? 'deny';
}

async function metricsText(http: string): Promise<string> {
  const response = await fetch(`http://${http}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

function series(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no series ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

/** Workers named by the audit lines of decisions on `tool`. */
function decidingWorkers(logs: readonly LogLine[], tool: string): Set<unknown> {
  return new Set(
    logs.filter((l) => l['msg'] === 'decision' && l['tool'] === tool).map((l) => l['worker']),
  );
}

const FLAGS = ['--workers', '2', '--reload-watch', 'off', '--reload-poll-ms', '0'];

describe('serve --workers 2', () => {
  test(
    'both workers decide; metrics merged; SIGHUP reloads both; SIGTERM exits 0',
    async () => {
      const allowlist = await allowlistFile(githubAllowlist({ allow: ['get_*'] }));
      const cluster = startCluster([
        ...FLAGS,
        '--allowlist',
        allowlist,
        '--grpc-listen',
        '127.0.0.1:0',
        '--http-listen',
        '127.0.0.1:0',
      ]);
      const [ready] = await cluster.waitForLogs('mcp-gate listening', clusterListening);
      const grpc = String(ready?.['grpc']);
      const http = String(ready?.['http']);
      expect(ready?.['workers']).toBe(2);
      expect((await fetch(`http://${http}/readyz`)).status).toBe(200);

      // Connections go to the workers in turn, so each pair reaches both: each decides alike.
      for (const [tool, verdict] of [
        ['get_issue', 'allow'],
        ['get_issue', 'allow'],
        ['delete_repo', 'tool_not_allowed'],
        ['delete_repo', 'tool_not_allowed'],
      ] as const) {
        expect(verdictOf(await checkOnNewConnection(grpc, githubToolCall(tool)))).toBe(verdict);
      }
      await cluster.waitForLogs('decisions', (l) => l['msg'] === 'decision', 4);
      expect(decidingWorkers(cluster.logs, 'get_issue')).toEqual(new Set([1, 2]));
      expect(decidingWorkers(cluster.logs, 'delete_repo')).toEqual(new Set([1, 2]));

      // Counters are summed over the workers; the allowlist in force is reported once.
      let text = await metricsText(http);
      expect(
        series(
          text,
          'mcp_gate_decisions_total{decision="allow",reason="approved",server="github-official",tool="other",client="other"}',
        ),
      ).toBe(2);
      expect(series(text, 'mcp_gate_allowlist_reloads_total{result="success"}')).toBe(2);
      expect(series(text, 'mcp_gate_allowlist_entries')).toBe(1);
      expect(text).toContain('mcp_gate_allowlist_info{version="2026.11"');
      expect(series(text, 'mcp_gate_worker_restarts_total')).toBe(0);

      // SIGHUP to the primary reaches both workers: each loads the new file.
      await writeFile(
        allowlist,
        githubAllowlist({ version: '2026.12', allow: ['get_*', 'delete_*'] }),
      );
      cluster.signal('SIGHUP');
      const reloads = await cluster.waitForLogs(
        'allowlist reloaded on SIGHUP',
        (l) => l['msg'] === 'allowlist reloaded' && l['trigger'] === 'SIGHUP',
        2,
      );
      expect(new Set(reloads.map((l) => l['worker']))).toEqual(new Set([1, 2]));
      for (let i = 0; i < 2; i++) {
        expect(verdictOf(await checkOnNewConnection(grpc, githubToolCall('delete_repo')))).toBe(
          'allow',
        );
      }
      text = await metricsText(http);
      expect(text).toContain('mcp_gate_allowlist_info{version="2026.12"');
      expect(text).not.toContain('version="2026.11"');

      cluster.signal('SIGTERM');
      expect(await cluster.exited).toEqual({ code: 0, signal: null });
      const stopped = cluster.logs.filter((l) => l['msg'] === 'stopped');
      // Both workers and then the primary (the line without a worker id) stopped.
      expect(stopped.map((l) => l['worker'] ?? 'primary').sort()).toEqual([1, 2, 'primary']);
    },
    TEST_MS,
  );

  test(
    'a killed worker is logged and replaced; the unix socket keeps answering',
    async () => {
      const allowlist = await allowlistFile(githubAllowlist({ allow: ['get_*'] }));
      const dir = tempDirs[tempDirs.length - 1] ?? tmpdir();
      const socket = `unix:${path.join(dir, 'authz.sock')}`;
      const cluster = startCluster([
        ...FLAGS,
        '--allowlist',
        allowlist,
        '--grpc-listen',
        socket,
        '--http-listen',
        '127.0.0.1:0',
      ]);
      const [ready] = await cluster.waitForLogs('mcp-gate listening', clusterListening);
      const http = String(ready?.['http']);
      expect(ready?.['grpc']).toBe(socket);
      const workerReady = (l: LogLine): boolean => l['msg'] === 'worker ready';
      const first = cluster.logs.find((l) => workerReady(l) && l['worker'] === 1);
      process.kill(Number(first?.['pid']), 'SIGKILL');

      const [exitLine] = await cluster.waitForLogs(
        'worker exited',
        (l) => l['msg'] === 'worker exited; starting a replacement',
      );
      expect(exitLine).toMatchObject({ level: 'error', worker: 1, signal: 'SIGKILL' });
      await cluster.waitForLogs('replacement ready', (l) => workerReady(l) && l['worker'] === 3);
      expect((await fetch(`http://${http}/readyz`)).status).toBe(200);
      expect(series(await metricsText(http), 'mcp_gate_worker_restarts_total')).toBe(1);
      for (let i = 0; i < 2; i++) {
        expect(verdictOf(await checkOnNewConnection(socket, githubToolCall('get_issue')))).toBe(
          'allow',
        );
      }
      await cluster.waitForLogs('decisions', (l) => l['msg'] === 'decision', 2);
      expect(decidingWorkers(cluster.logs, 'get_issue')).toEqual(new Set([2, 3]));

      cluster.signal('SIGTERM');
      expect(await cluster.exited).toEqual({ code: 0, signal: null });
    },
    TEST_MS,
  );

  test(
    'an invalid allowlist stops the start with exit 1, reported once',
    async () => {
      const allowlist = await allowlistFile('version: 1\napproved: nope\n');
      const cluster = startCluster([
        ...FLAGS,
        '--allowlist',
        allowlist,
        '--grpc-listen',
        '127.0.0.1:0',
        '--http-listen',
        '127.0.0.1:0',
      ]);
      expect(await cluster.exited).toEqual({ code: 1, signal: null });
      expect(cluster.stderr().split('not starting: the allowlist is invalid').length - 1).toBe(1);
      // Only the first worker was started.
      expect(cluster.logs.some((l) => l['worker'] === 2)).toBe(false);
    },
    TEST_MS,
  );

  test(
    'discovery: each worker keeps its own table; /discovery merges them and the gauge sums them',
    async () => {
      const allowlist = await allowlistFile(githubAllowlist());
      const tokenFile = path.join(path.dirname(allowlist), 'discovery-token');
      await writeFile(tokenFile, 'workers-discovery-token-0123456789\n');
      const cluster = startCluster([
        ...FLAGS,
        '--allowlist',
        allowlist,
        '--grpc-listen',
        '127.0.0.1:0',
        '--http-listen',
        '127.0.0.1:0',
        '--discovery-token-file',
        tokenFile,
      ]);
      const [ready] = await cluster.waitForLogs('mcp-gate listening', clusterListening);
      const grpc = String(ready?.['grpc']);
      const http = String(ready?.['http']);
      // Two connections: one attempt at the shadow server on each worker.
      for (const tool of ['search', 'fetch']) {
        const request = envoyCheckRequest({
          authority: 'mcp.shadow.example',
          path: '/mcp',
          headers: SESSION_HEADERS,
          body: rpc('tools/call', { name: tool, arguments: {} }, 1),
        });
        expect(verdictOf(await checkOnNewConnection(grpc, request))).toBe('unapproved');
      }
      await cluster.waitForLogs('decisions', (l) => l['msg'] === 'decision', 2);
      expect(decidingWorkers(cluster.logs, 'search')).not.toEqual(
        decidingWorkers(cluster.logs, 'fetch'),
      );

      expect((await fetch(`http://${http}/discovery`)).status).toBe(401);
      const response = await fetch(`http://${http}/discovery`, {
        headers: { authorization: 'Bearer workers-discovery-token-0123456789' },
      });
      expect(response.status).toBe(200);
      const snapshot = (await response.json()) as DiscoverySnapshot;
      expect(snapshot.attempts_recorded).toBe(2);
      expect(snapshot.rows).toEqual([
        expect.objectContaining({
          host: 'mcp.shadow.example',
          path_prefix: '/mcp',
          attempts: 2,
          tools: ['fetch', 'search'],
        }),
      ]);
      // The gauge: each worker's own top rows, summed per host and client by the primary.
      const text = await metricsText(http);
      expect(
        series(text, 'mcp_gate_discovered_attempts{host="mcp.shadow.example",client="other"}'),
      ).toBe(2);

      cluster.signal('SIGTERM');
      expect((await cluster.exited).code).toBe(0);
    },
    TEST_MS,
  );
});
