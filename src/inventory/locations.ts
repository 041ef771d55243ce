/**
 * Where each MCP client keeps its server list, per platform, and in which shape: the table
 * docs/inventory.md restates with the source of each row. A location that does not exist is
 * simply not in the report; one that exists is read and reported, problems included.
 *
 * Paths are built from three roots, so tests (and odd machines) can point the scan anywhere:
 * - home: the user's home folder (`--home`, default os.homedir());
 * - appdata: the per-user application data folder: %APPDATA% on Windows (default
 *   HOME\AppData\Roaming), ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or ~/.config
 *   on Linux (`--appdata` overrides it on every platform; with `--home` given, the environment
 *   is not consulted);
 * - project: each `--project` folder.
 * Joined with the path rules of the machine the scan runs on. Pure.
 */
import path from 'node:path';
import type { ClientId, ConfigScope, Platform } from './report.js';

/** How a file's MCP servers are laid out (servers.ts reads each). */
export type ConfigShape =
  /** `{"mcpServers": {name: entry}}`, `url` entries are Streamable HTTP unless `type` says. */
  | 'mcp-servers'
  /** ~/.claude.json: `mcpServers`, and `projects.<folder>.mcpServers`. */
  | 'claude-code-user'
  /** `mcpServers` with `httpUrl` (Streamable HTTP) and `url` (SSE). */
  | 'gemini'
  /** `mcpServers` with `serverUrl` (or `url`) for remote servers. */
  | 'windsurf'
  /** VS Code's mcp.json: `{"servers": {name: entry}}`. */
  | 'vscode-mcp'
  /** VS Code's settings.json: `{"mcp": {"servers": {...}}}`. */
  | 'vscode-settings'
  /** Zed's settings.json: `{"context_servers": {...}}`. */
  | 'zed'
  /** Codex's config.toml: `[mcp_servers.<name>]` tables. */
  | 'codex';

/** How the file is written. */
export type ConfigSyntax = 'json' | 'jsonc' | 'toml';

/** 1 MiB: far above any real MCP config; larger files are reported, not read. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
/**
 * ~/.claude.json also holds Claude Code's per-project state and history, and grows with use;
 * 16 MiB keeps it readable on busy machines.
 */
export const CLAUDE_CODE_MAX_BYTES = 16 * 1024 * 1024;

interface LocationRow {
  readonly client: ClientId;
  readonly base: 'home' | 'appdata' | 'project';
  readonly segments: readonly string[];
  readonly shape: ConfigShape;
  readonly syntax: ConfigSyntax;
  /** The platforms the row applies to; every platform when absent. */
  readonly platforms?: readonly Platform[];
  readonly maxBytes?: number;
}

const VSCODE_USER = ['Code', 'User'];

/** The locations, in report order: user files first, then each project's. */
export const LOCATION_ROWS: readonly LocationRow[] = [
  {
    client: 'claude-desktop',
    base: 'appdata',
    segments: ['Claude', 'claude_desktop_config.json'],
    shape: 'mcp-servers',
    syntax: 'json',
  },
  {
    client: 'claude-code',
    base: 'home',
    segments: ['.claude.json'],
    shape: 'claude-code-user',
    syntax: 'json',
    maxBytes: CLAUDE_CODE_MAX_BYTES,
  },
  {
    client: 'cursor',
    base: 'home',
    segments: ['.cursor', 'mcp.json'],
    shape: 'mcp-servers',
    syntax: 'json',
  },
  {
    client: 'vscode',
    base: 'appdata',
    segments: [...VSCODE_USER, 'mcp.json'],
    shape: 'vscode-mcp',
    syntax: 'jsonc',
  },
  {
    client: 'vscode',
    base: 'appdata',
    segments: [...VSCODE_USER, 'settings.json'],
    shape: 'vscode-settings',
    syntax: 'jsonc',
  },
  {
    client: 'windsurf',
    base: 'home',
    segments: ['.codeium', 'windsurf', 'mcp_config.json'],
    shape: 'windsurf',
    syntax: 'json',
  },
  {
    client: 'gemini-cli',
    base: 'home',
    segments: ['.gemini', 'settings.json'],
    shape: 'gemini',
    syntax: 'jsonc',
  },
  {
    client: 'zed',
    base: 'home',
    segments: ['.config', 'zed', 'settings.json'],
    shape: 'zed',
    syntax: 'jsonc',
    platforms: ['darwin'],
  },
  {
    client: 'zed',
    base: 'appdata',
    segments: ['zed', 'settings.json'],
    shape: 'zed',
    syntax: 'jsonc',
    platforms: ['linux'],
  },
  {
    client: 'zed',
    base: 'appdata',
    segments: ['Zed', 'settings.json'],
    shape: 'zed',
    syntax: 'jsonc',
    platforms: ['win32'],
  },
  {
    client: 'cline',
    base: 'appdata',
    segments: [
      ...VSCODE_USER,
      'globalStorage',
      'saoudrizwan.claude-dev',
      'settings',
      'cline_mcp_settings.json',
    ],
    shape: 'mcp-servers',
    syntax: 'json',
  },
  {
    client: 'roo-code',
    base: 'appdata',
    segments: [
      ...VSCODE_USER,
      'globalStorage',
      'rooveterinaryinc.roo-cline',
      'settings',
      'mcp_settings.json',
    ],
    shape: 'mcp-servers',
    syntax: 'json',
  },
  {
    client: 'codex',
    base: 'home',
    segments: ['.codex', 'config.toml'],
    shape: 'codex',
    syntax: 'toml',
  },
  {
    client: 'copilot-cli',
    base: 'home',
    segments: ['.copilot', 'mcp-config.json'],
    shape: 'mcp-servers',
    syntax: 'json',
  },
  {
    client: 'claude-code',
    base: 'project',
    segments: ['.mcp.json'],
    shape: 'mcp-servers',
    syntax: 'json',
  },
  {
    client: 'cursor',
    base: 'project',
    segments: ['.cursor', 'mcp.json'],
    shape: 'mcp-servers',
    syntax: 'json',
  },
  {
    client: 'vscode',
    base: 'project',
    segments: ['.vscode', 'mcp.json'],
    shape: 'vscode-mcp',
    syntax: 'jsonc',
  },
  {
    client: 'vscode',
    base: 'project',
    segments: ['.vscode', 'settings.json'],
    shape: 'vscode-settings',
    syntax: 'jsonc',
  },
  {
    client: 'gemini-cli',
    base: 'project',
    segments: ['.gemini', 'settings.json'],
    shape: 'gemini',
    syntax: 'jsonc',
  },
  {
    client: 'zed',
    base: 'project',
    segments: ['.zed', 'settings.json'],
    shape: 'zed',
    syntax: 'jsonc',
  },
  {
    client: 'roo-code',
    base: 'project',
    segments: ['.roo', 'mcp.json'],
    shape: 'mcp-servers',
    syntax: 'json',
  },
  {
    client: 'codex',
    base: 'project',
    segments: ['.codex', 'config.toml'],
    shape: 'codex',
    syntax: 'toml',
  },
];

/** One file to look at. */
export interface ConfigLocation {
  readonly client: ClientId;
  readonly scope: ConfigScope;
  readonly path: string;
  readonly shape: ConfigShape;
  readonly syntax: ConfigSyntax;
  readonly maxBytes: number;
}

/** What the roots are built from. */
export interface LocationRoots {
  readonly platform: Platform;
  readonly home: string;
  /** `--appdata`; undefined for the platform's default. */
  readonly appdata: string | undefined;
  /** `--project` folders, in the order given. */
  readonly projects: readonly string[];
  /**
   * APPDATA (Windows) and XDG_CONFIG_HOME (Linux), or an empty object when `--home` was given:
   * a home folder named on the command line is not mixed with this machine's environment.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The per-user application data folder (see the module comment). */
export function appdataRoot(roots: LocationRoots): string {
  if (roots.appdata !== undefined) return roots.appdata;
  const fromEnv = (name: string): string | undefined => {
    const value = roots.env[name];
    return value !== undefined && path.isAbsolute(value) ? value : undefined;
  };
  switch (roots.platform) {
    case 'win32':
      return fromEnv('APPDATA') ?? path.join(roots.home, 'AppData', 'Roaming');
    case 'darwin':
      return path.join(roots.home, 'Library', 'Application Support');
    case 'linux':
      return fromEnv('XDG_CONFIG_HOME') ?? path.join(roots.home, '.config');
  }
}

/** Every location to look at for these roots, in report order. */
export function configLocations(roots: LocationRoots): ConfigLocation[] {
  const appdata = appdataRoot(roots);
  const out: ConfigLocation[] = [];
  const add = (row: LocationRow, scope: ConfigScope, root: string): void => {
    out.push({
      client: row.client,
      scope,
      path: path.join(root, ...row.segments),
      shape: row.shape,
      syntax: row.syntax,
      maxBytes: row.maxBytes ?? DEFAULT_MAX_BYTES,
    });
  };
  for (const row of LOCATION_ROWS) {
    if (row.base === 'project') continue;
    if (row.platforms !== undefined && !row.platforms.includes(roots.platform)) continue;
    add(row, 'user', row.base === 'home' ? roots.home : appdata);
  }
  for (const project of roots.projects) {
    for (const row of LOCATION_ROWS) {
      if (row.base === 'project') add(row, 'project', project);
    }
  }
  return out;
}
