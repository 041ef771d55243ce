/**
 * Reloading a set of files while the last good content stays in force: the plumbing shared by the
 * allowlist (config/policy-watch.ts) and the gRPC TLS files (grpc/tls-reloader.ts). The owner says
 * how to read and judge the files and what an outcome does (swap, log, count); this decides when
 * to read, how often, and which outcome is news.
 *
 * - Triggers (reload-triggers.ts: directory watchers, the periodic re-read) and calls of `reload`
 *   (SIGHUP) that arrive while a reload runs are coalesced into one more reload.
 * - Content is known by a fingerprint: its hash, or what went wrong when it could not be read. The
 *   content in force and the content last rejected are passed to `read`, which answers
 *   `unchanged` for them without judging them again.
 * - Content that fails may be half-written (truncate-and-write, an editor's rename dance, a
 *   certificate copied before its key): it is read again after `settleMs`, up to
 *   `settleAttempts` reads in all, before it is rejected. A rejection is reported once per
 *   content: the same broken content is news again only once other content was read.
 * - A fault (the machinery that reads broke, such as a worker thread) is reported every time and
 *   not read again.
 * - A stop ends a reload in progress without effect.
 */
import { ReloadTriggers } from './reload-triggers.js';
import type { ReloadTriggersOptions } from './reload-triggers.js';

const DEFAULT_SETTLE_MS = 200;
const DEFAULT_SETTLE_ATTEMPTS = 3;

/** One read of the files, judged by the owner; `P` is how the owner describes a problem. */
export type ReloadRead<T, P> =
  /** The content in force or the content last rejected: nothing to do. */
  | { readonly kind: 'unchanged'; readonly hash: string }
  /** New content that passed the owner's checks, ready to take up. */
  | { readonly kind: 'good'; readonly value: T; readonly hash: string }
  /** Content that failed, perhaps because it is half-written: read again after a pause. */
  | { readonly kind: 'bad'; readonly fingerprint: string; readonly problem: P }
  /** The reading itself broke: reported at once. */
  | { readonly kind: 'fault'; readonly problem: P };

/** The content already judged, by fingerprint. */
export interface JudgedContent {
  readonly inForce: string | undefined;
  readonly rejected: string | undefined;
}

export interface LastGoodReloaderOptions<T, P> {
  /** Fingerprint of the content in force at construction, if any. */
  readonly inForce?: string | undefined;
  /** Pause before reading failing content again (default 200 ms). */
  readonly settleMs?: number | undefined;
  /** Reads of failing content before it is rejected (default 3). */
  readonly settleAttempts?: number | undefined;
  /** Reads and judges the files once. Never rejects. */
  readonly read: (judged: JudgedContent) => Promise<ReloadRead<T, P>>;
  /** Takes up good content; it is in force once this returns. */
  readonly take: (value: T, trigger: string) => void;
  /** Told when a reload found nothing new. */
  readonly unchanged?: (trigger: string) => void;
  /** Told before failing content is read again after a pause. */
  readonly retrying: (trigger: string, attempt: number, problem: P) => void;
  /** Told once per rejected content, and for every fault; the content in force stays. */
  readonly reject: (trigger: string, problem: P, attempts: number) => void;
  /** A bug in a reload (a callback threw): reported here, since no caller awaits a reload. */
  readonly fault: (trigger: string, err: unknown) => void;
}

/** What to watch; the reloader itself answers the triggers. */
export type WatchOptions = Omit<ReloadTriggersOptions, 'onTrigger'>;

export class LastGoodReloader<T, P> {
  private readonly options: LastGoodReloaderOptions<T, P>;
  private inForce: string | undefined;
  private rejected: string | undefined;
  private triggers: ReloadTriggers | undefined;
  private stopped = false;
  private readonly coalesced: (trigger: string) => Promise<void>;

  constructor(options: LastGoodReloaderOptions<T, P>) {
    this.options = options;
    this.inForce = options.inForce;
    this.coalesced = coalesceReloads((trigger) => this.reloadOnce(trigger), options.fault);
  }

  /** Records content taken up outside a reload (the first load) as the content in force. */
  adopt(fingerprint: string): void {
    this.inForce = fingerprint;
    this.rejected = undefined;
  }

  /** Reads the files again now (coalescing concurrent requests); never rejects. */
  reload(trigger: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.coalesced(trigger);
  }

  /** Starts the triggers: directory watchers (unless `watch` is off) and the periodic re-read. */
  watch(options: WatchOptions): void {
    if (this.stopped) return;
    this.triggers = new ReloadTriggers({
      ...options,
      onTrigger: (trigger) => void this.reload(trigger),
    });
    this.triggers.start();
  }

  /** Stops the triggers; a reload in progress ends without effect. */
  stop(): void {
    this.stopped = true;
    this.triggers?.stop();
  }

  /** A call, not a field read: the flag changes while a reload awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private async reloadOnce(trigger: string): Promise<void> {
    if (this.stopped) return;
    // Around every reload: a directory replaced since the last one is watched again.
    await this.triggers?.refresh();
    if (await this.settle(trigger)) await this.triggers?.refresh();
  }

  /** Reads until the content is judged; false when stopped meanwhile. */
  private async settle(trigger: string): Promise<boolean> {
    const { options } = this;
    const attempts = Math.max(1, options.settleAttempts ?? DEFAULT_SETTLE_ATTEMPTS);
    for (let attempt = 1; ; attempt++) {
      const read = await options.read({ inForce: this.inForce, rejected: this.rejected });
      if (this.isStopped()) return false;
      switch (read.kind) {
        case 'unchanged':
          // Back to the content in force: broken content seen before is news again.
          if (read.hash === this.inForce) this.rejected = undefined;
          options.unchanged?.(trigger);
          return true;
        case 'good':
          // Taken up first: if `take` throws (a bug, reported to `fault`), nothing is in force.
          options.take(read.value, trigger);
          this.inForce = read.hash;
          this.rejected = undefined;
          return true;
        case 'fault':
          options.reject(trigger, read.problem, attempt);
          return true;
        case 'bad':
          if (read.fingerprint === this.rejected) {
            options.unchanged?.(trigger);
            return true;
          }
          if (attempt >= attempts) {
            this.rejected = read.fingerprint;
            options.reject(trigger, read.problem, attempt);
            return true;
          }
          options.retrying(trigger, attempt, read.problem);
          await pause(options.settleMs ?? DEFAULT_SETTLE_MS);
          if (this.isStopped()) return false;
      }
    }
  }
}

/**
 * Makes `reloadOnce` safe to call from any trigger: a call while a reload runs makes it run once
 * more afterwards (the running pass may have read a file before it changed) and shares its
 * promise. The result never rejects: callers fire and forget (poll, watcher, SIGHUP), so a bug
 * goes to `onFault` instead of becoming an unhandled rejection that ends the process.
 */
function coalesceReloads(
  reloadOnce: (trigger: string) => Promise<void>,
  onFault: (trigger: string, err: unknown) => void,
): (trigger: string) => Promise<void> {
  let running: Promise<void> | undefined;
  let pending = false;
  const takePending = (): boolean => {
    const was = pending;
    pending = false;
    return was;
  };
  return (trigger) => {
    if (running !== undefined) {
      pending = true;
      return running;
    }
    const run = async (): Promise<void> => {
      try {
        await reloadOnce(trigger);
        while (takePending()) await reloadOnce(trigger);
      } catch (err: unknown) {
        onFault(trigger, err);
      }
    };
    running = run().finally(() => {
      running = undefined;
    });
    return running;
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
