import { describe, expect, test } from 'vitest';

import {
  CLIENT_NAMES,
  MAX_INSPECTED_CHARS,
  classifyClient,
  clientFromName,
  clientFromUserAgent,
} from '../../../../src/core/mcp/client.js';
import type { ClientName } from '../../../../src/core/mcp/client.js';
import { parseAllowlist } from '../../../../src/config/load-allowlist.js';
import { parseKnownHosts } from '../../../../src/config/load-known-hosts.js';
import type { Decision } from '../../../../src/core/decision.js';
import { inspectMcp } from '../../../../src/core/mcp/inspect.js';
import { authorize } from '../../../../src/core/pipeline.js';
import { githubAllowlist } from '../../../helpers/github-allowlist.js';
import { MCP_SCENARIOS, loadMcpTrafficFixture } from '../../../helpers/mcp-capture.js';
import { STREAMABLE_POST, makeFacts, rpc } from '../../../helpers/facts.js';
import { ICONV_CHARSETS } from '../../../../src/text/iconv-charsets.js';

const LIMITS = { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 };

interface Row {
  readonly name: string;
  readonly input: string;
  readonly want: ClientName | undefined;
}

/** `clientInfo.name` values real clients send (docs/monitoring.md, "AI clients"). */
const NAMES: readonly Row[] = [
  { name: 'Claude Desktop', input: 'claude-ai', want: 'claude-desktop' },
  { name: 'Claude Code', input: 'claude-code', want: 'claude-code' },
  { name: 'Cursor', input: 'cursor-vscode', want: 'cursor' },
  { name: 'VS Code', input: 'Visual Studio Code', want: 'vscode' },
  { name: 'VS Code Insiders', input: 'Visual Studio Code - Insiders', want: 'vscode' },
  { name: 'Windsurf', input: 'windsurf-client', want: 'windsurf' },
  { name: 'Codex CLI', input: 'codex-mcp-client', want: 'codex' },
  { name: 'Gemini CLI', input: 'gemini-cli-mcp-client', want: 'gemini-cli' },
  { name: 'MCP Inspector', input: 'mcp-inspector', want: 'mcp-inspector' },
  { name: 'Python SDK default', input: 'mcp', want: 'mcp-sdk-python' },
  {
    name: 'Claude Desktop through mcp-remote',
    input: 'claude-ai (via mcp-remote 0.1.37)',
    want: 'mcp-remote',
  },
  {
    name: 'any client through mcp-remote',
    input: 'my-app (via mcp-remote 0.2.0)',
    want: 'mcp-remote',
  },
  { name: 'case and padding do not matter', input: '  CLAUDE-CODE ', want: 'claude-code' },
  { name: 'unknown name', input: 'my-internal-agent', want: undefined },
  { name: 'a known name inside another is not it', input: 'not-claude-code', want: undefined },
  { name: 'empty', input: '', want: undefined },
  { name: 'control characters', input: 'claude-code\u0000\n', want: undefined },
];

/** User-Agent values, from the SDK captures in test/fixtures/mcp-traffic and client sources. */
const USER_AGENTS: readonly Row[] = [
  { name: "Node's fetch (TypeScript SDK)", input: 'node', want: 'mcp-sdk-typescript' },
  { name: 'older Node fetch', input: 'undici', want: 'mcp-sdk-typescript' },
  { name: 'httpx (Python SDK)', input: 'python-httpx/0.28.1', want: 'mcp-sdk-python' },
  { name: 'Claude Code', input: 'claude-code/2.1.221 (cli)', want: 'claude-code' },
  {
    name: 'Claude Code API client',
    input: 'claude-cli/2.0.5 (external, cli)',
    want: 'claude-code',
  },
  { name: 'Codex CLI', input: 'codex_cli_rs/0.42.0 (Mac OS 15.1; arm64)', want: 'codex' },
  { name: 'Gemini CLI', input: 'GeminiCLI/0.9.0 (linux; x64)', want: 'gemini-cli' },
  { name: 'mcp-remote', input: 'mcp-remote/0.1.37', want: 'mcp-remote' },
  {
    name: 'Cursor before the Code token it also carries',
    input:
      'Mozilla/5.0 (Macintosh) AppleWebKit/537.36 (KHTML, like Gecko) Cursor/1.7.0 Code/1.99.3 Chrome/132.0 Electron/34.5.8 Safari/537.36',
    want: 'cursor',
  },
  {
    name: 'VS Code',
    input:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Code/1.105.0 Chrome/138.0 Electron/37.3.1 Safari/537.36',
    want: 'vscode',
  },
  { name: 'a product named only inside a comment', input: 'curl/8.5.0 (node)', want: undefined },
  { name: 'curl', input: 'curl/8.5.0', want: undefined },
  { name: 'browser', input: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0', want: undefined },
  { name: 'empty', input: '', want: undefined },
];

describe('clientFromName', () => {
  test.each(NAMES)('$name', ({ input, want }) => {
    expect(clientFromName(input)).toBe(want);
  });
});

describe('clientFromUserAgent', () => {
  test.each(USER_AGENTS)('$name', ({ input, want }) => {
    expect(clientFromUserAgent(input)).toBe(want);
  });
});

function inspect(
  headers: Record<string, string>,
  clientName?: string,
): ReturnType<typeof inspectMcp> {
  const params: Record<string, unknown> = { protocolVersion: '2025-06-18', capabilities: {} };
  if (clientName !== undefined) params['clientInfo'] = { name: clientName, version: '1' };
  return inspectMcp(
    makeFacts({ headers: { ...STREAMABLE_POST, ...headers }, body: rpc('initialize', params) }),
    LIMITS,
    ICONV_CHARSETS,
  );
}

describe('classifyClient – precedence and bounds', () => {
  test('clientInfo.name wins over the User-Agent', () => {
    expect(classifyClient(inspect({ 'user-agent': 'node' }, 'cursor-vscode'), true)).toBe('cursor');
  });

  test('an unknown name falls back to the User-Agent, then to other', () => {
    expect(classifyClient(inspect({ 'user-agent': 'node' }, 'my-agent'), true)).toBe(
      'mcp-sdk-typescript',
    );
    expect(classifyClient(inspect({ 'user-agent': 'curl/8' }, 'my-agent'), true)).toBe('other');
    expect(classifyClient(inspect({}), true)).toBe('other');
  });

  test('not MCP is none, whatever the request says', () => {
    expect(classifyClient(inspect({ 'user-agent': 'node' }, 'claude-code'), false)).toBe('none');
  });

  test('2026-07-28 _meta client info is read on any request', () => {
    const inspection = inspectMcp(
      makeFacts({
        headers: {
          ...STREAMABLE_POST,
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/list',
          'user-agent': 'node',
        },
        body: rpc('tools/list', {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'windsurf-client', version: '1' },
          },
        }),
      }),
      LIMITS,
      ICONV_CHARSETS,
    );
    expect(classifyClient(inspection, inspection.isMcp)).toBe('windsurf');
  });

  test('huge and hostile values only ever give a listed name, and cost a bounded read', () => {
    const hostile = [
      'claude-code'.padEnd(MAX_INSPECTED_CHARS + 1, ' ') + 'x',
      'x'.repeat(1024 * 1024),
      '\u0000\u001b[31m\r\n',
      '((((((((((((',
      ')))) node',
      '\ud800',
    ];
    for (const value of hostile) {
      const client = classifyClient(inspect({ 'user-agent': value }, value), true);
      expect(CLIENT_NAMES).toContain(client);
    }
    // A known product past the inspected prefix is not seen: the read is bounded.
    expect(clientFromUserAgent(`${'a'.repeat(MAX_INSPECTED_CHARS)} node`)).toBeUndefined();
  });

  test('every listed name is a valid, short Prometheus label value and unique', () => {
    expect(new Set(CLIENT_NAMES).size).toBe(CLIENT_NAMES.length);
    for (const name of CLIENT_NAMES) expect(name).toMatch(/^[a-z][a-z0-9-]{1,30}$/);
  });
});

describe('classifyClient – real SDK traffic', () => {
  // The captures name their client mcp-gate-capture (no rule knows it), so the label comes from
  // the User-Agent Node's fetch sends: what any TypeScript SDK program looks like.
  test.each(MCP_SCENARIOS.map((s) => s.name))(
    '%s: every MCP request is mcp-sdk-typescript',
    (name) => {
      const fixture = loadMcpTrafficFixture(name);
      let mcp = 0;
      for (const request of fixture.requests) {
        const inspection = inspectMcp(
          makeFacts({
            method: request.method,
            path: request.path,
            headers: request.headers,
            ...(request.body === null ? {} : { body: request.body }),
          }),
          LIMITS,
          ICONV_CHARSETS,
        );
        if (!inspection.isMcp) continue;
        mcp++;
        expect(classifyClient(inspection, true)).toBe('mcp-sdk-typescript');
      }
      expect(mcp).toBeGreaterThan(0);
    },
  );
});

describe('Decision.client – set by decide for every verdict', () => {
  const NOW = Date.parse('2026-11-21T12:00:00Z');
  const parsed = parseAllowlist(githubAllowlist(), {
    fileName: 'allowlist.yaml',
    now: new Date(NOW),
  });
  if (!parsed.ok) throw new Error('test allowlist is invalid');
  const known = parseKnownHosts('hosts: [mcp.linear.app]', 'known.yaml');
  if (!known.ok) throw new Error('test known-host list is invalid');
  const snapshot = {
    policy: parsed.policy,
    knownHosts: known.knownHosts,
    limits: LIMITS,
    charsets: ICONV_CHARSETS,
  };
  const decide = (input: Parameters<typeof makeFacts>[0]): Decision =>
    authorize(snapshot, makeFacts(input), NOW, 'decision-id').decision;

  test('an unapproved initialize: the clientInfo name', () => {
    const decision = decide({
      headers: { ...STREAMABLE_POST, 'user-agent': 'node' },
      body: rpc('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'claude-ai', version: '0.1.0' },
      }),
    });
    expect(decision.reason).toBe('unapproved');
    expect(decision.client).toBe('claude-desktop');
  });

  test('an approved call: the User-Agent', () => {
    const decision = decide({
      authority: 'api.githubcopilot.com',
      path: '/mcp/',
      headers: {
        ...STREAMABLE_POST,
        'mcp-protocol-version': '2025-11-25',
        'user-agent': 'python-httpx/0.28.1',
      },
      body: rpc('tools/call', { name: 'get_issue', arguments: {} }),
    });
    expect(decision.reason).toBe('approved');
    expect(decision.client).toBe('mcp-sdk-python');
  });

  test('not MCP: none; a CONNECT: its User-Agent', () => {
    expect(decide({ method: 'GET', path: '/', headers: { 'user-agent': 'node' } }).client).toBe(
      'none',
    );
    const connect = decide({
      method: 'CONNECT',
      authority: 'api.githubcopilot.com:443',
      headers: { 'user-agent': 'claude-code/2.1.0' },
    });
    expect(connect.client).toBe('claude-code');
  });
});
