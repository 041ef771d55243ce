/**
 * `mcp-gate expiring FILE... [--within 30d] [--json] [--now ISO-DATE]`: the approvals that
 * expire within a window, soonest first, for a scheduled job that opens renewal tickets (README,
 * "Reviewer workflow", has a Kubernetes CronJob).
 *
 * Contract:
 * - `days` is expires_on minus today (UTC calendar days): 0 means today is the last valid day,
 *   negative means expired that many days ago. Listed: every entry with `days` up to the window,
 *   expired ones included (they come first). Sorted by days, then file and line.
 * - Each file is validated as the service loads it; an invalid one is reported as by validate
 *   and makes the exit status 1, and the other files are still listed.
 * - stdout: a table, or with --json one JSON array of
 *   `{days, expires_on, id, review_ticket, reviewed_by, cosigned_by?, file, line}`.
 * - Exit status: 0 listed (whether or not anything expires), 1 a file invalid, 2 usage error.
 */
import { DAY_MS, utcDayStartMs } from '../core/policy/approval-date.js';
import { readConfigFile } from '../config/config-file.js';
import { validateAllowlist } from '../config/load-allowlist.js';
import { locate, parseYamlSource, positionOf } from '../config/yaml-source.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';
import { formatIssue } from '../config/config-issues.js';

/** `mcp-gate expiring --help`. */
export const EXPIRING_USAGE = `usage: mcp-gate expiring FILE... [--within 30d] [--json] [--now ISO-DATE]

Lists the approvals that expire within the window (days: 14d, weeks: 2w; default 30d), expired
ones first, soonest first: days left (0 = last valid day today, negative = expired), expires_on,
entry id, review ticket, reviewer and FILE:LINE. --json prints one JSON array instead, for a job
that opens renewal tickets. Files are validated as the service loads them.
--now fixes the clock (e.g. 2027-04-19 or 2027-04-19T08:00:00Z).
Exit status: 0 listed (even when nothing expires), 1 a file invalid or unreadable, 2 usage error.`;

/** The parts of CliIo expiring uses. */
export type ExpiringIo = Pick<CliIo, 'stdout' | 'stderr' | 'now'>;

/** One approval in the list. */
export interface ExpiringApproval {
  readonly days: number;
  readonly expires_on: string;
  readonly id: string;
  readonly review_ticket: string;
  readonly reviewed_by: string;
  readonly cosigned_by?: string;
  readonly file: string;
  readonly line: number;
}

/** Days in a `--within` value: `14d`, `2w`. */
export function parseWindowDays(text: string): number | undefined {
  const match = /^(\d{1,5})([dw])$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * (match[2] === 'w' ? 7 : 1);
}

/** Runs expiring; resolves with the exit code. */
export async function runExpiring(args: string[], io: ExpiringIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        within: { type: 'string', default: '30d' },
        json: { type: 'boolean' },
        now: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    },
    EXPIRING_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values, positionals } = flags;
  const usage = (problem: string): number => {
    io.stderr(`${problem}\n${EXPIRING_USAGE}\n`);
    return 2;
  };
  if (positionals.length === 0) return usage('expiring takes at least one FILE');
  const within = parseWindowDays(values.within);
  if (within === undefined) {
    return usage(
      `--within: ${JSON.stringify(values.within)} is not a number of days or weeks (14d, 2w)`,
    );
  }
  const now = values.now === undefined ? io.now : new Date(values.now);
  if (Number.isNaN(now.getTime())) return usage(`--now: not an ISO date: ${values.now ?? ''}`);
  const todayMs = Math.floor(now.getTime() / DAY_MS) * DAY_MS;

  let code = 0;
  const listed: ExpiringApproval[] = [];
  for (const file of positionals) {
    const approvals = await approvalsOf(file, now, io);
    if (approvals === undefined) code = 1;
    for (const approval of approvals ?? []) {
      const days = Math.round(((utcDayStartMs(approval.expires_on) ?? 0) - todayMs) / DAY_MS);
      if (days <= within) listed.push({ ...approval, days });
    }
  }
  listed.sort(
    (a, b) =>
      a.days - b.days || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line,
  );
  io.stdout(values.json === true ? `${JSON.stringify(listed, null, 2)}\n` : table(listed, within));
  return code;
}

/** The file's approvals without `days`, or undefined (reported) when it is invalid. */
async function approvalsOf(
  file: string,
  now: Date,
  io: ExpiringIo,
): Promise<Omit<ExpiringApproval, 'days'>[] | undefined> {
  const read = await readConfigFile(file);
  if (!read.ok) {
    io.stderr(`${formatIssue(file, read.error, 'error')}\n`);
    return undefined;
  }
  const result = validateAllowlist(read.text, { fileName: file, now });
  const yaml = parseYamlSource(read.text);
  if (!result.ok || !yaml.ok) {
    for (const issue of result.ok ? [] : result.errors) {
      io.stderr(`${formatIssue(file, issue, 'error')}\n`);
    }
    io.stderr(`${file}: invalid allowlist, not listed\n`);
    return undefined;
  }
  return result.doc.approved.map((entry, index) => {
    const node = locate(yaml.source, ['approved', index]).node;
    return {
      expires_on: entry.expires_on,
      id: entry.id,
      review_ticket: entry.review_ticket,
      reviewed_by: entry.reviewed_by,
      ...(entry.cosigned_by === undefined ? {} : { cosigned_by: entry.cosigned_by }),
      file,
      line: positionOf(yaml.source, node?.range?.[0] ?? 0).line,
    };
  });
}

function table(listed: readonly ExpiringApproval[], within: number): string {
  if (listed.length === 0) return `no approval expires within ${String(within)} days\n`;
  const rows = [
    ['DAYS', 'EXPIRES', 'ENTRY', 'TICKET', 'REVIEWER', 'WHERE'],
    ...listed.map((a) => [
      String(a.days),
      a.expires_on,
      a.id,
      a.review_ticket,
      a.cosigned_by === undefined ? a.reviewed_by : `${a.reviewed_by}, ${a.cosigned_by}`,
      `${a.file}:${String(a.line)}`,
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
        )
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}
