/**
 * In-process micro-benchmarks, no network:
 * - the pure decision path: facts → decision through src/core/pipeline.ts `authorize` (MCP
 *   inspection + policy), with facts from src/envoy/to-facts.ts computed once beforehand, for
 *   allowlists of 10, 1,000 and 10,000 entries. The target entry is in every list, so the ratio
 *   10k/10 shows what the size of the allowlist costs a Check;
 * - reloading 1,000, 2,000 and 4,000 entries: `parseAllowlist` (YAML, schema, rules, stamps,
 *   compile) on this thread, and a PolicyStore reload (worker thread + snapshot build in slices,
 *   the service's own path), with the longest event-loop stall seen during the reload: what a
 *   Check waiting at that moment would have waited. The targets (docs/performance.md): 1,000
 *   entries reloaded in at most 1 s, no stall over 20 ms, and cost linear in entries, which the
 *   ratio of 4,000 to 1,000 shows (4x is linear).
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { parseAllowlist } from '../src/config/load-allowlist.js';
import { parseKnownHosts } from '../src/config/load-known-hosts.js';
import { PolicyStore } from '../src/config/policy-store.js';
import { authorize } from '../src/core/pipeline.js';
import type { RequestFacts } from '../src/core/facts.js';
import { toRequestFacts } from '../src/envoy/to-facts.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { startPolicyWorkerFromSources } from '../test/helpers/policy-worker.js';
import { generateAllowlist } from './allowlist-gen.js';
import type { Payload } from './payloads.js';
import { REPO_ROOT } from './servers.js';
import { scopingCost } from './micro-scoping.js';
import { BENCH_LIMITS, benchSnapshot } from './snapshot.js';
import type { ScopingReport } from './micro-scoping.js';
import { cpuNsPerCall, median, round } from './stats.js';

export const MICRO_SIZES = [10, 1000, 10_000] as const;
/** Allowlist sizes reloaded; each doubles the last, so linear cost doubles the time. */
export const RELOAD_SIZES = [1000, 2000, 4000] as const;

export interface MicroOptions {
  /** Timed batches per payload and size (sizes interleaved within a round). */
  readonly rounds: number;
  /** Timed parses and reloads per reload size, sizes interleaved within a round. */
  readonly loadRounds: number;
  /** Target time of one timed batch. */
  readonly batchMs: number;
  readonly today: Date;
}

export interface MicroReport {
  /** A decision with identity, access rules and two conditions, against the same without. */
  readonly scoping: ScopingReport;
  /** payload → size → median ns per authorize call, plus the 10k/10 ratio. */
  readonly decision: Record<string, Record<string, number | null>>;
  /** Reload size → figures, plus the 4,000/1,000 ratio of reload times. */
  readonly reload: {
    readonly sizes: Record<string, ReloadFigures>;
    readonly ratio_4k_vs_1k: number | null;
  };
  readonly problems: string[];
}

export interface ReloadFigures {
  readonly parse_ms: number | null;
  readonly parse_cpu_ms: number | null;
  readonly reload_ms: number | null;
  readonly reload_max_stall_ms: number | null;
  readonly reload_runs: number;
}

const DECISION_ID = 'benchmarkdecisionidx';

/** Iterations for one batch of about `batchMs` of CPU. */
function calibrate(fn: () => void, batchMs: number): number {
  let iterations = 16;
  for (;;) {
    const ns = cpuNsPerCall(fn, iterations);
    if (ns * iterations >= (batchMs * 1e6) / 4 || iterations >= 1 << 24) {
      return Math.max(16, Math.round((batchMs * 1e6) / Math.max(ns, 1)));
    }
    iterations *= 4;
  }
}

async function decisionPath(
  payloads: readonly Payload[],
  options: MicroOptions,
  problems: string[],
): Promise<MicroReport['decision']> {
  const knownText = await readFile(path.join(REPO_ROOT, 'deploy/known-mcp-hosts.yaml'), 'utf8');
  const known = parseKnownHosts(knownText, 'known-mcp-hosts.yaml');
  if (!known.ok) throw new Error('deploy/known-mcp-hosts.yaml is invalid');
  const snapshots = new Map(
    MICRO_SIZES.map((size) => [
      size,
      benchSnapshot(generateAllowlist(size, options.today), options.today, known.knownHosts),
    ]),
  );
  const nowMs = options.today.getTime();
  const facts = new Map<string, RequestFacts>(
    payloads.map((p) => [p.name, toRequestFacts(p.request)]),
  );

  // The same answers as the service gives, or the timing measures the wrong path.
  for (const payload of payloads) {
    for (const [size, snapshot] of snapshots) {
      const { decision } = authorize(snapshot, facts.get(payload.name)!, nowMs, DECISION_ID);
      if (
        decision.verdict !== payload.expected.verdict ||
        decision.reason !== payload.expected.reason
      ) {
        problems.push(
          `micro ${payload.name} with ${size} entries: ${decision.verdict}/${decision.reason}, expected ${payload.expected.verdict}/${payload.expected.reason}`,
        );
      }
    }
  }

  const samples = new Map<string, number[]>();
  const iterations = new Map<string, number>();
  for (let round = 0; round < options.rounds; round++) {
    for (const payload of payloads) {
      const payloadFacts = facts.get(payload.name)!;
      for (const [size, snapshot] of snapshots) {
        const run = (): void => {
          authorize(snapshot, payloadFacts, nowMs, DECISION_ID);
        };
        const key = `${payload.name}|${size}`;
        let n = iterations.get(key);
        if (n === undefined) {
          n = calibrate(run, options.batchMs);
          iterations.set(key, n);
        }
        const list = samples.get(key) ?? [];
        list.push(cpuNsPerCall(run, n));
        samples.set(key, list);
      }
    }
  }

  const report: MicroReport['decision'] = {};
  for (const payload of payloads) {
    const row: Record<string, number | null> = {};
    for (const size of MICRO_SIZES) {
      row[`ns_${size}`] = round(median(samples.get(`${payload.name}|${size}`) ?? []));
    }
    const small = median(samples.get(`${payload.name}|10`) ?? []);
    const large = median(samples.get(`${payload.name}|10000`) ?? []);
    row['ratio_10k_vs_10'] = round(large / small, 2);
    report[payload.name] = row;
  }
  return report;
}

async function reloadTimes(
  options: MicroOptions,
  problems: string[],
): Promise<MicroReport['reload']> {
  const parseMs = new Map<number, number[]>(RELOAD_SIZES.map((size) => [size, []]));
  const parseCpuMs = new Map<number, number[]>(RELOAD_SIZES.map((size) => [size, []]));
  // One untimed parse first: the first call also compiles the schema code paths.
  parseAllowlist(generateAllowlist(RELOAD_SIZES[0], options.today), {
    fileName: 'bench.yaml',
    now: options.today,
  });
  for (let i = 0; i < options.loadRounds; i++) {
    for (const size of RELOAD_SIZES) {
      const text = generateAllowlist(size, options.today, 1 + i);
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      const parsed = parseAllowlist(text, { fileName: 'bench.yaml', now: options.today });
      const cpu = process.cpuUsage(cpuStart);
      parseMs.get(size)?.push(performance.now() - start);
      parseCpuMs.get(size)?.push((cpu.user + cpu.system) / 1000);
      if (!parsed.ok) problems.push(`micro: the generated ${size}-entry allowlist is invalid`);
    }
  }

  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-bench-reload-'));
  const file = path.join(dir, 'allowlist.yaml');
  const store = new PolicyStore({
    allowlistPath: file,
    knownHostsPath: undefined,
    limits: BENCH_LIMITS,
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(new Registry()),
    now: () => options.today.getTime(),
    watch: false,
    startWorker: startPolicyWorkerFromSources,
  });
  // Every text before the first timed reload: generating one on this thread just before a
  // reload would leave its young objects to the reload's first scavenges.
  const texts = Array.from({ length: options.loadRounds }, (_, i) =>
    // A new seed each time, so every reload replaces every entry.
    RELOAD_SIZES.map((size) => generateAllowlist(size, options.today, 100 + i)),
  );
  const reloadMs = new Map<number, number[]>(RELOAD_SIZES.map((size) => [size, []]));
  const stallMs = new Map<number, number[]>(RELOAD_SIZES.map((size) => [size, []]));
  try {
    await writeFile(file, generateAllowlist(10, options.today));
    await store.loadInitial();
    // An untimed reload first: it also starts the worker thread, which no later reload pays.
    await store.reload('bench');
    for (const round of texts) {
      for (const [index, size] of RELOAD_SIZES.entries()) {
        await writeFile(`${file}.tmp`, round[index] ?? '');
        await rename(`${file}.tmp`, file);
        const delay = monitorEventLoopDelay({ resolution: 1 });
        delay.enable();
        const start = performance.now();
        await store.reload('bench');
        const elapsed = performance.now() - start;
        // The sampling timer sees a stall only when it next fires: without this wait, the last
        // stretch of the reload (the swap and its listeners) would go unmeasured.
        await new Promise((resolve) => setTimeout(resolve, 2));
        delay.disable();
        if (store.current?.policy.entries.length !== size) {
          problems.push(`micro: a reload did not install the ${size}-entry allowlist`);
        }
        reloadMs.get(size)?.push(elapsed);
        stallMs.get(size)?.push(delay.max / 1e6);
      }
    }
  } finally {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const sizes: Record<string, ReloadFigures> = {};
  for (const size of RELOAD_SIZES) {
    const reloads = reloadMs.get(size) ?? [];
    sizes[String(size)] = {
      parse_ms: round(median(parseMs.get(size) ?? []), 1),
      parse_cpu_ms: round(median(parseCpuMs.get(size) ?? []), 1),
      reload_ms: round(median(reloads), 1),
      reload_max_stall_ms: round(Math.max(...(stallMs.get(size) ?? [])), 1),
      reload_runs: reloads.length,
    };
  }
  const small = median(reloadMs.get(1000) ?? []);
  const large = median(reloadMs.get(4000) ?? []);
  return { sizes, ratio_4k_vs_1k: round(large / small, 2) };
}

export async function runMicro(
  payloads: readonly Payload[],
  options: MicroOptions,
): Promise<MicroReport> {
  const problems: string[] = [];
  const decision = await decisionPath(payloads, options, problems);
  const scoping = scopingCost(options.rounds, 20_000, problems);
  const reload = await reloadTimes(options, problems);
  return { decision, scoping, reload, problems };
}
