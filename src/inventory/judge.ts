/**
 * check's judgement of a set of inventory reports: every server's verdict (verdict.ts), and what
 * only the whole set shows: servers on several machines, config hashes that changed since the
 * previous reports, and config files whose servers are not fully known. Pure: the policy, the
 * reports and the clock come in, a plain result goes out (check-output.ts prints it).
 */
import type { CompiledPolicy } from '../core/policy/policy.js';
import { looksLikeCredential } from './credentials.js';
import type { ClientId, ConfigScope, InventoryReport, ReportedServer } from './report.js';
import type { Verdict } from './verdict.js';
import { judgeServer, serverKey, VERDICTS } from './verdict.js';

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
