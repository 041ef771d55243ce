import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { LocationRoots } from '../../../src/inventory/locations.js';
import {
  CLAUDE_CODE_MAX_BYTES,
  configLocations,
  DEFAULT_MAX_BYTES,
} from '../../../src/inventory/locations.js';

const HOME = path.join(path.sep, 'h', 'alice');
const roots = (fields: Partial<LocationRoots>): LocationRoots => ({
  platform: 'linux',
  home: HOME,
  appdata: undefined,
  projects: [],
  env: {},
  ...fields,
});
const paths = (fields: Partial<LocationRoots>): string[] =>
  configLocations(roots(fields)).map((location) => path.relative(HOME, location.path));
const j = (...parts: string[]): string => path.join(...parts);

describe('configLocations', () => {
  test('macOS: Application Support for Claude, VS Code, Cline, Roo; ~/.config/zed for Zed', () => {
    expect(paths({ platform: 'darwin' })).toEqual([
      j('Library', 'Application Support', 'Claude', 'claude_desktop_config.json'),
      '.claude.json',
      j('.cursor', 'mcp.json'),
      j('Library', 'Application Support', 'Code', 'User', 'mcp.json'),
      j('Library', 'Application Support', 'Code', 'User', 'settings.json'),
      j('.codeium', 'windsurf', 'mcp_config.json'),
      j('.gemini', 'settings.json'),
      j('.config', 'zed', 'settings.json'),
      j(
        'Library',
        'Application Support',
        'Code',
        'User',
        'globalStorage',
        'saoudrizwan.claude-dev',
        'settings',
        'cline_mcp_settings.json',
      ),
      j(
        'Library',
        'Application Support',
        'Code',
        'User',
        'globalStorage',
        'rooveterinaryinc.roo-cline',
        'settings',
        'mcp_settings.json',
      ),
      j('.codex', 'config.toml'),
      j('.copilot', 'mcp-config.json'),
    ]);
  });

  test('Windows: %APPDATA% from the environment, else AppData\\Roaming; Zed under Zed\\', () => {
    const appdata = j(HOME, 'Roam');
    const fromEnv = configLocations(roots({ platform: 'win32', env: { APPDATA: appdata } }));
    expect(fromEnv[0]?.path).toBe(j(appdata, 'Claude', 'claude_desktop_config.json'));
    expect(fromEnv.find((l) => l.client === 'zed')?.path).toBe(j(appdata, 'Zed', 'settings.json'));
    expect(paths({ platform: 'win32' })[0]).toBe(
      j('AppData', 'Roaming', 'Claude', 'claude_desktop_config.json'),
    );
  });

  test('Linux: $XDG_CONFIG_HOME when absolute, else ~/.config', () => {
    const xdg = j(HOME, 'xdg');
    expect(configLocations(roots({ env: { XDG_CONFIG_HOME: xdg } }))[0]?.path).toBe(
      j(xdg, 'Claude', 'claude_desktop_config.json'),
    );
    expect(paths({ env: { XDG_CONFIG_HOME: 'relative' } })[0]).toBe(
      j('.config', 'Claude', 'claude_desktop_config.json'),
    );
    expect(paths({}).filter((p) => p.includes('zed'))).toEqual([
      j('.config', 'zed', 'settings.json'),
    ]);
  });

  test('--appdata replaces the platform folder on every platform', () => {
    const appdata = j(HOME, 'ad');
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      expect(configLocations(roots({ platform, appdata }))[0]?.path).toBe(
        j(appdata, 'Claude', 'claude_desktop_config.json'),
      );
    }
  });

  test('each project adds its files, scope project, after the user files', () => {
    const project = j(HOME, 'src', 'app');
    const found = configLocations(roots({ projects: [project] })).filter(
      (l) => l.scope === 'project',
    );
    expect(found.map((l) => [l.client, path.relative(project, l.path)])).toEqual([
      ['claude-code', '.mcp.json'],
      ['cursor', j('.cursor', 'mcp.json')],
      ['vscode', j('.vscode', 'mcp.json')],
      ['vscode', j('.vscode', 'settings.json')],
      ['gemini-cli', j('.gemini', 'settings.json')],
      ['zed', j('.zed', 'settings.json')],
      ['roo-code', j('.roo', 'mcp.json')],
      ['codex', j('.codex', 'config.toml')],
    ]);
  });

  test('size caps: 1 MiB, 16 MiB for ~/.claude.json', () => {
    const found = configLocations(roots({}));
    expect(found.find((l) => l.path.endsWith('.claude.json'))?.maxBytes).toBe(
      CLAUDE_CODE_MAX_BYTES,
    );
    expect(found.filter((l) => l.maxBytes === DEFAULT_MAX_BYTES)).toHaveLength(found.length - 1);
  });
});
