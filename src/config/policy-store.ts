/**
 * The policy in force, and how it changes.
 *
 * One immutable PolicySnapshot is referenced at a time; a Check reads the reference once, so it
 * sees the old or the new allowlist, never a mix. A reload reads both files in the policy
 * worker thread (policy-loader.ts), which skips contents already judged (by hash), parses,
 * validates and compiles; this thread then assembles the snapshot in short slices and swaps the
 * reference only when it is complete. So a reload never blocks a Check for more than a few
 * milliseconds, whatever the size of the allowlist.
 *
 * Faults, and what each does:
 * - A file that fails to read or validate may be half-written (truncate-and-write, an editor's
 *   rename dance, a deleted file about to be recreated): it is read again after `settleMs`, up
 *   to `settleAttempts` reads in all, before the reload is declared failed.
 * - A failed reload is logged once, with every error as `FILE:LINE:COL message`, and counted;
 *   the last good snapshot keeps serving. The same broken content is not reported again until
 *   it changes.
 * - A crash or hang of the worker is a failed reload like any other.
 *
 * Triggers (fs/reload-triggers.ts): a watcher on the files' *directories* (a ConfigMap swaps a
 * `..data` symlink, which a watch on the file itself never sees), SIGHUP (wired in cli/serve.ts),
 * and a periodic re-read, because watchers miss events on some volumes. A directory that is
 * replaced is watched again at the next reload. Triggers that arrive while a reload runs are
 * coalesced into one more reload.
 */
import type { PolicySnapshot } from '../core/pipeline.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { policyContentHash } from './content-hash.js';
import { buildSnapshot } from './policy-data.js';
import type { PolicyData, PolicyLoadRequest } from './policy-data.js';
import { createInProcessPolicyLoader, createWorkerPolicyLoader } from './policy-loader.js';
import type { LoaderResult, PolicyLoader } from './policy-loader.js';
import { coalesceReloads, ReloadTriggers } from '../fs/reload-triggers.js';
const DEFAULT_SETTLE_MS = 200;
const DEFAULT_SETTLE_ATTEMPTS = 3;
const DEFAULT_LOAD_TIMEOUT_MS = 120_000;

/** The log message of every failed reload. */
export const RELOAD_REJECTED = 'allowlist reload rejected; the last good allowlist stays in force';

export interface PolicyStoreOptions {
  readonly allowlistPath: string;
  readonly knownHostsPath: string | undefined;
  /** The reviewers' trust file (`--reviewers`); undefined: signatures are not checked. */
  readonly reviewersPath?: string | undefined;
  readonly limits: PolicySnapshot['limits'];
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
  /** Watch the files' directories (default true). Off, only the poll and SIGHUP reload. */
  readonly watch?: boolean;
  /** Pause before reading a failing file again (default 200 ms). */
  readonly settleMs?: number;
  /** Reads of a failing file before a reload fails (default 3). */
  readonly settleAttempts?: number;
  /** Where reloads are parsed; default a worker thread with a 2-minute limit per load. */
  readonly loader?: PolicyLoader;
}

type Listener = (snapshot: PolicySnapshot) => void;

/** Holds the current snapshot and reloads it on demand. */
export class PolicyStore {
  private snapshot: PolicySnapshot | undefined;
  private loadedHash: string | undefined;
  /** The hash, or for unreadable files the errors, of the content last rejected. */
  private rejected: string | undefined;
  private readonly options: PolicyStoreOptions;
  private readonly listeners = new Set<Listener>();
  private loader: PolicyLoader | undefined;
  private stopped = false;
  private triggers: ReloadTriggers | undefined;

  constructor(options: PolicyStoreOptions) {
    this.options = options;
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
    const result = await createInProcessPolicyLoader().load(this.request());
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
    this.swap(snapshot, result.data, 'startup');
    return snapshot;
  }

  /** Reloads now (coalescing concurrent requests). Resolves when the reload settled. */
  reload(trigger: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.coalesced(trigger);
  }

  private readonly coalesced = coalesceReloads(
    (trigger) => this.reloadOnce(trigger),
    (trigger, err) => {
      this.reject(trigger, { kind: 'fault', message: `reload failed: ${String(err)}` }, 1);
    },
  );

  /** A call, not a field read: the flag changes while a reload awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  /** Starts the directory watchers (unless `watch: false`) and the periodic re-read. */
  startWatching(pollMs: number): void {
    if (this.stopped) return;
    this.triggers = new ReloadTriggers({
      files: [
        this.options.allowlistPath,
        this.options.knownHostsPath,
        this.options.reviewersPath,
      ].filter((path): path is string => path !== undefined),
      what: 'allowlist',
      watch: this.options.watch !== false,
      pollMs,
      logger: this.options.logger,
      onTrigger: (trigger) => void this.reload(trigger),
    });
    this.triggers.start();
  }

  /** Stops watchers, timers and the worker; a reload in progress ends without effect. */
  stopWatching(): void {
    void this.stop();
  }

  /** stopWatching, resolving once the worker thread has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.triggers?.stop();
    await this.loader?.close();
  }

  private request(): PolicyLoadRequest {
    return {
      allowlistPath: this.options.allowlistPath,
      knownHostsPath: this.options.knownHostsPath,
      reviewersPath: this.options.reviewersPath,
      nowMs: this.options.now(),
      skipHashes: [this.loadedHash, this.rejected].filter(
        (hash): hash is string => hash !== undefined,
      ),
    };
  }

  /**
   * `unchanged` when the files hold content already judged, told on this thread by hashing them:
   * polls and touches then never start the loader thread (which ends when idle).
   */
  private async unchanged(): Promise<LoaderResult | undefined> {
    const { allowlistPath, knownHostsPath, reviewersPath, skipHashes } = this.request();
    const hash = await policyContentHash(allowlistPath, knownHostsPath, reviewersPath);
    return hash !== undefined && skipHashes.includes(hash)
      ? { kind: 'unchanged', hash }
      : undefined;
  }

  private workerLoader(): PolicyLoader {
    this.loader ??=
      this.options.loader ?? createWorkerPolicyLoader({ timeoutMs: DEFAULT_LOAD_TIMEOUT_MS });
    return this.loader;
  }

  private async reloadOnce(trigger: string): Promise<void> {
    if (this.stopped) return;
    await this.triggers?.refresh();
    const { result, attempts } = await this.loadSettled(trigger);
    if (this.isStopped()) return;
    try {
      if (result.kind === 'unchanged') {
        // Back to the content in force: broken content seen before is news again.
        if (result.hash === this.loadedHash) this.rejected = undefined;
        this.options.logger.debug({ trigger }, 'allowlist unchanged');
      } else if (result.kind === 'loaded') {
        const snapshot = await buildSnapshot(result.data, this.options.limits);
        if (!this.isStopped()) this.swap(snapshot, result.data, trigger);
      } else {
        this.reject(trigger, result, attempts);
      }
    } catch (err: unknown) {
      this.reject(
        trigger,
        { kind: 'fault', message: `cannot build the policy: ${String(err)}` },
        1,
      );
    }
    await this.triggers?.refresh();
  }

  /** Loads, reading a failing file again after a pause while it may still be being written. */
  private async loadSettled(trigger: string): Promise<{ result: LoaderResult; attempts: number }> {
    const attempts = Math.max(1, this.options.settleAttempts ?? DEFAULT_SETTLE_ATTEMPTS);
    for (let attempt = 1; ; attempt++) {
      const result = (await this.unchanged()) ?? (await this.workerLoader().load(this.request()));
      if (result.kind !== 'invalid') return { result, attempts: attempt };
      const fingerprint = result.hash ?? result.errors.join('\n');
      if (fingerprint === this.rejected) {
        return { result: { kind: 'unchanged', hash: fingerprint }, attempts: attempt };
      }
      if (attempt >= attempts || this.stopped) return { result, attempts: attempt };
      this.options.logger.debug(
        { trigger, attempt, errors: result.errors },
        'allowlist not valid yet; reading it again after a pause',
      );
      await pause(this.options.settleMs ?? DEFAULT_SETTLE_MS);
      if (this.isStopped()) return { result, attempts: attempt };
    }
  }

  private reject(
    trigger: string,
    result: Exclude<LoaderResult, { kind: 'loaded' | 'unchanged' }>,
    attempts: number,
  ): void {
    if (result.kind === 'invalid') this.rejected = result.hash ?? result.errors.join('\n');
    this.options.metrics.recordReload('failure', undefined, this.options.now());
    this.options.logger.error(
      {
        trigger,
        attempts,
        errors: result.kind === 'invalid' ? result.errors : [result.message],
      },
      RELOAD_REJECTED,
    );
  }

  private swap(snapshot: PolicySnapshot, data: PolicyData, trigger: string): void {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    this.loadedHash = data.hash;
    this.rejected = undefined;
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

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
