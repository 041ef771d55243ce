/**
 * Admission control for Check calls.
 *
 * The gRPC server hands us each call as soon as its message is read. When the process falls behind
 * (a burst larger than it can answer in one turn of the event loop, a GC pause, a slow host),
 * calls pile up; answering them in arrival order without a bound means every one of them waits
 * longer than Envoy's timeout, and Envoy turns them all into errors anyway. So a call is first
 * admitted into a bounded queue that is worked off on the next turn (`setImmediate`):
 * - the queue is full → the caller answers at once with a cheap `overloaded` deny;
 * - the call's deadline has passed (Envoy has stopped waiting) or it was cancelled by the time
 *   its turn comes → it is not worked on.
 * The queue only orders and bounds work; it never decides anything itself.
 */
import type { ShedCause } from '../telemetry/metrics.js';

export interface QueuedCheck {
  /** Absolute deadline in epoch ms; Infinity when the caller set none. */
  readonly deadlineMs: number;
  /** True once the caller went away (RST_STREAM, connection closed). */
  isCancelled(): boolean;
}

export interface CheckQueueHandlers<T extends QueuedCheck> {
  /** Does the real work for one admitted, still-wanted check. */
  readonly work: (item: T) => void;
  /** Called for every check dropped without work (including `queue_full` at admission). */
  readonly shed: (item: T, cause: ShedCause) => void;
  /** Wall clock in epoch ms (injected for tests). */
  readonly now: () => number;
  /** A throw from `work` or `shed`; the rest of the batch is still worked off. */
  readonly onError: (err: unknown) => void;
}

export class CheckQueue<T extends QueuedCheck> {
  private items: T[] = [];
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly limit: number;
  private readonly handlers: CheckQueueHandlers<T>;

  /** `limit`: the most checks that may wait at once (at least 1). */
  constructor(limit: number, handlers: CheckQueueHandlers<T>) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`queue limit must be a positive integer, got ${limit}`);
    }
    this.limit = limit;
    this.handlers = handlers;
  }

  /** Checks admitted and not yet worked off. */
  get size(): number {
    return this.items.length;
  }

  /** Admits `item`, or sheds it with `queue_full` when the queue is at its limit. */
  submit(item: T): void {
    if (this.items.length >= this.limit) {
      this.handlers.shed(item, 'queue_full');
      return;
    }
    this.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Resolves once every admitted check has been worked off or shed. */
  whenIdle(): Promise<void> {
    if (this.items.length === 0) return Promise.resolve();
    return new Promise((resolveIdle) => this.idleWaiters.push(resolveIdle));
  }

  /**
   * Works off everything admitted so far. Checks that arrive while draining wait for the next
   * turn, so timers, health checks and signals get the event loop in between.
   */
  private readonly drain = (): void => {
    this.scheduled = false;
    const batch = this.items;
    this.items = [];
    const { work, shed, now, onError } = this.handlers;
    // One clock read per batch: a batch is at most `limit` checks of microseconds each.
    const startedMs = now();
    for (const item of batch) {
      try {
        if (item.isCancelled()) shed(item, 'cancelled');
        else if (item.deadlineMs <= startedMs) shed(item, 'deadline_exceeded');
        else work(item);
      } catch (err: unknown) {
        onError(err);
      }
    }
    if (this.items.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolveIdle of waiters) resolveIdle();
    }
  };
}
