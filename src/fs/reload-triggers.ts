/**
 * When to read a set of files again: a watcher on each file's *directory*, and a periodic re-read
 * behind it. Used through last-good-reloader.ts, which decides what a trigger does; the owner
 * decides what a reload is and whether anything changed.
 *
 * - Directories, not files: Kubernetes ConfigMap and Secret volumes swap a `..data` symlink, and
 *   a watch on the file itself follows the old inode and never sees the new content.
 * - Any event in a directory triggers (after a debounce that turns a burst of writes into one
 *   trigger): `..data`, editor temp files and the directory itself change too, and a reload that
 *   finds the content unchanged is cheap.
 * - A directory that is replaced (a watch follows the old one), missing, or whose watcher failed
 *   is watched again when the owner calls `refresh()`, which it does around every reload.
 * - The periodic re-read covers volumes on which watchers miss events (network file systems,
 *   some container runtimes).
 */
import { statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../telemetry/logger.js';

/** Waits this long after a file event so a burst of writes becomes one reload. */
const DEBOUNCE_MS = 50;

export type ReloadTrigger = 'watch' | 'poll';

export interface ReloadTriggersOptions {
  /** The files whose directories are watched. */
  readonly files: readonly string[];
  /** What the files are, in log lines: `allowlist`, `gRPC TLS`. */
  readonly what: string;
  /** Watch the directories; off, only the periodic re-read triggers. */
  readonly watch: boolean;
  /** Interval of the periodic re-read; 0 = none. */
  readonly pollMs: number;
  readonly logger: Logger;
  /** Asks for a reload; last-good-reloader.ts coalesces triggers that arrive while one runs. */
  readonly onTrigger: (trigger: ReloadTrigger) => void;
}

interface WatchedDir {
  readonly watcher: FSWatcher;
  /** Identity of the directory when the watch began: a replaced one has another. */
  readonly identity: string;
  failed: boolean;
}

export class ReloadTriggers {
  private readonly options: ReloadTriggersOptions;
  private readonly watched = new Map<string, WatchedDir>();
  private readonly names: ReadonlySet<string>;
  private watching = false;
  private stopped = false;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(options: ReloadTriggersOptions) {
    this.options = options;
    this.names = new Set(options.files.map((file) => basename(file)));
  }

  /**
   * Starts the watchers (synchronously, so that no change after this call can be missed) and the
   * periodic re-read.
   */
  start(): void {
    if (this.stopped) return;
    if (this.options.watch) {
      this.watching = true;
      void this.refresh(true);
    }
    if (this.options.pollMs > 0) {
      this.poll = setInterval(() => {
        this.options.onTrigger('poll');
      }, this.options.pollMs);
      this.poll.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    this.watching = false;
    for (const dir of this.watched.values()) dir.watcher.close();
    this.watched.clear();
    clearTimeout(this.debounce);
    clearInterval(this.poll);
  }

  /**
   * Watches each directory that is not watched yet, and again each one that was replaced or
   * whose watcher failed. A missing directory is tried again at the next refresh.
   */
  async refresh(sync = false): Promise<void> {
    const dirs = new Set(this.options.files.map((file) => dirname(resolve(file))));
    for (const dir of dirs) {
      let identity: string | undefined;
      try {
        const info = sync ? statSync(dir) : await stat(dir);
        identity = `${info.dev}:${info.ino}`;
      } catch {
        identity = undefined;
      }
      if (!this.watching) return;
      const existing = this.watched.get(dir);
      if (existing !== undefined && !existing.failed && existing.identity === identity) continue;
      existing?.watcher.close();
      this.watched.delete(dir);
      if (identity === undefined) continue;
      this.watchDirectory(dir, identity);
    }
  }

  private watchDirectory(dir: string, identity: string): void {
    const { logger, what } = this.options;
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        // Log only events naming our files; every event is worth a (hash-checked) look.
        if (name !== null && this.names.has(name)) {
          logger.debug({ file: name, files: what }, 'file event');
        }
        this.schedule();
      });
      const watched: WatchedDir = { watcher, identity, failed: false };
      watcher.on('error', (err: unknown) => {
        watched.failed = true;
        logger.warn(
          { err, dir, files: what },
          'file watcher failed; watching again at the next reload, the periodic re-read goes on',
        );
        this.schedule();
      });
      this.watched.set(dir, watched);
    } catch (err: unknown) {
      logger.warn(
        { err, dir, files: what },
        'cannot watch directory; relying on the periodic re-read',
      );
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.options.onTrigger('watch');
    }, DEBOUNCE_MS);
    this.debounce.unref();
  }
}
