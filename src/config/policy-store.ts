/**
 * The policy in force, and how it changes.
 *
 * One immutable PolicySnapshot is referenced at a time; a Check reads the reference once, so it
 * sees the old or the new allowlist, never a mix. Reloads read both files, skip work when their
 * bytes are unchanged, parse, validate and compile off the request path, and swap the reference
 * only on success. A file that fails validation is logged with every error and the last good
 * snapshot keeps serving.
 *
 * Triggers: a watcher on the files' *directories* (a Kubernetes ConfigMap swaps a `..data`
 * symlink, which a watch on the file itself never sees), SIGHUP (wired in main.ts), and a
 * periodic re-read, because watchers miss events on some volumes. Triggers that arrive while a
 * reload runs are coalesced into one more reload.
 */
import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { PolicySnapshot } from '../core/pipeline.js';
import type { CompiledPolicy, KnownHosts } from '../core/policy/policy.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Issue } from './load-allowlist.js';
import { parseAllowlist, readConfigFile } from './load-allowlist.js';
import { parseKnownHosts } from './load-known-hosts.js';

/** Waits this long after a file event so a burst of writes becomes one reload. */
const DEBOUNCE_MS = 50;

export interface PolicyStoreOptions {
  readonly allowlistPath: string;
  readonly knownHostsPath: string | undefined;
  readonly limits: PolicySnapshot['limits'];
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
}

type Listener = (snapshot: PolicySnapshot) => void;

/** Holds the current snapshot and reloads it on demand. */
export class PolicyStore {
  private snapshot: PolicySnapshot | undefined;
  private loadedHash: string | undefined;
  private readonly options: PolicyStoreOptions;
  private readonly listeners = new Set<Listener>();
  private running: Promise<void> | undefined;
  private pending = false;
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;

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
   * The first load: throws a ConfigError listing every problem, because starting without a valid
   * allowlist would leave Envoy with nothing to ask.
   */
  async loadInitial(): Promise<PolicySnapshot> {
    const outcome = await this.readAndCompile();
    if (!outcome.ok) {
      this.options.metrics.recordReload('failure', undefined, this.options.now());
      throw new ConfigError('ERR_ALLOWLIST_INVALID', outcome.message);
    }
    if (outcome.unchanged) throw new Error('unreachable: first load cannot be unchanged');
    this.swap(outcome.snapshot, outcome.hash, 'startup', outcome.warnings);
    return outcome.snapshot;
  }

  /** Reloads now (coalescing concurrent requests). Resolves when the reload settled. */
  reload(trigger: string): Promise<void> {
    if (this.running !== undefined) {
      this.pending = true;
      return this.running;
    }
    const run = async (): Promise<void> => {
      await this.reloadOnce(trigger);
      // Triggers that arrived meanwhile may have seen a file we already read: one more pass.
      while (this.takePending()) await this.reloadOnce(trigger);
    };
    this.running = run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private takePending(): boolean {
    const pending = this.pending;
    this.pending = false;
    return pending;
  }

  /** Starts the directory watchers and the periodic re-read. */
  startWatching(pollMs: number): void {
    const files = [this.options.allowlistPath, this.options.knownHostsPath].filter(
      (path): path is string => path !== undefined,
    );
    const dirs = new Set(files.map((file) => dirname(resolve(file))));
    const names = new Set(files.map((file) => basename(file)));
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          // `..data` and editor temp files change too; any event in the directory is worth a
          // (cheap, hash-checked) look, but log only events that name our files.
          if (name !== null && names.has(name)) {
            this.options.logger.debug({ file: name }, 'allowlist file event');
          }
          this.scheduleReload('watch');
        });
        watcher.on('error', (err: unknown) => {
          this.options.logger.warn(
            { err, dir },
            'file watcher failed; relying on periodic re-read',
          );
        });
        this.watchers.push(watcher);
      } catch (err: unknown) {
        this.options.logger.warn(
          { err, dir },
          'cannot watch directory; relying on periodic re-read',
        );
      }
    }
    if (pollMs > 0) {
      this.poll = setInterval(() => void this.reload('poll'), pollMs);
      this.poll.unref();
    }
  }

  /** Stops watchers and timers. */
  stopWatching(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    if (this.poll !== undefined) clearInterval(this.poll);
  }

  private scheduleReload(trigger: string): void {
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload(trigger);
    }, DEBOUNCE_MS);
    this.debounce.unref();
  }

  private async reloadOnce(trigger: string): Promise<void> {
    const { logger, metrics } = this.options;
    let outcome: Outcome;
    try {
      outcome = await this.readAndCompile(this.loadedHash);
    } catch (err: unknown) {
      outcome = { ok: false, message: `reload failed: ${String(err)}` };
    }
    if (outcome.ok && outcome.unchanged) return;
    if (!outcome.ok) {
      metrics.recordReload('failure', undefined, this.options.now());
      logger.error(
        { trigger, errors: outcome.message.split('\n') },
        'allowlist reload rejected; the last good allowlist stays in force',
      );
      return;
    }
    this.swap(outcome.snapshot, outcome.hash, trigger, outcome.warnings);
  }

  private swap(snapshot: PolicySnapshot, hash: string, trigger: string, warnings: string[]): void {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    this.loadedHash = hash;
    const { policy, knownHosts } = snapshot;
    this.options.metrics.recordReload('success', policy, this.options.now());
    for (const warning of warnings) this.options.logger.warn({ warning }, 'allowlist warning');
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

  private async readAndCompile(skipIfHash?: string): Promise<Outcome> {
    const { allowlistPath, knownHostsPath } = this.options;
    const allowlistText = await readText(allowlistPath);
    const knownText =
      knownHostsPath === undefined
        ? { ok: true as const, text: '' }
        : await readText(knownHostsPath);
    if (!allowlistText.ok) return { ok: false, message: allowlistText.message };
    if (!knownText.ok) return { ok: false, message: knownText.message };

    const hash = createHash('sha256')
      .update(allowlistText.text)
      .update('\0')
      .update(knownText.text)
      .digest('hex');
    if (hash === skipIfHash) return { ok: true, unchanged: true };

    const now = new Date(this.options.now());
    const parsed = parseAllowlist(allowlistText.text, { fileName: allowlistPath, now });
    const problems: string[] = [];
    const warnings = parsed.warnings.map((w) => formatIssue(allowlistPath, w));
    let policy: CompiledPolicy | undefined;
    if (parsed.ok) policy = parsed.policy;
    else problems.push(...parsed.errors.map((e) => formatIssue(allowlistPath, e)));

    let knownHosts: KnownHosts = EMPTY_KNOWN_HOSTS;
    if (knownHostsPath !== undefined) {
      const known = parseKnownHosts(knownText.text, knownHostsPath);
      if (known.ok) knownHosts = known.knownHosts;
      else problems.push(...known.errors.map((e) => formatIssue(knownHostsPath, e)));
    }
    if (problems.length > 0 || policy === undefined) {
      return { ok: false, message: problems.join('\n') };
    }
    return {
      ok: true,
      unchanged: false,
      hash,
      warnings,
      snapshot: Object.freeze({ policy, knownHosts, limits: this.options.limits }),
    };
  }
}

type Outcome =
  | { readonly ok: true; readonly unchanged: true }
  | {
      readonly ok: true;
      readonly unchanged: false;
      readonly hash: string;
      readonly warnings: string[];
      readonly snapshot: PolicySnapshot;
    }
  | { readonly ok: false; readonly message: string };

async function readText(
  path: string,
): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
  const read = await readConfigFile(path);
  return read.ok ? read : { ok: false, message: formatIssue(path, read.error) };
}

/** `FILE:LINE:COL message`, the format of `mcp-gate validate`. */
export function formatIssue(file: string, issue: Issue): string {
  return `${file}:${issue.line}:${issue.col} ${issue.message}`;
}

/** Used when no known-host file is configured: no host is known to serve MCP. */
export const EMPTY_KNOWN_HOSTS: KnownHosts = Object.freeze({
  sha256: '',
  size: 0,
  isKnownMcpHost: () => false,
});
