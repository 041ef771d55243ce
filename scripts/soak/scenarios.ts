/**
 * The request mix: what egress traffic through an MCP-aware proxy looks like, each kind with the
 * answer it must get under a given allowlist generation. The expected answers are written out
 * here by hand from docs/allowlist.md and the README's reason table, not computed with the
 * service's own code: an oracle that shared the code under test would agree with its bugs.
 */
import type { CheckRequest } from '../../src/envoy/check-types.js';
import { envoyCheckRequest } from '../../test/helpers/envoy-check-request.js';
import type { GenerationTraits } from './allowlist-versions.js';

/** What an answer must say. `entry` is the approving or denying entry, when one matched. */
export interface Expected {
  readonly verdict: 'allow' | 'deny';
  readonly reason: string;
  readonly entry?: string;
  /** Deny shape: a JSON-RPC tool result (HTTP 200) or a 403 text the person reads. */
  readonly deny?: 'tool_result' | 'forbidden_text';
  /** MCP answers carry decision metadata (and the allowlist version); non-MCP ones nothing. */
  readonly untouched?: true;
}

/** What the answer to this particular request must echo back. */
export interface Probe {
  /** The JSON-RPC id of a tools/call, which a tool-result denial must echo. */
  readonly jsonRpcId?: number;
  readonly tool?: string;
  /** The host a 403 text names. */
  readonly host: string;
}

export interface Scenario {
  readonly name: string;
  /** Share of the mix, relative to the other scenarios. */
  readonly weight: number;
  build(seq: number): { request: CheckRequest; probe: Probe };
  expect(traits: GenerationTraits): Expected;
}

const GITHUB = { authority: 'api.githubcopilot.com', path: '/mcp/' } as const;
const STREAMABLE = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;
const SESSION_2025 = {
  ...STREAMABLE,
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
  'mcp-protocol-version': '2025-11-25',
  'user-agent': 'claude-code/2.1.221 (cli)',
  authorization: 'Bearer soak-token',
} as const;
/** Envoy's with_request_body as the README configures it. */
const BODY_SETTINGS = { maxRequestBytes: 1_048_576, packAsBytes: true } as const;
const META_2026 = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'soak-client', version: '2.4.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A tools/call as the TS SDK writes it: 2025-11-25 with a session, or stateless 2026-07-28. */
function toolCall(
  tool: string,
  id: number,
  args: Record<string, unknown>,
  era: '2025' | '2026',
): CheckRequest {
  if (era === '2025') {
    return envoyCheckRequest({
      ...GITHUB,
      ...BODY_SETTINGS,
      headers: SESSION_2025,
      body: JSON.stringify({
        method: 'tools/call',
        params: { name: tool, arguments: args },
        jsonrpc: '2.0',
        id,
      }),
    });
  }
  return envoyCheckRequest({
    ...GITHUB,
    ...BODY_SETTINGS,
    headers: {
      ...STREAMABLE,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': tool,
      'user-agent': 'node',
    },
    body: JSON.stringify({
      method: 'tools/call',
      params: { name: tool, arguments: args, _meta: META_2026 },
      jsonrpc: '2.0',
      id,
    }),
  });
}

function initialize(host: string, id: number): CheckRequest {
  return envoyCheckRequest({
    authority: host,
    path: '/mcp',
    ...BODY_SETTINGS,
    headers: { ...STREAMABLE, 'user-agent': 'cursor/1.7.0' },
    body: JSON.stringify({
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'cursor-vscode', version: '1.0.0' },
      },
      jsonrpc: '2.0',
      id,
    }),
  });
}

function connect(host: string): CheckRequest {
  return envoyCheckRequest({
    method: 'CONNECT',
    authority: `${host}:443`,
    headers: { 'user-agent': 'claude-code/2.1.221 (cli)' },
  });
}

const era = (seq: number): '2025' | '2026' => (seq % 3 === 0 ? '2026' : '2025');
const approved = (entry: string): Expected => ({ verdict: 'allow', reason: 'approved', entry });
const toolDenied = (entry: string): Expected => ({
  verdict: 'deny',
  reason: 'tool_not_allowed',
  entry,
  deny: 'tool_result',
});
const unapproved: Expected = { verdict: 'deny', reason: 'unapproved', deny: 'forbidden_text' };

/** ~256 KiB of file content: a large tools/call body, fully buffered by Envoy. */
const LARGE_CONTENT = 'lorem ipsum dolor sit amet, '.repeat(9400);

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'approved tools/call',
    weight: 6,
    build: (seq) => ({
      request: toolCall('get_issue', seq, { owner: 'acme', repo: 'widgets', number: 42 }, era(seq)),
      probe: { jsonRpcId: seq, tool: 'get_issue', host: GITHUB.authority },
    }),
    expect: () => approved('github-official'),
  },
  {
    name: 'tools/call flipping with the allowlist',
    weight: 3,
    build: (seq) => ({
      request: toolCall('create_issue', seq, { title: 'soak', body: 'x' }, era(seq)),
      probe: { jsonRpcId: seq, tool: 'create_issue', host: GITHUB.authority },
    }),
    expect: (t) =>
      t.createIssueAllowed ? approved('github-official') : toolDenied('github-official'),
  },
  {
    name: 'denied tool',
    weight: 2,
    build: (seq) => ({
      request: toolCall('delete_repo', seq, { owner: 'acme', repo: 'widgets' }, era(seq)),
      probe: { jsonRpcId: seq, tool: 'delete_repo', host: GITHUB.authority },
    }),
    expect: () => toolDenied('github-official'),
  },
  {
    name: 'unapproved initialize',
    weight: 2,
    build: (seq) => ({
      request: initialize('mcp.notion.com', seq),
      probe: { host: 'mcp.notion.com' },
    }),
    expect: () => unapproved,
  },
  {
    name: 'initialize to a host flipping with the allowlist',
    weight: 2,
    build: (seq) => ({
      request: initialize('mcp.linear.app', seq),
      probe: { host: 'mcp.linear.app' },
    }),
    expect: (t) => (t.linearApproved ? approved('linear') : unapproved),
  },
  {
    name: 'non-MCP API call',
    weight: 6,
    build: () => ({
      request: envoyCheckRequest({
        authority: 'api.github.com',
        path: '/repos/acme/widgets/issues?state=open',
        method: 'GET',
        headers: { accept: 'application/vnd.github+json', 'user-agent': 'curl/8.5.0' },
      }),
      probe: { host: 'api.github.com' },
    }),
    expect: () => ({ verdict: 'allow', reason: 'not_mcp', untouched: true }),
  },
  {
    name: 'CONNECT to a known MCP host flipping with the allowlist',
    weight: 2,
    build: () => ({ request: connect('mcp.linear.app'), probe: { host: 'mcp.linear.app' } }),
    expect: (t) => (t.linearApproved ? approved('linear') : unapproved),
  },
  {
    name: 'CONNECT to an unknown host',
    weight: 1,
    build: () => ({ request: connect('www.example.org'), probe: { host: 'www.example.org' } }),
    expect: () => ({ verdict: 'allow', reason: 'unknown_host' }),
  },
  {
    name: 'large tools/call body',
    weight: 1,
    build: (seq) => ({
      request: toolCall(
        'get_file_contents',
        seq,
        { path: 'README.md', content: LARGE_CONTENT },
        '2025',
      ),
      probe: { jsonRpcId: seq, tool: 'get_file_contents', host: GITHUB.authority },
    }),
    expect: () => approved('github-official'),
  },
];

/** Deterministic, seeded picker over the weighted mix (mulberry32), so runs can be replayed. */
export function createPicker(seed: number): () => Scenario {
  const bag = SCENARIOS.flatMap((s) => Array<Scenario>(s.weight).fill(s));
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    const pick = bag[Math.floor(r * bag.length)];
    if (pick === undefined) throw new Error('empty scenario bag');
    return pick;
  };
}
