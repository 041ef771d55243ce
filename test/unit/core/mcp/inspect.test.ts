import { describe, expect, test } from 'vitest';
import { inspectMcp } from '../../../../src/core/mcp/inspect.js';
import type { InspectionDetail, McpTransport } from '../../../../src/core/mcp/inspection.js';
import { STREAMABLE_POST, gzip, makeFacts, rpc } from '../../../helpers/facts.js';
import type { FactsInput } from '../../../helpers/facts.js';
import { ICONV_CHARSETS } from '../../../../src/text/iconv-charsets.js';

const LIMITS = { maxBodyBytes: 64 * 1024, maxBatchElements: 3 };
const SESSION = {
  ...STREAMABLE_POST,
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
  'mcp-protocol-version': '2025-11-25',
};
const V2026 = { ...STREAMABLE_POST, 'mcp-protocol-version': '2026-07-28' };
const b64 = (text: string): string => `=?base64?${Buffer.from(text).toString('base64')}?=`;

interface Row {
  readonly name: string;
  readonly input: FactsInput;
  readonly want: {
    readonly mcp: boolean;
    readonly failure?: InspectionDetail;
    readonly scope?: 'always' | 'tool_restricted';
    readonly methods?: readonly (string | undefined)[];
    readonly tools?: readonly string[];
    readonly transport?: McpTransport;
    readonly batch?: boolean;
    readonly ids?: readonly (string | undefined)[];
  };
  readonly rationale: string;
}

/** `count` objects of 26 one-letter keys: about 6 bytes per member, within the 64 KiB cap. */
function lettersRows(count: number): Record<string, number>[] {
  const object = Object.fromEntries(
    Array.from({ length: 26 }, (_, i) => [String.fromCharCode(0x61 + i), 0]),
  );
  return Array.from({ length: count }, () => object);
}

const ROWS: readonly Row[] = [
  {
    name: 'initialize without MCP headers – the body decides',
    input: {
      headers: STREAMABLE_POST,
      body: rpc(
        'initialize',
        {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'claude-code', version: '2.1.221' },
        },
        0,
      ),
    },
    want: { mcp: true, methods: ['initialize'], transport: 'streamable_http', ids: ['0'] },
    rationale: 'the first request of a 2025-era session carries no MCP header',
  },
  {
    name: 'LSP initialize – not MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: rpc('initialize', {
        processId: 1,
        rootUri: 'file:///x',
        capabilities: {},
        clientInfo: { name: 'Visual Studio Code' },
      }),
    },
    want: { mcp: false },
    rationale: "LSP's initialize has no protocolVersion",
  },
  {
    name: 'Ethereum JSON-RPC – not MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: rpc('eth_call', [{ to: '0x0' }, 'latest']),
    },
    want: { mcp: false },
    rationale: 'JSON-RPC alone is not MCP',
  },
  {
    name: 'tools/call in a session – tool extracted',
    input: {
      headers: SESSION,
      body: rpc('tools/call', { name: 'echo', arguments: { text: 'hi' } }, 2),
    },
    want: {
      mcp: true,
      methods: ['tools/call'],
      tools: ['echo'],
      transport: 'streamable_http',
      ids: ['2'],
    },
    rationale: 'captured TS SDK tools/call',
  },
  {
    name: 'legacy SSE message POST – legacy transport',
    input: {
      path: '/messages?sessionId=2b1c',
      headers: {
        'content-type': 'application/json',
        accept: '*/*',
        'mcp-protocol-version': '2024-11-05',
      },
      body: rpc('tools/call', { name: 'echo' }, 3),
    },
    want: { mcp: true, tools: ['echo'], transport: 'legacy_sse' },
    rationale: 'legacy SSE POSTs send accept */*: the response must be a 403 text',
  },
  {
    name: 'string and huge ids are kept as written',
    input: {
      headers: SESSION,
      body: '{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/list"}',
    },
    want: { mcp: true, ids: ['123456789012345678901234567890'] },
    rationale: 'the id is echoed byte-exact in a tool-result denial',
  },
  {
    name: 'GET /sse asking for an event stream – legacy SSE stream',
    input: { method: 'GET', path: '/sse', headers: { accept: 'text/event-stream' } },
    want: { mcp: true, methods: [] },
    rationale: 'the HTTP+SSE transport opens with a GET on /sse and no MCP header',
  },
  {
    name: 'GET /mcp with a session header – standalone stream',
    input: {
      method: 'GET',
      path: '/mcp',
      headers: { accept: 'text/event-stream', 'mcp-session-id': 'x' },
    },
    want: { mcp: true, methods: [] },
    rationale: 'Streamable HTTP GET stream',
  },
  {
    name: 'GET /events asking for an event stream – not MCP',
    input: { method: 'GET', path: '/events', headers: { accept: 'text/event-stream' } },
    want: { mcp: false },
    rationale: 'SSE is common outside MCP; only /sse and /mcp paths count',
  },
  {
    name: 'GET /mcp/ with a trailing slash is still /mcp? no – path must end /mcp',
    input: { method: 'GET', path: '/sse/x', headers: { accept: 'text/event-stream' } },
    want: { mcp: false },
    rationale: 'the path rule is about the last segment',
  },
  {
    name: 'DELETE with a session – MCP',
    input: {
      method: 'DELETE',
      headers: { 'mcp-session-id': 'x', 'mcp-protocol-version': '2025-11-25' },
    },
    want: { mcp: true, methods: [] },
    rationale: 'session termination',
  },
  {
    name: 'OAuth discovery with an MCP header – not MCP',
    input: {
      method: 'GET',
      path: '/.well-known/oauth-protected-resource/mcp',
      headers: { 'mcp-protocol-version': '2025-06-18' },
    },
    want: { mcp: false },
    rationale: 'clients send MCP-Protocol-Version on discovery; discovery is not MCP',
  },
  {
    name: 'notification – no id',
    input: { headers: SESSION, body: rpc('notifications/initialized', undefined, null) },
    want: { mcp: true, methods: ['notifications/initialized'], ids: [undefined] },
    rationale: 'notifications have no id',
  },
  {
    name: 'client-sent response with MCP headers – MCP',
    input: { headers: SESSION, body: '{"jsonrpc":"2.0","id":0,"result":{}}' },
    want: { mcp: true, methods: [undefined] },
    rationale: 'clients answer server pings and sampling by POSTing responses',
  },
  {
    name: 'JSON-RPC response without MCP headers – not MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":0,"result":{}}',
    },
    want: { mcp: false },
    rationale: 'any JSON-RPC API has responses',
  },
  {
    name: 'unknown method with 2026 _meta – MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: rpc('vendor/extension', {
        _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' },
      }),
    },
    want: { mcp: true, methods: ['vendor/extension'] },
    rationale: 'reserved _meta keys are an MCP-only signal',
  },
  {
    name: 'batch (2025-03-26) – every element read',
    input: {
      headers: STREAMABLE_POST,
      body: `[${rpc('ping', undefined, 1)},${rpc('tools/call', { name: 'delete_repo' }, 2)}]`,
    },
    want: {
      mcp: true,
      batch: true,
      methods: ['ping', 'tools/call'],
      tools: ['delete_repo'],
      ids: ['1', '2'],
    },
    rationale: 'a batch can hide tools/call behind ping',
  },
  {
    name: 'batch under 2025-06-18 – batch_forbidden',
    input: {
      headers: { ...SESSION, 'mcp-protocol-version': '2025-06-18' },
      body: `[${rpc('ping')}]`,
    },
    want: { mcp: true, failure: 'batch_forbidden', scope: 'always', batch: true },
    rationale: 'revisions from 2025-06-18 forbid batches',
  },
  {
    name: 'batch beyond the element limit – too_large',
    input: {
      headers: STREAMABLE_POST,
      body: `[${[1, 2, 3, 4].map((i) => rpc('ping', undefined, i)).join(',')}]`,
    },
    want: { mcp: true, failure: 'too_large', scope: 'always', batch: true },
    rationale: 'bounded work per request',
  },
  {
    name: 'empty batch with MCP headers – malformed',
    input: { headers: { ...STREAMABLE_POST, 'mcp-session-id': 'x' }, body: '[]' },
    want: { mcp: true, failure: 'malformed', scope: 'always', batch: true },
    rationale: 'an empty array is not a JSON-RPC batch',
  },
  {
    name: 'duplicate method keys – duplicate_keys',
    input: {
      headers: STREAMABLE_POST,
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list","params":{"name":"x"}}',
    },
    want: { mcp: true, failure: 'duplicate_keys', scope: 'always' },
    rationale: 'JSON.parse keeps the last, other parsers the first',
  },
  {
    name: 'duplicate method hiding an MCP method first – still MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"eth_call","params":{"name":"x"}}',
    },
    want: { mcp: true, failure: 'duplicate_keys', scope: 'always' },
    rationale: 'the last-wins value looks non-MCP; a first-wins server would run tools/call',
  },
  {
    name: 'duplicate params.name – duplicate_keys',
    input: {
      headers: SESSION,
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_x","name":"delete_x"}}',
    },
    want: { mcp: true, failure: 'duplicate_keys', scope: 'always' },
    rationale: 'the classic tool-name smuggling',
  },
  {
    name: 'duplicate written with a unicode escape – duplicate_keys',
    input: {
      headers: SESSION,
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_x","\\u006eame":"delete_x"}}',
    },
    want: { mcp: true, failure: 'duplicate_keys', scope: 'always' },
    rationale: 'escaped keys equal their plain form',
  },
  {
    name: 'duplicate id inside a batch element – duplicate_keys',
    input: { headers: STREAMABLE_POST, body: '[{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}]' },
    want: { mcp: true, failure: 'duplicate_keys', scope: 'always' },
    rationale: 'every batch element is an envelope',
  },
  {
    name: 'duplicate key deep in tool arguments – allowed',
    input: {
      headers: SESSION,
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_x","arguments":{"a":1,"a":2}}}',
    },
    want: { mcp: true, tools: ['get_x'] },
    rationale: 'arguments are the server’s business, not part of the envelope',
  },
  {
    name: 'duplicate keys in plain JSON without MCP signals – not MCP',
    input: { headers: { 'content-type': 'application/json' }, body: '{"a":1,"a":2}' },
    want: { mcp: false },
    rationale: 'other APIs with sloppy JSON pass untouched',
  },
  {
    name: 'truncated body with MCP headers – truncated',
    input: {
      headers: SESSION,
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_x","argu',
      truncated: true,
    },
    want: { mcp: true, failure: 'truncated', scope: 'tool_restricted' },
    rationale: 'a duplicate name could follow the cut',
  },
  {
    name: 'truncated initialize without headers – recognised, truncated',
    input: {
      headers: STREAMABLE_POST,
      body: `{"method":"initialize","params":{"protocolVersion":"2025-03-26","clientInfo":{"name":"${'x'.repeat(100)}`,
      truncated: true,
    },
    want: { mcp: true, failure: 'truncated', scope: 'tool_restricted' },
    rationale: 'padding the body past the limit must not make MCP look like non-MCP',
  },
  {
    name: 'truncated non-MCP upload – not MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: '{"records":[1,2,3',
      truncated: true,
    },
    want: { mcp: false },
    rationale: 'large uploads elsewhere pass untouched',
  },
  {
    name: 'truncated body, escaped jsonrpc key, no headers – recognised, truncated',
    input: {
      headers: STREAMABLE_POST,
      body: `{"\\u006asonrpc":"2.0","params":{"pad":"${'x'.repeat(100)}`,
      truncated: true,
    },
    want: { mcp: true, failure: 'truncated', scope: 'tool_restricted' },
    rationale: 'a JSON-RPC prefix is MCP whatever the spelling of its keys',
  },
  {
    name: 'truncated gzip body without headers – its inflated prefix is searched',
    input: {
      headers: { ...STREAMABLE_POST, 'content-encoding': 'gzip' },
      body: gzip(rpc('tools/call', { name: 'x' })).subarray(0, 60),
      truncated: true,
    },
    want: { mcp: true, failure: 'truncated', scope: 'tool_restricted' },
    rationale: 'compression must not turn a cut MCP body into non-MCP',
  },
  {
    name: 'body over the cap with MCP headers – too_large, tool_restricted',
    input: { headers: SESSION, body: rpc('tools/call', { name: 'x', pad: 'A'.repeat(70_000) }) },
    want: { mcp: true, failure: 'too_large', scope: 'tool_restricted' },
    rationale: 'an over-cap body is treated as cut: never parsed, matters only for tool rules',
  },
  {
    name: 'body over the cap without headers, JSON-RPC prefix – recognised',
    input: {
      headers: STREAMABLE_POST,
      body: rpc('initialize', { protocolVersion: '2025-11-25', pad: 'A'.repeat(70_000) }),
    },
    want: { mcp: true, failure: 'too_large', scope: 'tool_restricted' },
    rationale: 'size must not make MCP look like an upload',
  },
  {
    name: 'body over the cap without headers, plain upload – not MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: `{"rows":[${'1,'.repeat(40_000)}1]}`,
    },
    want: { mcp: false },
    rationale: 'large ordinary uploads pass untouched',
  },
  {
    name: 'gzip inflating beyond the cap, no headers – recognised from its prefix',
    input: {
      headers: { ...STREAMABLE_POST, 'content-encoding': 'gzip' },
      body: gzip(rpc('tools/call', { name: 'x', pad: 'A'.repeat(1_000_000) })),
    },
    want: { mcp: true, failure: 'too_large', scope: 'tool_restricted' },
    rationale: 'a bomb is never inflated past the cap, yet still recognised',
  },
  {
    name: 'lying content-encoding on a plain JSON-RPC body, no headers – undecodable MCP',
    input: {
      headers: { ...STREAMABLE_POST, 'content-encoding': 'gzip' },
      body: rpc('tools/call', { name: 'x' }),
    },
    want: { mcp: true, failure: 'undecodable', scope: 'always' },
    rationale: 'a server that ignores content-encoding would run it',
  },
  {
    name: 'UTF-16 JSON-RPC body, no headers – read in its charset',
    input: {
      headers: { 'content-type': 'application/json; charset=utf-16le' },
      body: Buffer.from(rpc('tools/call', { name: 'x' }), 'utf16le'),
    },
    want: { mcp: true, methods: ['tools/call'] },
    rationale: 'servers that honour the charset run it, so we read it as they do',
  },
  {
    name: 'undecodable upload that shows no JSON-RPC – not MCP',
    input: {
      headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'zstd' },
      body: new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x01]),
    },
    want: { mcp: false },
    rationale: 'binary uploads in codings we do not know pass untouched',
  },
  {
    name: 'JSON-RPC too deep to parse, no headers – not_json MCP',
    input: {
      headers: STREAMABLE_POST,
      body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":${'['.repeat(70)}${']'.repeat(70)}}}`,
    },
    want: { mcp: true, failure: 'not_json', scope: 'always' },
    rationale: 'our depth limit must not make MCP look like non-JSON',
  },
  {
    name: 'GET /sse/ with a trailing slash – legacy SSE stream',
    input: { method: 'GET', path: '/sse/', headers: { accept: 'text/event-stream' } },
    want: { mcp: true, methods: [] },
    rationale: 'servers answer /sse/ like /sse, or redirect to it',
  },
  {
    name: 'POST without a body in a 2025 session – body_missing',
    input: { headers: SESSION },
    want: { mcp: true, failure: 'body_missing', scope: 'tool_restricted' },
    rationale: 'Envoy sent no body (with_request_body off): the tool is unknown',
  },
  {
    name: 'POST without a body, 2026 headers – trusted',
    input: { headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' } },
    want: { mcp: true, methods: ['tools/call'], tools: ['get_issue'] },
    rationale: '2026-07-28 servers must validate the headers against the body',
  },
  {
    name: 'POST without a body, 2026 base64 Mcp-Name – decoded',
    input: { headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': b64('résumé_lookup') } },
    want: { mcp: true, tools: ['résumé_lookup'] },
    rationale: 'non-ASCII names travel base64-wrapped',
  },
  {
    name: 'POST without a body, 2026 tools/call without Mcp-Name – malformed',
    input: { headers: { ...V2026, 'mcp-method': 'tools/call' } },
    want: { mcp: true, failure: 'malformed', scope: 'always' },
    rationale: 'the header is required for tools/call',
  },
  {
    name: 'POST without a body, 2025 version with Mcp-Name – not trusted',
    input: { headers: { ...SESSION, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' } },
    want: { mcp: true, failure: 'body_missing', scope: 'tool_restricted' },
    rationale: 'never trust the headers below 2026-07-28',
  },
  {
    name: '2026 body agreeing with its headers',
    input: {
      headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' },
      body: rpc('tools/call', { name: 'get_issue' }),
    },
    want: { mcp: true, tools: ['get_issue'] },
    rationale: 'the normal 2026 request',
  },
  {
    name: '2026 Mcp-Name disagreeing with the body – header_mismatch',
    input: {
      headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' },
      body: rpc('tools/call', { name: 'delete_repo' }),
    },
    want: { mcp: true, failure: 'header_mismatch', scope: 'always' },
    rationale: 'a header-trusting hop would see get_issue',
  },
  {
    name: '2026 Mcp-Method disagreeing with the body – header_mismatch',
    input: {
      headers: { ...V2026, 'mcp-method': 'tools/list' },
      body: rpc('tools/call', { name: 'delete_repo' }),
    },
    want: { mcp: true, failure: 'header_mismatch', scope: 'always' },
    rationale: 'method mismatch',
  },
  {
    name: '2026 request without Mcp-Method – header_mismatch',
    input: { headers: V2026, body: rpc('tools/call', { name: 'get_issue' }) },
    want: { mcp: true, failure: 'header_mismatch', scope: 'always' },
    rationale: 'missing required headers are a validation failure',
  },
  {
    name: '2026 header-only request with an undecodable Mcp-Name – undecodable',
    input: { headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': '=?base64?***?=' } },
    want: { mcp: true, failure: 'undecodable', scope: 'always' },
    rationale: 'a header that cannot be read cannot be trusted',
  },
  {
    name: '2026 body with a raw non-ASCII Mcp-Name – undecodable',
    input: {
      headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': 'résumé_lookup' },
      body: rpc('tools/call', { name: 'résumé_lookup' }),
    },
    want: { mcp: true, failure: 'undecodable', scope: 'always' },
    rationale: 'non-ASCII values must be base64-wrapped; servers would read raw bytes differently',
  },
  {
    name: '2026 base64 Mcp-Name agreeing with a unicode body name',
    input: {
      headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': b64('résumé_lookup') },
      body: rpc('tools/call', { name: 'résumé_lookup' }),
    },
    want: { mcp: true, tools: ['résumé_lookup'] },
    rationale: 'decoded before comparing',
  },
  {
    name: '2025 bridge sending matching Mcp-Method/Mcp-Name',
    input: {
      headers: { ...SESSION, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' },
      body: rpc('tools/call', { name: 'get_issue' }),
    },
    want: { mcp: true, tools: ['get_issue'] },
    rationale: 'mcp-remote adds these headers in the 2025 era too',
  },
  {
    name: '2025 bridge with a mismatching Mcp-Name – header_mismatch',
    input: {
      headers: { ...SESSION, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' },
      body: rpc('tools/call', { name: 'delete_repo' }),
    },
    want: { mcp: true, failure: 'header_mismatch', scope: 'always' },
    rationale: 'whenever sent, the headers must agree',
  },
  {
    name: 'gzip body – decoded and inspected',
    input: {
      headers: { ...SESSION, 'content-encoding': 'gzip' },
      body: gzip(rpc('tools/call', { name: 'delete_repo' })),
    },
    want: { mcp: true, tools: ['delete_repo'] },
    rationale: 'compression must not hide the tool',
  },
  {
    name: 'gzip body without MCP headers – still recognised',
    input: {
      headers: { ...STREAMABLE_POST, 'content-encoding': 'gzip' },
      body: gzip(rpc('tools/call', { name: 'x' })),
    },
    want: { mcp: true, tools: ['x'] },
    rationale: 'body detection works on the decoded body',
  },
  {
    name: 'content-encoding gzip on a plain body with MCP headers – undecodable',
    input: {
      headers: { ...SESSION, 'content-encoding': 'gzip' },
      body: rpc('tools/call', { name: 'x' }),
    },
    want: { mcp: true, failure: 'undecodable', scope: 'always' },
    rationale: 'a lying content-encoding never falls back to the raw bytes',
  },
  {
    name: 'not JSON with MCP headers – not_json',
    input: { headers: SESSION, body: 'method=tools/call&name=x' },
    want: { mcp: true, failure: 'not_json', scope: 'always' },
    rationale: 'MCP headers promise JSON',
  },
  {
    name: 'not JSON without MCP headers – not MCP',
    input: { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' },
    want: { mcp: false },
    rationale: 'ordinary form posts pass',
  },
  {
    name: 'JSON that is not JSON-RPC, with MCP headers – malformed',
    input: { headers: SESSION, body: '{"hello":"world"}' },
    want: { mcp: true, failure: 'malformed', scope: 'always' },
    rationale: 'an MCP session sends only JSON-RPC',
  },
  {
    name: 'tools/call without params.name – malformed',
    input: { headers: STREAMABLE_POST, body: rpc('tools/call', { arguments: {} }) },
    want: { mcp: true, failure: 'malformed', scope: 'always' },
    rationale: 'a tool call whose tool cannot be known',
  },
  {
    name: 'tools/call with params as an array – malformed',
    input: { headers: STREAMABLE_POST, body: rpc('tools/call', ['delete_repo']) },
    want: { mcp: true, failure: 'malformed', scope: 'always' },
    rationale: 'positional params hide the name from a params.name reader',
  },
  {
    name: 'tools/call with a non-string name – malformed',
    input: { headers: STREAMABLE_POST, body: rpc('tools/call', { name: ['delete_repo'] }) },
    want: { mcp: true, failure: 'malformed', scope: 'always' },
    rationale: 'type confusion',
  },
  {
    name: 'nesting deeper than the limit with MCP headers – not_json',
    input: { headers: SESSION, body: `${'['.repeat(100)}${']'.repeat(100)}` },
    want: { mcp: true, failure: 'not_json', scope: 'always' },
    rationale: 'no envelope is that deep',
  },
  {
    name: 'resources/read and prompts/get extraction',
    input: {
      headers: STREAMABLE_POST,
      body: `[${rpc('resources/read', { uri: 'file:///etc/passwd' }, 1)},${rpc('prompts/get', { name: 'summarise' }, 2)}]`,
    },
    want: { mcp: true, methods: ['resources/read', 'prompts/get'], tools: [] },
    rationale: 'extracted for the audit log',
  },
  {
    name: 'WebSocket upgrade offering the mcp subprotocol',
    input: {
      method: 'GET',
      headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-protocol': 'mcp' },
    },
    want: { mcp: true, failure: 'websocket', scope: 'tool_restricted' },
    rationale: 'frames are never seen: only entries without tool rules may pass it',
  },
  {
    name: 'WebSocket upgrade offering mcp among other subprotocols',
    input: {
      method: 'GET',
      headers: {
        upgrade: 'WebSocket',
        connection: 'upgrade',
        'sec-websocket-protocol': 'chat, MCP',
      },
    },
    want: { mcp: true, failure: 'websocket' },
    rationale: 'a list of tokens, compared without case',
  },
  {
    name: 'mcp subprotocol without an Upgrade header – not MCP',
    input: {
      method: 'GET',
      headers: { 'sec-websocket-protocol': 'mcp' },
    },
    want: { mcp: false },
    rationale:
      'a GET without Upgrade is no WebSocket opening (the CONNECT form is in the catalogue)',
  },
  {
    name: 'WebSocket upgrade for another subprotocol – not MCP',
    input: {
      method: 'GET',
      headers: {
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-protocol': 'graphql-ws',
      },
    },
    want: { mcp: false },
    rationale: 'ordinary sockets pass untouched',
  },
  {
    name: 'nested batch without MCP headers',
    input: {
      headers: { 'content-type': 'application/json' },
      body: `[[${rpc('tools/call', { name: 'x' })}]]`,
    },
    want: { mcp: true, failure: 'malformed' },
    rationale: 'a flattening server runs what the nested array holds',
  },
  {
    name: 'ordinary nested array over the nested budget – not MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: `[[${Array.from({ length: 50 }, (_, i) => i).join(',')}]]`,
    },
    want: { mcp: false },
    rationale: 'past the budget the text decides, and it shows no JSON-RPC',
  },
  {
    name: 'array over the batch limit without MCP headers or JSON-RPC text – not MCP',
    input: { headers: { 'content-type': 'application/json' }, body: '[1,2,3,4,5]' },
    want: { mcp: false },
    rationale: 'an ordinary long array passes, unparsed',
  },
  {
    name: 'array over the batch limit with JSON-RPC text, no MCP headers',
    input: {
      headers: { 'content-type': 'application/json' },
      body: `[1,2,3,${rpc('tools/call', { name: 'x' })}]`,
    },
    want: { mcp: true, failure: 'too_large', batch: true },
    rationale: 'refused after counting max-batch elements; the text shows a call',
  },
  {
    name: 'only method key spelled Method – MCP by its folded key',
    input: {
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"Name":"x"}}',
    },
    want: { mcp: true, methods: ['tools/call'], tools: ['x'] },
    rationale: 'Go servers fill method and name from these keys',
  },
  {
    name: 'name and Name – duplicate under folding',
    input: {
      headers: STREAMABLE_POST,
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}',
    },
    want: { mcp: true, failure: 'duplicate_keys', scope: 'always' },
    rationale: 'JS reads a, Go reads b (CVE-2026-27896)',
  },
  {
    name: 'UTF-7 body with a shifted brace, no MCP headers',
    input: {
      headers: { 'content-type': 'application/json; charset=utf-7' },
      body: `+AHs-${rpc('tools/call', { name: 'x' }).slice(1)}`,
    },
    want: { mcp: true, methods: ['tools/call'], tools: ['x'] },
    rationale: 'read as body-parser reads it (iconv-lite)',
  },
  {
    name: 'latin1 body whose readings name different tools',
    input: {
      headers: { 'content-type': 'application/json; charset=latin1' },
      body: Buffer.concat([
        Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a'),
        Buffer.from([0xe9]),
        Buffer.from('"}}'),
      ]),
    },
    want: { mcp: true, failure: 'undecodable', scope: 'always' },
    rationale: 'a charset-honouring server runs aé, a charset-ignoring one a\ufffd',
  },
  {
    name: 'JSON body in a coding we cannot undo, no MCP headers',
    input: {
      headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
      body: new Uint8Array([0x1f, 0x9d, 0x90, 0x7b]),
    },
    want: { mcp: true, failure: 'undecodable', scope: 'always' },
    rationale: 'a server that can undo it may run what we cannot see',
  },
  {
    name: 'UTF-7 body under a lying gzip coding, no MCP headers',
    input: {
      headers: { 'content-type': 'application/json; charset=utf-7', 'content-encoding': 'gzip' },
      body: `+AHs-${rpc('tools/call', { name: 'x' }).slice(1)}`,
    },
    want: { mcp: true, failure: 'undecodable' },
    rationale: 'a server that ignores the coding and honours the charset runs it',
  },
  {
    name: 'ambiguous raw path on an MCP request',
    input: {
      path: '/mcp/x/../open/',
      headers: STREAMABLE_POST,
      body: rpc('tools/call', { name: 'x' }),
    },
    want: { mcp: true, failure: 'ambiguous_path', scope: 'always' },
    rationale: 'Express serves it under /mcp, a resolving reader under /mcp/open',
  },
  {
    name: 'ambiguous raw path on non-MCP traffic – not MCP',
    input: { method: 'GET', path: '/static/../x.js' },
    want: { mcp: false },
    rationale: 'the path rule applies only to MCP',
  },
  {
    name: 'over 10,000 object members in a body over 32 KiB, MCP headers',
    input: {
      headers: { ...STREAMABLE_POST, 'mcp-protocol-version': '2025-11-25' },
      body: rpc('tools/call', {
        name: 'x',
        arguments: { rows: lettersRows(385) },
      }),
    },
    want: { mcp: true, failure: 'too_large', scope: 'tool_restricted' },
    rationale: 'refused unparsed, like a body over the cap: the tool stays unknown',
  },
  {
    name: 'over 10,000 object members without JSON-RPC – not MCP',
    input: {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rows: lettersRows(386) }),
    },
    want: { mcp: false },
    rationale: 'an ordinary large document passes, unparsed',
  },
  {
    name: 'just under 10,000 object members – parsed',
    input: {
      headers: STREAMABLE_POST,
      body: rpc('tools/call', {
        name: 'x',
        arguments: { rows: lettersRows(384) },
      }),
    },
    want: { mcp: true, methods: ['tools/call'], tools: ['x'] },
    rationale: '384 × 26 members, plus the 7 of the envelope: 9,991',
  },
  {
    name: 'CONNECT – never MCP at this layer',
    input: { method: 'CONNECT', authority: 'mcp.notion.com:443' },
    want: { mcp: false },
    rationale: 'a tunnel only shows the authority; the decision handles it',
  },
];

describe('inspectMcp', () => {
  test('row names are unique', () => {
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  test.each(ROWS)('$name', ({ input, want }) => {
    const inspection = inspectMcp(makeFacts(input), LIMITS, ICONV_CHARSETS);
    expect(inspection.isMcp).toBe(want.mcp);
    expect(inspection.failure?.detail).toBe(want.failure);
    if (want.scope !== undefined) expect(inspection.failure?.scope).toBe(want.scope);
    if (want.methods !== undefined)
      expect(inspection.messages.map((m) => m.method)).toEqual(want.methods);
    if (want.tools !== undefined) {
      expect(inspection.messages.flatMap((m) => (m.tool === undefined ? [] : [m.tool]))).toEqual(
        want.tools,
      );
    }
    if (want.transport !== undefined) expect(inspection.transport).toBe(want.transport);
    if (want.batch !== undefined) expect(inspection.batch).toBe(want.batch);
    if (want.ids !== undefined) expect(inspection.messages.map((m) => m.idJson)).toEqual(want.ids);
    if (!want.mcp) expect(inspection.messages).toEqual([]);
  });

  test('client identity – initialize clientInfo, 2026 _meta clientInfo, user agent', () => {
    const init = inspectMcp(
      makeFacts({
        headers: { ...STREAMABLE_POST, 'user-agent': 'claude-code/2.1.221 (cli)' },
        body: rpc('initialize', {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'claude-code', version: '2' },
        }),
      }),
      LIMITS,
      ICONV_CHARSETS,
    );
    expect(init.clientName).toBe('claude-code');
    expect(init.protocolVersion).toBe('2025-06-18');
    expect(init.userAgent).toBe('claude-code/2.1.221 (cli)');

    const modern = inspectMcp(
      makeFacts({
        headers: { ...V2026, 'mcp-method': 'tools/list' },
        body: rpc('tools/list', {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'cursor-vscode', version: '1.0.0' },
          },
        }),
      }),
      LIMITS,
      ICONV_CHARSETS,
    );
    expect(modern.failure).toBeUndefined();
    expect(modern.clientName).toBe('cursor-vscode');
    expect(modern.protocolVersion).toBe('2026-07-28');
  });

  test('never throws – arbitrary bytes, headers and shapes', () => {
    const bodies: (string | Uint8Array)[] = [
      new Uint8Array([0xff, 0xfe, 0x00, 0x01]),
      '\u0000',
      '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"\\ud800"},"id":1}',
      '{"__proto__":{"polluted":1},"jsonrpc":"2.0","method":"ping","id":1}',
      '1e999999',
      'null',
      '"str"',
    ];
    for (const body of bodies) {
      for (const headers of [
        SESSION,
        STREAMABLE_POST,
        { ...SESSION, 'content-encoding': 'br, gzip, deflate' },
      ]) {
        expect(() =>
          inspectMcp(makeFacts({ headers, body }), LIMITS, ICONV_CHARSETS),
        ).not.toThrow();
      }
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
