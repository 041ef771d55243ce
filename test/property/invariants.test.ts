/**
 * The invariants of properties.ts on the pure pipeline, with a fixed seed so CI is reproducible.
 * FUZZ_SEED, FUZZ_RUNS (runs per unit of property weight) and FUZZ_MS (time cap per property)
 * override the defaults; `npm run fuzz -- --minutes N` runs the same properties for longer.
 */
import { describe, expect, test } from 'vitest';
import { PROPERTIES, fuzzSettingsFromEnv } from './properties.js';
import { reportFailure, runProperty } from './run.js';

const settings = fuzzSettingsFromEnv();

/** Below this share of asserted runs a property mostly tests its own premise: a generator bug. */
const MIN_ASSERTED_SHARE = 0.05;

describe('property – invariants on the pure pipeline', () => {
  test.each(PROPERTIES.map((property) => ({ name: property.name, property })))(
    '$name',
    ({ property }) => {
      const run = runProperty(property, {
        seed: settings.seed,
        numRuns: settings.runsPerWeight * property.weight,
        timeLimitMs: settings.timeLimitMs,
      });
      if (run.counterexample !== undefined) expect.fail(reportFailure(run));
      expect(run.numRuns).toBeGreaterThan(0);
      expect(run.tally.asserted).toBeGreaterThanOrEqual(
        Math.ceil(run.numRuns * MIN_ASSERTED_SHARE),
      );
    },
  );
});
