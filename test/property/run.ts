/**
 * Runs one property with fast-check and reports what happened in a form both the CI test and
 * the fuzz script print: runs, how many really asserted, and a counterexample as a vitest case.
 */
import fc from 'fast-check';
import { toVitestCase } from './counterexample.js';
import type { Counterexample } from './counterexample.js';
import { toFcProperty } from './properties.js';
import type { PropertyDefinition, RunTally } from './properties.js';

export interface PropertyRun {
  readonly property: string;
  readonly seed: number;
  readonly numRuns: number;
  readonly tally: RunTally;
  readonly interrupted: boolean;
  readonly counterexample: Counterexample | undefined;
}

export interface RunOptions {
  readonly seed: number;
  readonly numRuns: number;
  readonly timeLimitMs: number;
}

export function runProperty<T>(
  definition: PropertyDefinition<T>,
  options: RunOptions,
): PropertyRun {
  const tally: RunTally = { asserted: 0, vacuous: 0 };
  const details = fc.check(toFcProperty(definition, tally), {
    seed: options.seed,
    numRuns: options.numRuns,
    interruptAfterTimeLimit: options.timeLimitMs,
    markInterruptAsFailure: false,
  });
  let counterexample: Counterexample | undefined;
  if (details.failed && details.counterexample !== null) {
    const error = details.errorInstance;
    counterexample = {
      property: definition.name,
      input: details.counterexample[0],
      seed: details.seed,
      path: details.counterexamplePath,
      message: error instanceof Error ? error.message : String(error),
    };
  }
  return {
    property: definition.name,
    seed: details.seed,
    numRuns: details.numRuns,
    tally,
    interrupted: details.interrupted,
    counterexample,
  };
}

/** The failure text: the violation, how to replay it, and the test to paste. */
export function reportFailure(run: PropertyRun): string {
  const found = run.counterexample;
  if (found === undefined) return `${run.property}: failed without a counterexample`;
  return [
    `${run.property} failed: ${found.message}`,
    `replay: FUZZ_SEED=${found.seed} (path ${JSON.stringify(found.path)})`,
    'paste into test/property/regressions.test.ts:',
    toVitestCase(found),
  ].join('\n');
}
