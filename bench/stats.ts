/** The few statistics the benchmark reports. */

/** Nearest-rank percentile (q in 0..1) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** The median (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return Number.NaN;
  const sorted = Float64Array.from(finite).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds to `digits` decimals, keeping NaN as null for JSON. */
export function round(value: number, digits = 0): number | null {
  if (!Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Keeps results reachable so the JIT cannot drop the work that produced them. */
export let cpuTimeSink: unknown;

/**
 * Runs `fn` `iterations` times; returns the process CPU time (user + system) per call in ns.
 * CPU time rather than wall time: on a shared machine a batch can be descheduled midway, and
 * that is not the cost of the call. GC work done during the batch is included.
 */
export function cpuNsPerCall(fn: () => unknown, iterations: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) cpuTimeSink = fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / iterations;
}

/** Iterations of `fn` for one batch of about `batchMs` of CPU (at least one). */
export function iterationsFor(fn: () => unknown, batchMs: number): number {
  let iterations = 1;
  for (;;) {
    const ns = cpuNsPerCall(fn, iterations);
    if (ns * iterations >= (batchMs * 1e6) / 4 || iterations >= 1 << 24) {
      return Math.max(1, Math.round((batchMs * 1e6) / Math.max(ns, 1)));
    }
    iterations *= 4;
  }
}
