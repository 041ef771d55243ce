/**
 * Files that scripts generate and the repository commits (the alert rules, the dashboard, the
 * Kustomize copies): which of them differ from what the script would write, and the `--check` /
 * write step every such script runs. A test calls `driftedFiles` so CI fails when a source
 * changed and nobody ran the script.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const ROOT = path.resolve(import.meta.dirname, '..');

/** Path relative to the repository → the content it must have; undefined: it must not exist. */
export type GeneratedFiles = ReadonlyMap<string, string | undefined>;

/** The paths of `expected` whose committed content differs, in the map's order. */
export async function driftedFiles(expected: GeneratedFiles): Promise<string[]> {
  const drifted: string[] = [];
  for (const [file, content] of expected) {
    const actual = await readFile(path.join(ROOT, file), 'utf8').catch(() => undefined);
    if (actual !== content) drifted.push(file);
  }
  return drifted;
}

/**
 * A generator script's main: with `--check` it names every drifted file and exits 1 (nothing is
 * written); otherwise it writes (or removes) exactly the drifted files. `drifted` defaults to
 * driftedFiles; a script whose output directory may hold files it no longer writes passes its
 * own (which also lists those, with undefined content in `expected`'s sense: removed).
 */
export async function runGenerator(
  expected: GeneratedFiles,
  command: string,
  drifted: (expected: GeneratedFiles) => Promise<string[]> = driftedFiles,
): Promise<number> {
  const { values } = parseArgs({ options: { check: { type: 'boolean' } } });
  const files = await drifted(expected);
  if (values.check === true) {
    for (const file of files) process.stderr.write(`out of date: ${file}\n`);
    if (files.length > 0) process.stderr.write(`run: ${command}\n`);
    return files.length === 0 ? 0 : 1;
  }
  for (const file of files) {
    const content = expected.get(file);
    const target = path.join(ROOT, file);
    if (content === undefined) {
      await rm(target, { force: true });
      process.stdout.write(`removed ${file}\n`);
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    process.stdout.write(`wrote ${file}\n`);
  }
  return 0;
}
