/**
 * `mcp-gate inventory scan | check | schema`: the endpoint inventory (docs/inventory.md).
 * - scan (cli/inventory-scan.ts) prints this machine's report;
 * - check judges reports against the allowlist, with the loader and matching the service uses;
 * - schema prints the report format as JSON Schema.
 * check's exit status: 0 every server approved and every config read, 1 anything not approved
 * or a config file not read completely, 2 usage error or an input that cannot be read (a
 * report or the allowlist), named with FILE[:LINE:COL].
 */
import { readFile } from 'node:fs/promises';
import { loadPolicyForCommand } from '../config/load-policy.js';
import { NO_KNOWN_HOSTS } from '../config/service-config.js';
import { hasFindings, toCheckJson, toCheckText } from '../inventory/check-output.js';
import { parseJsonText } from '../inventory/json-text.js';
import { duplicateReport, judgeReports } from '../inventory/judge.js';
import type { InventoryReport } from '../inventory/report.js';
import { parseReport, reportJsonSchema } from '../inventory/report-schema.js';
import { parseCommandArgs } from './args.js';
import { INVENTORY_SCAN_USAGE, runInventoryScan } from './inventory-scan.js';
import type { CliIo } from './io.js';

export const INVENTORY_CHECK_USAGE = `usage: mcp-gate inventory check REPORT... --allowlist FILE [--previous REPORT]...
                               [--min-machines N] [--json] [--now ISO-DATE]

Judges every server of the REPORTs (written by inventory scan, one per machine and user) against
the allowlist: http and sse servers by the service's host, port and path matching, stdio servers
by their exact command and arguments (allowed_args; "$USER" stands for the report's user).
Expired and re-stamped entries approve nothing. Prints the servers not approved by machine,
the servers on N or more machines (--min-machines, default 2), the config files whose SHA-256
changed since the --previous reports of the same machine and user, and the credential-like
environment variable and header names of servers not approved.
  --json          one JSON document instead of text
  --now DATE      the clock for expiry (e.g. 2027-04-19 or 2027-04-19T08:00:00Z)
Exit status: 0 all approved, 1 anything not approved or a config not read completely,
2 usage error or unreadable input.`;

export const INVENTORY_USAGE = `usage: mcp-gate inventory scan [options]      this machine's MCP client configs, as a JSON report
       mcp-gate inventory check REPORT... --allowlist FILE [options]
                                               judge reports against the allowlist
       mcp-gate inventory schema               the report format as JSON Schema

${INVENTORY_SCAN_USAGE}

${INVENTORY_CHECK_USAGE}`;

/** Runs an inventory subcommand; resolves with the exit code. */
export async function runInventory(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'scan':
      return runInventoryScan(rest, io);
    case 'check':
      return runInventoryCheck(rest, io);
    case 'schema':
      if (rest.length > 0) {
        io.stderr(`inventory schema takes no arguments\n${INVENTORY_USAGE}\n`);
        return 2;
      }
      io.stdout(`${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
      return 0;
    case '--help':
    case '-h':
      io.stdout(`${INVENTORY_USAGE}\n`);
      return 0;
    case undefined:
      io.stderr(`inventory needs a subcommand\n${INVENTORY_USAGE}\n`);
      return 2;
    default:
      io.stderr(`inventory: unknown subcommand ${JSON.stringify(sub)}\n${INVENTORY_USAGE}\n`);
      return 2;
  }
}

/** Runs inventory check; resolves with the exit code. */
export async function runInventoryCheck(
  args: string[],
  io: Pick<CliIo, 'stdout' | 'stderr' | 'now'>,
): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        allowlist: { type: 'string' },
        previous: { type: 'string', multiple: true },
        'min-machines': { type: 'string' },
        json: { type: 'boolean' },
        now: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    },
    INVENTORY_CHECK_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values, positionals } = flags;
  const usage = (message: string): number => {
    io.stderr(`inventory check: ${message}\n${INVENTORY_CHECK_USAGE}\n`);
    return 2;
  };
  if (values.allowlist === undefined) return usage('--allowlist FILE is required');
  if (positionals.length === 0) return usage('give at least one REPORT');
  const minText = values['min-machines'] ?? '2';
  const minMachines = Number(minText);
  if (!/^\d+$/.test(minText) || !Number.isSafeInteger(minMachines) || minMachines < 1) {
    return usage(`--min-machines must be a positive integer, got ${JSON.stringify(minText)}`);
  }
  const now = values.now === undefined ? io.now : new Date(values.now);
  if (Number.isNaN(now.getTime())) return usage(`--now: not an ISO date: ${values.now ?? ''}`);

  const reports = await readReports(positionals, io);
  const previous = await readReports(values.previous ?? [], io);
  if (reports === undefined || previous === undefined) return 2;
  const duplicate = duplicateReport(reports);
  if (duplicate !== undefined) {
    return usage(
      `two reports for ${JSON.stringify(duplicate.host)} user ${JSON.stringify(duplicate.user)}; ` +
        'pass the older one with --previous',
    );
  }

  const loaded = await loadPolicyForCommand(values.allowlist, NO_KNOWN_HOSTS, now);
  if (!loaded.ok) {
    for (const line of loaded.errors) io.stderr(`${line}\n`);
    io.stderr('inventory check: the allowlist is invalid\n');
    return 2;
  }
  const { policy } = loaded;
  const result = judgeReports({ policy, reports, previous, nowMs: now.getTime(), minMachines });
  const allowlist = { path: values.allowlist, version: policy.version, sha256: policy.sha256 };
  io.stdout(
    values.json === true
      ? toCheckJson(result, allowlist, now)
      : toCheckText(result, allowlist, minMachines),
  );
  return hasFindings(result) ? 1 : 0;
}

/** Reads and validates report files; undefined (after saying why) when one is unusable. */
async function readReports(
  files: readonly string[],
  io: Pick<CliIo, 'stderr'>,
): Promise<InventoryReport[] | undefined> {
  const reports: InventoryReport[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err: unknown) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      io.stderr(`${file}: cannot read the report (${code})\n`);
      return undefined;
    }
    const json = parseJsonText(text, false);
    if (!json.ok) {
      io.stderr(`${file}:${json.line}:${json.col} ${json.message}\n`);
      return undefined;
    }
    const parsed = parseReport(json.value);
    if (!parsed.ok) {
      io.stderr(`${file}: ${parsed.message}\n`);
      return undefined;
    }
    reports.push(parsed.report);
  }
  return reports;
}
