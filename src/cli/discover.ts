/**
 * `mcp-gate discover [FILE...] [--top N]`: turns what discovery saw into draft allowlist entries
 * for the most-tried unapproved servers, as YAML a reviewer starts from.
 *
 * Input, each FILE or stdin (no FILE, or `-`), recognised by its content:
 * - GET /discovery JSON (several files, one per replica, are merged as the tables merge);
 * - audit log lines, as `kubectl logs` gives them (also with --prefix or --timestamps, whose
 *   text before the JSON is skipped). Lines of several replicas may be concatenated in any
 *   order. Lines that are not JSON, JSON lines that are not decision lines, and decision lines
 *   that are not shadow-MCP attempts (src/discovery/attempt.ts) are skipped and counted.
 * Output (stdout): `approved:` and one draft entry per server, what was seen written above it as
 * comments. review_ticket, reviewed_by and the dates are `TODO-` placeholders, which validate
 * refuses (src/config/field-schemas.ts), so a draft cannot be merged as printed. Every value
 * taken from traffic is escaped before it is printed: a tool name cannot end a comment.
 * stderr: one summary line of what was read and skipped. Exit 0, 1 when an input cannot be read
 * or holds nothing usable, 2 on a usage error.
 */
import { readFile } from 'node:fs/promises';
import { text as readStream } from 'node:stream/consumers';
import * as z from 'zod';
import { PLACEHOLDER_PREFIX } from '../config/field-schemas.js';
import {
  commentSafe,
  draftEntryId,
  flowName,
  placeholderReviewLines,
  yamlScalar,
} from '../config/draft-entry.js';
import { normaliseAuthority } from '../core/normalise.js';
import { parseEntryUrl } from '../core/policy/entry-url.js';
import { attemptFromAudit } from '../discovery/attempt.js';
import { DISCOVERY_FORMAT, DiscoveryTable } from '../discovery/table.js';
import type { DiscoveryRowJson } from '../discovery/table.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';

export const DISCOVER_USAGE = `usage: mcp-gate discover [FILE...] [--top N]

Reads GET /discovery JSON or audit log lines (kubectl logs; several replicas may be concatenated)
from each FILE, or from stdin when no FILE or "-" is given, and prints draft allowlist entries
for the N most-tried unapproved servers (default 10). Their TODO- values must be filled in by a
reviewer: mcp-gate validate refuses them until then.`;

/** The parts of CliIo discover uses, plus stdin. */
export type DiscoverIo = Pick<CliIo, 'stdout' | 'stderr' | 'now'> & {
  readonly stdin: () => Promise<string>;
};

/** Rows kept while reading: far more servers than anyone reviews, in bounded memory. */
const READ_ROWS = 10_000;
const DEFAULT_TOP = 10;

const RowSchema = z.object({
  host: z.string(),
  path_prefix: z.string(),
  attempts: z.number().int().nonnegative(),
  max_untracked_attempts: z.number().int().nonnegative(),
  host_only_attempts: z.number().int().nonnegative(),
  first_seen: z.iso.datetime(),
  last_seen: z.iso.datetime(),
  outcomes: z.object({
    deny: z.number().int().nonnegative(),
    would_deny: z.number().int().nonnegative(),
    allow: z.number().int().nonnegative(),
  }),
  clients: z.record(z.string(), z.number().int().nonnegative()),
  methods: z.array(z.string()),
  methods_overflow: z.number().int().nonnegative(),
  tools: z.array(z.string()),
  tools_overflow: z.number().int().nonnegative(),
  protocol_versions: z.array(z.string()),
  protocol_versions_overflow: z.number().int().nonnegative(),
});
const SnapshotSchema = z.object({ format: z.literal(DISCOVERY_FORMAT), rows: z.array(RowSchema) });

/** What reading the inputs found. */
interface ReadCounts {
  snapshots: number;
  lines: number;
  notJson: number;
  notDecision: number;
  notShadow: number;
}

/** Runs discover; resolves with the exit code. */
export async function runDiscover(args: string[], io: DiscoverIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: { top: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    },
    DISCOVER_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values, positionals } = flags;
  const top = values.top === undefined ? DEFAULT_TOP : Number(values.top);
  if (!/^\d+$/.test(values.top ?? '1') || !Number.isSafeInteger(top) || top < 1) {
    io.stderr(`--top must be a positive integer, got ${JSON.stringify(values.top)}\n`);
    return 2;
  }

  const table = new DiscoveryTable(READ_ROWS);
  const counts: ReadCounts = { snapshots: 0, lines: 0, notJson: 0, notDecision: 0, notShadow: 0 };
  const inputs = positionals.length === 0 ? ['-'] : positionals;
  for (const input of inputs) {
    let content: string;
    try {
      content = input === '-' ? await io.stdin() : await readFile(input, 'utf8');
    } catch (err: unknown) {
      io.stderr(`discover: cannot read ${input}: ${(err as Error).message}\n`);
      return 1;
    }
    const problem = readInput(content, table, counts);
    if (problem !== undefined) {
      io.stderr(`discover: ${input === '-' ? 'stdin' : input}: ${problem}\n`);
      return 1;
    }
  }
  io.stderr(`${summary(counts, table.size)}\n`);
  const rows = table.snapshot(io.now.getTime()).rows.slice(0, top);
  io.stdout(toDraftYaml(rows, io.now));
  return 0;
}

/** Reads one input into the table; a problem that makes it unusable, or undefined. */
function readInput(content: string, table: DiscoveryTable, counts: ReadCounts): string | undefined {
  const snapshot = asSnapshot(content);
  if (typeof snapshot === 'string') return snapshot;
  if (snapshot !== undefined) {
    counts.snapshots += 1;
    for (const row of snapshot) {
      if (isServerHost(row.host) && isPathPrefix(row.path_prefix)) table.absorb(row);
    }
    return undefined;
  }
  for (const line of content.split('\n')) {
    if (line.trim() === '') continue;
    counts.lines += 1;
    const record = parseLogLine(line);
    if (record === undefined) {
      counts.notJson += 1;
      continue;
    }
    if (record['msg'] !== 'decision') {
      counts.notDecision += 1;
      continue;
    }
    const at = typeof record['time'] === 'string' ? Date.parse(record['time']) : Number.NaN;
    const attempt = Number.isNaN(at) ? undefined : attemptFromAudit(record, at);
    if (attempt === undefined) counts.notShadow += 1;
    else table.record(attempt);
  }
  return undefined;
}

/**
 * The rows of a GET /discovery document; undefined when the content is not one JSON object with
 * a `format` (log lines), a problem when it claims to be one and is not.
 */
function asSnapshot(content: string): readonly DiscoveryRowJson[] | string | undefined {
  const trimmed = content.trim();
  if (!trimmed.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // Several JSON lines: audit lines.
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('format' in parsed)) return undefined;
  const snapshot = SnapshotSchema.safeParse(parsed);
  if (!snapshot.success) {
    const issue = snapshot.error.issues[0];
    return `not a ${DISCOVERY_FORMAT} document: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`;
  }
  return snapshot.data.rows;
}

/** A log line's JSON object, after whatever kubectl put before it; undefined if none. */
function parseLogLine(line: string): Record<string, unknown> | undefined {
  const start = line.indexOf('{');
  if (start === -1) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(start));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isServerHost = (host: string): boolean =>
  host !== '' && normaliseAuthority(host).host === host;
const isPathPrefix = (prefix: string): boolean => /^\/[\x21-\x7e]{0,128}$/.test(prefix);

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

function summary(counts: ReadCounts, servers: number): string {
  return (
    `discover: ${plural(servers, 'unapproved server')} from ` +
    `${plural(counts.snapshots, 'discovery document')} and ` +
    `${plural(counts.lines, 'log line')} (skipped: ${counts.notJson} not JSON, ` +
    `${counts.notDecision} not decision lines, ${counts.notShadow} decisions that were not ` +
    'attempts at unapproved servers)'
  );
}

function listed(names: readonly string[], overflow: number): string {
  const more = overflow > 0 ? ` (+${overflow} not kept)` : '';
  return names.length === 0 ? `none seen${more}` : `${names.map(commentSafe).join(', ')}${more}`;
}

/** The draft document. */
export function toDraftYaml(rows: readonly DiscoveryRowJson[], now: Date): string {
  const out: string[] = [
    `# Draft allowlist entries written by mcp-gate discover at ${now.toISOString()}.`,
    '# Each is a server people tried that no entry approves, most-tried first. Review the server,',
    `# then replace every ${PLACEHOLDER_PREFIX} value: mcp-gate validate refuses them until then.`,
    "# Paste the entries you approve under your allowlist's `approved:`, and stamp each",
    '# (mcp-gate stamp FILE --id ID): an entry without review_sha256 is refused.',
  ];
  if (rows.length === 0) {
    out.push('# Nothing was seen.', 'approved: []');
    return `${out.join('\n')}\n`;
  }
  out.push('approved:');
  const taken = new Set<string>();
  for (const row of rows) {
    const untracked =
      row.max_untracked_attempts > 0 ? ` (up to ${row.max_untracked_attempts} more uncounted)` : '';
    const { deny, would_deny: wouldDeny, allow } = row.outcomes;
    const clients = Object.entries(row.clients)
      .map(([client, n]) => `${commentSafe(client)} ${n}`)
      .join(', ');
    const url = row.path_prefix === '/' ? undefined : `https://${row.host}${row.path_prefix}`;
    const urlOk = url !== undefined && parseEntryUrl(url).ok;
    out.push(
      `  # ${row.host}${row.path_prefix === '/' ? '' : row.path_prefix}: ${plural(row.attempts, 'attempt')}${untracked}` +
        ` (denied ${deny}, dry-run would deny ${wouldDeny}, allowed ${allow})`,
      `  # first seen ${row.first_seen}, last seen ${row.last_seen}`,
      `  # clients: ${clients === '' ? 'none seen' : clients}`,
      `  # methods: ${listed(row.methods, row.methods_overflow)}`,
      `  # tools: ${listed(row.tools, row.tools_overflow)}`,
      `  # protocol revisions: ${listed(row.protocol_versions, row.protocol_versions_overflow)}`,
    );
    if (row.host_only_attempts > 0) {
      out.push(
        `  # ${plural(row.host_only_attempts, 'attempt')} through a tunnel (CONNECT or TLS SNI): only the host was seen`,
      );
    }
    out.push(
      `  - id: ${draftEntryId(row.host, row.path_prefix, taken)}`,
      `    host: ${yamlScalar(row.host)}`,
      '    transport: http',
    );
    if (urlOk) out.push(`    url: ${yamlScalar(url)}`);
    out.push(
      row.tools.length === 0
        ? '    # tools: { allow: [...], deny: [...] }  # absent: every tool'
        : `    # tools: { allow: [${row.tools.map(flowName).join(', ')}] }  # only the tools seen; absent: every tool`,
      ...placeholderReviewLines('    '),
    );
  }
  return `${out.join('\n')}\n`;
}

/** Reads all of stdin (main.ts wires it). */
export function readStdin(): Promise<string> {
  return readStream(process.stdin);
}
