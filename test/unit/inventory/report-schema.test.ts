import { expect, test } from 'vitest';
import type { InventoryReport } from '../../../src/inventory/report.js';
import { REPORT_FORMAT } from '../../../src/inventory/report.js';
import { parseReport, reportJsonSchema } from '../../../src/inventory/report-schema.js';

const REPORT: InventoryReport = {
  format: REPORT_FORMAT,
  tool_version: '0.1.0',
  host: 'm1',
  user: 'alice',
  os: { platform: 'darwin', release: '24.1.0', arch: 'arm64' },
  time: '2026-12-01T10:00:00.000Z',
  configs: [
    {
      client: 'cursor',
      scope: 'user',
      path: '/Users/alice/.cursor/mcp.json',
      sha256: 'a'.repeat(64),
      size: 120,
      servers: [
        {
          name: 'gh',
          transport: 'stdio',
          command: 'npx',
          args: ['-y', 'gh-mcp'],
          url: null,
          env: ['GITHUB_TOKEN'],
          headers: [],
          disabled: false,
          project: null,
        },
      ],
      problems: [{ kind: 'unknown_shape', message: 'x', line: null, col: null }],
    },
  ],
};

test('a report reads back as itself', () => {
  expect(parseReport(JSON.parse(JSON.stringify(REPORT)))).toEqual({ ok: true, report: REPORT });
});

test.each([
  ['another format', { ...REPORT, format: 'mcp-gate.inventory/v2' }, /format/],
  ['an unknown key', { ...REPORT, extra: 1 }, /Unrecognized key/],
  [
    'an env value where names belong',
    {
      ...REPORT,
      configs: [
        { ...REPORT.configs[0], servers: [{ ...REPORT.configs[0]?.servers[0], env: { A: 'v' } }] },
      ],
    },
    /configs\.0\.servers\.0\.env/,
  ],
  [
    'a bad hash',
    { ...REPORT, configs: [{ ...REPORT.configs[0], sha256: 'XYZ' }] },
    /configs\.0\.sha256/,
  ],
  [
    'an unknown client',
    { ...REPORT, configs: [{ ...REPORT.configs[0], client: 'emacs' }] },
    /configs\.0\.client/,
  ],
  ['not an object', [REPORT], /not an inventory report/],
])('refused: %s', (_name, value, message) => {
  const parsed = parseReport(value);
  expect(parsed.ok).toBe(false);
  if (!parsed.ok) expect(parsed.message).toMatch(message);
});

test('the JSON Schema requires every top-level field and closes every object', () => {
  const schema = reportJsonSchema() as { required: string[]; additionalProperties: boolean };
  expect(schema.required.sort()).toEqual([
    'configs',
    'format',
    'host',
    'os',
    'time',
    'tool_version',
    'user',
  ]);
  expect(schema.additionalProperties).toBe(false);
});
