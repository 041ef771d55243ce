/**
 * `mcp-gate validate FILE... [--strict] [--reviewers FILE] [--now ISO-DATE]`: checks allowlists,
 * known-MCP-host lists (a file whose top level has `hosts:`) and reviewers' trust files (top
 * level `reviewers:`) with exactly the loaders the service uses, and prints every problem at
 * once. Meant for CI and pre-merge checks of all three.
 *
 * - `--reviewers FILE`: entries' review signatures are checked against the trust file, and a
 *   signature problem is an error (the service would deny the entry `rotation`/`signature`).
 * - `--strict`: expired approvals, approvals expiring within the warning window (30 days), stale
 *   or missing review stamps (even with `require_review_stamp: false`) and signature problems
 *   are errors.
 *
 * Output contract (tests and editors parse it):
 * - stderr: one line per problem, sorted by position: `FILE:LINE:COL message` for an error,
 *   `FILE:LINE:COL warning: message` for a warning.
 * - stdout: one summary line per file.
 * - exit status: 0 every file valid (warnings allowed), 1 one invalid or unreadable, 2 usage error.
 */
import { readConfigFile } from '../config/config-file.js';
import { formatIssue } from '../config/config-issues.js';
import type { Issue } from '../config/config-issues.js';
import { parseAllowlist } from '../config/load-allowlist.js';
import { looksLikeKnownHosts, parseKnownHosts } from '../config/load-known-hosts.js';
import { loadReviewersFile, looksLikeReviewers, parseReviewers } from '../config/load-reviewers.js';
import type { ParseReviewersResult } from '../config/load-reviewers.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';

/** `mcp-gate validate --help`. */
export const VALIDATE_USAGE = `usage: mcp-gate validate FILE... [--strict] [--reviewers FILE] [--now ISO-DATE]

Checks allowlists, known-MCP-host lists (recognised by a top-level "hosts:" key) and reviewers'
trust files (top-level "reviewers:"), and prints every problem at once, sorted by position, on
stderr:
  FILE:LINE:COL message            an error: the file would be rejected
  FILE:LINE:COL warning: message   a warning: the file loads, but look at it
A one-line summary per file goes to stdout.
--reviewers FILE checks every entry's review signatures against the trust file; a signature
  problem is an error (the service would deny the entry: rotation, detail signature).
--strict (for CI) also makes errors of: expired approvals, approvals expiring within 30 days,
  stale or missing review stamps (even with require_review_stamp: false), signature problems.
--now fixes the clock for expiry (e.g. 2027-04-19 or 2027-04-19T08:00:00Z).
Exit status: 0 every file valid (warnings allowed), 1 a file invalid or unreadable, 2 usage error.`;

/** The parts of CliIo validate uses. */
export type ValidateIo = Pick<CliIo, 'stdout' | 'stderr' | 'now'>;

interface ValidateCommand {
  readonly files: readonly string[];
  readonly now: Date;
  readonly strict: boolean;
  readonly reviewersPath: string | undefined;
}

/** Runs validate; resolves with the exit code. */
export async function runValidate(args: string[], io: ValidateIo): Promise<number> {
  const parsed = parseCommand(args, io);
  if (typeof parsed === 'number') return parsed;
  let reviewers: Extract<ParseReviewersResult, { ok: true }> | undefined;
  if (parsed.reviewersPath !== undefined) {
    const file = parsed.reviewersPath;
    const loaded = await loadReviewersFile(file);
    if (!loaded.ok) {
      // Without the trust file no signature can be judged: nothing is reported valid.
      report(io, file, loaded.errors, []);
      io.stdout(`${file}: invalid reviewers file, ${plural(loaded.errors.length, 'error')}\n`);
      return 1;
    }
    reviewers = loaded;
  }
  let code = 0;
  for (const file of parsed.files) {
    code = Math.max(code, await validateFile(file, parsed, reviewers, io));
  }
  return code;
}

async function validateFile(
  file: string,
  command: ValidateCommand,
  reviewers: Extract<ParseReviewersResult, { ok: true }> | undefined,
  io: ValidateIo,
): Promise<number> {
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

  if (looksLikeReviewers(read.text)) {
    const result = parseReviewers(read.text);
    report(io, file, result.ok ? [] : result.errors, []);
    io.stdout(
      result.ok
        ? `${file}: valid reviewers file, ${plural(result.count, 'reviewer')}\n`
        : `${file}: invalid reviewers file, ${plural(result.errors.length, 'error')}\n`,
    );
    return result.ok ? 0 : 1;
  }

  const result = parseAllowlist(read.text, {
    fileName: file,
    now: command.now,
    reviewers: reviewers?.reviewers,
    permittedSettings: reviewers?.permitted,
    signatureErrors: true,
    strict: command.strict,
  });
  const errors = result.ok ? [] : result.errors;
  report(io, file, errors, result.warnings);
  if (!result.ok) {
    io.stdout(
      `${file}: invalid allowlist, ${plural(errors.length, 'error')}, ${plural(result.warnings.length, 'warning')}\n`,
    );
    return 1;
  }
  const { policy } = result;
  const signed = command.reviewersPath === undefined ? '' : ', signatures valid';
  io.stdout(
    `${file}: valid allowlist, version ${policy.version}, ${plural(policy.entries.length, 'entry', 'entries')}, ` +
      `${plural(result.warnings.length, 'warning')}${signed}, sha256 ${policy.sha256}\n`,
  );
  return 0;
}

function parseCommand(args: string[], io: ValidateIo): ValidateCommand | number {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        now: { type: 'string' },
        strict: { type: 'boolean' },
        reviewers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    },
    VALIDATE_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values, positionals } = flags;
  if (positionals.length === 0) {
    io.stderr(`validate takes at least one FILE\n${VALIDATE_USAGE}\n`);
    return 2;
  }
  const now = values.now === undefined ? io.now : new Date(values.now);
  if (Number.isNaN(now.getTime())) {
    io.stderr(`--now: not an ISO date: ${values.now ?? ''}\n`);
    return 2;
  }
  return {
    files: positionals,
    now,
    strict: values.strict === true,
    reviewersPath: values.reviewers,
  };
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
