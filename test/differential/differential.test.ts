/**
 * The differential suite in CI: generated requests (charsets, codings, key spellings and
 * duplicates, batches and nesting, raw paths) go to mcp-gate and to real readers, and mcp-gate
 * must deny whatever a reader would run outside the allowlist (judge.ts). Fixed seed, bounded
 * count; `npm run fuzz -- --minutes N` runs the same property for longer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED } from '../property/properties.js';
import { runDifferential, startReaders } from './run.js';
import type { StartedReaders } from './run.js';

const NUM_RUNS = Number(process.env['DIFFERENTIAL_RUNS'] ?? '400');

let readers: StartedReaders;

beforeAll(async () => {
  readers = await startReaders();
  for (const why of readers.missing) {
    console.warn(`!!! DIFFERENTIAL READER UNAVAILABLE: ${why}`);
  }
}, 120_000);

afterAll(async () => {
  await readers.close();
});

describe('differential – mcp-gate against real readers', () => {
  it('every reader started (CI installs Go and Python through npm test)', () => {
    if (process.env['CI'] === 'true') expect(readers.missing).toEqual([]);
    expect(readers.bodyReaders.length + readers.missing.length).toBe(2);
  });

  it('denies every request on which a reader runs a tool the allowlist does not allow', async () => {
    const run = await runDifferential(readers, { seed: DEFAULT_SEED, numRuns: NUM_RUNS });
    console.log(
      `differential: ${run.totals.requests} requests, ${run.totals.consulted} reader consultations, ` +
        `${run.totals.toolRuns} tool runs, ${run.totals.denied} denied by mcp-gate`,
    );
    expect(run.counterexample, run.counterexample).toBeUndefined();
    expect(run.totals.requests).toBe(NUM_RUNS);
    // The property has teeth only if readers really run tools and mcp-gate really denies some.
    expect(run.totals.toolRuns).toBeGreaterThan(NUM_RUNS / 2);
    expect(run.totals.denied).toBeGreaterThan(0);
    expect(run.totals.denied).toBeLessThan(run.totals.requests);
  }, 300_000);
});
