/**
 * fast-check generators for what Envoy forwards to mcp-gate: requests aimed at an allowlist
 * entry or at no entry (labelled by construction, never by asking the code under test), MCP and
 * non-MCP bodies, and the mutations an evasive client would try: duplicated and dropped keys,
 * wrong types, escapes, batches, BOMs, invalid UTF-8, UTF-16, compression with right, missing
 * or lying `content-encoding`, truncation by Envoy, odd method and header casing, and 2026-07-28
 * `Mcp-Method`/`Mcp-Name` headers that agree or disagree with the body.
 *
 * A generated {@link FuzzCase} is plain data (the options for test/helpers/envoy-check-request.ts),
 * so a counterexample prints as a ready-to-paste test.
 */
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { EnvoyCheckRequestOptions } from '../helpers/envoy-check-request.js';
import { ENTRIES, KNOWN_UNAPPROVED_HOST, POLICY_NAMES } from './fixtures.js';
import type { EntryModel, PolicyName } from './fixtures.js';
import { arr, fromValue, lit, mapEntries, num, obj, renderJson } from './json-text.js';
import type { JsonNode, JsonStyle } from './json-text.js';

/** What the generator aimed the request at. */
export type Intent =
  /** Host, port and path inside this entry. */
  | { readonly kind: 'entry'; readonly id: string }
  /** No entry of the base allowlist can match this host, port and path. */
  | { readonly kind: 'unmatched' }
  /** A CONNECT to a known MCP host that no entry approves. */
  | { readonly kind: 'connect-known' }
  /** A spelling whose target is debatable (full-width letters, encoded slashes): no claim. */
  | { readonly kind: 'unknown' };

/** The client's request plus Envoy's settings, as test/helpers/envoy-check-request.ts takes them. */
export type FuzzRequest = EnvoyCheckRequestOptions & {
  readonly method: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Uint8Array;
};

export interface FuzzCase {
  readonly policy: PolicyName;
  readonly intent: Intent;
  /** What the client sent; `request.body` is what the upstream server receives in full. */
  readonly request: FuzzRequest;
  /** False models Envoy without `with_request_body`: the check carries no body. */
  readonly bodyBuffered: boolean;
}

// ---------------------------------------------------------------------------------------------
// Hosts and paths

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

type Casing = 'lower' | 'upper' | 'mixed';
const casing = fc.constantFrom<Casing>('lower', 'upper', 'mixed');

function applyCase(text: string, how: Casing): string {
  if (how === 'lower') return text;
  if (how === 'upper') return text.toUpperCase();
  return Array.from(text)
    .map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c))
    .join('');
}

interface Target {
  readonly intent: Intent;
  readonly authority: string;
  readonly path: string;
}

/** Paths an entry with this prefix covers (normalisation keeps them inside). */
function insidePath(prefix: string | undefined): fc.Arbitrary<string> {
  if (prefix === undefined) {
    return fc.constantFrom('/', '/mcp', '/mcp/', '/sse', '/messages?sessionId=1f', '/v1/x/../mcp');
  }
  const encoded = prefix.replace('m', '%6d');
  return fc.constantFrom(
    prefix,
    `${prefix}/`,
    `${prefix}/insiders`,
    `${prefix}/./x`,
    `${prefix}/a/../b`,
    `${prefix}//x`,
    `${prefix}?q=1`,
    `${prefix}?next=/../admin`,
    encoded,
    `${prefix.replace('m', '%6D')}/x`,
  );
}

/** Paths outside the prefix, whatever the spelling (dot segments, lookalike prefixes). */
function outsidePath(prefix: string): fc.Arbitrary<string> {
  return fc.constantFrom(
    '/',
    '/admin',
    `${prefix}x`,
    `${prefix}-v2/`,
    `${prefix}/../admin`,
    `${prefix}/%2e%2e/admin`,
    `${prefix}/%2E%2E/%2E%2E/admin`,
    `${prefix}/..;/admin`,
    `${prefix}\\..\\admin`,
    `${prefix}%2fx`,
    `/admin?u=${prefix}`,
    `/x${prefix}`,
  );
}

function matchedHost(entry: EntryModel): fc.Arbitrary<string> {
  if (!entry.wildcard) return fc.constant(entry.host);
  return fc
    .array(label, { minLength: 1, maxLength: 3 })
    .map((ls) => `${ls.join('.')}.${entry.host}`);
}

function matchedTarget(entry: EntryModel): fc.Arbitrary<Target> {
  const port =
    entry.port !== undefined
      ? fc.constant<number | undefined>(entry.port)
      : fc.option(fc.constantFrom(80, 443, 8080, 3000), { nil: undefined });
  return fc
    .record({
      host: matchedHost(entry),
      how: casing,
      dot: fc.boolean(),
      port,
      path: insidePath(entry.pathPrefix),
    })
    .map(({ host, how, dot, port: p, path }) => ({
      intent: { kind: 'entry', id: entry.id },
      authority: `${applyCase(host, how)}${dot ? '.' : ''}${p === undefined ? '' : `:${p}`}`,
      path,
    }));
}

/** Hosts no entry names: lookalikes, confusables, other spellings of the IP, broken authorities. */
const UNMATCHED_AUTHORITIES = [
  'api.githubcopilot.com.evil.test',
  'api-githubcopilot.com',
  'githubcopilot.com',
  'xapi.githubcopilot.com',
  'api.githubcopilot.co',
  'api.githubcopilot.com..',
  'api.githubcopilot.com:0',
  'api.githubcopilot.com:99999',
  'api.githubcopilot.com:',
  'api.githubcopilot.com:443:443',
  'user@api.githubcopilot.com',
  'api.githubcopilot.com%2e',
  'api%2egithubcopilot.com',
  'api_githubcopilot.com',
  ' api.githubcopilot.com',
  'api.githubcopilot.com/mcp',
  '\u0430pi.githubcopilot.com',
  'api.githubcopil\u043et.com',
  'xn--pi-7ld.githubcopilot.com',
  'docs.example.net',
  'evildocs.example.net',
  'a.docs.example.net.evil.test',
  'a.docs-example.net',
  'a.docs.example.nett',
  'a.docs.ex\u0430mple.net',
  'mcp.locked.example.evil.test',
  'mcp.lock\u0435d.example',
  'mcp.internal.test',
  'mcp.internal.test:8080',
  'mcp.internal.test:443',
  '10.20.30.41',
  '010.20.30.40',
  '10.20.30.040',
  '0x0a.20.30.40',
  '169090600',
  '10.20.7720',
  '[::ffff:10.20.30.40]',
  '[::ffff:a14:1e28]',
  '',
];

const anyPath = fc.oneof(
  fc.constantFrom('/', '/mcp', '/mcp/', '/sse', '/messages?sessionId=1', '/api/v1', '/rpc'),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
);

const unmatchedTarget: fc.Arbitrary<Target> = fc
  .oneof(
    fc
      .record({ labels: fc.array(label, { minLength: 1, maxLength: 3 }), path: anyPath })
      .map(({ labels, path }) => ({ authority: `${labels.join('.')}.outside.test`, path })),
    fc.record({ authority: fc.constantFrom(...UNMATCHED_AUTHORITIES), path: anyPath }),
    // The entry's host, but a path outside its prefix (no other entry shares the host).
    ...ENTRIES.filter((e) => e.pathPrefix !== undefined).map((entry) =>
      fc.record({
        authority: matchedHost(entry).map((h) =>
          entry.port === undefined ? h : `${h}:${entry.port}`,
        ),
        path: outsidePath(entry.pathPrefix ?? '/'),
      }),
    ),
  )
  .map((t) => ({ ...t, intent: { kind: 'unmatched' } }));

/** Spellings where "which server is this" is a matter of interpretation. */
const unknownTarget: fc.Arbitrary<Target> = fc
  .record({
    authority: fc.constantFrom(
      '\uff41pi.githubcopilot.com',
      'API.GITHUBCOPILOT.COM',
      'a.docs.example.net',
    ),
    path: fc.constantFrom(
      '/mcp/..%2fadmin',
      '/mcp%2f..%2fadmin',
      '/MCP',
      '/mcp/%2e',
      'http://evil.test/mcp',
    ),
  })
  .map((t) => ({ ...t, intent: { kind: 'unknown' } }));

export const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { arbitrary: fc.oneof(...ENTRIES.map(matchedTarget)), weight: 4 },
  { arbitrary: unmatchedTarget, weight: 4 },
  { arbitrary: unknownTarget, weight: 1 },
);

/** Tunnels: only the authority is visible. */
export const connectTargetArb: fc.Arbitrary<Target> = fc.oneof(
  fc
    .record({ how: casing, dot: fc.boolean(), port: fc.constantFrom('', ':443', ':8443') })
    .map(({ how, dot, port }) => ({
      intent: { kind: 'connect-known' } as const,
      authority: `${applyCase(KNOWN_UNAPPROVED_HOST, how)}${dot ? '.' : ''}${port}`,
      path: '',
    })),
  fc.oneof(...ENTRIES.map(matchedTarget), unmatchedTarget).map((t) => ({
    ...t,
    intent: { kind: 'unknown' } as const,
    path: '',
  })),
);

// ---------------------------------------------------------------------------------------------
// JSON-RPC / MCP messages

/** Tool names: allowed and denied by the fixture globs, near misses and arbitrary text. */
export const toolNameArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'get_issue',
    'list_repos',
    'search_code',
    'delete_repo',
    'get_delete_token',
    'create_issue',
    'search_docs',
    'fetch_a',
    'fetch_ab',
    'fetch_',
    'exec_cmd',
    'run1',
    'runx1',
    'Get_issue',
    'GET_ISSUE',
    'get_issue ',
    ' get_issue',
    'get_issue\u0000',
    'g\u0435t_issue',
    'fetch_\u00e9',
    'fetch_\u{1f600}',
    'get_\r\nx-injected: 1',
    '',
  ),
  fc.string({ maxLength: 12 }).map((s) => `get_${s}`),
  fc.string({ maxLength: 16 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

const idArb: fc.Arbitrary<JsonNode | undefined> = fc.oneof(
  { arbitrary: fc.nat({ max: 500 }).map(num), weight: 4 },
  { arbitrary: fc.constantFrom('404', 'abc', '').map(lit), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      num('1e400'),
      num('123456789012345678901234567890'),
      num('-0'),
      num('1.5'),
      lit(null),
      obj([]),
    ),
    weight: 1,
  },
);

const REVISIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'] as const;

const argumentsArb: fc.Arbitrary<JsonNode> = fc.oneof(
  // U+E000 marks where EncodingSpec.invalidUtf8 puts an invalid byte.
  { arbitrary: fc.constant(fromValue({ text: 'hello \ue000' })), weight: 3 },
  fc.constant(obj([])),
  fc.jsonValue({ maxDepth: 2 }).map((v) => obj([['v', fromValue(v)]])),
  // Deeper than mcp-gate's parser goes (64); JSON.parse in the server has no such limit.
  fc.integer({ min: 60, max: 80 }).map((depth) => {
    let node: JsonNode = lit('deep');
    for (let i = 0; i < depth; i++) node = arr([node]);
    return obj([['v', node]]);
  }),
  fc.constant(
    obj([
      ['__proto__', obj([['polluted', lit(true)]])],
      ['constructor', lit('x')],
    ]),
  ),
);

const meta2026 = obj([
  ['io.modelcontextprotocol/protocolVersion', lit('2026-07-28')],
  ['io.modelcontextprotocol/clientInfo', fromValue({ name: 'fuzz', version: '1' })],
]);

/** A message tree plus what it claims to be, for headers that agree or disagree with it. */
export interface MessageSpec {
  readonly node: JsonNode;
  readonly method: string | undefined;
  readonly name: string | undefined;
}

function request(
  method: string,
  params: JsonNode | undefined,
  id: JsonNode | undefined,
  name?: string,
): MessageSpec {
  // TS SDK 1.x key order: method, params, jsonrpc, id.
  const entries: (readonly [string, JsonNode])[] = [['method', lit(method)]];
  if (params !== undefined) entries.push(['params', params]);
  entries.push(['jsonrpc', lit('2.0')]);
  if (id !== undefined) entries.push(['id', id]);
  return { node: obj(entries), method, name };
}

const toolsCallArb: fc.Arbitrary<MessageSpec> = fc
  .record({ tool: toolNameArb, id: idArb, args: argumentsArb, meta: fc.boolean() })
  .map(({ tool, id, args, meta }) => {
    const params: (readonly [string, JsonNode])[] = [
      ['name', lit(tool)],
      ['arguments', args],
    ];
    if (meta) params.push(['_meta', meta2026]);
    return request('tools/call', obj(params), id ?? num(1), tool);
  });

const initializeArb: fc.Arbitrary<MessageSpec> = fc
  .record({ version: fc.constantFrom(...REVISIONS, '1.0'), lsp: fc.boolean(), id: idArb })
  .map(({ version, lsp, id }) =>
    request(
      'initialize',
      lsp
        ? fromValue({ processId: 1, rootUri: null, clientInfo: { name: 'Visual Studio Code' } })
        : fromValue({
            protocolVersion: version,
            capabilities: {},
            clientInfo: { name: 'fuzz-client', version: '1.0.0' },
          }),
      id ?? num(0),
    ),
  );

const otherRequestArb: fc.Arbitrary<MessageSpec> = fc
  .record({
    which: fc.constantFrom(
      'tools/list',
      'resources/list',
      'prompts/list',
      'ping',
      'server/discover',
      'resources/read',
      'prompts/get',
      'completion/complete',
      'logging/setLevel',
      'subscriptions/listen',
      'tasks/get',
    ),
    id: idArb,
    meta: fc.boolean(),
  })
  .map(({ which, id, meta }) => {
    const params: (readonly [string, JsonNode])[] = [];
    let name: string | undefined;
    if (which === 'resources/read') {
      name = 'file:///etc/passwd';
      params.push(['uri', lit(name)]);
    } else if (which === 'prompts/get') {
      name = 'summarise';
      params.push(['name', lit(name)]);
    }
    if (meta || which === 'server/discover') params.push(['_meta', meta2026]);
    return request(which, obj(params), id ?? num(2), name);
  });

const notificationArb: fc.Arbitrary<MessageSpec> = fc
  .constantFrom('notifications/initialized', 'notifications/cancelled', 'notifications/progress')
  .map((method) =>
    request(method, method === 'notifications/initialized' ? undefined : obj([]), undefined),
  );

const responseArb: fc.Arbitrary<MessageSpec> = fc
  .record({ id: idArb, error: fc.boolean() })
  .map(({ id, error }) => ({
    node: obj([
      ['jsonrpc', lit('2.0')],
      ['id', id ?? num(3)],
      error
        ? ['error', fromValue({ code: -32601, message: 'nope' })]
        : ['result', fromValue({ roots: [] })],
    ]),
    method: undefined,
    name: undefined,
  }));

/** JSON-RPC that is not MCP, and MCP method names in spellings no server routes. */
const nonMcpRpcArb: fc.Arbitrary<MessageSpec> = fc
  .record({
    method: fc.constantFrom(
      'eth_call',
      'textDocument/hover',
      'Tools/Call',
      'TOOLS/CALL',
      'tools/call ',
      'tools/call\u0000',
      'tools.call',
    ),
    tool: toolNameArb,
    id: idArb,
  })
  .map(({ method, tool, id }) => request(method, obj([['name', lit(tool)]]), id ?? num(4)));

const baseMessageArb: fc.Arbitrary<MessageSpec> = fc.oneof(
  { arbitrary: toolsCallArb, weight: 6 },
  { arbitrary: initializeArb, weight: 2 },
  { arbitrary: otherRequestArb, weight: 2 },
  { arbitrary: notificationArb, weight: 1 },
  { arbitrary: responseArb, weight: 1 },
  { arbitrary: nonMcpRpcArb, weight: 1 },
);

/** Envelope mutations: each is something a client could send to confuse a parser. */
export const MUTATIONS = [
  'none',
  'drop-jsonrpc',
  'jsonrpc-1.0',
  'jsonrpc-number',
  'dup-method-before',
  'dup-method-after',
  'dup-name',
  'dup-jsonrpc',
  'dup-id',
  'dup-params',
  'dup-deep',
  'method-number',
  'params-array',
  'params-string',
  'name-number',
  'drop-name',
  'drop-params',
  'proto-keys',
  'extra-key',
  'reverse-keys',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

const mutationArb = fc.oneof(
  { arbitrary: fc.constant<Mutation>('none'), weight: 6 },
  { arbitrary: fc.constantFrom(...MUTATIONS), weight: 4 },
);

function paramsChange(
  node: JsonNode,
  change: (entries: readonly (readonly [string, JsonNode])[]) => (readonly [string, JsonNode])[],
): JsonNode {
  return mapEntries(node, (entries) =>
    entries.map(([k, v]) => (k === 'params' ? ([k, mapEntries(v, change)] as const) : [k, v])),
  );
}

export function mutate(spec: MessageSpec, mutation: Mutation, other: string): MessageSpec {
  const node = spec.node;
  const change = (
    f: (e: readonly (readonly [string, JsonNode])[]) => (readonly [string, JsonNode])[],
  ) => ({
    ...spec,
    node: mapEntries(node, f),
  });
  switch (mutation) {
    case 'none':
      return spec;
    case 'drop-jsonrpc':
      return change((e) => e.filter(([k]) => k !== 'jsonrpc'));
    case 'jsonrpc-1.0':
      return change((e) => e.map(([k, v]) => (k === 'jsonrpc' ? [k, lit('1.0')] : [k, v])));
    case 'jsonrpc-number':
      return change((e) => e.map(([k, v]) => (k === 'jsonrpc' ? [k, num(2)] : [k, v])));
    case 'dup-method-before':
      return change((e) => [['method', lit(other)], ...e]);
    case 'dup-method-after':
      return change((e) => [...e, ['method', lit(other)]]);
    case 'dup-name':
      return { ...spec, node: paramsChange(node, (e) => [...e, ['name', lit(other)]]) };
    case 'dup-jsonrpc':
      return change((e) => [...e, ['jsonrpc', lit('2.0')]]);
    case 'dup-id':
      return change((e) => [['id', num(99)], ...e]);
    case 'dup-params':
      return change((e) => [['params', fromValue({ name: other })], ...e]);
    case 'dup-deep':
      return {
        ...spec,
        node: paramsChange(node, (e) => [
          ...e,
          [
            'arguments',
            obj([
              ['a', lit(true)],
              ['a', lit(false)],
            ]),
          ],
        ]),
      };
    case 'method-number':
      return change((e) => e.map(([k, v]) => (k === 'method' ? [k, num(7)] : [k, v])));
    case 'params-array':
      return change((e) => e.map(([k, v]) => (k === 'params' ? [k, arr([v])] : [k, v])));
    case 'params-string':
      return change((e) => e.map(([k, v]) => (k === 'params' ? [k, lit(other)] : [k, v])));
    case 'name-number':
      return {
        ...spec,
        node: paramsChange(node, (e) => e.map(([k, v]) => (k === 'name' ? [k, num(12)] : [k, v]))),
      };
    case 'drop-name':
      return { ...spec, node: paramsChange(node, (e) => e.filter(([k]) => k !== 'name')) };
    case 'drop-params':
      return change((e) => e.filter(([k]) => k !== 'params'));
    case 'proto-keys':
      return change((e) => [
        ['__proto__', obj([['method', lit(other)]])],
        ['constructor', obj([])],
        ...e,
      ]);
    case 'extra-key':
      return change((e) => [...e, ['x-extra', fromValue({ method: other })]]);
    case 'reverse-keys':
      return change((e) => [...e].reverse());
  }
}

export const messageArb: fc.Arbitrary<MessageSpec> = fc
  .record({
    base: baseMessageArb,
    mutation: mutationArb,
    other: fc.constantFrom('tools/list', 'tools/call', 'ping', 'delete_repo', 'get_issue'),
  })
  .map(({ base, mutation, other }) => mutate(base, mutation, other));

// ---------------------------------------------------------------------------------------------
// Bodies and their bytes

type Coding = 'gzip' | 'deflate' | 'br' | 'deflate-raw';

export interface EncodingSpec {
  readonly bom: boolean;
  readonly utf16: boolean;
  /** Replace the private-use marker U+E000 (in tool arguments) with an invalid UTF-8 byte. */
  readonly invalidUtf8: boolean;
  readonly codings: readonly Coding[];
  readonly contentEncoding:
    'declared' | 'omitted' | 'lie-gzip' | 'lie-zstd' | 'upper' | 'plus-identity';
  /** When set, Envoy buffers only this fraction of the body (allow_partial_message). */
  readonly truncateAt: number | undefined;
}

const encodingArb: fc.Arbitrary<EncodingSpec> = fc.record({
  bom: fc.oneof(
    { arbitrary: fc.constant(false), weight: 9 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
  utf16: fc.oneof(
    { arbitrary: fc.constant(false), weight: 15 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
  invalidUtf8: fc.oneof(
    { arbitrary: fc.constant(false), weight: 6 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
  codings: fc.oneof(
    { arbitrary: fc.constant<Coding[]>([]), weight: 6 },
    {
      arbitrary: fc.array(fc.constantFrom<Coding>('gzip', 'deflate', 'br', 'deflate-raw'), {
        minLength: 1,
        maxLength: 3,
      }),
      weight: 2,
    },
  ),
  contentEncoding: fc.oneof(
    { arbitrary: fc.constant('declared' as const), weight: 6 },
    {
      arbitrary: fc.constantFrom('omitted', 'lie-gzip', 'lie-zstd', 'upper', 'plus-identity'),
      weight: 2,
    },
  ),
  truncateAt: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 8 },
    { arbitrary: fc.double({ min: 0.05, max: 0.95, noNaN: true }), weight: 1 },
  ),
});

export type BodySpec =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'json';
      readonly messages: readonly MessageSpec[];
      readonly batch: boolean;
      readonly style: JsonStyle;
      readonly encoding: EncodingSpec;
    }
  | { readonly kind: 'text'; readonly text: string; readonly encoding: EncodingSpec }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

const styleArb: fc.Arbitrary<JsonStyle> = fc.record({
  escapeKeys: fc.oneof(
    { arbitrary: fc.constant(false), weight: 5 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
  escapeValues: fc.oneof(
    { arbitrary: fc.constant(false), weight: 5 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
  spaced: fc.boolean(),
});

export const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { arbitrary: fc.constant<BodySpec>({ kind: 'none' }), weight: 1 },
  {
    arbitrary: fc
      .record({
        messages: fc.array(messageArb, { minLength: 1, maxLength: 4 }),
        batch: fc.oneof(
          { arbitrary: fc.constant(false), weight: 4 },
          { arbitrary: fc.constant(true), weight: 1 },
        ),
        style: styleArb,
        encoding: encodingArb,
      })
      .map((b) => ({
        kind: 'json' as const,
        ...b,
        messages: b.batch ? b.messages : b.messages.slice(0, 1),
      })),
    weight: 10,
  },
  {
    arbitrary: fc
      .record({
        text: fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.json({ maxDepth: 3 }),
          fc.constantFrom(
            '[]',
            '{}',
            '[[]]',
            '"tools/call"',
            `${'['.repeat(200)}${']'.repeat(200)}`,
          ),
        ),
        encoding: encodingArb,
      })
      .map((b) => ({ kind: 'text' as const, ...b })),
    weight: 1,
  },
  {
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((bytes) => ({ kind: 'bytes' as const, bytes })),
    weight: 1,
  },
);

const MARKER = new Uint8Array([0xee, 0x80, 0x80]);

function replaceMarker(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === MARKER[0] && bytes[i + 1] === MARKER[1] && bytes[i + 2] === MARKER[2]) {
      out.push(0xff);
      i += 2;
    } else {
      out.push(bytes[i] ?? 0);
    }
  }
  return Uint8Array.from(out);
}

function encodeText(text: string, encoding: EncodingSpec): Uint8Array {
  let bytes: Uint8Array;
  if (encoding.utf16) {
    const units = (encoding.bom ? '\ufeff' : '') + text;
    const buffer = Buffer.alloc(units.length * 2);
    for (let i = 0; i < units.length; i++) buffer.writeUInt16LE(units.charCodeAt(i), i * 2);
    bytes = buffer;
  } else {
    bytes = Buffer.from((encoding.bom ? '\ufeff' : '') + text, 'utf8');
    if (encoding.invalidUtf8) bytes = replaceMarker(bytes);
  }
  for (const coding of encoding.codings) {
    if (coding === 'gzip') bytes = gzipSync(bytes);
    else if (coding === 'deflate') bytes = deflateSync(bytes);
    else if (coding === 'br') bytes = brotliCompressSync(bytes);
    else bytes = deflateRawSync(bytes);
  }
  return Uint8Array.from(bytes);
}

function contentEncodingHeader(encoding: EncodingSpec): string | undefined {
  const declared = encoding.codings.map((c) => (c === 'deflate-raw' ? 'deflate' : c)).join(', ');
  switch (encoding.contentEncoding) {
    case 'declared':
      return declared === '' ? undefined : declared;
    case 'omitted':
      return undefined;
    case 'lie-gzip':
      return 'gzip';
    case 'lie-zstd':
      return 'zstd';
    case 'upper':
      return declared === '' ? 'IDENTITY' : declared.toUpperCase();
    case 'plus-identity':
      return declared === '' ? 'identity' : `${declared}, identity`;
  }
}

export interface RenderedBody {
  readonly bytes: Uint8Array | undefined;
  readonly contentEncoding: string | undefined;
  readonly truncateAt: number | undefined;
  readonly first: MessageSpec | undefined;
}

export function renderBody(body: BodySpec): RenderedBody {
  switch (body.kind) {
    case 'none':
      return {
        bytes: undefined,
        contentEncoding: undefined,
        truncateAt: undefined,
        first: undefined,
      };
    case 'bytes':
      return {
        bytes: body.bytes,
        contentEncoding: undefined,
        truncateAt: undefined,
        first: undefined,
      };
    case 'text':
      return {
        bytes: encodeText(body.text, body.encoding),
        contentEncoding: contentEncodingHeader(body.encoding),
        truncateAt: body.encoding.truncateAt,
        first: undefined,
      };
    case 'json': {
      const nodes = body.messages.map((m) => m.node);
      const first = body.messages[0];
      const root = body.batch || first === undefined ? arr(nodes) : first.node;
      return {
        bytes: encodeText(renderJson(root, body.style), body.encoding),
        contentEncoding: contentEncodingHeader(body.encoding),
        truncateAt: body.encoding.truncateAt,
        first: body.batch ? undefined : first,
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Headers

export interface HeaderPlan {
  readonly protocolVersion: string | undefined;
  readonly sessionId: string | undefined;
  readonly mcpMethod:
    'none' | 'agree' | 'disagree' | 'agree-base64' | 'odd-case' | 'bad-base64' | 'empty';
  readonly mcpName: 'none' | 'agree' | 'disagree' | 'agree-base64' | 'empty' | 'repeat';
  readonly mcpParam: boolean;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly nameCasing: Casing;
  /** Forged headers a client could add: x-forwarded-host, x-mcp-gate-server. */
  readonly spoof: boolean;
}

const optionalRare = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: arb, weight: 1 });

const mixedHeaderPlanArb: fc.Arbitrary<HeaderPlan> = fc.record({
  protocolVersion: optionalRare(
    fc.constantFrom(
      ...REVISIONS,
      '2026-07-28',
      ' 2026-07-28 ',
      '2026-7-28',
      'latest',
      '9999-12-31',
      '',
    ),
  ),
  sessionId: optionalRare(fc.constantFrom('0b8e7c7a-1d2f-4b57-9c11-3f5e7a0c2d11', '')),
  mcpMethod: fc.oneof(
    { arbitrary: fc.constant('none' as const), weight: 4 },
    {
      arbitrary: fc.constantFrom(
        'agree',
        'disagree',
        'agree-base64',
        'odd-case',
        'bad-base64',
        'empty',
      ),
      weight: 3,
    },
  ),
  mcpName: fc.oneof(
    { arbitrary: fc.constant('none' as const), weight: 4 },
    {
      arbitrary: fc.constantFrom('agree', 'disagree', 'agree-base64', 'empty', 'repeat'),
      weight: 3,
    },
  ),
  mcpParam: fc.oneof(
    { arbitrary: fc.constant(false), weight: 6 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
  contentType: fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 6 },
    {
      arbitrary: fc.constantFrom(
        undefined,
        'application/json; charset=utf-8',
        'application/json; charset=UTF-8',
        'application/json;charset="utf-8"',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'text/plain',
        'APPLICATION/JSON',
      ),
      weight: 2,
    },
  ),
  accept: fc.constantFrom(
    'application/json, text/event-stream',
    '*/*',
    'text/event-stream',
    undefined,
  ),
  nameCasing: casing,
  spoof: fc.oneof(
    { arbitrary: fc.constant(false), weight: 5 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
});

/**
 * A third of the plans carry no MCP header at all, like the first `initialize` of a session or
 * any request to a stateless server: then the body alone says whether this is MCP.
 */
export const headerPlanArb: fc.Arbitrary<HeaderPlan> = fc.oneof(
  { arbitrary: mixedHeaderPlanArb, weight: 2 },
  {
    arbitrary: mixedHeaderPlanArb.map((plan) => ({
      ...plan,
      protocolVersion: undefined,
      sessionId: undefined,
      mcpMethod: 'none' as const,
      mcpName: 'none' as const,
      mcpParam: false,
    })),
    weight: 1,
  },
);

function base64Header(text: string): string {
  return `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

function buildHeaders(
  plan: HeaderPlan,
  first: MessageSpec | undefined,
  contentEncoding: string | undefined,
): [string, string][] {
  const headers: [string, string][] = [];
  const add = (name: string, value: string | undefined): void => {
    if (value !== undefined) headers.push([applyCase(name, plan.nameCasing), value]);
  };
  add('content-type', plan.contentType);
  add('accept', plan.accept);
  add('content-encoding', contentEncoding);
  add('mcp-protocol-version', plan.protocolVersion);
  add('mcp-session-id', plan.sessionId);
  const method = first?.method ?? 'tools/call';
  const name = first?.name ?? 'get_issue';
  switch (plan.mcpMethod) {
    case 'none':
      break;
    case 'agree':
      add('mcp-method', method);
      break;
    case 'disagree':
      add('mcp-method', method === 'tools/list' ? 'tools/call' : 'tools/list');
      break;
    case 'agree-base64':
      add('mcp-method', base64Header(method));
      break;
    case 'odd-case':
      add('mcp-method', method.toUpperCase());
      break;
    case 'bad-base64':
      add('mcp-method', '=?BASE64?dG9vbHMvY2FsbA==?=');
      break;
    case 'empty':
      add('mcp-method', '');
      break;
  }
  switch (plan.mcpName) {
    case 'none':
      break;
    case 'agree':
      add('mcp-name', name);
      break;
    case 'disagree':
      add('mcp-name', name === 'get_issue' ? 'delete_repo' : 'get_issue');
      break;
    case 'agree-base64':
      add('mcp-name', base64Header(name));
      break;
    case 'empty':
      add('mcp-name', '');
      break;
    case 'repeat':
      add('mcp-name', name);
      add('mcp-name', 'get_issue');
      break;
  }
  if (plan.mcpParam) add('mcp-param-repo', 'acme/widgets');
  if (plan.spoof) {
    add('x-forwarded-host', 'api.githubcopilot.com');
    add('x-mcp-gate-server', 'gh');
  }
  add('user-agent', 'fuzz/1.0');
  return headers;
}

// ---------------------------------------------------------------------------------------------
// Whole cases

const httpMethodArb = fc.oneof(
  { arbitrary: fc.constant('POST'), weight: 10 },
  {
    arbitrary: fc.constantFrom('GET', 'DELETE', 'HEAD', 'OPTIONS', 'PUT', 'post', 'Post'),
    weight: 2,
  },
);

interface EnvoySettings {
  readonly protocol: 'HTTP/1.1' | 'HTTP/2';
  readonly encodeRawHeaders: boolean;
  readonly packAsBytes: boolean;
  readonly bodyBuffered: boolean;
}

const envoySettingsArb: fc.Arbitrary<EnvoySettings> = fc.record({
  protocol: fc.constantFrom('HTTP/1.1' as const, 'HTTP/2' as const),
  encodeRawHeaders: fc.boolean(),
  packAsBytes: fc.oneof(
    { arbitrary: fc.constant(true), weight: 5 },
    { arbitrary: fc.constant(false), weight: 1 },
  ),
  bodyBuffered: fc.oneof(
    { arbitrary: fc.constant(true), weight: 12 },
    { arbitrary: fc.constant(false), weight: 1 },
  ),
});

function toCase(
  policy: PolicyName,
  target: Target,
  method: string,
  body: BodySpec,
  plan: HeaderPlan,
  settings: EnvoySettings,
): FuzzCase {
  const rendered = renderBody(body);
  const bytes = rendered.bytes;
  const maxRequestBytes =
    bytes !== undefined && rendered.truncateAt !== undefined
      ? Math.max(1, Math.min(bytes.length - 1, Math.floor(bytes.length * rendered.truncateAt)))
      : 1024 * 1024;
  const request: FuzzRequest = {
    method,
    authority: target.authority,
    path: target.path,
    protocol: settings.protocol,
    headers: buildHeaders(plan, rendered.first, rendered.contentEncoding),
    ...(bytes !== undefined && bytes.length > 0 ? { body: bytes } : {}),
    maxRequestBytes,
    allowPartial: true,
    packAsBytes: settings.packAsBytes,
    encodeRawHeaders: settings.encodeRawHeaders,
    streamId: '4242',
    requestId: 'fuzz-request-id',
  };
  return { policy, intent: target.intent, request, bodyBuffered: settings.bodyBuffered };
}

/** Which targets a case generator aims at. */
export type TargetChoice = 'any' | 'unmatched' | 'entry-with-tools';

const TARGETS: Readonly<Record<TargetChoice, fc.Arbitrary<Target>>> = {
  any: targetArb,
  unmatched: unmatchedTarget,
  'entry-with-tools': fc.oneof(...ENTRIES.filter((e) => e.tools !== undefined).map(matchedTarget)),
};

/** HTTP requests (no CONNECT) against the given policies. */
export function fuzzCaseArb(
  policies: readonly PolicyName[] = ['base'],
  targets: TargetChoice = 'any',
): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      policy: fc.constantFrom(...policies),
      target: TARGETS[targets],
      method: httpMethodArb,
      body: bodyArb,
      plan: headerPlanArb,
      settings: envoySettingsArb,
    })
    .map(({ policy, target, method, body, plan, settings }) =>
      toCase(policy, target, method, body, plan, settings),
    );
}

/** CONNECT tunnels, with whatever headers a client adds to the CONNECT itself. */
export function connectCaseArb(policies: readonly PolicyName[] = ['base']): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      policy: fc.constantFrom(...policies),
      target: connectTargetArb,
      plan: headerPlanArb,
      settings: envoySettingsArb,
    })
    .map(({ policy, target, plan, settings }) =>
      toCase(policy, target, 'CONNECT', { kind: 'none' }, plan, settings),
    );
}

/** Every request shape, against every policy variant. */
export const anyCaseArb: fc.Arbitrary<FuzzCase> = fc.oneof(
  { arbitrary: fuzzCaseArb(POLICY_NAMES), weight: 9 },
  { arbitrary: connectCaseArb(POLICY_NAMES), weight: 1 },
);

/**
 * Not-quite-CheckRequests: any shape in any field, as a broken or hostile peer could send after
 * protobuf decoding (and more). The edge must treat them all as data.
 */
export const malformedCheckRequestArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ withTypedArray: true, withNullPrototype: true, withMap: true, maxDepth: 3 }),
  fc.record(
    {
      attributes: fc.record(
        {
          request: fc.record(
            {
              http: fc.dictionary(
                fc.constantFrom(
                  'method',
                  'host',
                  'path',
                  'headers',
                  'header_map',
                  'body',
                  'raw_body',
                  'scheme',
                  'protocol',
                  'size',
                ),
                fc.oneof(
                  fc.anything({ withTypedArray: true, maxDepth: 2 }),
                  fc.dictionary(fc.string(), fc.string()),
                  fc.uint8Array({ maxLength: 32 }),
                ),
              ),
            },
            { requiredKeys: [] },
          ),
          tls_session: fc.anything({ maxDepth: 1 }),
          destination: fc.anything({ maxDepth: 2 }),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  ),
);
