/**
 * `mcp-gate stamp FILE [--id ID]`: writes `review_sha256` into the approved entries of an
 * allowlist (all of them, or the one with ID), keeping every other byte of the file.
 *
 * Contract: an invalid file is never stamped (its errors are printed as by validate, exit 1);
 * an unknown id is an error (exit 1); the file is replaced atomically (a temporary file in the
 * same directory, fsync, rename), keeping its permissions, and only when something changed and
 * nobody else changed the file meanwhile. stdout lists what was stamped. Exit status: 0 done,
 * 1 refused or failed, 2 usage error.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { readConfigFile } from '../config/config-file.js';
import { parseAllowlist } from '../config/load-allowlist.js';
import { stampAllowlistText } from '../config/stamp-file.js';
import { AppError } from '../errors.js';
import { prepareFile } from '../fs/atomic-file.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';
import { formatIssue } from '../config/config-issues.js';

/** `mcp-gate stamp --help`. */
export const STAMP_USAGE = `usage: mcp-gate stamp FILE [--id ID]

Writes review_sha256 (the hash of each entry's security-relevant fields, see docs/allowlist.md)
into every approved entry, or only the entry with --id, in place, keeping comments and layout.
Run it when a reviewed change is approved; an entry whose stamp no longer matches is denied
with reason "rotation". An invalid file is not stamped: its problems are printed as
FILE:LINE:COL message on stderr.
Exit status: 0 done, 1 refused or failed, 2 usage error.`;

/** The parts of CliIo stamp uses. */
export type StampIo = Pick<CliIo, 'stdout' | 'stderr' | 'now'>;

/** Runs stamp; resolves with the exit code. */
export async function runStamp(args: string[], io: StampIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: { id: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    },
    STAMP_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values, positionals } = flags;
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    io.stderr(`stamp takes exactly one FILE\n${STAMP_USAGE}\n`);
    return 2;
  }

  const read = await readConfigFile(file);
  if (!read.ok) {
    io.stderr(`${formatIssue(file, read.error, 'error')}\n`);
    return 1;
  }
  // Every rule but the stamps it is about to write.
  const checked = parseAllowlist(read.text, { fileName: file, now: io.now, stamping: true });
  if (!checked.ok) {
    for (const issue of checked.errors) io.stderr(`${formatIssue(file, issue, 'error')}\n`);
    io.stderr(`${file}: not stamped: the allowlist is invalid\n`);
    return 1;
  }

  let result;
  try {
    result = stampAllowlistText(read.text, values.id === undefined ? {} : { id: values.id });
  } catch (err: unknown) {
    if (!(err instanceof AppError)) throw err;
    io.stderr(`${file}: not stamped: ${err.message}\n`);
    return 1;
  }

  if (result.stamped.length > 0) {
    try {
      await replaceFileAtomically(file, read.text, result.text);
    } catch (err: unknown) {
      io.stderr(`${file}: not stamped: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
  }
  for (const id of result.stamped) io.stdout(`stamped ${id}\n`);
  for (const id of result.unchanged) io.stdout(`unchanged ${id} (stamp already current)\n`);
  io.stdout(
    `${file}: ${String(result.stamped.length)} stamped, ${String(result.unchanged.length)} already current\n`,
  );
  return 0;
}

/**
 * Replaces `path` with `text` atomically: a temporary file in the same directory (so rename
 * stays on one file system), fsync, then rename over the target. A symlink is followed and its
 * target replaced, so the link survives. Refuses if the file no longer holds `expected`.
 */
export async function replaceFileAtomically(
  path: string,
  expected: string,
  text: string,
): Promise<void> {
  const target = await realpath(path);
  const { mode } = await stat(target);
  const prepared = await prepareFile(target, text, mode & 0o7777);
  try {
    // Someone saving the file while we worked would otherwise lose their edit.
    if ((await readFile(target, 'utf8')) !== expected) {
      throw new Error('the file changed meanwhile; run the command again');
    }
    await prepared.commit();
  } finally {
    await prepared.discard();
  }
}
