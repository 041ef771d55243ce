/**
 * The policy in force: one immutable PolicySnapshot, replaced whole.
 *
 * A Check reads the reference once, so it sees the old or the new allowlist, never a mix. The
 * reference changes only when a complete new snapshot is taken up (policy-watch.ts reads the
 * files on every reload trigger); a failed reload is logged once, with every error as
 * `FILE:LINE:COL message`, and counted, and the last good snapshot keeps serving. The first load
 * is the exception: it runs on this thread, and an invalid allowlist at start-up is fatal.
 */
import type { PolicySnapshot } from '../core/pipeline.js';
import { ConfigError } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';
import { buildSnapshot } from './policy-data.js';
import type { PolicyData } from './policy-data.js';
import { createInProcessPolicyLoader } from './policy-loader.js';
import { PolicyWatch } from './policy-watch.js';
import type { PolicyWatchOptions } from './policy-watch.js';

/** The log message of every failed reload. */
export const RELOAD_REJECTED = 'allowlist reload rejected; the last good allowlist stays in force';

/** What the watch needs (policy-watch.ts), and where reloads are counted. */
export interface PolicyStoreOptions extends Omit<PolicyWatchOptions, 'take' | 'reject'> {
  readonly metrics: Metrics;
}

type Listener = (snapshot: PolicySnapshot) => void;

/** Holds the current snapshot and reloads it on demand. */
export class PolicyStore {
  private snapshot: PolicySnapshot | undefined;
  private readonly options: PolicyStoreOptions;
  private readonly listeners = new Set<Listener>();
  private readonly watch: PolicyWatch;

  constructor(options: PolicyStoreOptions) {
    this.options = options;
    this.watch = new PolicyWatch({
      ...options,
      take: ({ snapshot, data }, trigger) => {
        this.swap(snapshot, data, trigger);
      },
      reject: (trigger, errors, attempts) => {
        this.reject(trigger, errors, attempts);
      },
    });
  }

  /** The snapshot in force; undefined until the first successful load. */
  get current(): PolicySnapshot | undefined {
    return this.snapshot;
  }

  /** Calls `listener` after every successful swap. Returns an unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The first load, on this thread (no Check waits yet): throws a ConfigError listing every
   * problem, because starting without a valid allowlist would leave Envoy with nothing to ask.
   */
  async loadInitial(): Promise<PolicySnapshot> {
    const { allowlistPath, knownHostsPath, reviewersPath } = this.options;
    const result = await createInProcessPolicyLoader().load({
      allowlistPath,
      knownHostsPath,
      reviewersPath,
      nowMs: this.options.now(),
      skipHashes: [],
    });
    if (result.kind !== 'loaded') {
      this.options.metrics.recordReload('failure', undefined, this.options.now());
      const message =
        result.kind === 'invalid'
          ? result.errors.join('\n')
          : result.kind === 'fault'
            ? result.message
            : 'unreachable: nothing was loaded before';
      throw new ConfigError('ERR_ALLOWLIST_INVALID', message);
    }
    const snapshot = await buildSnapshot(result.data, this.options.limits);
    this.watch.adopt(result.data);
    this.swap(snapshot, result.data, 'startup');
    return snapshot;
  }

  /** Reloads now (coalescing concurrent requests). Resolves when the reload settled. */
  reload(trigger: string): Promise<void> {
    return this.watch.reload(trigger);
  }

  /** Starts the directory watchers (unless `watch: false`) and the periodic re-read. */
  startWatching(pollMs: number): void {
    this.watch.start(pollMs);
  }

  /** Stops watchers, timers and the worker; a reload in progress ends without effect. */
  stopWatching(): void {
    void this.stop();
  }

  /** stopWatching, resolving once the worker thread has ended. */
  stop(): Promise<void> {
    return this.watch.stop();
  }

  private reject(trigger: string, errors: readonly string[], attempts: number): void {
    this.options.metrics.recordReload('failure', undefined, this.options.now());
    this.options.logger.error({ trigger, attempts, errors }, RELOAD_REJECTED);
  }

  private swap(snapshot: PolicySnapshot, data: PolicyData, trigger: string): void {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    const { policy, knownHosts } = snapshot;
    this.options.metrics.recordReload('success', policy, this.options.now());
    if (data.warnings.length > 0) {
      // One line, whatever the count: thousands of lines would stall this thread.
      this.options.logger.warn(
        { count: data.warnings.length, warnings: data.warnings },
        'allowlist warnings',
      );
    }
    this.options.logger.info(
      {
        trigger,
        version: policy.version,
        sha256: policy.sha256,
        entries: policy.entries.length,
        known_hosts: knownHosts.size,
        previous_version: previous?.policy.version,
      },
      previous === undefined ? 'allowlist loaded' : 'allowlist reloaded',
    );
    for (const listener of this.listeners) listener(snapshot);
  }
}
