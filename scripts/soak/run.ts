/**
 * One soak run, start to finish: temp dir with generation 0, the service as a child process,
 * load and allowlist churn side by side until time is up, then a report. The child and the
 * temp dir are cleaned up on every path, including an abort (Ctrl-C) and a process exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAuthzClient } from '../../test/helpers/authz-client.js';
import type { AuthzClient } from '../../test/helpers/authz-client.js';
import { churnAllowlist } from './allowlist-churn.js';
import { KNOWN_HOSTS_YAML, renderAllowlist } from './allowlist-versions.js';
import { GenerationTracker } from './generation-tracker.js';
import { percentile, runLoad } from './load.js';
import { createPicker } from './scenarios.js';
import { killNow, startServiceProcess } from './service-process.js';
import type { ServiceExit, ServiceProcess } from './service-process.js';

export interface SoakOptions {
  readonly seconds: number;
  /** The service entry point, relative to `repoRoot` or absolute. */
  readonly entry: string;
  readonly repoRoot: string;
  readonly inFlight: number;
  /** Checks per second at most; 0 = as fast as `inFlight` allows. */
  readonly rate: number;
  readonly deadlineMs: number;
  readonly seed: number;
}

export interface SoakReport {
  seconds: number;
  inFlight: number;
  /** The rate cap asked for (0 = none). */
  rate: number;
  checks: number;
  wrong: number;
  errors: number;
  /** Checks answered while more than one generation could be in force... */
  inTransition: number;
  /** ...and those among them whose answer the reload could change. */
  ambiguous: number;
  checksPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Checks slower than Envoy's ext_authz timeout in envoy/egress-proxy.yaml (1 s). */
  overEnvoyTimeout: number;
  rssStartKb: number | null;
  /** RSS a quarter into the run (at least 3 s), once the service is warm. */
  rssWarmKb: number | null;
  rssEndKb: number | null;
  rssMaxKb: number | null;
  generationsWritten: number;
  /** Generations written during the run, and those the service reported reloading (the rest
   * were overtaken by the next before a reload read them). */
  generationsReloaded: number;
  /** From starting to write a generation to its load showing in the log, in ms. */
  reloadLagP50Ms: number;
  reloadLagMaxMs: number;
  reloads: number;
  reloadsByTrigger: Record<string, number>;
  rejectedReloads: number;
  corruptRejections: number;
  corruptRestores: number;
  sighups: number;
  /** Versions the service loaded that the soak never wrote (must be none). */
  foreignLoads: string[];
  serviceDied: boolean;
  serviceExit: { code: number | null; signal: string | null } | null;
  interrupted: boolean;
  byScenario: Record<string, { checks: number; wrong: number; errors: number }>;
  problems: string[];
  samples: string[];
}

/** Whether the run failed: wrong answers, errors, a dead service or a load it should have refused. */
export function soakFailed(report: SoakReport): boolean {
  return (
    report.wrong > 0 ||
    report.errors > 0 ||
    report.serviceDied ||
    report.checks === 0 ||
    report.foreignLoads.length > 0
  );
}

const ENVOY_TIMEOUT_MS = 1000;

export async function runSoak(options: SoakOptions, signal: AbortSignal): Promise<SoakReport> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-gate-soak-'));
  // What the finally block (and, as a last resort, a process 'exit') must clean up.
  const held: { pid?: number; service?: ServiceProcess; client?: AuthzClient } = {};
  const onExit = (): void => {
    if (held.service?.isRunning() !== false) killNow(held.pid);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  try {
    const allowlistPath = path.join(dir, 'allowlist.yaml');
    const knownHostsPath = path.join(dir, 'known-mcp-hosts.yaml');
    const today = new Date();
    const tracker = new GenerationTracker();
    tracker.writing(0);
    await writeFile(allowlistPath, renderAllowlist(0, today));
    await writeFile(knownHostsPath, KNOWN_HOSTS_YAML);

    const tracked: ServiceProcess = await startServiceProcess({
      entry: path.resolve(options.repoRoot, options.entry),
      cwd: options.repoRoot,
      args: Object.entries({
        allowlist: allowlistPath,
        'known-hosts': knownHostsPath,
        'grpc-listen': '127.0.0.1:0',
        'http-listen': '127.0.0.1:0',
        'log-level': 'info',
        // The periodic re-read backs up the watcher; short here so it takes part.
        'reload-poll-ms': '3000',
        'shutdown-grace-ms': '3000',
      }).flatMap(([flag, value]) => [`--${flag}`, value]),
      startTimeoutMs: 30_000,
      onSpawn: (pid) => {
        held.pid = pid;
      },
      onLine: (line) => {
        tracker.observe(line);
      },
    });
    held.service = tracked;
    if (tracker.knownInForce < 0)
      throw new Error('the service listens but logged no allowlist load');

    // Set from callbacks, so held in an object (flow analysis would pin plain lets to false).
    const life = { stopping: false, died: false };
    const rssStartKb = tracked.rssKb() ?? null;
    let rssMaxKb = rssStartKb;
    // RSS once warmed up (JIT, heap sized to the load): growth after it is what would leak.
    const warmAt = Date.now() + Math.max(3000, options.seconds * 250);
    let rssWarmKb: number | null = null;
    const sampler = setInterval(() => {
      const rss = tracked.rssKb();
      if (rss === undefined) return;
      rssMaxKb = Math.max(rssMaxKb ?? 0, rss);
      if (rssWarmKb === null && Date.now() >= warmAt) rssWarmKb = rss;
    }, 1000);
    void tracked.exited.then(() => {
      if (!life.stopping) life.died = true;
    });

    const authz = createAuthzClient(tracked.grpcAddress);
    held.client = authz;
    const startedAt = Date.now();
    const endAt = startedAt + options.seconds * 1000;
    const shouldStop = (): boolean => signal.aborted || life.died || Date.now() >= endAt;
    const [load, churn] = await Promise.all([
      runLoad({
        client: authz,
        inFlight: options.inFlight,
        rate: options.rate,
        deadlineMs: options.deadlineMs,
        pick: createPicker(options.seed),
        tracker,
        shouldStop,
      }),
      churnAllowlist({
        allowlistPath,
        tracker,
        service: tracked,
        today,
        startedAt,
        endAt,
        corruptAt: startedAt + Math.max(2000, Math.floor(options.seconds * 400)),
        signal,
      }),
    ]);
    const elapsedS = (Date.now() - startedAt) / 1000;
    clearInterval(sampler);
    const rssEndKb = tracked.rssKb() ?? null;
    authz.close();
    delete held.client;
    life.stopping = true;
    const exit: ServiceExit = await tracked.stop(10_000);

    const sorted = Float64Array.from(load.latenciesMs).sort();
    const latencies = Array.from(sorted);
    const lags = Array.from(Float64Array.from(tracker.reloadLagsMs).sort());
    const round = (ms: number): number => Math.round(ms * 100) / 100;
    return {
      seconds: options.seconds,
      inFlight: options.inFlight,
      rate: options.rate,
      checks: load.checks,
      wrong: load.wrong,
      errors: load.errors,
      inTransition: load.inTransition,
      ambiguous: load.ambiguous,
      checksPerSecond: Math.round(load.checks / Math.max(elapsedS, 0.001)),
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(latencies.at(-1) ?? 0),
      overEnvoyTimeout: latencies.filter((ms) => ms > ENVOY_TIMEOUT_MS).length,
      rssStartKb,
      rssWarmKb,
      rssEndKb,
      rssMaxKb: rssMaxKb === null || rssEndKb === null ? rssMaxKb : Math.max(rssMaxKb, rssEndKb),
      generationsWritten: churn.generationsWritten,
      generationsReloaded: tracker.reloadLagsMs.length,
      reloadLagP50Ms: Math.round(percentile(lags, 50)),
      reloadLagMaxMs: Math.round(lags.at(-1) ?? 0),
      reloads: tracker.reloads,
      reloadsByTrigger: Object.fromEntries(tracker.reloadsByTrigger),
      rejectedReloads: tracker.rejectedReloads,
      corruptRejections: churn.corruptRejections,
      corruptRestores: churn.corruptRestores,
      sighups: churn.sighups,
      foreignLoads: tracker.foreignLoads,
      serviceDied: life.died,
      serviceExit: { code: exit.code, signal: exit.signal },
      interrupted: signal.aborted,
      byScenario: Object.fromEntries(load.byScenario),
      problems: churn.problems,
      samples: [
        ...load.samples,
        ...(life.died ? [`service stderr:\n${tracked.stderrTail()}`] : []),
      ],
    };
  } finally {
    held.client?.close();
    if (held.service?.isRunning() === true) await held.service.stop(5000);
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', onExit);
  }
}
