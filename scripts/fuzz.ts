/**
 * Long fuzzing run of the property tests: `npm run fuzz -- --minutes N [--seed S]`.
 *
 * Runs every property of test/property/properties.ts (the same definitions CI runs with a fixed
 * seed) in rounds until N minutes have passed, each round on a new seed derived from S, with
 * each property's share of the time following its weight. Prints the runs per property (and how
 * many of them met the property's premise), and every distinct counterexample as a
 * ready-to-paste vitest case. The differential property (test/differential/: generated requests
 * judged against real MCP SDK servers and the Go and Python readers) takes its share of every
 * round too, and prints its counterexamples as ready-to-paste catalogue rows. Exits 1 when a
 * counterexample was found.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { authority, authorityFinding } from '../test/differential/authority.js';
import { runDifferential, startReaders } from '../test/differential/run.js';
import type { DifferentialTotals } from '../test/differential/run.js';
import { DEFAULT_SEED, PROPERTIES } from '../test/property/properties.js';
import { reportFailure, runProperty } from '../test/property/run.js';

/** The differential property's share of a round, against the pure properties' summed weight. */
const DIFFERENTIAL_WEIGHT = 4;

/**
 * One round gives every property a slice of this in proportion to its weight: long enough for a
 * slice to get past fast-check's small early inputs, short enough to rotate seeds often.
 */
const ROUND_MS = 60_000;
/** Distinct counterexamples kept per property; more of the same bug adds nothing. */
const MAX_FINDINGS_PER_PROPERTY = 5;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    seed: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) {
  console.error('--minutes must be a positive number');
  process.exit(2);
}
const baseSeed =
  values.seed !== undefined ? Number(values.seed) : (Date.now() % 2 ** 31) ^ DEFAULT_SEED;
if (!Number.isSafeInteger(baseSeed)) {
  console.error('--seed must be an integer');
  process.exit(2);
}

interface Totals {
  runs: number;
  asserted: number;
  rounds: number;
  findings: Map<string, string>;
}

const totals = new Map<string, Totals>(
  PROPERTIES.map((p) => [p.name, { runs: 0, asserted: 0, rounds: 0, findings: new Map() }]),
);
const totalWeight = PROPERTIES.reduce((sum, p) => sum + p.weight, 0) + DIFFERENTIAL_WEIGHT;
const readers = await startReaders();
for (const why of readers.missing) console.warn(`!!! differential reader unavailable: ${why}`);
const differential: DifferentialTotals & { authorities: number; findings: Map<string, string> } = {
  authorities: 0,
  requests: 0,
  consulted: 0,
  toolRuns: 0,
  denied: 0,
  findings: new Map(),
};
const deadline = Date.now() + minutes * 60_000;

/**
 * Groups counterexamples by what failed (the kind of violation and mcp-gate's signals), not by
 * the particular entry, host or tool that showed it.
 */
function signature(property: string, message: string): string {
  const kind = (message.split(':', 1)[0] ?? '')
    .replace(/\[[^\]]*\]|entry [\w-]+|"[^"]*"|\d+/g, '_')
    .slice(0, 120);
  const signals = /"signals":\[[^\]]*\]/.exec(message)?.[0] ?? '';
  return `${property}|${kind}|${signals}`;
}

console.log(`fuzzing ${PROPERTIES.length} properties for ${minutes} min, base seed ${baseSeed}`);
for (let round = 0; Date.now() < deadline; round++) {
  const roundMs = Math.min(ROUND_MS, deadline - Date.now());
  for (const property of PROPERTIES) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const total = totals.get(property.name);
    if (total === undefined) continue;
    const seed = (baseSeed + round * 7919) % 2 ** 31;
    const run = runProperty(property, {
      seed,
      numRuns: Number.MAX_SAFE_INTEGER,
      timeLimitMs: Math.max(1, Math.min(remaining, (roundMs * property.weight) / totalWeight)),
    });
    total.runs += run.numRuns;
    total.asserted += run.tally.asserted;
    total.rounds++;
    if (run.counterexample !== undefined) {
      const key = signature(property.name, run.counterexample.message);
      if (!total.findings.has(key) && total.findings.size < MAX_FINDINGS_PER_PROPERTY) {
        const report = reportFailure(run);
        total.findings.set(key, report);
        console.log(`\n--- counterexample ---\n${report}\n`);
      }
    }
  }
  const remaining = deadline - Date.now();
  if (remaining <= 0) break;
  const run = await runDifferential(readers, {
    seed: (baseSeed + round * 7919) % 2 ** 31,
    numRuns: Number.MAX_SAFE_INTEGER,
    timeLimitMs: Math.max(1, Math.min(remaining, (roundMs * DIFFERENTIAL_WEIGHT) / totalWeight)),
  });
  differential.requests += run.totals.requests;
  differential.consulted += run.totals.consulted;
  differential.toolRuns += run.totals.toolRuns;
  differential.denied += run.totals.denied;
  // The authority space is small: each round walks it again on a new seed.
  const authorityRun = fc.check(
    fc.property(authority, (text) => authorityFinding(readers.snapshot, text) === undefined),
    { seed: (baseSeed + round * 7919) % 2 ** 31, numRuns: 3000 },
  );
  differential.authorities += authorityRun.numRuns;
  if (authorityRun.failed && authorityRun.counterexample !== null) {
    const [text] = authorityRun.counterexample;
    const report = `CONNECT ${JSON.stringify(text)}: ${authorityFinding(readers.snapshot, text) ?? ''}`;
    if (
      !differential.findings.has(report) &&
      differential.findings.size < MAX_FINDINGS_PER_PROPERTY
    ) {
      differential.findings.set(report, report);
      console.log(`\n--- authority counterexample ---\n${report}\n`);
    }
  }
  if (run.counterexample !== undefined) {
    // One row per kind of finding: the first comment line names the readers and the reason.
    const key = (run.counterexample.split('\n', 1)[0] ?? '').replace(/seed \d+|"[^"]*"/g, '_');
    if (!differential.findings.has(key) && differential.findings.size < MAX_FINDINGS_PER_PROPERTY) {
      differential.findings.set(key, run.counterexample);
      console.log(`\n--- differential counterexample (catalogue row) ---\n${run.counterexample}\n`);
    }
  }
}
await readers.close();

console.log('\nproperty                                  runs   asserted  counterexamples');
let found = 0;
for (const property of PROPERTIES) {
  const total = totals.get(property.name);
  if (total === undefined) continue;
  found += total.findings.size;
  console.log(
    `${property.name.padEnd(38)} ${String(total.runs).padStart(9)} ${String(total.asserted).padStart(10)} ${String(total.findings.size).padStart(16)}`,
  );
}
found += differential.findings.size;
console.log(
  `${'differential (requests)'.padEnd(38)} ${String(differential.requests).padStart(9)} ${String(differential.consulted).padStart(10)} ${String(differential.findings.size).padStart(16)}`,
);
console.log(
  `differential: ${differential.requests} requests, ${differential.consulted} reader consultations, ` +
    `${differential.toolRuns} tool runs, ${differential.denied} denied by mcp-gate; ` +
    `${differential.authorities} CONNECT authorities against 2 readers`,
);
console.log(`\n${found} distinct counterexample(s); base seed ${baseSeed}`);
process.exitCode = found > 0 ? 1 : 0;
