import { describe, expect, test } from 'vitest';
import { duplicateReport, judgeReports } from '../../../src/inventory/judge.js';
import type {
  ConfigReport,
  InventoryReport,
  ReportedServer,
} from '../../../src/inventory/report.js';
import { REPORT_FORMAT } from '../../../src/inventory/report.js';
import * as fixture from '../../helpers/inventory.js';

const {
  INVENTORY_NOW: NOW,
  INVENTORY_POLICY: policy,
  stdioServer: stdio,
  urlServer: http,
} = fixture;

const config = (path: string, servers: ReportedServer[], sha = 'a'.repeat(64)): ConfigReport => ({
  client: 'cursor',
  scope: 'user',
  path,
  sha256: sha,
  size: 10,
  servers,
  problems: [],
});
const report = (
  host: string,
  user: string,
  configs: ConfigReport[],
  time = '2026-12-01T10:00:00.000Z',
): InventoryReport => ({
  format: REPORT_FORMAT,
  tool_version: '0.1.0',
  host,
  user,
  os: { platform: 'linux', release: '6', arch: 'x64' },
  time,
  configs,
});

describe('judgeReports', () => {
  const shadow = {
    ...stdio('npx', '-y', 'shadow-mcp'),
    env: ['SHADOW_API_KEY', 'LOG_LEVEL'],
    headers: [],
  };
  const approvedWithSecret = {
    ...stdio('/opt/acme/bin/postgres-mcp', '--readonly', '--database=analytics'),
    env: ['PGPASSWORD'],
  };

  test('servers on at least N machines, counted by machine, with their verdicts', () => {
    const reports = [
      report('m1', 'alice', [
        config('/h/a/.cursor/mcp.json', [shadow, http('https://mcp.linear.app/sse')]),
      ]),
      report('m2', 'bob', [
        config('/h/b/.cursor/mcp.json', [shadow, http('https://MCP.linear.app/sse')]),
      ]),
      // Two users of one machine are one machine.
      report('m2', 'carol', [config('/h/c/.cursor/mcp.json', [shadow])]),
      report('m3', 'dave', [config('/h/d/.cursor/mcp.json', [http('https://mcp.linear.app/mcp')])]),
    ];
    const result = judgeReports({
      policy,
      reports,
      previous: [],
      nowMs: NOW.getTime(),
      minMachines: 2,
    });
    expect(result.machines).toBe(3);
    expect(result.widespread).toEqual([
      { key: 'http mcp.linear.app/sse', machines: ['m1', 'm2'], verdicts: ['approved'] },
      { key: 'stdio npx -y shadow-mcp', machines: ['m1', 'm2'], verdicts: ['unapproved'] },
    ]);
    const three = judgeReports({
      policy,
      reports,
      previous: [],
      nowMs: NOW.getTime(),
      minMachines: 3,
    });
    expect(three.widespread).toEqual([]);
  });

  test('credential-like names are listed for servers not approved, and only for them', () => {
    const result = judgeReports({
      policy,
      reports: [report('m1', 'alice', [config('/c.json', [shadow, approvedWithSecret])])],
      previous: [],
      nowMs: NOW.getTime(),
      minMachines: 2,
    });
    expect(result.servers.map((s) => [s.verdict, s.credentials])).toEqual([
      ['unapproved', ['SHADOW_API_KEY']],
      ['approved', []],
    ]);
    expect(result.notApproved).toHaveLength(1);
  });

  test('config hashes against the latest previous report of the same machine and user', () => {
    const current = [
      report('m1', 'alice', [config('/a', [], 'b'.repeat(64)), config('/new', [])]),
      report('m2', 'bob', [config('/x', [])]),
    ];
    const previous = [
      report('m1', 'alice', [config('/a', [], 'c'.repeat(64))], '2026-11-01T00:00:00.000Z'),
      report(
        'm1',
        'alice',
        [config('/a', [], 'd'.repeat(64)), config('/gone', [])],
        '2026-11-20T00:00:00.000Z',
      ),
      report('m1', 'zoe', [config('/a', [], 'e'.repeat(64))], '2026-11-20T00:00:00.000Z'),
    ];
    const result = judgeReports({
      policy,
      reports: current,
      previous,
      nowMs: NOW.getTime(),
      minMachines: 2,
    });
    const at = { host: 'm1', user: 'alice', previous_time: '2026-11-20T00:00:00.000Z' };
    expect(result.changes).toEqual([
      {
        ...at,
        path: '/a',
        change: 'changed',
        previous_sha256: 'd'.repeat(64),
        sha256: 'b'.repeat(64),
      },
      { ...at, path: '/new', change: 'added', previous_sha256: null, sha256: 'a'.repeat(64) },
      { ...at, path: '/gone', change: 'removed', previous_sha256: 'a'.repeat(64), sha256: null },
    ]);
  });

  test('configs with problems are listed', () => {
    const broken: ConfigReport = {
      ...config('/bad.json', []),
      sha256: null,
      problems: [{ kind: 'malformed', message: 'not valid JSON', line: 1, col: 2 }],
    };
    const result = judgeReports({
      policy,
      reports: [report('m1', 'alice', [broken])],
      previous: [],
      nowMs: NOW.getTime(),
      minMachines: 2,
    });
    expect(result.problems).toEqual([
      { host: 'm1', user: 'alice', client: 'cursor', path: '/bad.json', problems: broken.problems },
    ]);
  });

  test('duplicateReport finds two reports of one machine and user', () => {
    expect(duplicateReport([report('m1', 'a', []), report('m1', 'b', [])])).toBeUndefined();
    expect(duplicateReport([report('m1', 'a', []), report('m1', 'a', [])])).toEqual({
      host: 'm1',
      user: 'a',
    });
  });
});
