/**
 * CheckQueue: bounded admission, FIFO work on the next turn of the event loop, and no work for
 * checks whose caller is gone or whose deadline has passed.
 */
import { describe, expect, test } from 'vitest';

import { CheckQueue } from '../../../src/envoy/check-queue.js';
import type { QueuedCheck } from '../../../src/envoy/check-queue.js';
import type { ShedCause } from '../../../src/telemetry/metrics.js';

interface Item extends QueuedCheck {
  readonly name: string;
  cancelled: boolean;
}

function item(name: string, deadlineMs = Number.POSITIVE_INFINITY): Item {
  return {
    name,
    deadlineMs,
    cancelled: false,
    isCancelled() {
      return this.cancelled;
    },
  };
}

function harness(limit: number, clock = { ms: 1_000 }) {
  const worked: string[] = [];
  const shed: [string, ShedCause][] = [];
  const errors: unknown[] = [];
  let failOn: string | undefined;
  const queue = new CheckQueue<Item>(limit, {
    now: () => clock.ms,
    work: (i) => {
      if (i.name === failOn) throw new Error(`work failed on ${i.name}`);
      worked.push(i.name);
    },
    shed: (i, cause) => shed.push([i.name, cause]),
    onError: (err) => errors.push(err),
  });
  return {
    queue,
    worked,
    shed,
    errors,
    clock,
    failOn(name: string) {
      failOn = name;
    },
  };
}

describe('CheckQueue', () => {
  test('work happens on a later turn, in arrival order', async () => {
    const h = harness(10);
    for (const name of ['a', 'b', 'c']) h.queue.submit(item(name));
    expect(h.worked).toEqual([]);
    expect(h.queue.size).toBe(3);
    await h.queue.whenIdle();
    expect(h.worked).toEqual(['a', 'b', 'c']);
    expect(h.queue.size).toBe(0);
  });

  test('beyond the limit a check is shed as queue_full at once, without waiting', async () => {
    const h = harness(2);
    for (const name of ['a', 'b', 'c', 'd']) h.queue.submit(item(name));
    expect(h.shed).toEqual([
      ['c', 'queue_full'],
      ['d', 'queue_full'],
    ]);
    await h.queue.whenIdle();
    expect(h.worked).toEqual(['a', 'b']);
  });

  test('room frees up once a batch is worked off', async () => {
    const h = harness(1);
    h.queue.submit(item('a'));
    await h.queue.whenIdle();
    h.queue.submit(item('b'));
    await h.queue.whenIdle();
    expect(h.worked).toEqual(['a', 'b']);
    expect(h.shed).toEqual([]);
  });

  test('a check whose deadline passed while it waited is not worked on', async () => {
    const h = harness(10);
    h.queue.submit(item('late', 1_500));
    h.queue.submit(item('in-time', 5_000));
    h.queue.submit(item('no-deadline'));
    h.clock.ms = 1_500;
    await h.queue.whenIdle();
    expect(h.shed).toEqual([['late', 'deadline_exceeded']]);
    expect(h.worked).toEqual(['in-time', 'no-deadline']);
  });

  test('a check cancelled while it waited is not worked on', async () => {
    const h = harness(10);
    const gone = item('gone');
    h.queue.submit(gone);
    h.queue.submit(item('kept'));
    gone.cancelled = true;
    await h.queue.whenIdle();
    expect(h.shed).toEqual([['gone', 'cancelled']]);
    expect(h.worked).toEqual(['kept']);
  });

  test('a throw while working one check is reported and the rest of the batch still runs', async () => {
    const h = harness(10);
    h.failOn('b');
    for (const name of ['a', 'b', 'c']) h.queue.submit(item(name));
    await h.queue.whenIdle();
    expect(h.worked).toEqual(['a', 'c']);
    expect(h.errors).toHaveLength(1);
    expect(String(h.errors[0])).toContain('work failed on b');
  });

  test('checks that arrive while a batch is worked off wait for the next turn', async () => {
    const order: string[] = [];
    let queue: CheckQueue<Item> | undefined = undefined;
    queue = new CheckQueue<Item>(10, {
      now: () => 0,
      work: (i) => {
        order.push(i.name);
        if (i.name === 'first') queue?.submit(item('second'));
      },
      shed: () => undefined,
      onError: (err) => {
        throw err;
      },
    });
    queue.submit(item('first'));
    // setImmediate callbacks queued after the first batch was scheduled run between the batches.
    setImmediate(() => order.push('between'));
    await new Promise<void>((resolveTurn) => setImmediate(resolveTurn));
    await queue.whenIdle();
    expect(order).toEqual(['first', 'between', 'second']);
  });

  test('whenIdle resolves at once when nothing waits', async () => {
    const h = harness(1);
    await expect(h.queue.whenIdle()).resolves.toBeUndefined();
  });

  test.each([0, -1, 1.5, Number.NaN])('limit %s is refused', (limit) => {
    expect(
      () =>
        new CheckQueue<Item>(limit, {
          now: () => 0,
          work: () => undefined,
          shed: () => undefined,
          onError: () => undefined,
        }),
    ).toThrow(RangeError);
  });
});
