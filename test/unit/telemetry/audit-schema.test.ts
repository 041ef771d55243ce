/**
 * docs/audit-log.md and the audit line held together: the field table in the document is parsed
 * and compared with the lines the logger writes for decisions of every kind (allow, deny,
 * would_deny, unapproved, uninspectable, a CONNECT): every key written is documented, with the
 * documented type; the fields documented as always present are in every line; every other
 * documented field appears in at least one line, so the table lists nothing that never happens.
 * The document's example lines obey the same table. Credentials, tool arguments and bodies sent
 * with the requests appear in no line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';

import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import { newDecisionId } from '../../../src/core/decision-id.js';
import { authorize } from '../../../src/core/pipeline.js';
import type { PolicySnapshot } from '../../../src/core/pipeline.js';
import type { KnownHosts } from '../../../src/core/policy/policy.js';
import type { CheckRequest } from '../../../src/envoy/check-types.js';
import { decodeCheckRequest } from '../../../src/envoy/check-request-codec.js';
import { toRequestFacts } from '../../../src/envoy/to-facts.js';
import { auditRecord, createLogger } from '../../../src/telemetry/logger.js';
import { encodeWithEnvoyProtos, envoyCheckRequest } from '../../helpers/envoy-check-request.js';
import { rpc } from '../../helpers/facts.js';
import { githubAllowlist, SESSION_HEADERS } from '../../helpers/github-allowlist.js';
import { ICONV_CHARSETS } from '../../../src/text/iconv-charsets.js';

const DOC = readFileSync(path.resolve(import.meta.dirname, '../../../docs/audit-log.md'), 'utf8');
const NOW = Date.parse('2026-11-21T12:00:00Z');
/** Sent in every credential header, tool argument and body; must reach no line. */
const SECRET = 'S3CRET-do-not-log';

const ALLOWLIST = githubAllowlist({
  allow: ['get_*'],
  extraEntries: `  - id: warehouse
    host: warehouse-mcp.corp.example
    transport: http
    access: { groups: [data-eng] }
    review_ticket: SEC-5121
    reviewed_by: security-platform
    reviewed_on: 2026-11-02
    expires_on: 2099-05-02
  - id: linear
    host: mcp.linear.app
    transport: http
    url: https://mcp.linear.app/mcp
    mode: dry-run
    tools:
      allow: ['list_*']
    review_ticket: SEC-5120
    reviewed_by: security-platform
    reviewed_on: 2026-11-02
    expires_on: 2099-05-02
`,
  sections:
    'identity:\n  user: { header: x-forwarded-email }\n  groups: { header: x-forwarded-groups }\n',
});

const KNOWN_HOSTS: KnownHosts = {
  sha256: '',
  size: 1,
  isKnownMcpHost: (host) => host === 'mcp.notion.com',
};

function snapshot(): PolicySnapshot {
  const parsed = parseAllowlist(ALLOWLIST, { fileName: 'allowlist.yaml', now: new Date(NOW) });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return {
    policy: parsed.policy,
    knownHosts: KNOWN_HOSTS,
    limits: { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 },
    charsets: ICONV_CHARSETS,
  };
}

const CREDENTIALS = {
  authorization: `Bearer ${SECRET}`,
  'proxy-authorization': `Basic ${SECRET}`,
  cookie: `session=${SECRET}`,
  'x-api-key': SECRET,
};

const toolCall = (authority: string, path: string, tool: string): CheckRequest =>
  envoyCheckRequest({
    authority,
    path: `${path}?token=${SECRET}`,
    headers: { ...SESSION_HEADERS, ...CREDENTIALS, 'user-agent': 'claude-code/2.1.221 (cli)' },
    body: rpc('tools/call', { name: tool, arguments: { query: SECRET } }, 7),
  });

/** One request of every kind the table distinguishes. */
const REQUESTS: readonly (readonly [string, CheckRequest])[] = [
  ['allow', toolCall('api.githubcopilot.com', '/mcp/', 'get_issue')],
  ['deny: tool_not_allowed', toolCall('api.githubcopilot.com', '/mcp/', 'delete_repo')],
  ['would_deny (dry-run entry)', toolCall('mcp.linear.app', '/mcp', 'delete_issue')],
  [
    'deny: unapproved initialize with a port and a client name',
    envoyCheckRequest({
      authority: 'mcp.shadow.example:8443',
      path: '/mcp',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: rpc('initialize', {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'cursor-vscode', version: '1.0.0' },
      }),
      source: { address: '10.20.30.40', port: 51234 },
    }),
  ],
  [
    'deny: uninspectable (duplicate keys)',
    envoyCheckRequest({
      authority: 'api.githubcopilot.com',
      path: '/mcp/',
      headers: SESSION_HEADERS,
      body: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_issue","name":"delete_repo","arguments":{"q":"${SECRET}"}}}`,
    }),
  ],
  [
    'deny: principal_not_allowed, with the user and groups the identity section reads',
    envoyCheckRequest({
      authority: 'warehouse-mcp.corp.example',
      path: '/mcp',
      headers: {
        ...SESSION_HEADERS,
        ...CREDENTIALS,
        'x-forwarded-email': 'ana@corp.example',
        'x-forwarded-groups': 'eng,sre',
      },
      body: rpc('tools/call', { name: 'run_query', arguments: { query: SECRET } }, 7),
    }),
  ],
  [
    'deny: CONNECT to a known MCP host',
    envoyCheckRequest({ method: 'CONNECT', authority: 'mcp.notion.com:443', headers: CREDENTIALS }),
  ],
];

/** The audit lines, as the logger writes them; the last one as a --workers worker writes it. */
function auditLines(): Record<string, unknown>[] {
  const text: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ level: 'info', destination: sink });
  const current = snapshot();
  REQUESTS.forEach(([, request], i) => {
    // The lean decoder and the facts exactly as the Check path builds them.
    const facts = toRequestFacts(decodeCheckRequest(encodeWithEnvoyProtos(request)));
    const { decision, inspection } = authorize(current, facts, NOW, newDecisionId());
    expect(decision.isMcp).toBe(true);
    const child = i === REQUESTS.length - 1 ? logger.child({ worker: 2 }) : logger;
    child.info(auditRecord(decision, facts, inspection, 0.1234), 'decision');
  });
  return text
    .join('')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface FieldSpec {
  readonly name: string;
  readonly type: string;
  readonly always: boolean;
}

/** The rows of the document's field table: `| \`name\` | type | presence | meaning |`. */
function documentedFields(): FieldSpec[] {
  const section = DOC.slice(
    DOC.indexOf('## Fields'),
    DOC.indexOf('\n## ', DOC.indexOf('## Fields') + 1),
  );
  const rows: FieldSpec[] = [];
  for (const line of section.split('\n')) {
    const match = /^\| `([a-z_.]+)` +\| ([^|]+?) +\| ([^|]+?) +\|/.exec(line);
    if (match === null) continue;
    rows.push({ name: match[1] ?? '', type: match[2] ?? '', always: match[3] === 'always' });
  }
  return rows;
}

/** `source: {address, port}` becomes `source`, `source.address`, `source.port`. */
function flatten(line: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(line)) {
    out.set(key, value);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value)) out.set(`${key}.${inner}`, v);
    }
  }
  return out;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string') ? 'string[]' : 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Whether a value of `actual` type satisfies the documented `type` (an integer is a number). */
const fits = (documented: string, actual: string): boolean =>
  documented === actual || (documented === 'number' && actual === 'integer');

function checkAgainstTable(lines: readonly Record<string, unknown>[]): Set<string> {
  const fields = new Map(documentedFields().map((f) => [f.name, f]));
  const seen = new Set<string>();
  for (const line of lines) {
    const flat = flatten(line);
    for (const [key, value] of flat) {
      const spec = fields.get(key);
      expect(spec, `field ${key} is not in docs/audit-log.md`).toBeDefined();
      expect(fits(spec?.type ?? '', typeOf(value)), `${key}: ${typeOf(value)}`).toBe(true);
      seen.add(key);
    }
    for (const spec of fields.values()) {
      if (spec.always) expect(flat.has(spec.name), `always-present ${spec.name}`).toBe(true);
    }
  }
  return seen;
}

describe('docs/audit-log.md matches the audit line', () => {
  test('the table has the fields and types a consumer needs', () => {
    const fields = documentedFields();
    expect(fields.length).toBeGreaterThan(20);
    for (const name of ['decision_id', 'decision', 'reason', 'host', 'time', 'msg', 'source']) {
      expect(fields.map((f) => f.name)).toContain(name);
    }
    for (const field of fields) {
      expect(['string', 'integer', 'number', 'boolean', 'string[]', 'object']).toContain(
        field.type,
      );
    }
  });

  test('every key written is documented with its type; always is always; every field occurs', () => {
    const lines = auditLines();
    expect(lines.map((l) => l['decision'])).toEqual(
      expect.arrayContaining(['allow', 'deny', 'would_deny']),
    );
    const seen = checkAgainstTable(lines);
    const never = documentedFields()
      .map((f) => f.name)
      .filter((name) => !seen.has(name));
    expect(never, 'documented fields no decision here produced').toEqual([]);
  });

  test('the source address is the one Envoy reported', () => {
    const lines = auditLines();
    expect(lines[3]?.['source']).toEqual({ address: '10.20.30.40', port: 51234 });
    // The builder's default peer, as Envoy's HTTP filter always reports one.
    expect(lines[0]?.['source']).toEqual({ address: '10.1.2.3', port: 54321 });
  });

  test('no credential, tool argument, query or body reaches a line', () => {
    const text = JSON.stringify(auditLines());
    expect(text).not.toContain(SECRET);
  });

  test("the document's examples obey its table, and show an allow, a deny and a dry-run", () => {
    const examples = [...DOC.matchAll(/```json\n(\{[\s\S]*?\})\n```/g)].map(
      (m) => JSON.parse(m[1] ?? '') as Record<string, unknown>,
    );
    const decisions = examples.filter((e) => e['msg'] === 'decision');
    expect(decisions.map((e) => e['decision'])).toEqual(['allow', 'deny', 'would_deny']);
    checkAgainstTable(decisions);
  });
});
