/**
 * Changes the allowlist under the running service: a new generation every second (most by
 * atomic rename, as config management and Kubernetes do; every third rewritten in place, as a
 * person with an editor might), SIGHUPs now and then (some racing the file watcher), and once a
 * corruption: broken YAML, then a schema error, each of which must be rejected (and stay
 * unloaded through a SIGHUP) while the last good generation keeps deciding, then a restore.
 */
import { rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CORRUPTIONS, renderAllowlist } from './allowlist-versions.js';
import type { GenerationTracker } from './generation-tracker.js';
import type { ServiceProcess } from './service-process.js';

export interface ChurnOptions {
  readonly allowlistPath: string;
  readonly tracker: GenerationTracker;
  readonly service: ServiceProcess;
  readonly today: Date;
  /** Epoch ms: when the run started and when churning stops. */
  readonly startedAt: number;
  readonly endAt: number;
  /** Epoch ms at or after which the one corruption happens. */
  readonly corruptAt: number;
  readonly signal: AbortSignal;
}

export interface ChurnStats {
  generationsWritten: number;
  sighups: number;
  /** Corrupt files the service was seen to reject. */
  corruptRejections: number;
  /** Completed corrupt-then-restore cycles: every corruption rejected, the restore loaded. */
  corruptRestores: number;
  /** What did not happen as it should have (a rejection or a reload never logged). */
  readonly problems: string[];
}

/** How long to wait for the service to log a reaction to a file change or SIGHUP. */
const REACTION_TIMEOUT_MS = 5000;
/** How long each corrupt file stays in place after its rejection, with checks running. */
const CORRUPT_HOLD_MS = 400;

export async function churnAllowlist(options: ChurnOptions): Promise<ChurnStats> {
  const { tracker, service, signal } = options;
  const stats: ChurnStats = {
    generationsWritten: 0,
    sighups: 0,
    corruptRejections: 0,
    corruptRestores: 0,
    problems: [],
  };
  const sighup = (): void => {
    if (!service.isRunning()) return;
    service.sighup();
    stats.sighups += 1;
  };
  const write = async (generation: number): Promise<void> => {
    tracker.writing(generation);
    const text = renderAllowlist(generation, options.today);
    if (generation % 3 === 0) await writeFile(options.allowlistPath, text);
    else await writeAtomically(options.allowlistPath, text);
    stats.generationsWritten += 1;
  };
  const pendingSighups = new Set<NodeJS.Timeout>();

  let generation = Math.max(tracker.newestWritten, 0);
  let corrupted = false;
  try {
    for (let tick = 1; ; tick++) {
      const at = options.startedAt + tick * 1000;
      if (at >= options.endAt) break;
      await sleep(Math.max(0, at - Date.now()), undefined, { signal });
      if (!service.isRunning()) break;
      generation += 1;
      if (!corrupted && at >= options.corruptAt) {
        corrupted = true;
        await corruptAndRestore(options, { stats, sighup, write, restoreTo: generation });
        // The corruption took a few seconds; carry on from now rather than catch up in a burst.
        tick = Math.floor((Date.now() - options.startedAt) / 1000);
        continue;
      }
      await write(generation);
      if (tick % 5 === 0) sighup(); // races the watcher for the same change
      if (tick % 3 === 0) {
        const timer = setTimeout(() => {
          pendingSighups.delete(timer);
          sighup();
        }, 500);
        pendingSighups.add(timer);
      }
    }
  } catch (err: unknown) {
    if (!signal.aborted) throw err;
  } finally {
    for (const timer of pendingSighups) clearTimeout(timer);
  }
  if (!corrupted && !signal.aborted) {
    stats.problems.push('the run ended before the corruption was due');
  }
  return stats;
}

interface CorruptionStep {
  readonly stats: ChurnStats;
  readonly sighup: () => void;
  readonly write: (generation: number) => Promise<void>;
  /** The generation written as the restore. */
  readonly restoreTo: number;
}

/**
 * Each corrupt file must be rejected; a SIGHUP then makes the service read it again (which it
 * may skip as content already judged, but must never load). Then a restore.
 */
async function corruptAndRestore(options: ChurnOptions, step: CorruptionStep): Promise<void> {
  const { tracker } = options;
  const { stats } = step;
  let allRejected = true;
  for (const corruption of CORRUPTIONS) {
    const rejected = tracker.waitFor((e) => e.kind === 'rejected', REACTION_TIMEOUT_MS);
    await writeAtomically(options.allowlistPath, corruption.text(step.restoreTo, options.today));
    if (await rejected) stats.corruptRejections += 1;
    else {
      allRejected = false;
      stats.problems.push(`${corruption.name}: no rejection logged`);
    }
    step.sighup();
    await sleep(CORRUPT_HOLD_MS, undefined, { signal: options.signal });
  }
  const restored = tracker.waitFor(
    (e) => e.kind === 'loaded' && e.generation >= step.restoreTo,
    REACTION_TIMEOUT_MS,
  );
  await step.write(step.restoreTo);
  if (!(await restored)) {
    stats.problems.push(`the restore (generation ${step.restoreTo}) was not loaded`);
  } else if (allRejected) {
    stats.corruptRestores += 1;
  }
}

/** Write beside, then rename over: readers see the old file or the new one, never a mix. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}
