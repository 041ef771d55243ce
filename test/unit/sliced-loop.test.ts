/**
 * forEachInSlices: every item once, in order, and never more than one slice per turn of the
 * event loop (counted, not timed: test/helpers/turn-tally.ts).
 */
import { describe, expect, test } from 'vitest';
import { forEachInSlices } from '../../src/sliced-loop.js';
import { turnTally } from '../helpers/turn-tally.js';

describe('forEachInSlices', () => {
  test('visits every item in order, at most `size` of them per turn of the event loop', async () => {
    const tally = turnTally();
    const items = Array.from({ length: 1001 }, (_, i) => tally.watch({ i }, 'i'));
    const seen: number[] = [];
    const { perTurn } = await tally.during(() =>
      forEachInSlices(items, 100, (item) => {
        seen.push(item.i);
      }),
    );
    expect(seen).toEqual(Array.from({ length: 1001 }, (_, i) => i));
    expect(perTurn).toEqual([...Array<number>(10).fill(100), 1]);
  });

  test('no items: no visit', async () => {
    let visits = 0;
    await forEachInSlices([], 10, () => {
      visits++;
    });
    expect(visits).toBe(0);
  });

  test.each([0, -1, 1.5, Number.NaN])('a slice size of %s is refused', async (size) => {
    await expect(forEachInSlices([1], size, () => undefined)).rejects.toThrow(RangeError);
  });
});
