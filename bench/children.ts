/**
 * Every process and temp dir the benchmark starts, so that each is stopped or removed on every
 * path out: normal end, a thrown error, Ctrl-C / SIGTERM, and process exit.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const STOP_GRACE_MS = 3000;

export interface ChildTracker {
  track(child: ChildProcess, label: string): void;
  /** A directory to delete at cleanup. */
  trackDir(dir: string): void;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the child has exited. */
  stop(child: ChildProcess): Promise<void>;
  /** Stops every child still running and removes every directory. Idempotent. */
  cleanup(): Promise<void>;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export function createChildTracker(): ChildTracker {
  const children = new Map<ChildProcess, string>();
  const dirs = new Set<string>();

  const stop = (child: ChildProcess): Promise<void> => {
    if (exited(child)) {
      children.delete(child);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        children.delete(child);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };

  const removeDirs = (): void => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs.clear();
  };

  // Last resort when the process ends without cleanup (an exit() elsewhere): no waiting here.
  process.once('exit', () => {
    for (const child of children.keys()) if (!exited(child)) child.kill('SIGKILL');
    removeDirs();
  });

  return {
    track(child, label) {
      children.set(child, label);
      child.once('exit', () => children.delete(child));
    },
    trackDir(dir) {
      dirs.add(dir);
    },
    stop,
    async cleanup() {
      await Promise.all([...children.keys()].map(stop));
      removeDirs();
    },
  };
}
