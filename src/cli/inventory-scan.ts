/**
 * `mcp-gate inventory scan`: reads the MCP client configs of this machine's user and prints the
 * inventory report (src/inventory/report.ts) as JSON on stdout.
 *
 * Kept apart from the rest of `inventory` so that its module graph is Node built-ins and our own
 * files only: src/inventory-scan.ts runs it from dist/ without node_modules, which is what an
 * MDM tool ships to endpoints. Exit status: 0 (problems with config files are part of the
 * report, not failures of the scan), 2 usage error.
 */
import os from 'node:os';
import path from 'node:path';
import type { Platform } from '../inventory/report.js';
import { PLATFORMS } from '../inventory/report.js';
import { scanInventory } from '../inventory/scan.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';
import { packageVersion } from './version.js';

export const INVENTORY_SCAN_USAGE = `usage: mcp-gate inventory scan [--home DIR] [--appdata DIR] [--platform darwin|win32|linux]
                              [--project DIR]... [--host NAME] [--user NAME]

Prints the inventory report (JSON) of the MCP servers configured for this user: Claude Desktop,
Claude Code, Cursor, VS Code, Windsurf, Gemini CLI, Zed, Cline, Roo Code, Codex, Copilot CLI
(locations: docs/inventory.md). Environment variables and headers are listed by name, never
by value. A config file that cannot be read or understood is reported with its problem.
  --home DIR       the home folder (default: this user's); the environment is then not used
  --appdata DIR    the per-user application data folder (default: %APPDATA% on Windows,
                   ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or ~/.config on Linux)
  --platform P     whose locations to read (default: this machine's)
  --project DIR    also read that project's config files (.mcp.json, .cursor/, .vscode/...); repeatable
  --host NAME      the machine name written into the report (default: the host name)
  --user NAME      the user name written into the report (default: the login name)
Exit status: 0 report printed, 2 usage error.`;

/** The parts of CliIo scan uses. */
export type InventoryScanIo = Pick<CliIo, 'stdout' | 'stderr' | 'now' | 'env'>;

const isPlatform = (value: string): value is Platform =>
  (PLATFORMS as readonly string[]).includes(value);

/** Runs inventory scan; resolves with the exit code. */
export async function runInventoryScan(args: string[], io: InventoryScanIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        home: { type: 'string' },
        appdata: { type: 'string' },
        platform: { type: 'string' },
        project: { type: 'string', multiple: true },
        host: { type: 'string' },
        user: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    },
    INVENTORY_SCAN_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values } = flags;
  const platform = values.platform ?? process.platform;
  if (!isPlatform(platform)) {
    io.stderr(
      `inventory scan: --platform must be one of ${PLATFORMS.join(', ')}, got ${JSON.stringify(platform)}\n`,
    );
    return 2;
  }
  for (const name of ['home', 'appdata', 'host'] as const) {
    if (values[name] === '') {
      io.stderr(`inventory scan: --${name} must not be empty\n`);
      return 2;
    }
  }
  if ((values.project ?? []).includes('')) {
    io.stderr('inventory scan: --project must not be empty\n');
    return 2;
  }

  const projects = [...new Set((values.project ?? []).map((dir) => path.resolve(dir)))];
  const report = await scanInventory({
    roots: {
      platform,
      home: path.resolve(values.home ?? os.homedir()),
      appdata: values.appdata === undefined ? undefined : path.resolve(values.appdata),
      projects,
      env: values.home === undefined ? io.env : {},
    },
    host: values.host ?? os.hostname(),
    user: values.user ?? loginName(io.env),
    release: os.release(),
    arch: process.arch,
    time: io.now,
    toolVersion: toolVersion(),
  });
  const servers = report.configs.reduce((n, config) => n + config.servers.length, 0);
  const troubled = report.configs.filter((config) => config.problems.length > 0).length;
  io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  io.stderr(
    `inventory scan: ${report.configs.length} config files, ${servers} servers, ` +
      `${troubled} files with problems\n`,
  );
  return 0;
}

/** The package version; "unknown" when an endpoint copy was shipped without package.json. */
function toolVersion(): string {
  try {
    return packageVersion();
  } catch {
    return 'unknown';
  }
}

/** The login name; the environment's when the system has no entry for the user (containers). */
function loginName(env: InventoryScanIo['env']): string {
  try {
    return os.userInfo().username;
  } catch {
    return env['USER'] ?? env['USERNAME'] ?? '';
  }
}
