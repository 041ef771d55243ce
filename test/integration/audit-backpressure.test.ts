/**
 * The audit log when nobody reads stdout (`node dist/main.js serve` with its stdout a pipe the
 * test stops reading): tens of thousands of Checks are still answered promptly, memory stays
 * bounded by --log-buffer-bytes, the lines that did not fit are counted on /metrics and are
 * exactly the lines missing once the pipe is read again, every line that arrives is whole, and
 * SIGTERM writes out what was buffered and exits 0. The same holds per process under --workers,
 * with the workers' counts summed on the primary's /metrics. A stop with the pipe never read
 * again ends within the grace period and says on stderr what was lost.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';

import { DROPPED_NOTE_MESSAGE } from '../../src/telemetry/log-output.js';
import { encodeWithEnvoyProtos } from '../helpers/envoy-check-request.js';
import { envoyCheckResponseType } from '../helpers/envoy-protos.js';
import { githubAllowlist, githubToolCall } from '../helpers/github-allowlist.js';
import {
  killServeProcesses,
  listening,
  startServe,
  stopWith,
  TEST_SERVE_FLAGS,
} from '../helpers/serve-process.js';
import type { LogLine, ServeProcess } from '../helpers/serve-process.js';

const DROPPED = 'mcp_gate_audit_lines_dropped_total';
const RSS = 'process_resident_memory_bytes';
const MIB = 1024 * 1024;

const tempDirs: string[] = [];
const clients: grpc.Client[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await killServeProcesses();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Stalled {
  readonly serve: ServeProcess;
  readonly grpc: string;
  readonly http: string;
}

/** Starts serve, waits until it listens, then stops reading its stdout. */
async function startStalled(flags: readonly string[] = []): Promise<Stalled> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-audit-'));
  tempDirs.push(dir);
  const allowlist = path.join(dir, 'allowlist.yaml');
  await writeFile(allowlist, githubAllowlist({ allow: ['get_*'] }));
  const serve = startServe([
    '--allowlist',
    allowlist,
    '--known-hosts',
    'none',
    '--grpc-listen',
    '127.0.0.1:0',
    ...TEST_SERVE_FLAGS,
    ...flags,
  ]);
  // Under --workers the workers announce themselves too, without a telemetry address.
  const line = await serve.waitForLog(
    'mcp-gate listening',
    (l) => listening(l) && l['http'] !== undefined,
  );
  // Nothing more is read from the pipe: once it and the stream's own buffer are full, every
  // write of the child's finds the pipe full.
  serve.child.stdout?.pause();
  return { serve, grpc: String(line['grpc']), http: String(line['http']) };
}

async function scrape(http: string): Promise<string> {
  const response = await fetch(`http://${http}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

function seriesValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no series ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

/** An allowed and a denied tool call, encoded once with Envoy's protos, and their gRPC codes. */
const REQUESTS: readonly (readonly [Buffer, number])[] = [
  [encodeWithEnvoyProtos(githubToolCall('get_issue')), 0],
  [encodeWithEnvoyProtos(githubToolCall('delete_repo')), 7],
];

/** A channel of its own (under --workers, each is one connection and so one worker). */
function channel(address: string): grpc.Client {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  clients.push(client);
  return client;
}

/** One Check of pre-encoded bytes; resolves with the CheckResponse's status code. */
function check(client: grpc.Client, request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/envoy.service.auth.v3.Authorization/Check',
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      request,
      { deadline: Date.now() + 5_000 },
      (err, response) => {
        if (err !== null || response === undefined) reject(err ?? new Error('no response'));
        else {
          const decoded = envoyCheckResponseType.toObject(envoyCheckResponseType.decode(response));
          resolve((decoded as { status?: { code?: number } }).status?.code ?? 0);
        }
      },
    );
  });
}

/**
 * Sends `total` Checks, `concurrency` at a time, alternating an allowed and a denied tool call;
 * resolves with each Check's latency in ms once all are answered with the right verdict.
 */
async function drive(client: grpc.Client, total: number, concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  const codes: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const [request, code] = REQUESTS[next++ % 2] ?? [Buffer.alloc(0), 0];
      const started = performance.now();
      const got = await check(client, request);
      latencies.push(performance.now() - started);
      if (got !== code) codes.push(got);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  expect(codes).toEqual([]);
  return latencies;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** What stdout delivered once read again: the audit lines, the notes, anything torn. */
function delivered(logs: readonly LogLine[]) {
  const decisions = logs.filter((l) => l['msg'] === 'decision');
  const notes = logs.filter((l) => l['msg'] === DROPPED_NOTE_MESSAGE);
  return {
    decisions,
    notes,
    noted: notes.reduce((sum, n) => sum + Number(n['dropped_lines']), 0),
    torn: logs.filter((l) => 'unparsed' in l),
    bytes: decisions.reduce((sum, l) => sum + JSON.stringify(l).length + 1, 0),
  };
}

describe('stdout that nobody reads', () => {
  test('Checks answered promptly, memory bounded, drops counted and equal to the lines missing, SIGTERM flushes and exits 0', async () => {
    const cap = 1 * MIB;
    const {
      serve,
      grpc: address,
      http,
    } = await startStalled(['--log-buffer-bytes', String(cap), '--shutdown-grace-ms', '8000']);
    const client = channel(address);
    const warmUp = 500;
    await drive(client, warmUp, 16); // the JIT and the connection, before the first measurement
    const before = await scrape(http);
    expect(seriesValue(before, DROPPED)).toBe(0);

    const total = 8_000;
    const latencies = await drive(client, total, 64);
    const after = await scrape(http);
    const dropped = seriesValue(after, DROPPED);
    const rss = [seriesValue(before, RSS), seriesValue(after, RSS)].map((b) => b / MIB);
    // Figures for the report (printed by vitest).
    console.info(
      `audit backpressure: ${total} checks, p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms; dropped ${dropped}; RSS ${rss.map((m) => m.toFixed(1)).join(' -> ')} MiB`,
    );
    // Every Check was answered (drive fails on a deadline), and well inside the 1 s ext_authz
    // timeout the README gives Envoy, on a loaded CI machine too.
    expect(percentile(latencies, 0.99)).toBeLessThan(1_000);
    expect(dropped).toBeGreaterThan(total / 2);
    // The buffer plus the garbage collector's slack (a coarse bound: the exact one, buffered
    // bytes <= cap, is test/unit/telemetry/log-output.test.ts's).
    expect((rss[1] ?? 0) - (rss[0] ?? 0)).toBeLessThan(cap / MIB + 32);

    // SIGTERM while still unread; then the pipe is read again and the buffer must come out.
    serve.child.kill('SIGTERM');
    serve.child.stdout?.resume();
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    const out = delivered(serve.logs);
    expect(out.torn).toEqual([]);
    // The warm-up's lines went through before the pipe filled, so they count too.
    expect(out.decisions.length + dropped).toBe(warmUp + total);
    expect(new Set(out.decisions.map((l) => l['decision_id'])).size).toBe(out.decisions.length);
    // What was buffered when SIGTERM came arrived: at least the cap's worth, not just the pipe's.
    expect(out.bytes).toBeGreaterThan(cap);
    // The notes add up to every line lost: the audit lines counted before SIGTERM, and the
    // shutdown lines that found the buffer still full.
    expect(out.notes.at(-1)?.['dropped_total']).toBe(out.noted);
    const shutdownLinesLost = ['shutting down', 'stopped'].filter(
      (msg) => !serve.logs.some((l) => l['msg'] === msg),
    ).length;
    expect(out.noted).toBe(dropped + shutdownLinesLost);
  }, 40_000);

  test('--workers 2: each process bounds its own lines, the primary sums the counts, no line is torn', async () => {
    const {
      serve,
      grpc: address,
      http,
    } = await startStalled(['--workers', '2', '--log-buffer-bytes', String(256 * 1024)]);
    const total = 6_000;
    // Two connections: the primary hands one to each worker.
    await Promise.all([
      drive(channel(address), total / 2, 32),
      drive(channel(address), total / 2, 32),
    ]);
    const dropped = seriesValue(await scrape(http), DROPPED);
    const out = () => delivered(serve.logs);
    serve.child.kill('SIGTERM');
    serve.child.stdout?.resume();
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(out().torn).toEqual([]);
    expect(out().decisions.length + dropped).toBe(total);
    // Each worker dropped lines of its own, and each announced its own.
    const notesByPid = new Map<unknown, number>();
    for (const note of out().notes) {
      notesByPid.set(
        note['pid'],
        (notesByPid.get(note['pid']) ?? 0) + Number(note['dropped_lines']),
      );
    }
    expect(notesByPid.size).toBe(2);
    expect([...notesByPid.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(dropped);
    expect(new Set(out().decisions.map((l) => l['worker']))).toEqual(new Set([1, 2]));
  });

  test('a stop that the reader never lets through ends within the grace period and says what was lost', async () => {
    const { serve, grpc: address } = await startStalled([
      '--log-buffer-bytes',
      String(64 * 1024),
      '--shutdown-grace-ms',
      '500',
    ]);
    await drive(channel(address), 2_000, 32);
    const exit = await stopWith(serve, 'SIGTERM');
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(3_000);
    expect(serve.stderr()).toMatch(/mcp-gate: \d+ log lines still buffered at exit were lost/);
  });
});
