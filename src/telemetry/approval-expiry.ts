/**
 * `mcp_gate_approval_expiry_timestamp_seconds`: one series per entry of the allowlist in force,
 * the instant from which the entry is expired.
 *
 * A reload only records which policy that is; the first scrape after it refills the series, a
 * slice of entries per turn of the event loop. One series per entry is tens of milliseconds of
 * work for a 10,000-entry allowlist, too long for one turn while Checks wait
 * (docs/performance.md, "Allowlist reload"). A scrape that comes during a refill waits for it,
 * so no scrape reports a half-refilled set.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { CompiledPolicy } from '../core/policy/policy.js';
import { forEachInSlices } from '../sliced-loop.js';

/** Series set per turn of the event loop during a refill. */
export const EXPIRY_SLICE = 500;

export interface ApprovalExpiry {
  /** Makes the series follow `policy` from the next scrape on. */
  show(policy: Pick<CompiledPolicy, 'entries'>): void;
}

/** Registers the gauge on `registry`; it has no series until the first `show`. */
export function createApprovalExpiry(registry: Registry): ApprovalExpiry {
  let wanted: Pick<CompiledPolicy, 'entries'> = { entries: [] };
  // Which `show` call the series are for: the latest, and the one they show (-1 mid-refill).
  let wantedCall = 0;
  let shownCall = 0;
  let refilling: Promise<void> | undefined;

  const refill = async (gauge: Gauge<'server'>): Promise<void> => {
    const policy = wanted;
    const call = wantedCall;
    shownCall = -1;
    // Reset first, so an entry removed from the allowlist loses its series.
    gauge.reset();
    await forEachInSlices(policy.entries, EXPIRY_SLICE, (entry) => {
      gauge.set({ server: entry.id }, entry.expiresAtMs / 1000);
    });
    shownCall = call;
  };

  new Gauge({
    name: 'mcp_gate_approval_expiry_timestamp_seconds',
    help: 'Per allowlist entry (server), the Unix time from which it is expired: the start of the UTC day after its expires_on. Requests to it are denied (reason expired) once time() reaches this value.',
    labelNames: ['server'] as const,
    registers: [registry],
    // Under --workers: the earliest expiry any worker holds for the entry.
    aggregator: 'min',
    async collect() {
      while (shownCall !== wantedCall) {
        refilling ??= refill(this).finally(() => {
          refilling = undefined;
        });
        await refilling;
      }
    },
  });

  return {
    show(policy) {
      wanted = policy;
      wantedCall++;
    },
  };
}
