/**
 * `mcp-gate validate FILE [--now ISO-DATE]`: checks an allowlist, or a known-MCP-host list (a
 * file whose top level has `hosts:`), with exactly the loader the service uses, and prints every
 * problem at once. Meant for CI and pre-merge checks of both files.
 *
 * Output contract (tests and editors parse it):
 * - stderr: one line per problem, sorted by position: `FILE:LINE:COL message` for an error,
 *   `FILE:LINE:COL warning: message` for a warning.
 * - stdout: one summary line.
 * - exit status: 0 valid (warnings allowed), 1 invalid or unreadable, 2 usage error.
 */
import { parseAllowlist, readConfigFile } from '../config/load-allowlist.js';
import type { Issue } from '../config/load-allowlist.js';
import { looksLikeKnownHosts, parseKnownHosts } from '../config/load-known-hosts.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';

/** `mcp-gate validate --help`. */
export const VALIDATE_USAGE = `usage: mcp-gate validate FILE [--now ISO-DATE]

Checks an allowlist, or a known-MCP-host list (recognised by its top-level "hosts:" key), and
prints every problem at once, sorted by position, on stderr:
  FILE:LINE:COL message            an error: the file would be rejected
  FILE:LINE:COL warning: message   a warning: the file loads, but look at it
A one-line summary goes to stdout.
Exit status: 0 valid (warnings allowed), 1 invalid or unreadable, 2 usage error.
--now fixes the clock for expiry warnings (e.g. 2027-04-19 or 2027-04-19T08:00:00Z).`;

/** The parts of CliIo validate uses. */
export type ValidateIo = Pick<CliIo, 'stdout' | 'stderr' | 'now'>;

/** Runs validate; resolves with the exit code. */
export async function runValidate(args: string[], io: ValidateIo): Promise<number> {
  const parsed = parseCommand(args, io);
  if (typeof parsed === 'number') return parsed;
  const { file, now } = parsed;

  const read = await readConfigFile(file);
  if (!read.ok) {
    io.stderr(`${formatIssue(file, read.error, 'error')}\n`);
    io.stdout(`${file}: invalid (cannot read file)\n`);
    return 1;
  }

  if (looksLikeKnownHosts(read.text)) {
    const result = parseKnownHosts(read.text, file);
    const errors = result.ok ? [] : result.errors;
    report(io, file, errors, result.warnings);
    io.stdout(
      result.ok
        ? `${file}: valid known-MCP-host list, ${plural(result.knownHosts.size, 'host')}, ${plural(result.warnings.length, 'warning')}\n`
        : `${file}: invalid known-MCP-host list, ${plural(errors.length, 'error')}, ${plural(result.warnings.length, 'warning')}\n`,
    );
    return result.ok ? 0 : 1;
  }

  const result = parseAllowlist(read.text, { fileName: file, now });
  const errors = result.ok ? [] : result.errors;
  report(io, file, errors, result.warnings);
  if (!result.ok) {
    io.stdout(
      `${file}: invalid allowlist, ${plural(errors.length, 'error')}, ${plural(result.warnings.length, 'warning')}\n`,
    );
    return 1;
  }
  const { policy } = result;
  io.stdout(
    `${file}: valid allowlist, version ${policy.version}, ${plural(policy.entries.length, 'entry', 'entries')}, ` +
      `${plural(result.warnings.length, 'warning')}, sha256 ${policy.sha256}\n`,
  );
  return 0;
}

function parseCommand(args: string[], io: ValidateIo): { file: string; now: Date } | number {
  const flags = parseCommandArgs(
    {
      args,
      options: { now: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    },
    VALIDATE_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values, positionals } = flags;
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    io.stderr(`validate takes exactly one FILE\n${VALIDATE_USAGE}\n`);
    return 2;
  }
  const now = values.now === undefined ? io.now : new Date(values.now);
  if (Number.isNaN(now.getTime())) {
    io.stderr(`--now: not an ISO date: ${values.now ?? ''}\n`);
    return 2;
  }
  return { file, now };
}

/** `FILE:LINE:COL message`, or `FILE:LINE:COL warning: message`. */
export function formatIssue(file: string, issue: Issue, severity: 'error' | 'warning'): string {
  const prefix = severity === 'warning' ? 'warning: ' : '';
  return `${file}:${String(issue.line)}:${String(issue.col)} ${prefix}${issue.message}`;
}

function report(
  io: ValidateIo,
  file: string,
  errors: readonly Issue[],
  warnings: readonly Issue[],
): void {
  const lines = [
    ...errors.map((issue) => ({ issue, text: formatIssue(file, issue, 'error') })),
    ...warnings.map((issue) => ({ issue, text: formatIssue(file, issue, 'warning') })),
  ];
  // Stable sort: at one position, errors stay before warnings.
  lines.sort((a, b) => a.issue.line - b.issue.line || a.issue.col - b.issue.col);
  for (const line of lines) io.stderr(`${line.text}\n`);
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${String(count)} ${count === 1 ? one : many}`;
}
