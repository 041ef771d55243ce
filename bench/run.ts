/**
 * `npm run bench`: measures mcp-gate's Check path against two baselines under the same h2load
 * load, then the in-process decision path and allowlist loading. See docs/performance.md for the
 * method and how to read the output; `--help` for the options.
 *
 * Progress goes to stderr; the table to stdout; with --json the last stdout line is the report.
 * Exit code 0 when every run was clean, 1 when any run had a problem (listed, never hidden),
 * 2 on bad options, 130/143 when interrupted. Every child process is stopped and every temp dir
 * removed on each of those paths.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllowlist } from '../src/config/load-allowlist.js';
import { generateAllowlist } from './allowlist-gen.js';
import { createChildTracker } from './children.js';
import type { ChildTracker } from './children.js';
import { ensureH2load, readRequestLog, runLoad } from './h2load.js';
import type { H2load } from './h2load.js';
import { runMicro } from './micro.js';
import type { MicroReport } from './micro.js';
import { parseOptions, SHAPES, USAGE } from './options.js';
import type { BenchOptions, Cell } from './options.js';
import { buildPayloads, writePayloadFiles } from './payloads.js';
import type { Payload, PayloadName } from './payloads.js';
import { cpuMicros, rssMiB } from './proc.js';
import { buildShapes, cellKey, formatLoadTable, formatMicro } from './report.js';
import type { RunResult, ShapeReport } from './report.js';
import { REPO_ROOT, SERVER_NAMES, startServer } from './servers.js';
import type { CheckCounts, RunningServer } from './servers.js';
import { percentile } from './stats.js';
import { verifyPayloads } from './verify.js';

const ALLOWLIST_SIZE = 1000;
const LOG_LEVEL = 'warn';
const CHECK_URL_PATH = '/envoy.service.auth.v3.Authorization/Check';
const RSS_SAMPLE_MS = 100;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** What every reader of the figures must know; printed with the table and put in the JSON. */
function notes(options: BenchOptions): string[] {
  return [
    `servers: raw = grpc-js answering a pre-encoded OK without decoding; null = grpc-js + proto-loader over Envoy's protos, decodes and answers OK; ours = node dist/main.js serve, ${ALLOWLIST_SIZE}-entry generated allowlist, deploy/known-mcp-hosts.yaml, --log-level ${LOG_LEVEL} (no per-decision audit lines), ${options.oursFlags.length === 0 ? 'other flags at their defaults' : `plus ${options.oursFlags.join(' ')}; CPU and RSS are summed over all of its processes, GC figures are the primary's only`}`,
    'load: h2load, one client thread, gRPC-framed CheckRequests as Envoy sends them (with_request_body 4 MiB, pack_as_bytes); each run follows an unmeasured warm-up of the same payload',
    'rps1000: h2load --rps 250 on each of 4 connections; h2load sends rate-limited requests from a 10 ms timer, so requests leave in bursts every 10 ms and its latencies are burst latencies, not those of evenly spaced requests',
    'p50/p99: from h2load --log-file (per-request µs, request sent to response end); CPU: server utime+stime over the run (all threads, 10 ms tick resolution) / checks the server answered; RSS: max VmRSS sampled every 100 ms during the run (the servers live for the whole benchmark, so it includes heap grown in earlier runs); GC: perf_hooks gc entries (pause time) per second of run',
    `medians of ${options.repeat} interleaved round(s) (raw, null, ours per cell); ratios are ours/base within a round, median over rounds; this machine has ${cpus().length} CPUs and is shared: judge by the ratios, never by one absolute figure`,
    'h2load repeats one payload byte for byte: a cache keyed on whole request bytes would make these figures meaningless',
    ...(options.quick ? ['--quick: short runs, one round: a smoke run, not figures to quote'] : []),
  ];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** The entry to run as "ours"; builds dist/ when the default entry is missing. */
function resolveEntry(options: BenchOptions, warnings: string[]): string {
  if (options.entry !== undefined) {
    const entry = path.resolve(options.entry);
    if (!existsSync(entry)) throw new Error(`--entry ${options.entry}: no such file`);
    return entry;
  }
  const entry = path.join(REPO_ROOT, 'dist/main.js');
  if (!existsSync(entry)) {
    log('bench: dist/main.js is missing; running "npm run build" first');
    const built = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 2, 2] });
    if (built.status !== 0 || !existsSync(entry)) throw new Error('npm run build failed');
  } else if (newestMtime(path.join(REPO_ROOT, 'src')) > statSync(entry).mtimeMs) {
    warnings.push(
      'dist/main.js is older than src/: run "npm run build" to measure the current code',
    );
  }
  return entry;
}

interface LoadContext {
  readonly h2load: H2load;
  readonly children: ChildTracker;
  readonly files: ReadonlyMap<PayloadName, string>;
  readonly payloads: ReadonlyMap<PayloadName, Payload>;
  readonly tmp: string;
  readonly options: BenchOptions;
  readonly problems: string[];
}

function counted(
  after: CheckCounts,
  before: CheckCounts,
): { total: number; byReason: Map<string, number> } {
  const byReason = new Map<string, number>();
  for (const [key, value] of after.byReason) {
    const delta = value - (before.byReason.get(key) ?? 0);
    if (delta !== 0) byReason.set(key, delta);
  }
  return { total: after.total - before.total, byReason };
}

/** CPU of all of a server's processes (one, or a primary and its workers). */
function treeCpuMicros(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
}

/**
 * The largest sum of VmRSS over a server's processes, sampled every `everyMs`. With workers the
 * sum counts pages they share (node's own code) once per process: an upper bound.
 */
function sampleMaxTreeRss(pids: readonly number[], everyMs: number): { stop(): number } {
  const total = (): number => pids.reduce((sum, pid) => sum + (rssMiB(pid) ?? 0), 0);
  let max = total();
  const timer = setInterval(() => {
    max = Math.max(max, total());
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, total());
    },
  };
}

/** One warm-up and one measured load of one server; problems are recorded, not thrown. */
async function measure(
  server: RunningServer,
  cell: Cell,
  round: number,
  ctx: LoadContext,
): Promise<RunResult | undefined> {
  const shape = SHAPES[cell.shape];
  const payload = ctx.payloads.get(cell.payload)!;
  const where = `${server.name} ${cellKey(cell)} round ${round}`;
  const url = `http://${server.address}${CHECK_URL_PATH}`;
  const base = {
    url,
    dataFile: ctx.files.get(cell.payload)!,
    connections: shape.connections,
    streams: shape.streams,
  };
  const warm = await runLoad(
    ctx.h2load,
    { ...base, ratePerConnection: undefined, requests: ctx.options.quick ? 1000 : 5000 },
    ctx.children,
  );
  if (warm.succeeded !== warm.total) {
    ctx.problems.push(`${where}: warm-up had ${warm.total - warm.succeeded} unsuccessful requests`);
  }

  const logFile = path.join(
    ctx.tmp,
    `requests-${server.name}-${cell.shape}-${cell.payload}-${round}.log`,
  );
  const gcBefore = await server.gc();
  const checksBefore = await server.checks();
  const pids = server.pids();
  const cpuBefore = treeCpuMicros(pids);
  const rss = sampleMaxTreeRss(pids, RSS_SAMPLE_MS);
  const started = performance.now();
  const summary = await runLoad(
    ctx.h2load,
    {
      ...base,
      ratePerConnection: shape.ratePerConnection,
      durationS: ctx.options.quick ? shape.quickSeconds : shape.seconds,
      logFile,
    },
    ctx.children,
  );
  const wallS = (performance.now() - started) / 1000;
  const rssMb = rss.stop();
  const cpu = treeCpuMicros(pids) - cpuBefore;
  const checks = counted(await server.checks(), checksBefore);
  const gcAfter = await server.gc();
  const requests = await readRequestLog(logFile);
  await rm(logFile, { force: true });

  const problemsBefore = ctx.problems.length;
  const bad = summary.failed + summary.errored + summary.timeout;
  if (bad > 0 || summary.statusOther > 0) {
    ctx.problems.push(
      `${where}: h2load saw ${summary.failed} failed, ${summary.errored} errored, ${summary.timeout} timed out, ${summary.statusOther} non-2xx`,
    );
  }
  const non2xx = requests.filter((r) => r.status < 200 || r.status > 299).length;
  if (non2xx > 0) ctx.problems.push(`${where}: ${non2xx} logged requests had a non-2xx status`);
  if (requests.length < summary.done * 0.99) {
    ctx.problems.push(
      `${where}: the request log has ${requests.length} rows for ${summary.done} requests`,
    );
  }
  // Every request h2load finished must have been answered by the handler (a stream cut at the
  // end of the run may be answered without h2load counting it, hence >=).
  if (checks.total < summary.succeeded) {
    ctx.problems.push(
      `${where}: the server answered ${checks.total} checks, h2load counted ${summary.succeeded} successes`,
    );
  }
  if (server.name === 'ours') {
    const expected = `${payload.expected.verdict}/${payload.expected.reason}`;
    for (const [key, value] of checks.byReason) {
      if (key !== expected)
        ctx.problems.push(`${where}: ${value} answers were ${key}, expected ${expected}`);
    }
  }
  if (summary.done === 0 || checks.total === 0) {
    ctx.problems.push(`${where}: no request completed`);
    return undefined;
  }
  if (ctx.problems.length > problemsBefore) log(`bench: problem in ${where} (listed at the end)`);

  const latencies = requests.map((r) => r.elapsedUs);
  return {
    server: server.name,
    cell,
    round,
    rps: summary.rps,
    p50Us: percentile(latencies, 0.5),
    p99Us: percentile(latencies, 0.99),
    cpuUs: cpu / checks.total,
    rssMb,
    gcMsPerS: (gcAfter.gcMs - gcBefore.gcMs) / wallS,
    gcMaxMs: gcAfter.gcMaxMs,
    requests: summary.done,
  };
}

async function runLoadBench(
  options: BenchOptions,
  payloads: readonly Payload[],
  children: ChildTracker,
  tmp: string,
  problems: string[],
  warnings: string[],
): Promise<{ shapes: Record<string, ShapeReport>; settings: Record<string, unknown> }> {
  const h2load = await ensureH2load(log);
  const entry = resolveEntry(options, warnings);

  const today = new Date();
  const allowlistPath = path.join(tmp, 'allowlist.yaml');
  const allowlistText = generateAllowlist(ALLOWLIST_SIZE, today);
  const parsed = parseAllowlist(allowlistText, { fileName: allowlistPath, now: today });
  if (!parsed.ok) {
    throw new Error(
      `the generated allowlist is invalid: ${JSON.stringify(parsed.errors.slice(0, 3))}`,
    );
  }
  await writeFile(allowlistPath, allowlistText);
  const files = await writePayloadFiles(payloads, tmp);

  const servers: RunningServer[] = [];
  for (const name of SERVER_NAMES) {
    log(`bench: starting ${name}`);
    const server = await startServer(
      name,
      {
        entry,
        allowlistPath,
        knownHostsPath: path.join(REPO_ROOT, 'deploy/known-mcp-hosts.yaml'),
        logLevel: LOG_LEVEL,
        extraFlags: options.oursFlags,
      },
      children,
    );
    await verifyPayloads(server, payloads);
    servers.push(server);
  }
  log(`bench: every payload gets the expected answer from ${SERVER_NAMES.join(', ')}`);

  const ctx: LoadContext = {
    h2load,
    children,
    files,
    payloads: new Map(payloads.map((p) => [p.name, p])),
    tmp,
    options,
    problems,
  };
  const results: RunResult[] = [];
  const total = options.repeat * options.cells.length * servers.length;
  let done = 0;
  for (let round = 1; round <= options.repeat; round++) {
    for (const cell of options.cells) {
      for (const server of servers) {
        done += 1;
        log(`bench: [${done}/${total}] round ${round} ${cellKey(cell)} ${server.name}`);
        const result = await measure(server, cell, round, ctx);
        if (result !== undefined) results.push(result);
      }
    }
  }
  for (const server of servers) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      problems.push(`${server.name} exited during the benchmark; stderr: ${server.stderr()}`);
    }
    await children.stop(server.child);
  }
  return {
    shapes: buildShapes(options.cells, results),
    settings: {
      h2load: h2load.version,
      entry: path.relative(REPO_ROOT, entry),
      ours_flags: options.oursFlags,
      allowlist_entries: ALLOWLIST_SIZE,
      log_level: LOG_LEVEL,
      payload_bytes: Object.fromEntries(
        payloads.map((p) => [p.name, { body: p.bodyBytes, check_request: p.message.length }]),
      ),
      durations_s: Object.fromEntries(
        Object.values(SHAPES).map((s) => [s.name, options.quick ? s.quickSeconds : s.seconds]),
      ),
    },
  };
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err: unknown) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const children = createChildTracker();
  const interrupt = (signal: NodeJS.Signals, code: number): void => {
    process.once(signal, () => {
      log(`bench: ${signal}: stopping servers and load, removing temp files`);
      void children.cleanup().finally(() => process.exit(code));
    });
  };
  interrupt('SIGINT', 130);
  interrupt('SIGTERM', 143);

  const tmp = await mkdtemp(path.join(tmpdir(), 'mcp-gate-bench-'));
  children.trackDir(tmp);
  const problems: string[] = [];
  const warnings: string[] = [];
  try {
    const payloads = buildPayloads(options.payloads);
    let load: Awaited<ReturnType<typeof runLoadBench>> | undefined;
    if (options.load)
      load = await runLoadBench(options, payloads, children, tmp, problems, warnings);
    let micro: MicroReport | undefined;
    if (options.micro) {
      log('bench: micro-benchmarks (in process)');
      micro = await runMicro(payloads, {
        rounds: options.quick ? 5 : 15,
        batchMs: options.quick ? 10 : 50,
        loadRounds: options.quick ? 1 : 3,
        today: new Date(),
      });
      problems.push(...micro.problems);
    }

    const out: string[] = [
      `mcp-gate benchmark, ${new Date().toISOString()}, node ${process.version}`,
    ];
    for (const note of notes(options)) out.push(`- ${note}`);
    for (const warning of warnings) out.push(`WARNING: ${warning}`);
    if (load !== undefined) out.push('', formatLoadTable(load.shapes));
    if (micro !== undefined) out.push('', formatMicro(micro));
    out.push('', problems.length === 0 ? 'problems: none' : `PROBLEMS (${problems.length}):`);
    for (const problem of problems) out.push(`  ${problem}`);
    process.stdout.write(`${out.join('\n')}\n`);
    if (options.json) {
      const report = {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
        quick: options.quick,
        repeat: options.repeat,
        notes: notes(options),
        warnings,
        settings: load?.settings ?? null,
        shapes: load?.shapes ?? {},
        micro:
          micro === undefined
            ? null
            : { decision: micro.decision, scoping: micro.scoping, reload: micro.reload },
        problems,
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
    }
    return problems.length === 0 ? 0 : 1;
  } finally {
    await children.cleanup();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
