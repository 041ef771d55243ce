/**
 * check's judgement of inventory reports against the allowlist. Pure: the policy, the reports
 * and the clock come in, a plain result goes out (check-text.ts prints it).
 *
 * Every reported server gets one verdict (docs/inventory.md, "Matching"):
 * - http and sse servers: the URL is split as the service splits a request (core/normalise.ts:
 *   the authority through normaliseAuthority, the path through normalisePath) and looked up with
 *   the compiled policy's matchRequest, the service's own lookup;
 * - stdio servers: `command` and then each argument compared exactly with a `transport: stdio`
 *   entry's `command` and `allowed_args` (absent = no arguments); `$USER` in either stands for
 *   the report's user name, literally, and nothing else is a pattern;
 * - an entry that matches but expired or lost its review stamp approves nothing, by the rule the
 *   service uses (core/policy/decide.ts serverLevelDenial);
 * - a server whose entry could not be read (`unknown` transport) or whose URL cannot be read
 *   with certainty is `unreadable`, never approved.
 * `default_action: allow` does not approve anything here: it lets unlisted traffic pass, it is
 * not a review (discovery counts the same traffic as shadow MCP).
 */
import { absoluteFormParts, normaliseAuthority, normalisePath } from '../core/normalise.js';
import { serverLevelDenial } from '../core/policy/decide.js';
import type { CompiledEntry, CompiledPolicy } from '../core/policy/policy.js';
import { looksLikeCredential } from './credentials.js';
import type { ClientId, ConfigScope, InventoryReport, ReportedServer } from './report.js';

/** What a server is, as far as the allowlist goes. */
export const VERDICTS = ['approved', 'unapproved', 'expired', 'rotation', 'unreadable'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** The placeholder an allowlist's stdio `command` or `allowed_args` may use for the user name. */
export const USER_PLACEHOLDER = '$USER';

/** `format` of check's JSON output. */
export const CHECK_FORMAT = 'mcp-gate.inventory-check/v1';

/** One server of one report, judged. */
export interface JudgedServer {
  readonly host: string;
  readonly user: string;
  readonly client: ClientId;
  readonly scope: ConfigScope;
  readonly config: string;
  readonly server: ReportedServer;
  /** Identifies the same server across machines (see serverKey). */
  readonly key: string;
  readonly verdict: Verdict;
  /** The entry that matched, if one did. */
  readonly entry: string | null;
  readonly why: string;
  /** Env and header names that look like credentials; only for servers not approved. */
  readonly credentials: readonly string[];
}

/** A server configured on at least `minMachines` machines. */
export interface WidespreadServer {
  readonly key: string;
  readonly machines: readonly string[];
  /** The verdicts it got (they can differ per user, through `$USER`). */
  readonly verdicts: readonly Verdict[];
}

/** A config file whose hash differs from the previous report of the same machine and user. */
export interface ConfigChange {
  readonly host: string;
  readonly user: string;
  readonly path: string;
  readonly change: 'changed' | 'added' | 'removed';
  readonly previous_sha256: string | null;
  readonly sha256: string | null;
  readonly previous_time: string;
}

/** A config file that could not be read completely: its servers are not known to be approved. */
export interface ConfigWithProblems {
  readonly host: string;
  readonly user: string;
  readonly client: ClientId;
  readonly path: string;
  readonly problems: InventoryReport['configs'][number]['problems'];
}

/** Everything check found. */
export interface CheckResult {
  readonly reports: number;
  readonly machines: number;
  readonly servers: readonly JudgedServer[];
  readonly notApproved: readonly JudgedServer[];
  readonly widespread: readonly WidespreadServer[];
  readonly changes: readonly ConfigChange[];
  readonly problems: readonly ConfigWithProblems[];
}

/** What judge needs. */
export interface JudgeInput {
  readonly policy: CompiledPolicy;
  readonly reports: readonly InventoryReport[];
  readonly previous: readonly InventoryReport[];
  readonly nowMs: number;
  readonly minMachines: number;
}

interface Judgement {
  readonly verdict: Verdict;
  readonly entry: CompiledEntry | undefined;
  readonly why: string;
}

/** Judges every server of every report. */
export function judgeReports(input: JudgeInput): CheckResult {
  const servers: JudgedServer[] = [];
  const problems: ConfigWithProblems[] = [];
  for (const report of input.reports) {
    for (const config of report.configs) {
      if (config.problems.length > 0) {
        const { client, path } = config;
        problems.push({
          host: report.host,
          user: report.user,
          client,
          path,
          problems: config.problems,
        });
      }
      for (const server of config.servers) {
        const judged = judgeServer(server, report.user, input.policy, input.nowMs);
        const approved = judged.verdict === 'approved';
        servers.push({
          host: report.host,
          user: report.user,
          client: config.client,
          scope: config.scope,
          config: config.path,
          server,
          key: serverKey(server),
          verdict: judged.verdict,
          entry: judged.entry?.id ?? null,
          why: judged.why,
          credentials: approved
            ? []
            : [...server.env, ...server.headers].filter(looksLikeCredential),
        });
      }
    }
  }
  return {
    reports: input.reports.length,
    machines: new Set(input.reports.map((report) => report.host)).size,
    servers,
    notApproved: servers.filter((judged) => judged.verdict !== 'approved'),
    widespread: widespread(servers, input.minMachines),
    changes: configChanges(input.reports, input.previous),
    problems,
  };
}

/** One server's verdict. */
export function judgeServer(
  server: ReportedServer,
  user: string,
  policy: CompiledPolicy,
  nowMs: number,
): Judgement {
  switch (server.transport) {
    case 'stdio':
      return judgeStdio(server, user, policy, nowMs);
    case 'http':
    case 'sse':
      return judgeUrl(server.url ?? '', policy, nowMs);
    case 'unknown':
      return { verdict: 'unreadable', entry: undefined, why: 'the config entry could not be read' };
  }
}

function withEntry(entry: CompiledEntry, nowMs: number): Judgement {
  const denial = serverLevelDenial(entry, nowMs);
  if (denial === undefined)
    return { verdict: 'approved', entry, why: `approved by entry ${entry.id}` };
  // serverLevelDenial only ever answers the server-level reasons.
  const verdict = denial.reason === 'expired' ? 'expired' : 'rotation';
  return { verdict, entry, why: denial.why };
}

function judgeUrl(url: string, policy: CompiledPolicy, nowMs: number): Judgement {
  const unreadable = (why: string): Judgement => ({ verdict: 'unreadable', entry: undefined, why });
  const parts = absoluteFormParts(url);
  if (parts === undefined) return unreadable(`${JSON.stringify(url)} is not an absolute URL`);
  if (parts.scheme !== 'http' && parts.scheme !== 'https') {
    return unreadable(`the scheme ${JSON.stringify(parts.scheme)} is not http or https`);
  }
  if (parts.authority.includes('@')) {
    return unreadable('the URL carries user info (a credential in the config file)');
  }
  const { host, port } = normaliseAuthority(parts.authority);
  if (host === '') {
    return unreadable(`the host ${JSON.stringify(parts.authority)} cannot be read with certainty`);
  }
  const path = normalisePath(url);
  const entry = policy.matchRequest(host, port, path);
  if (entry === undefined) {
    const where = `${host}${port === undefined ? '' : `:${port}`}${path}`;
    return { verdict: 'unapproved', entry: undefined, why: `no http entry matches ${where}` };
  }
  return withEntry(entry, nowMs);
}

/** `$USER` replaced by the user name; undefined when there is no user name to put there. */
function expandUser(text: string, user: string): string | undefined {
  if (!text.includes(USER_PLACEHOLDER)) return text;
  return user === '' ? undefined : text.split(USER_PLACEHOLDER).join(user);
}

/** Whether a stdio entry approves exactly this command and these arguments. */
export function stdioEntryMatches(
  entry: CompiledEntry,
  command: string,
  args: readonly string[],
  user: string,
): boolean {
  if (entry.transport !== 'stdio' || entry.command === undefined) return false;
  if (expandUser(entry.command, user) !== command) return false;
  const allowed = entry.allowedArgs ?? [];
  return (
    allowed.length === args.length && allowed.every((arg, i) => expandUser(arg, user) === args[i])
  );
}

function judgeStdio(
  server: ReportedServer,
  user: string,
  policy: CompiledPolicy,
  nowMs: number,
): Judgement {
  const command = server.command ?? '';
  const [first, ...others] = policy.entries.filter((entry) =>
    stdioEntryMatches(entry, command, server.args, user),
  );
  if (first === undefined) {
    const sameCommand = policy.entries
      .filter((entry) => entry.transport === 'stdio' && entry.command !== undefined)
      .filter((entry) => expandUser(entry.command ?? '', user) === command)
      .map((entry) => entry.id);
    const hint =
      sameCommand.length === 0
        ? ''
        : ` (entries for this command with other arguments: ${sameCommand.join(', ')})`;
    return {
      verdict: 'unapproved',
      entry: undefined,
      why: `no stdio entry approves this command with these arguments${hint}`,
    };
  }
  // Several entries may approve the same program (per team, say): one in force is enough.
  const judgements = [first, ...others].map((entry) => withEntry(entry, nowMs));
  return judgements.find((judged) => judged.verdict === 'approved') ?? withEntry(first, nowMs);
}

/**
 * What makes two servers on two machines the same: the program and its arguments for stdio, the
 * normalised host, port and path for a URL (a URL that cannot be read: as written).
 */
export function serverKey(server: ReportedServer): string {
  switch (server.transport) {
    case 'stdio':
      return `stdio ${[server.command ?? '', ...server.args].map(shellWord).join(' ')}`;
    case 'http':
    case 'sse': {
      const url = server.url ?? '';
      const parts = absoluteFormParts(url);
      const { host, port } = normaliseAuthority(parts?.authority ?? '');
      if (parts === undefined || host === '') return `${server.transport} ${url}`;
      return `${server.transport} ${host}${port === undefined ? '' : `:${port}`}${normalisePath(url)}`;
    }
    case 'unknown':
      return `unknown ${JSON.stringify(server.name)}`;
  }
}

/** A word as a shell would need it to be one word; plain words stay as they are. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : JSON.stringify(word);
}

function widespread(servers: readonly JudgedServer[], minMachines: number): WidespreadServer[] {
  const byKey = new Map<string, { machines: Set<string>; verdicts: Set<Verdict> }>();
  for (const judged of servers) {
    const seen = byKey.get(judged.key) ?? { machines: new Set(), verdicts: new Set() };
    seen.machines.add(judged.host);
    seen.verdicts.add(judged.verdict);
    byKey.set(judged.key, seen);
  }
  return [...byKey]
    .filter(([, seen]) => seen.machines.size >= minMachines)
    .map(([key, seen]) => ({
      key,
      machines: [...seen.machines].sort(),
      verdicts: VERDICTS.filter((verdict) => seen.verdicts.has(verdict)),
    }))
    .sort((a, b) => b.machines.length - a.machines.length || (a.key < b.key ? -1 : 1));
}

const reportId = (report: InventoryReport): string => `${report.host}\0${report.user}`;

/** Two reports in one set for the same machine and user, or undefined. */
export function duplicateReport(
  reports: readonly InventoryReport[],
): { host: string; user: string } | undefined {
  const seen = new Set<string>();
  for (const report of reports) {
    const id = reportId(report);
    if (seen.has(id)) return { host: report.host, user: report.user };
    seen.add(id);
  }
  return undefined;
}

/** Config hashes that differ from the latest previous report of the same machine and user. */
function configChanges(
  reports: readonly InventoryReport[],
  previous: readonly InventoryReport[],
): ConfigChange[] {
  const latest = new Map<string, InventoryReport>();
  for (const report of previous) {
    const id = reportId(report);
    const known = latest.get(id);
    if (known === undefined || Date.parse(report.time) > Date.parse(known.time))
      latest.set(id, report);
  }
  const changes: ConfigChange[] = [];
  for (const report of reports) {
    const before = latest.get(reportId(report));
    if (before === undefined) continue;
    const { host, user } = report;
    const at = { host, user, previous_time: before.time };
    const old = new Map(before.configs.map((config) => [config.path, config.sha256]));
    const now = new Set<string>();
    for (const config of report.configs) {
      now.add(config.path);
      if (!old.has(config.path)) {
        changes.push({
          ...at,
          path: config.path,
          change: 'added',
          previous_sha256: null,
          sha256: config.sha256,
        });
      } else if (old.get(config.path) !== config.sha256) {
        const previousSha = old.get(config.path) ?? null;
        changes.push({
          ...at,
          path: config.path,
          change: 'changed',
          previous_sha256: previousSha,
          sha256: config.sha256,
        });
      }
    }
    for (const [path, sha256] of old) {
      if (!now.has(path))
        changes.push({ ...at, path, change: 'removed', previous_sha256: sha256, sha256: null });
    }
  }
  return changes;
}
