/**
 * check's two outputs of one CheckResult (judge.ts): JSON for machines (`--json`), and text for
 * people. Both list the same findings. Values taken from reports (names, arguments, paths) are
 * printed with every control, format and line-separator character escaped, so a server name
 * cannot move the terminal's cursor or fake a line of the output. Pure.
 */
import type { CheckResult, JudgedServer } from './judge.js';
import { CHECK_FORMAT } from './judge.js';

/** The allowlist the reports were judged against. */
export interface AllowlistSummary {
  readonly path: string;
  readonly version: string;
  readonly sha256: string;
}

/** Whether check exits 1: a server not approved, or a config not read completely. */
export function hasFindings(result: CheckResult): boolean {
  return result.notApproved.length > 0 || result.problems.length > 0;
}

function summary(result: CheckResult) {
  return {
    servers: result.servers.length,
    approved: result.servers.length - result.notApproved.length,
    not_approved: result.notApproved.length,
    configs_with_problems: result.problems.length,
    config_changes: result.changes.length,
  };
}

/** `--json`: one document. */
export function toCheckJson(result: CheckResult, allowlist: AllowlistSummary, now: Date): string {
  const doc = {
    format: CHECK_FORMAT,
    time: now.toISOString(),
    allowlist,
    reports: result.reports,
    machines: result.machines,
    summary: summary(result),
    servers: result.servers.map((judged) => ({
      host: judged.host,
      user: judged.user,
      client: judged.client,
      scope: judged.scope,
      config: judged.config,
      ...judged.server,
      key: judged.key,
      verdict: judged.verdict,
      entry: judged.entry,
      why: judged.why,
      credentials: judged.credentials,
    })),
    widespread: result.widespread.map((server) => ({ ...server, count: server.machines.length })),
    config_changes: result.changes,
    config_problems: result.problems,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** A value from a report, safe to print: escapes for control and format characters. */
export function shown(text: string): string {
  return text.replace(
    /[\p{Cc}\p{Cf}\u2028\u2029]/gu,
    (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

const short = (sha: string | null): string => (sha === null ? 'unread' : `${sha.slice(0, 12)}…`);

function machineLabel(host: string, user: string): string {
  return `${shown(host)} (${user === '' ? 'unknown user' : shown(user)})`;
}

/** The text output. */
export function toCheckText(
  result: CheckResult,
  allowlist: AllowlistSummary,
  minMachines: number,
): string {
  const counts = summary(result);
  const lines = [
    `mcp-gate inventory check: ${plural(result.reports, 'report')} from ` +
      `${plural(result.machines, 'machine')}, allowlist ${shown(allowlist.path)} ` +
      `(version ${shown(allowlist.version)}, sha256 ${short(allowlist.sha256)})`,
    `${plural(counts.servers, 'server')}: ${counts.approved} approved, ${counts.not_approved} not approved; ` +
      `${plural(counts.configs_with_problems, 'config file')} not read completely; ` +
      `${plural(counts.config_changes, 'config change')} since the previous reports`,
  ];

  lines.push('', 'Not approved, by machine:');
  if (result.notApproved.length === 0) lines.push('  none');
  const byMachine = new Map<string, JudgedServer[]>();
  for (const judged of result.notApproved) {
    const label = machineLabel(judged.host, judged.user);
    byMachine.set(label, [...(byMachine.get(label) ?? []), judged]);
  }
  for (const [label, servers] of byMachine) {
    lines.push(`  ${label}`);
    for (const judged of servers) {
      const { server } = judged;
      const off = server.disabled ? ', disabled' : '';
      lines.push(
        `    ${judged.client} ${shown(judged.config)}: ${shown(server.name)} [${server.transport}${off}] ` +
          shown(server.url ?? judged.key.slice(judged.key.indexOf(' ') + 1)),
        `      ${judged.verdict}: ${shown(judged.why)}`,
      );
      if (judged.credentials.length > 0) {
        lines.push(`      credential-like names: ${judged.credentials.map(shown).join(', ')}`);
      }
    }
  }

  lines.push('', `On ${minMachines} or more machines:`);
  if (result.widespread.length === 0) lines.push('  none');
  for (const server of result.widespread) {
    lines.push(
      `  ${server.machines.length} machines  ${shown(server.key)}  (${server.verdicts.join(', ')})`,
    );
  }

  if (result.changes.length > 0) {
    lines.push('', 'Config changes since the previous reports:');
    for (const change of result.changes) {
      lines.push(
        `  ${machineLabel(change.host, change.user)} ${shown(change.path)}: ${change.change} ` +
          `(${short(change.previous_sha256)} → ${short(change.sha256)}; previous report ${change.previous_time})`,
      );
    }
  }

  if (result.problems.length > 0) {
    lines.push(
      '',
      'Config files not read completely (their servers are not known to be approved):',
    );
    for (const config of result.problems) {
      for (const problem of config.problems) {
        const at = problem.line === null ? '' : `:${problem.line}:${problem.col ?? 1}`;
        lines.push(
          `  ${machineLabel(config.host, config.user)} ${shown(config.path)}${at}: ${problem.kind}: ${shown(problem.message)}`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
