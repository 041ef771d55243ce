/**
 * h2load (nghttp2's HTTP/2 load generator): finding or installing it, running one load, and
 * reading its summary and per-request log.
 *
 * Why h2load: a grpc-js client spends more CPU per call than a Node server does answering it, so
 * it cannot saturate one; h2load sends pre-framed gRPC requests from C at a fraction of the cost.
 * It cannot read gRPC trailers, so it only sees HTTP statuses: run.ts checks the answers
 * themselves with a grpc-js client before the load, and counts them on the server side after it.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { ChildTracker } from './children.js';

const execFileAsync = promisify(execFile);

/** Where h2load is, after ensureH2load. */
export interface H2load {
  readonly path: string;
  readonly version: string;
}

async function which(command: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('sh', ['-c', `command -v ${command}`]);
    const found = stdout.trim();
    return found === '' ? undefined : found;
  } catch {
    return undefined;
  }
}

async function versionOf(path: string): Promise<string> {
  const { stdout } = await execFileAsync(path, ['--version']);
  return stdout.trim().split('\n')[0] ?? 'unknown';
}

/** Runs a command with inherited stderr (apt's progress is the user's to see). */
function runVisible(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', () => {
      resolve(-1);
    });
    child.on('exit', (code) => {
      resolve(code ?? -1);
    });
  });
}

/**
 * Finds h2load on PATH, or installs Debian's `nghttp2-client` (which ships it) and says so on
 * stderr. Throws with what to do when neither works.
 */
export async function ensureH2load(log: (line: string) => void): Promise<H2load> {
  const existing = await which('h2load');
  if (existing !== undefined) return { path: existing, version: await versionOf(existing) };

  const root = process.getuid?.() === 0;
  const sudo = root ? undefined : await which('sudo');
  if (!root && sudo === undefined) {
    throw new Error(
      'h2load is not installed and this user cannot install it (not root, no sudo): ' +
        'install it with "apt-get install nghttp2-client" and run the benchmark again',
    );
  }
  if ((await which('apt-get')) === undefined) {
    throw new Error(
      'h2load is not installed and apt-get is missing: install nghttp2 (h2load) and retry',
    );
  }
  const apt = (args: readonly string[]): Promise<number> =>
    root ? runVisible('apt-get', args) : runVisible('sudo', ['apt-get', ...args]);
  log(
    `bench: h2load not found; installing Debian package nghttp2-client${root ? '' : ' with sudo'}`,
  );
  let code = await apt(['install', '-y', '-q', 'nghttp2-client']);
  if (code !== 0) {
    // A fresh machine may not have package lists yet.
    log('bench: apt-get install failed; running apt-get update and trying once more');
    await apt(['update', '-q']);
    code = await apt(['install', '-y', '-q', 'nghttp2-client']);
  }
  const installed = await which('h2load');
  if (code !== 0 || installed === undefined) {
    throw new Error(
      `could not install nghttp2-client (apt-get exit ${code}); install h2load by hand and retry`,
    );
  }
  const found = { path: installed, version: await versionOf(installed) };
  log(`bench: installed ${found.version} at ${found.path}`);
  return found;
}

/** One load: where, what, and how hard. */
export interface LoadSpec {
  readonly url: string;
  /** A file holding one gRPC-framed request message, sent as every request's body. */
  readonly dataFile: string;
  readonly connections: number;
  readonly streams: number;
  /** Requests per second per connection; undefined = as fast as possible. */
  readonly ratePerConnection: number | undefined;
  /** Exactly one of durationS / requests. */
  readonly durationS?: number;
  readonly requests?: number;
  /** Per-request log (start µs, HTTP status, elapsed µs); only for measured runs. */
  readonly logFile?: string;
}

/** What h2load's summary says, plus the run's own wall time. */
export interface LoadSummary {
  readonly total: number;
  readonly done: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly timeout: number;
  readonly status2xx: number;
  readonly statusOther: number;
  /** `finished in X`: the measured time h2load reports. */
  readonly seconds: number;
  /** req/s as h2load reports it. */
  readonly rps: number;
  /** The full stdout, for error messages. */
  readonly output: string;
}

function loadArgs(spec: LoadSpec): string[] {
  const args = [
    '-c',
    String(spec.connections),
    '-m',
    String(spec.streams),
    // One client thread: the server under test gets the other core to itself.
    '-t',
    '1',
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    '-d',
    spec.dataFile,
  ];
  if (spec.durationS !== undefined) args.push('-D', String(spec.durationS));
  else if (spec.requests !== undefined) args.push('-n', String(spec.requests));
  if (spec.ratePerConnection !== undefined) args.push('--rps', String(spec.ratePerConnection));
  if (spec.logFile !== undefined) args.push('--log-file', spec.logFile);
  args.push(spec.url);
  return args;
}

/** Reads h2load's summary; throws (with the output) when a line we rely on is missing. */
export function parseSummary(output: string): LoadSummary {
  const requests =
    /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      output,
    );
  const statuses = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  const finished = /finished in ([\d.]+)(s|ms|us), ([\d.]+) req\/s/.exec(output);
  if (requests === null || statuses === null || finished === null) {
    throw new Error(`h2load printed no summary:\n${output}`);
  }
  const n = (text: string | undefined): number => Number(text ?? 'NaN');
  const unit = finished[2] === 's' ? 1 : finished[2] === 'ms' ? 1e-3 : 1e-6;
  return {
    total: n(requests[1]),
    done: n(requests[2]),
    succeeded: n(requests[3]),
    failed: n(requests[4]),
    errored: n(requests[5]),
    timeout: n(requests[6]),
    status2xx: n(statuses[1]),
    statusOther: n(statuses[2]) + n(statuses[3]) + n(statuses[4]),
    seconds: n(finished[1]) * unit,
    rps: n(finished[3]),
    output,
  };
}

/** Runs h2load to completion. Rejects when it cannot start or exits non-zero. */
export function runLoad(
  h2load: H2load,
  spec: LoadSpec,
  children: ChildTracker,
): Promise<LoadSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(h2load.path, loadArgs(spec), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.track(child, 'h2load');
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`h2load exited with ${code ?? signal}:\n${stdout}\n${stderr}`));
        return;
      }
      try {
        resolve(parseSummary(stdout));
      } catch (err: unknown) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** One logged request. */
export interface LoggedRequest {
  readonly status: number;
  readonly elapsedUs: number;
}

/** Reads h2load's `--log-file`: tab-separated start time (µs), HTTP status, elapsed µs. */
export async function readRequestLog(file: string): Promise<LoggedRequest[]> {
  const text = await readFile(file, 'utf8');
  const rows: LoggedRequest[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [, status, elapsed] = line.split('\t');
    rows.push({ status: Number(status), elapsedUs: Number(elapsed) });
  }
  return rows;
}
