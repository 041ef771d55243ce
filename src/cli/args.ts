/**
 * The flag handling every command shares: node:util parseArgs, strict, with `--help`/`-h`. A
 * flag parseArgs refuses is a usage error (its message and the command's usage on stderr, exit
 * 2); `--help` prints the usage on stdout (exit 0).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { CliIo } from './io.js';

/** The parsed flags, or the exit code when the command has nothing more to do. */
export function parseCommandArgs<const T extends ParseArgsConfig>(
  config: T,
  usage: string,
  io: Pick<CliIo, 'stdout' | 'stderr'>,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (err: unknown) {
    io.stderr(`${err instanceof Error ? err.message : String(err)}\n${usage}\n`);
    return 2;
  }
  if ((parsed.values as Record<string, unknown>)['help'] === true) {
    io.stdout(`${usage}\n`);
    return 0;
  }
  return parsed;
}
