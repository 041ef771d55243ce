/**
 * Writes rendered files into the directory Envoy watches. Each file is written to a temporary
 * name in its own directory and renamed over the old one, so Envoy (which reloads when something
 * is moved into its watched directory) only ever reads whole files. Files are written in the
 * order the renderer gives (secrets, clusters, listeners, routes), so nothing Envoy loads names a
 * resource that is not there yet; a file whose content is unchanged is not touched, and secrets
 * and certificate requests of hosts no longer intercepted are removed last.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { prepareFile, readFileIfExists } from '../fs/atomic-file.js';
import type { RenderedFiles } from './render.js';

/** What a write changed, for the log. */
export interface WriteSummary {
  readonly written: readonly string[];
  readonly removed: readonly string[];
}

/** Writes `files` under `dir` atomically per file; throws on the first I/O failure. */
export async function writeRenderedFiles(dir: string, files: RenderedFiles): Promise<WriteSummary> {
  const written: string[] = [];
  await mkdir(path.join(dir, 'sds'), { recursive: true });
  for (const [relative, content] of files) {
    const target = path.join(dir, relative);
    if ((await readFileIfExists(target)) === content) continue;
    const prepared = await prepareFile(target, content, 0o644);
    try {
      await prepared.commit();
    } finally {
      await prepared.discard();
    }
    written.push(relative);
  }

  const removed: string[] = [];
  const stale = [
    ...(await readdir(path.join(dir, 'sds')))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `sds/${f}`),
    'certificates.yaml',
  ];
  for (const relative of stale) {
    if (files.has(relative)) continue;
    const target = path.join(dir, relative);
    if ((await readFileIfExists(target)) === undefined) continue;
    await rm(target, { force: true });
    removed.push(relative);
  }
  return { written, removed };
}
