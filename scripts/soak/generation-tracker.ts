/**
 * What the soak knows about allowlist generations at any moment: the newest one it has started
 * to write (nothing newer can be in force) and the newest one the service has said it loaded
 * (at least that one is in force, since generations only grow and the service logs a load after
 * swapping it in). Fed by the service's log lines; both counters only move forward.
 */
import { generationOf } from './allowlist-versions.js';
import type { ServiceLogLine } from './service-process.js';

export type ReloadEvent =
  | { readonly kind: 'loaded'; readonly generation: number; readonly trigger: string }
  | { readonly kind: 'rejected' };

export class GenerationTracker {
  /** Newest generation whose write has begun. */
  newestWritten = -1;
  /** Newest generation the service reported in force. */
  knownInForce = -1;
  /** Successful reloads (after the first load), by trigger (watch, SIGHUP, poll). */
  readonly reloadsByTrigger = new Map<string, number>();
  rejectedReloads = 0;
  /** Loads of anything the soak never wrote as a generation (a corrupt file, a torn read). */
  readonly foreignLoads: string[] = [];
  /**
   * Milliseconds from starting to write a generation to reading that the service loaded it, one
   * per generation loaded (a generation overtaken by the next before a reload read it has none).
   */
  readonly reloadLagsMs: number[] = [];
  private readonly writeStartedAt = new Map<number, number>();
  private readonly waiters = new Set<(event: ReloadEvent) => void>();

  get reloads(): number {
    let total = 0;
    for (const count of this.reloadsByTrigger.values()) total += count;
    return total;
  }

  /** Marks generation `g` as being written, before the first byte reaches the file. */
  writing(generation: number): void {
    this.newestWritten = Math.max(this.newestWritten, generation);
    this.writeStartedAt.set(generation, Date.now());
  }

  /** Feeds one service log line. */
  observe(line: ServiceLogLine): void {
    const msg = typeof line.msg === 'string' ? line.msg : '';
    if (msg === 'allowlist loaded' || msg === 'allowlist reloaded') {
      const version = typeof line['version'] === 'string' ? line['version'] : '';
      const generation = generationOf(version);
      if (generation === undefined) {
        this.foreignLoads.push(version);
        return;
      }
      const trigger = typeof line['trigger'] === 'string' ? line['trigger'] : 'unknown';
      if (msg === 'allowlist reloaded') {
        this.reloadsByTrigger.set(trigger, (this.reloadsByTrigger.get(trigger) ?? 0) + 1);
      }
      const startedAt = this.writeStartedAt.get(generation);
      if (
        msg === 'allowlist reloaded' &&
        startedAt !== undefined &&
        generation > this.knownInForce
      ) {
        this.reloadLagsMs.push(Date.now() - startedAt);
      }
      this.knownInForce = Math.max(this.knownInForce, generation);
      this.emit({ kind: 'loaded', generation, trigger });
    } else if (msg.startsWith('allowlist reload rejected')) {
      this.rejectedReloads += 1;
      this.emit({ kind: 'rejected' });
    }
  }

  /** Resolves true at the first event that satisfies `predicate`, false after `timeoutMs`. */
  waitFor(predicate: (event: ReloadEvent) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = (event: ReloadEvent): void => {
        if (!predicate(event)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private emit(event: ReloadEvent): void {
    for (const waiter of [...this.waiters]) waiter(event);
  }
}
