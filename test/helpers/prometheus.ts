/**
 * The Debian `prometheus` binary (scripts/ensure-test-tools.sh installs it) as a test fixture:
 * on loopback, with a throw-away data directory, scraping and evaluating rules every second, and
 * read through its HTTP API. Every wait polls the API for a condition until a deadline; none
 * sleeps for a fixed time and hopes.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { trackChild } from './serve-process.js';

/** How long a poll of Prometheus for a condition may take before the test fails. */
export const PROMETHEUS_WAIT_MS = 20_000;
const POLL_MS = 100;

/** `prometheus --version`'s first line, or undefined when the binary is missing. */
export function findPrometheus(): string | undefined {
  try {
    const out = execFileSync('prometheus', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.split('\n')[0];
  } catch {
    return undefined;
  }
}

/** A free loopback port: listen on 0, read the port, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

export interface PrometheusAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing' | 'inactive';
}

export interface PrometheusOptions {
  /** host:port of each scrape target, all in one job. */
  readonly targets: readonly string[];
  readonly job: string;
  /** Rule files to load: path on disk, or [file name, content] written into the temp dir. */
  readonly ruleFiles?: readonly (string | readonly [string, string])[];
}

export interface RunningPrometheus {
  readonly url: string;
  readonly child: ChildProcess;
  /** An instant query; rejects with Prometheus' error (a parse error included). */
  query(expr: string): Promise<Sample[]>;
  /** Every active alert (pending or firing). */
  alerts(): Promise<PrometheusAlert[]>;
  /** Values of a label over the series matching `match`. */
  labelValues(label: string, match: string): Promise<string[]>;
  stderr(): string;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

/** Starts prometheus and resolves once /-/ready answers 200 and every target has been scraped. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-prometheus-'));
  const ruleFiles: string[] = [];
  for (const file of options.ruleFiles ?? []) {
    if (typeof file === 'string') {
      ruleFiles.push(file);
      continue;
    }
    const written = path.join(dir, file[0]);
    await writeFile(written, file[1]);
    ruleFiles.push(written);
  }
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    scrape_configs: [
      { job_name: options.job, static_configs: [{ targets: [...options.targets] }] },
    ],
  };
  await writeFile(path.join(dir, 'prometheus.yml'), stringify(config));
  // The free port may be taken again before Prometheus binds it; then it exits and we try anew.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(dir, options.job, options.targets.length);
    } catch (err: unknown) {
      const taken = err instanceof Error && err.message.includes('address already in use');
      if (!taken || attempt === 3) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

/** One start of prometheus on a fresh port, with the config in `dir`; stop() removes `dir`. */
async function launch(dir: string, job: string, targets: number): Promise<RunningPrometheus> {
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${String(port)}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  trackChild(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });

  const api = async <T>(route: string, params: Record<string, string> = {}): Promise<T> => {
    const answer = await fetch(`${url}/api/v1/${route}?${new URLSearchParams(params).toString()}`);
    const body = (await answer.json()) as ApiAnswer<T>;
    if (body.status !== 'success' || body.data === undefined) {
      throw new Error(`${route} ${JSON.stringify(params)}: ${body.errorType}: ${body.error}`);
    }
    return body.data;
  };

  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };

  const running: RunningPrometheus = {
    url,
    child,
    async query(expr) {
      const data = await api<{ resultType: string; result: Sample[] | [number, string] }>('query', {
        query: expr,
      });
      // A scalar (time() - …) comes back as one value without labels.
      if (data.resultType === 'scalar') {
        return [{ metric: {}, value: data.result as [number, string] }];
      }
      return data.result as Sample[];
    },
    async alerts() {
      return (await api<{ alerts: PrometheusAlert[] }>('alerts')).alerts;
    },
    labelValues(label, match) {
      return api<string[]>(`label/${label}/values`, { 'match[]': match });
    },
    stderr: () => stderr,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await pollUntil(
      'Prometheus ready with every target scraped',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
        const ready = await fetch(`${url}/-/ready`).catch(() => undefined);
        if (ready?.status !== 200) return false;
        const up = await running.query(`up{job="${job}"} == 1`);
        return up.length === targets;
      },
      () => stderr,
    );
  } catch (err: unknown) {
    await kill();
    throw err;
  }
  return running;
}

/**
 * Polls `condition` until it returns true; fails after PROMETHEUS_WAIT_MS with `what` and the
 * context. An exception from the condition fails at once (Prometheus answered with an error).
 */
export async function pollUntil(
  what: string,
  condition: () => Promise<boolean>,
  context: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + PROMETHEUS_WAIT_MS;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) {
      throw new Error(`not within ${String(PROMETHEUS_WAIT_MS)} ms: ${what}. ${context()}`);
    }
    // The next scrape or evaluation is at most a second away; ask again shortly.
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
