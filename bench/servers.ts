/**
 * The three servers under test, each its own child process on a random port, all started with
 * the same node flags and the same GC probe (servers/probe.js):
 * - raw:  servers/raw-server.js, grpc-js answering a pre-encoded OK without decoding;
 * - null: servers/null-server.js, grpc-js + proto-loader over Envoy's protos, decode, answer OK;
 * - ours: `node <entry> serve` with the generated allowlist.
 *
 * Each server can say how many Checks it answered (raw and null count them; mcp-gate's
 * `mcp_gate_decisions_total` counts its decisions by reason), so a run can prove that every
 * request h2load sent was answered, and answered as expected.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ChildTracker } from './children.js';

export const SERVER_NAMES = ['raw', 'null', 'ours'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

const BENCH_DIR = import.meta.dirname;
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const PROBE = path.join(BENCH_DIR, 'servers/probe.js');
const START_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 5_000;

/** Server-side counts: answered Checks, by reason where the server knows one. */
export interface CheckCounts {
  readonly total: number;
  /** `verdict/reason` → count; empty for the baselines (they have no reasons). */
  readonly byReason: ReadonlyMap<string, number>;
}

export interface GcTotals {
  readonly gcMs: number;
  readonly gcCount: number;
  /** The longest single pause since the previous probe. */
  readonly gcMaxMs: number;
}

export interface RunningServer {
  readonly name: ServerName;
  readonly pid: number;
  /** host:port of the gRPC listener. */
  readonly address: string;
  readonly child: ChildProcess;
  /** The server's processes: its own pid, plus its workers under `--workers N`. */
  pids(): number[];
  gc(): Promise<GcTotals>;
  checks(): Promise<CheckCounts>;
  /** What the server printed on stderr (for error messages). */
  stderr(): string;
}

export interface OursOptions {
  readonly entry: string;
  readonly allowlistPath: string;
  readonly knownHostsPath: string;
  readonly logLevel: string;
  /** Extra `serve` flags, after the bench's own (a later flag wins). */
  readonly extraFlags: readonly string[];
}

/** A free TCP port on 127.0.0.1, as the kernel hands out for :0. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** Node flags every server runs with, so their runtimes differ only in their own code. */
function nodeArgs(): string[] {
  return ['--import', PROBE];
}

interface Spawned {
  readonly child: ChildProcess;
  readonly stdoutLines: () => readonly string[];
  readonly stderr: () => string;
  /** Resolves with the first stdout line matching, rejects if the child exits first. */
  readonly waitForStdout: (pattern: RegExp) => Promise<RegExpExecArray>;
  readonly request: <T>(message: Record<string, unknown>) => Promise<T>;
}

function spawnServer(args: readonly string[], label: string, children: ChildTracker): Spawned {
  const child = spawn(process.execPath, [...nodeArgs(), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: cleanEnv(),
  });
  children.track(child, label);
  const lines: string[] = [];
  let rest = '';
  let stderr = '';
  const wakers = new Set<() => void>();
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    // Keep only a bounded tail: mcp-gate at warn level writes little, but never unbounded.
    lines.push(...parts);
    if (lines.length > 1000) lines.splice(0, lines.length - 1000);
    for (const wake of [...wakers]) wake();
  });
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  child.once('exit', () => {
    for (const wake of [...wakers]) wake();
  });

  let nextId = 1;
  const pending = new Map<number, (value: unknown) => void>();
  child.on('message', (message: { id?: number }) => {
    const resolve = message.id === undefined ? undefined : pending.get(message.id);
    if (resolve !== undefined && message.id !== undefined) {
      pending.delete(message.id);
      resolve(message);
    }
  });

  return {
    child,
    stdoutLines: () => lines,
    stderr: () => stderr,
    waitForStdout: (pattern) => {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${label}: not ready within ${START_TIMEOUT_MS} ms; stderr: ${stderr}`));
        }, START_TIMEOUT_MS);
        const finish = (): void => {
          clearTimeout(timer);
          wakers.delete(check);
        };
        const check = (): void => {
          for (const line of lines) {
            const match = pattern.exec(line);
            if (match !== null) {
              finish();
              resolve(match);
              return;
            }
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(
              new Error(
                `${label} exited (${child.exitCode ?? child.signalCode}); stderr: ${stderr}`,
              ),
            );
          }
        };
        wakers.add(check);
        check();
      });
    },
    request: <T>(message: Record<string, unknown>): Promise<T> => {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label}: no answer to ${JSON.stringify(message)}`));
        }, PROBE_TIMEOUT_MS);
        pending.set(id, (value) => {
          clearTimeout(timer);
          resolve(value as T);
        });
        child.send({ ...message, id });
      });
    },
  };
}

/** The parent's environment without settings that would change how a server runs. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('MCP_GATE_') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return env;
}

function gcProbe(spawned: Spawned): () => Promise<GcTotals> {
  return () => spawned.request<GcTotals>({ probe: 'gc' });
}

async function startBaseline(name: 'raw' | 'null', children: ChildTracker): Promise<RunningServer> {
  const spawned = spawnServer([path.join(BENCH_DIR, `servers/${name}-server.js`)], name, children);
  const match = await spawned.waitForStdout(/^listening (\d+)$/);
  return {
    name,
    pid: spawned.child.pid!,
    address: `127.0.0.1:${match[1]}`,
    child: spawned.child,
    pids: () => [spawned.child.pid!],
    gc: gcProbe(spawned),
    async checks() {
      const answer = await spawned.request<{ checks: number }>({ probe: 'checks' });
      return { total: answer.checks, byReason: new Map() };
    },
    stderr: spawned.stderr,
  };
}

/** Parses `mcp_gate_decisions_total{decision="…",reason="…",…} N` lines into verdict/reason sums. */
export function decisionCounts(metricsText: string): CheckCounts {
  const byReason = new Map<string, number>();
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('mcp_gate_decisions_total{')) continue;
    const decision = /decision="([^"]*)"/.exec(line)?.[1] ?? '?';
    const reason = /reason="([^"]*)"/.exec(line)?.[1] ?? '?';
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const key = `${decision}/${reason}`;
    byReason.set(key, (byReason.get(key) ?? 0) + value);
    total += value;
  }
  return { total, byReason };
}

async function startOurs(options: OursOptions, children: ChildTracker): Promise<RunningServer> {
  // mcp-gate at `--log-level warn` logs nothing when it is listening, so the ports are chosen
  // here: free ones as the kernel hands out for :0, taken by the child a moment later.
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const spawned = spawnServer(
    [
      options.entry,
      'serve',
      '--allowlist',
      options.allowlistPath,
      '--known-hosts',
      options.knownHostsPath,
      '--grpc-listen',
      `127.0.0.1:${grpcPort}`,
      '--http-listen',
      `127.0.0.1:${httpPort}`,
      '--log-level',
      options.logLevel,
      ...options.extraFlags,
    ],
    'ours',
    children,
  );
  const metricsUrl = `http://127.0.0.1:${httpPort}/metrics`;
  await waitReady(`http://127.0.0.1:${httpPort}/readyz`, spawned);
  return {
    name: 'ours',
    pid: spawned.child.pid!,
    address: `127.0.0.1:${grpcPort}`,
    child: spawned.child,
    pids: () => withChildren(spawned.child.pid!),
    gc: gcProbe(spawned),
    async checks() {
      const response = await fetch(metricsUrl);
      if (!response.ok) throw new Error(`ours: /metrics answered ${response.status}`);
      return decisionCounts(await response.text());
    },
    stderr: spawned.stderr,
  };
}

/** `pid` and its direct children (the workers of `--workers N`), from /proc. */
function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return [
      pid,
      ...children
        .split(' ')
        .filter((p) => p !== '')
        .map(Number),
    ];
  } catch {
    return [pid];
  }
}

/** Polls readiness: /readyz turns 200 once the allowlist is loaded and both listeners are up. */
async function waitReady(url: string, spawned: Spawned): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) {
      throw new Error(
        `ours exited (${spawned.child.exitCode ?? spawned.child.signalCode}) before it was ready; stderr: ${spawned.stderr()}`,
      );
    }
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`ours: not ready within ${START_TIMEOUT_MS} ms; stderr: ${spawned.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startServer(
  name: ServerName,
  ours: OursOptions,
  children: ChildTracker,
): Promise<RunningServer> {
  return name === 'ours' ? startOurs(ours, children) : startBaseline(name, children);
}
