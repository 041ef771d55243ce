import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { runDiscover } from '../../../src/cli/discover.js';
import { runValidate } from '../../../src/cli/validate.js';
import { DiscoveryTable } from '../../../src/discovery/table.js';
import { REVIEW_URL } from '../../helpers/github-allowlist.js';
import { stamped } from '../../helpers/stamped.js';
import { runCommand } from '../../helpers/run-command.js';
import type { CommandRun } from '../../helpers/run-command.js';

const NOW = new Date('2026-12-03T12:00:00Z');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-discover-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function discover(args: string[], stdin = ''): Promise<CommandRun> {
  return runCommand(runDiscover, args, { now: NOW, stdin: () => Promise.resolve(stdin) });
}

async function validate(text: string) {
  const file = path.join(dir, `allowlist-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, text);
  let stdout = '';
  let stderr = '';
  const code = await runValidate([file], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    now: NOW,
  });
  return { code, stdout, stderr };
}

/** An audit line as the service writes it (field names of src/telemetry/logger.ts auditRecord). */
function auditLine(fields: Record<string, unknown>): string {
  return JSON.stringify({
    level: 'info',
    time: '2026-12-01T10:00:00.000Z',
    decision_id: 'bqqduvzgzakyspwkrfvf',
    decision: 'deny',
    reason: 'unapproved',
    dry_run: false,
    host: 'mcp.shadow.example',
    path: '/mcp',
    http_method: 'POST',
    methods: ['tools/call'],
    tool: 'search',
    client: 'claude-code',
    protocol_version: '2025-11-25',
    allowlist_version: '2026.11',
    msg: 'decision',
    ...fields,
  });
}

/** Two replicas' logs, as `kubectl logs` of each gives them, one after the other. */
const REPLICA_A = [
  auditLine({ time: '2026-12-01T10:00:05.000Z' }),
  auditLine({ time: '2026-12-01T10:00:06.000Z', tool: 'fetch', path: '/mcp/v2' }),
  '{"level":"info","time":"2026-12-01T09:00:00.000Z","msg":"mcp-gate listening"}',
  auditLine({
    reason: 'approved',
    decision: 'allow',
    entry: 'github-official',
    host: 'api.githubcopilot.com',
  }),
  'node: some warning that is not JSON',
].join('\n');
const REPLICA_B = [
  auditLine({ time: '2026-12-01T09:59:00.000Z', client: 'cursor', decision: 'would_deny' }),
  auditLine({
    time: '2026-12-01T11:00:00.000Z',
    host: 'tools.other.example',
    path: '',
    methods: [],
  }),
  // kubectl logs --prefix
  `[pod/mcp-gate-b/mcp-gate] ${auditLine({ time: '2026-12-01T10:30:00.000Z' })}`,
].join('\n');

describe('mcp-gate discover', () => {
  test("several replicas' audit lines combine; what is not an attempt is skipped and counted", async () => {
    const { code, stdout, stderr } = await discover([], `${REPLICA_A}\n${REPLICA_B}\n`);
    expect(code).toBe(0);
    expect(stderr).toBe(
      'discover: 2 unapproved servers from 0 discovery documents and 8 log lines (skipped: 1 not JSON, 1 not decision lines, 1 decisions that were not attempts at unapproved servers)\n',
    );
    const doc = parse(stdout) as { approved: Record<string, unknown>[] };
    expect(doc.approved).toEqual([
      {
        id: 'mcp.shadow.example-mcp',
        host: 'mcp.shadow.example',
        transport: 'http',
        url: 'https://mcp.shadow.example/mcp',
        review_ticket: 'TODO-ticket',
        reviewed_by: 'TODO-reviewer',
        reviewed_on: 'TODO-YYYY-MM-DD',
        expires_on: 'TODO-YYYY-MM-DD',
      },
      {
        id: 'tools.other.example',
        host: 'tools.other.example',
        transport: 'http',
        review_ticket: 'TODO-ticket',
        reviewed_by: 'TODO-reviewer',
        reviewed_on: 'TODO-YYYY-MM-DD',
        expires_on: 'TODO-YYYY-MM-DD',
      },
    ]);
    // What was seen, as comments: both replicas' attempts, the earliest and latest time.
    expect(stdout).toContain(
      '  # mcp.shadow.example/mcp: 4 attempts (denied 3, dry-run would deny 1, allowed 0)\n' +
        '  # first seen 2026-12-01T09:59:00.000Z, last seen 2026-12-01T10:30:00.000Z\n' +
        '  # clients: claude-code 3, cursor 1\n' +
        '  # methods: tools/call\n' +
        '  # tools: fetch, search\n' +
        '  # protocol revisions: 2025-11-25\n',
    );
    expect(stdout).toContain(
      '  # 1 attempt through a tunnel (CONNECT or TLS SNI): only the host was seen\n',
    );
    // The tools seen, as a tool rule the reviewer may uncomment.
    expect(stdout).toContain(
      '    # tools: { allow: [fetch, search] }  # only the tools seen; absent: every tool\n',
    );
  });

  test('validate refuses the drafts as printed and accepts them once a reviewer filled them in and stamped them', async () => {
    const { stdout } = await discover([], REPLICA_A);
    const allowlist = `version: 2026.12\nreview_url: ${REVIEW_URL}\n${stdout}`;
    const refused = await validate(allowlist);
    expect(refused.code).toBe(1);
    const errors = refused.stderr.trim().split('\n');
    expect(errors).toHaveLength(4);
    for (const key of ['review_ticket', 'reviewed_by', 'reviewed_on', 'expires_on']) {
      expect(errors).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `approved\\[0\\]\\.${key}: "TODO-[^"]+" is a placeholder left by "mcp-gate discover"; the reviewer must replace it with the real value$`,
          ),
        ),
      );
    }
    const filled = allowlist
      .replace('TODO-ticket', 'SEC-5100')
      .replace('TODO-reviewer', 'security-platform')
      .replace('TODO-YYYY-MM-DD', '2026-12-03')
      .replace('TODO-YYYY-MM-DD', '2027-06-03');
    const unstamped = await validate(filled);
    expect(unstamped.code).toBe(1);
    expect(unstamped.stderr).toContain('missing required key "review_sha256"');
    const accepted = await validate(stamped(filled));
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('valid allowlist, version 2026.12, 1 entry');
  });

  test('names from traffic cannot leave their comment: a newline in a tool name is escaped', async () => {
    const line = auditLine({
      tool: 'x\n  - id: evil\n    host: evil.example',
      methods: ['a\u2028b'],
    });
    const { stdout } = await discover([], line);
    const doc = parse(stdout) as { approved: { id: string }[] };
    expect(doc.approved.map((e) => e.id)).toEqual(['mcp.shadow.example-mcp']);
    expect(stdout).toContain('# tools: "x\\n  - id: evil\\n    host: evil.example"');
    expect(stdout).toContain('# methods: "a\\u2028b"');
    expect(stdout).toContain('# tools: { allow: ["x\\n  - id: evil\\n    host: evil.example"] }');
  });

  test('GET /discovery documents of two replicas merge; --top keeps the most-tried', async () => {
    const at = Date.parse('2026-12-01T10:00:00Z');
    const files: string[] = [];
    for (const [name, hosts] of [
      ['a.json', ['one.example', 'one.example', 'two.example']],
      ['b.json', ['one.example', 'three.example', 'three.example', 'two.example', 'two.example']],
    ] as const) {
      const table = new DiscoveryTable(10);
      for (const host of hosts) {
        table.record({
          host,
          pathPrefix: '/',
          hostOnly: true,
          client: 'other',
          methods: [],
          tool: undefined,
          protocolVersion: undefined,
          outcome: 'deny',
          atMs: at,
        });
      }
      const file = path.join(dir, name);
      await writeFile(file, JSON.stringify(table.snapshot(at), null, 2));
      files.push(file);
    }
    const { code, stdout, stderr } = await discover([...files, '--top', '2']);
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /^discover: 3 unapproved servers from 2 discovery documents and 0 log lines/,
    );
    const doc = parse(stdout) as { approved: { host: string }[] };
    expect(doc.approved.map((e) => e.host)).toEqual(['one.example', 'two.example']);
    expect(stdout).toContain('  # one.example: 3 attempts');
  });

  test('a document that claims the discovery format but is broken: exit 1, nothing printed', async () => {
    const { code, stdout, stderr } = await discover(
      [],
      JSON.stringify({ format: 'mcp-gate.discovery/v1', rows: [{ host: 'x' }] }),
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^discover: stdin: not a mcp-gate\.discovery\/v1 document: rows\.0\./);
  });

  test('usage errors exit 2', async () => {
    expect((await discover(['--top', '0'])).code).toBe(2);
    expect((await discover(['--bogus'])).code).toBe(2);
    expect((await discover([path.join(dir, 'missing.json')])).code).toBe(1);
  });
});
