/**
 * Whole-file replacement for files a running process reads (Envoy's certificates): content goes
 * to a temporary file in the target's directory, created with its final mode, fsynced, then
 * renamed over the target. A reader sees the old file or the new one, never part of either.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** A temporary file holding the new content, waiting to be renamed into place. */
export interface PreparedFile {
  readonly target: string;
  /** Renames the temporary file over the target. */
  commit(): Promise<void>;
  /** Removes the temporary file; safe after a failed commit. */
  discard(): Promise<void>;
}

/**
 * Writes `content` to a fresh temporary file beside `target`. The file is created with `mode`
 * (so a key is never readable by others, not even for a moment) and then given exactly `mode`,
 * whatever the umask took away.
 */
export async function prepareFile(
  target: string,
  content: string,
  mode: number,
): Promise<PreparedFile> {
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      // The umask may have taken bits away at creation; the target's mode is what was asked.
      await handle.chmod(mode);
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err: unknown) {
    await rm(temp, { force: true });
    throw err;
  }
  return {
    target,
    commit: () => rename(temp, target),
    discard: () => rm(temp, { force: true }),
  };
}

/**
 * Replaces several files, preparing all of them before renaming any, so a watcher that reloads
 * on the first rename finds the others renamed moments later rather than after a slow write.
 */
export async function replaceFiles(
  files: readonly { readonly target: string; readonly content: string; readonly mode: number }[],
): Promise<void> {
  const prepared: PreparedFile[] = [];
  try {
    for (const file of files)
      prepared.push(await prepareFile(file.target, file.content, file.mode));
    for (const file of prepared) await file.commit();
  } finally {
    for (const file of prepared) await file.discard();
  }
}

/** The file's text, or undefined when it does not exist; other failures throw. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
