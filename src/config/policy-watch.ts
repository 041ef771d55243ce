/**
 * Reload triggers → the policy store: when the allowlist, the known-host list or the reviewers'
 * trust file may have changed, read them, and hand a complete new snapshot, or the reasons there is none, to the store.
 *
 * A reload reads both files in the policy worker thread (policy-loader.ts), which skips contents
 * already judged (by hash), parses, validates and compiles; this thread then assembles the
 * snapshot in short slices (policy-data.ts buildSnapshot). So a reload never blocks a Check for
 * more than a few milliseconds, whatever the size of the allowlist. Contents already judged are
 * told on this thread by hashing the files, so polls and touches never start the worker.
 *
 * When to read, reading a half-written file again, reporting a broken content once and keeping
 * the last good policy are fs/last-good-reloader.ts's. A crash or hang of the worker is a fault:
 * a failed reload like any other, not read again.
 *
 * Triggers: a watcher on the files' *directories* (a ConfigMap swaps a `..data` symlink, which a
 * watch on the file itself never sees), a periodic re-read, because watchers miss events on some
 * volumes (fs/reload-triggers.ts), and SIGHUP (wired in cli/serve.ts, through `reload`).
 */
import type { PolicySnapshot } from '../core/pipeline.js';
import { LastGoodReloader } from '../fs/last-good-reloader.js';
import type { JudgedContent, ReloadRead } from '../fs/last-good-reloader.js';
import type { Logger } from '../telemetry/logger.js';
import { policyContentHash } from './content-hash.js';
import { buildSnapshot } from './policy-data.js';
import type { PolicyData, PolicyLoadRequest } from './policy-data.js';
import { createWorkerPolicyLoader } from './policy-loader.js';
import type { PolicyLoader, StartPolicyWorker } from './policy-loader.js';

const DEFAULT_LOAD_TIMEOUT_MS = 120_000;

/** A new policy: the snapshot to serve, and the data it was built from. */
export interface PolicyReloaded {
  readonly snapshot: PolicySnapshot;
  readonly data: PolicyData;
}

export interface PolicyWatchOptions {
  readonly allowlistPath: string;
  readonly knownHostsPath: string | undefined;
  /** The reviewers' trust file (`--reviewers`); undefined: signatures are not checked. */
  readonly reviewersPath?: string | undefined;
  readonly limits: PolicySnapshot['limits'];
  readonly logger: Logger;
  readonly now: () => number;
  /** Watch the files' directories (default true). Off, only the poll and SIGHUP reload. */
  readonly watch?: boolean | undefined;
  /** Pause before reading a failing file again (default 200 ms). */
  readonly settleMs?: number | undefined;
  /** Reads of a failing file before a reload fails (default 3). */
  readonly settleAttempts?: number | undefined;
  /** Where reloads are parsed; default a worker thread with a 2-minute limit per load. */
  readonly loader?: PolicyLoader | undefined;
  /**
   * How that default worker thread starts (policy-loader.ts): the service leaves it to the
   * compiled worker; code run from the TypeScript sources passes test/helpers/policy-worker.ts's.
   */
  readonly startWorker?: StartPolicyWorker | undefined;
  /** Takes up a new policy (the store's swap). */
  readonly take: (reloaded: PolicyReloaded, trigger: string) => void;
  /** Reports a failed reload: every error as `FILE:LINE:COL message`, or the fault. */
  readonly reject: (trigger: string, errors: readonly string[], attempts: number) => void;
}

/** Reloads the policy on triggers and hands the outcome to the store. */
export class PolicyWatch {
  private readonly options: PolicyWatchOptions;
  private readonly reloader: LastGoodReloader<PolicyReloaded, readonly string[]>;
  private loader: PolicyLoader | undefined;

  constructor(options: PolicyWatchOptions) {
    this.options = options;
    const { logger, reject } = options;
    this.reloader = new LastGoodReloader({
      settleMs: options.settleMs,
      settleAttempts: options.settleAttempts,
      read: (judged) => this.read(judged),
      take: options.take,
      unchanged: (trigger) => {
        logger.debug({ trigger }, 'allowlist unchanged');
      },
      retrying: (trigger, attempt, errors) => {
        logger.debug(
          { trigger, attempt, errors },
          'allowlist not valid yet; reading it again after a pause',
        );
      },
      reject,
      fault: (trigger, err) => {
        reject(trigger, [`reload failed: ${String(err)}`], 1);
      },
    });
  }

  /** Records the policy loaded at start-up as the one in force. */
  adopt(data: PolicyData): void {
    this.reloader.adopt(data.hash);
  }

  /** Reloads now (coalescing concurrent requests). Resolves when the reload settled. */
  reload(trigger: string): Promise<void> {
    return this.reloader.reload(trigger);
  }

  /** Starts the directory watchers (unless `watch: false`) and the periodic re-read. */
  start(pollMs: number): void {
    const { allowlistPath, knownHostsPath, reviewersPath, logger } = this.options;
    this.reloader.watch({
      files: [allowlistPath, knownHostsPath, reviewersPath].filter(
        (path): path is string => path !== undefined,
      ),
      what: 'allowlist',
      watch: this.options.watch !== false,
      pollMs,
      logger,
    });
  }

  /** Stops the triggers and the worker; a reload in progress ends without effect. */
  async stop(): Promise<void> {
    this.reloader.stop();
    await this.loader?.close();
  }

  private async read(
    judged: JudgedContent,
  ): Promise<ReloadRead<PolicyReloaded, readonly string[]>> {
    const { allowlistPath, knownHostsPath, reviewersPath } = this.options;
    const skipHashes = [judged.inForce, judged.rejected].filter(
      (hash): hash is string => hash !== undefined,
    );
    const hash = await policyContentHash(allowlistPath, knownHostsPath, reviewersPath);
    if (hash !== undefined && skipHashes.includes(hash)) return { kind: 'unchanged', hash };
    const request: PolicyLoadRequest = {
      allowlistPath,
      knownHostsPath,
      reviewersPath,
      nowMs: this.options.now(),
      skipHashes,
    };
    const result = await this.workerLoader().load(request);
    switch (result.kind) {
      case 'unchanged':
        return result;
      case 'invalid':
        // Files that were read are known by their hash; unreadable ones by their errors.
        return {
          kind: 'bad',
          fingerprint: result.hash ?? result.errors.join('\n'),
          problem: result.errors,
        };
      case 'fault':
        return { kind: 'fault', problem: [result.message] };
      case 'loaded':
        try {
          const snapshot = await buildSnapshot(result.data, this.options.limits);
          return { kind: 'good', value: { snapshot, data: result.data }, hash: result.data.hash };
        } catch (err: unknown) {
          return { kind: 'fault', problem: [`cannot build the policy: ${String(err)}`] };
        }
    }
  }

  private workerLoader(): PolicyLoader {
    this.loader ??=
      this.options.loader ??
      createWorkerPolicyLoader({
        timeoutMs: DEFAULT_LOAD_TIMEOUT_MS,
        startWorker: this.options.startWorker,
      });
    return this.loader;
  }
}
