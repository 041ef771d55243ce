import { expect, test } from 'vitest';
import {
  hasFindings,
  shown,
  toCheckJson,
  toCheckText,
} from '../../../src/inventory/check-output.js';
import type { CheckResult, JudgedServer } from '../../../src/inventory/judge.js';

const ALLOWLIST = { path: 'allowlist.yaml', version: 'v1', sha256: 'f'.repeat(64) };

const judged = (name: string): JudgedServer => ({
  host: 'm1',
  user: 'alice',
  client: 'cursor',
  scope: 'user',
  config: '/h/.cursor/mcp.json',
  server: {
    name,
    transport: 'stdio',
    command: 'npx',
    args: ['x'],
    url: null,
    env: ['API_TOKEN'],
    headers: [],
    disabled: true,
    project: null,
  },
  key: 'stdio npx x',
  verdict: 'unapproved',
  entry: null,
  why: 'no stdio entry approves this command with these arguments',
  credentials: ['API_TOKEN'],
});

const result = (servers: JudgedServer[]): CheckResult => ({
  reports: 1,
  machines: 1,
  servers,
  notApproved: servers.filter((s) => s.verdict !== 'approved'),
  widespread: [],
  changes: [],
  problems: [],
});

test('shown escapes control, format and line-separator characters, and nothing else', () => {
  expect(shown('plain name-1 é 😀')).toBe('plain name-1 é 😀');
  expect(shown('a\u001b[2Jb\nc\u202ed\u2028')).toBe('a\\u001b[2Jb\\u000ac\\u202ed\\u2028');
});

test('a server name cannot write its own line or move the cursor in the text output', () => {
  const text = toCheckText(result([judged('evil\n  m2 (root)\u001b[1A')]), ALLOWLIST, 2);
  expect(text).not.toContain('\u001b');
  expect(text.split('\n').filter((line) => line.startsWith('  m2'))).toEqual([]);
  expect(text).toContain('evil\\u000a  m2 (root)\\u001b[1A [stdio, disabled] npx x');
  expect(text).toContain('      credential-like names: API_TOKEN');
});

test('nothing to report: the lists say none, and there are no findings', () => {
  const clean = result([]);
  expect(hasFindings(clean)).toBe(false);
  expect(toCheckText(clean, ALLOWLIST, 3)).toContain(
    'Not approved, by machine:\n  none\n\nOn 3 or more machines:\n  none\n',
  );
  expect(hasFindings(result([judged('a')]))).toBe(true);
});

test('the JSON output carries every server with its verdict and a summary', () => {
  const doc = JSON.parse(
    toCheckJson(result([judged('a')]), ALLOWLIST, new Date('2026-12-01T00:00:00Z')),
  );
  expect(doc).toMatchObject({
    format: 'mcp-gate.inventory-check/v1',
    time: '2026-12-01T00:00:00.000Z',
    allowlist: ALLOWLIST,
    summary: {
      servers: 1,
      approved: 0,
      not_approved: 1,
      configs_with_problems: 0,
      config_changes: 0,
    },
    servers: [
      { host: 'm1', name: 'a', verdict: 'unapproved', credentials: ['API_TOKEN'], disabled: true },
    ],
  });
});
