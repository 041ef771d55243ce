/**
 * The scoping micro-benchmark runs only under `npm run bench`, which CI does not run: this keeps
 * its allowlists loadable (they broke once when review stamps became required) and its entries
 * approving the request it times.
 */
import { describe, expect, it } from 'vitest';
import { scopingCost } from '../../../bench/micro-scoping.js';

describe('bench/micro-scoping', () => {
  it('loads both allowlists and decides approved on each, with figures', () => {
    const problems: string[] = [];
    const report = scopingCost(1, 20, problems);
    expect(problems).toEqual([]);
    expect(report.plain_ns).toBeGreaterThan(0);
    expect(report.scoped_ns).toBeGreaterThan(0);
  });
});
