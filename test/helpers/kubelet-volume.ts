/**
 * A Secret or ConfigMap volume as kubelet writes it, for reload tests: each key is a symlink
 * `name -> ..data/name`, `..data` is a symlink to a timestamped directory holding the files, and
 * an update writes a new timestamped directory, points `..data_tmp` at it and renames that over
 * `..data` (one atomic step), then removes the old directory. A watch on a key's path never
 * sees that; a watch on the volume's directory does.
 */
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

let generation = 0;

function timestampedName(): string {
  generation += 1;
  const stamp = new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '');
  return `..${stamp}.${String(generation).padStart(9, '0')}`;
}

async function writePayload(dir: string, files: Readonly<Record<string, string>>): Promise<string> {
  const name = timestampedName();
  await mkdir(path.join(dir, name));
  for (const [key, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name, key), content);
  }
  return name;
}

/** Lays out a fresh volume in `dir` (which must exist) holding `files`. */
export async function writeKubeletVolume(
  dir: string,
  files: Readonly<Record<string, string>>,
): Promise<void> {
  const payload = await writePayload(dir, files);
  await symlink(payload, path.join(dir, '..data'));
  for (const key of Object.keys(files)) {
    await symlink(path.join('..data', key), path.join(dir, key));
  }
}

/** Replaces the volume's content as kubelet does; every key must already exist. */
export async function swapKubeletVolume(
  dir: string,
  files: Readonly<Record<string, string>>,
): Promise<void> {
  const previous = await readlink(path.join(dir, '..data'));
  const payload = await writePayload(dir, files);
  await symlink(payload, path.join(dir, '..data_tmp'));
  await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  await rm(path.join(dir, previous), { recursive: true, force: true });
}
