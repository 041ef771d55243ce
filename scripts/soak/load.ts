/**
 * The load generator: a fixed number of checks in flight over one gRPC channel, each answer
 * judged as it arrives. It is built on grpc-js rather than h2load because h2load replays fixed
 * bytes and only counts responses; a soak that must verify every answer against the allowlist
 * in force needs to build each request (fresh ids to echo) and read each CheckResponse.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthzClient } from '../../test/helpers/authz-client.js';
import type { GenerationTracker } from './generation-tracker.js';
import type { Scenario } from './scenarios.js';
import { judge } from './verify.js';

export interface LoadOptions {
  readonly client: AuthzClient;
  readonly inFlight: number;
  /** Checks per second at most, over all workers; 0 for as many as `inFlight` allows. */
  readonly rate: number;
  readonly deadlineMs: number;
  readonly pick: () => Scenario;
  readonly tracker: GenerationTracker;
  readonly shouldStop: () => boolean;
}

export interface ScenarioStats {
  checks: number;
  wrong: number;
  errors: number;
}

export interface LoadStats {
  checks: number;
  wrong: number;
  errors: number;
  /** Checks whose window held more than one generation... */
  inTransition: number;
  /** ...and of those, the ones whose generations expected different answers. */
  ambiguous: number;
  readonly latenciesMs: number[];
  readonly byScenario: Map<string, ScenarioStats>;
  /** The first few wrong answers and errors, for the report. */
  readonly samples: string[];
}

const MAX_SAMPLES = 10;

export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  const stats: LoadStats = {
    checks: 0,
    wrong: 0,
    errors: 0,
    inTransition: 0,
    ambiguous: 0,
    latenciesMs: [],
    byScenario: new Map(),
    samples: [],
  };
  let seq = 0;
  const sample = (text: string): void => {
    if (stats.samples.length < MAX_SAMPLES) stats.samples.push(text);
  };

  // Slots at a fixed spacing, shared by all workers; a worker that falls behind does not earn
  // a burst to catch up.
  const spacingMs = options.rate > 0 ? 1000 / options.rate : 0;
  let nextSlot = performance.now();
  const pace = async (): Promise<void> => {
    if (spacingMs === 0) return;
    const now = performance.now();
    nextSlot = Math.max(nextSlot + spacingMs, now);
    if (nextSlot > now) await sleep(nextSlot - now);
  };

  const worker = async (): Promise<void> => {
    while (!options.shouldStop()) {
      await pace();
      if (options.shouldStop()) break;
      seq += 1;
      const scenario = options.pick();
      const { request, probe } = scenario.build(seq);
      let perScenario = stats.byScenario.get(scenario.name);
      if (perScenario === undefined) {
        perScenario = { checks: 0, wrong: 0, errors: 0 };
        stats.byScenario.set(scenario.name, perScenario);
      }
      const lo = options.tracker.knownInForce;
      const started = performance.now();
      stats.checks += 1;
      perScenario.checks += 1;
      try {
        const response = await options.client.check(request, options.deadlineMs);
        stats.latenciesMs.push(performance.now() - started);
        const hi = options.tracker.newestWritten;
        const verdict = judge(scenario, probe, response, { lo, hi });
        if (verdict.inTransition) stats.inTransition += 1;
        if (verdict.ambiguous) stats.ambiguous += 1;
        if (verdict.wrong !== undefined) {
          stats.wrong += 1;
          perScenario.wrong += 1;
          sample(`wrong: ${scenario.name} #${seq}: ${verdict.wrong}`);
        }
      } catch (err: unknown) {
        stats.errors += 1;
        perScenario.errors += 1;
        sample(
          `error: ${scenario.name} #${seq}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  return stats;
}

/** The p-th percentile (0–100) by nearest rank; 0 for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}
