/**
 * The catalogue of evasion attempts: each case is one attack sent through the real gRPC surface,
 * with the exact outcome mcp-gate must give. SECURITY.md documents every id (a test keeps the two
 * in step). Allowlist, clock and request builders: ./requests.ts.
 */
import { createHash } from 'node:crypto';
import iconv from 'iconv-lite';
import { expect } from 'vitest';
import { ZSTD_SUPPORTED } from '../../src/core/mcp/decode-body.js';
import type { InspectionDetail } from '../../src/core/mcp/inspection.js';
import type { Reason } from '../../src/core/policy/policy.js';
import type { CheckRequest } from '../../src/envoy/check-types.js';
import type { EnvoyCheckResponse } from '../helpers/authz-client.js';
import type { JsonObject } from '../helpers/envoy-check-request.js';
import { rpc } from '../helpers/facts.js';
import {
  ANA,
  DATA,
  DATA_ENG,
  EVIL,
  GITHUB,
  JWT_NAMESPACE,
  MAX_BODY_BYTES,
  NOTES,
  OPEN,
  SESSION,
  SESSION_0326,
  STREAM,
  V2026,
  b64Header,
  br,
  bytes,
  call,
  callWith,
  check,
  gz,
  init,
  jwtGroups,
  padded,
  rawDeflate,
  withMapHeader,
  zlibDeflate,
} from './requests.js';

export const FAMILIES = [
  'batch',
  'duplicate-keys',
  'truncation',
  'compression',
  'charset',
  'json',
  'headers-2026',
  'host',
  'path',
  'method',
  'legacy-sse',
  'client-response',
  'notification',
  'echo-injection',
  'websocket',
  'tunnel',
  'scoping',
] as const;
export type Family = (typeof FAMILIES)[number];

export interface Expectation {
  readonly verdict: 'allow' | 'deny';
  readonly reason: Reason;
  /** `x-mcp-gate-detail`: required for `uninspectable`, else only `identity_missing`. */
  readonly detail?: InspectionDetail;
  /** The entry that matched (allow: `x-mcp-gate-server`; deny: dynamic metadata `entry`). */
  readonly entry?: string;
  /** HTTP status of a denial (default 403). */
  readonly http?: 200 | 403 | 503;
}

/** What a case's own `verify` sees. */
export interface Outcome {
  readonly response: EnvoyCheckResponse;
  /** The audit line of this decision (undefined for non-MCP traffic, which is not logged). */
  readonly log: Record<string, unknown> | undefined;
  /** The denial's body (deny only). */
  readonly body: string;
}

export interface AdversarialCase {
  /** `ADV-<FAMILY>-NN`, unique; SECURITY.md lists every one. */
  readonly id: string;
  readonly family: Family;
  readonly title: string;
  /** What the attacker hopes for. */
  readonly threat: string;
  readonly request: () => CheckRequest;
  readonly expect: Expectation;
  /** Further assertions on the response and audit line. */
  readonly verify?: (outcome: Outcome) => void;
}

const UNAPPROVED: Expectation = { verdict: 'deny', reason: 'unapproved' };
const NOT_MCP: Expectation = { verdict: 'allow', reason: 'not_mcp' };
const GH_APPROVED: Expectation = { verdict: 'allow', reason: 'approved', entry: 'github-official' };
const GH_TOOL_DENIED: Expectation = {
  verdict: 'deny',
  reason: 'tool_not_allowed',
  entry: 'github-official',
};
/** A denied tool on a Streamable HTTP tools/call with an id: a 200 JSON-RPC tool result. */
const GH_TOOL_RESULT: Expectation = { ...GH_TOOL_DENIED, http: 200 };
const ghUninspectable = (detail: InspectionDetail): Expectation => ({
  verdict: 'deny',
  reason: 'uninspectable',
  detail,
  entry: 'github-official',
});

const utf16le = (text: string): Buffer => Buffer.from(`\ufeff${text}`, 'utf16le');
const deep = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const toolOf = (log: Record<string, unknown> | undefined): unknown => log?.['tool'];

/** A decompression bomb: a small gzip that inflates to 16× our body cap. */
const BOMB_TEXT = rpc(
  'tools/call',
  { name: 'get_issue', arguments: { pad: 'A'.repeat(16 * MAX_BODY_BYTES) } },
  1,
);

/** Deterministic bytes that gzip cannot shrink (a SHA-256 chain), as hex. */
function incompressible(length: number): string {
  let block = createHash('sha256').update('seed').digest();
  const blocks: Buffer[] = [];
  for (let n = 0; n < length; n += block.length) {
    blocks.push(block);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(blocks).subarray(0, length).toString('hex');
}

const CRLF_TOOL = 'delete_repo\r\nx-injected: yes';

/**
 * A tools/call whose arguments hold 10,556 object members under the catalogue's 64 KiB cap: 406
 * objects of 26 one-letter keys, so only the member count, not the size, can refuse it.
 */
const callWithManyMembers = (tool: string): string => {
  const letters = Array.from({ length: 26 }, (_, i) => String.fromCharCode(0x61 + i));
  const object = `{${letters.map((k) => `"${k}":0`).join(',')}}`;
  const rows = Array.from({ length: 406 }, () => object).join(',');
  return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":{"rows":[${rows}]}}}`;
};

const AMBIGUOUS_AUTHORITY: Expectation = {
  verdict: 'deny',
  reason: 'uninspectable',
  detail: 'ambiguous_authority',
};

/**
 * `call('delete_repo')` compressed with zstd (node:zlib `zstdCompressSync` on Node 24; the zstd
 * command line tool gives an equivalent frame). Node 20 cannot make one, so the bytes are kept.
 */
const ZSTD_DELETE_REPO = Buffer.from(
  '28b52ffd2064bd0200f285131990a91903f36ab48448286d864a6ed9ccb4aef0dfc85cffa5046d8097c377c0108c93a4d02ec4d7da8bf104437a140595df9b541194a9d132ae27d107be4eaa4cdfc624012cb3cbc6cb1a989e8f01005f040505',
  'hex',
);

/** An HTTP/1.1 WebSocket opening asking for the `mcp` subprotocol (MCP's WebSocket transports). */
const WEBSOCKET_MCP = {
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-protocol': 'mcp',
} as const;

/** A refusal by an access rule of `scoped-data` that had no identity to judge. */
const SCOPED_IDENTITY_MISSING: Expectation = {
  verdict: 'deny',
  reason: 'principal_not_allowed',
  detail: 'identity_missing',
  entry: 'scoped-data',
};
/** A tool rule of `scoped-data` refusing a Streamable HTTP tools/call: a 200 tool result. */
const SCOPED_TOOL_DENIED = (reason: Reason): Expectation => ({
  verdict: 'deny',
  reason,
  entry: 'scoped-data',
  http: 200,
});
/**
 * Arguments a condition of `scoped-data` cannot read: refused for that one call, so a
 * Streamable HTTP tools/call gets a 200 tool result.
 */
const scopedUninspectable = (detail: InspectionDetail): Expectation => ({
  verdict: 'deny',
  reason: 'uninspectable',
  detail,
  entry: 'scoped-data',
  http: 200,
});
const OWNER_CONDITION = 'tool rule 2 condition "only repositories of acme"';

/** A tools/call of ana's to `scoped-data`, with her verified token's groups if given. */
const toData = (body: string, metadataContext?: Readonly<Record<string, JsonObject>>) =>
  check({
    ...DATA,
    headers: ANA,
    body,
    ...(metadataContext === undefined ? {} : { metadataContext }),
  });
/** Checks which access rule or condition the audit line names as deciding. */
const ruleIs =
  (rule: string) =>
  ({ log }: Outcome): void => {
    expect(log?.['rule']).toBe(rule);
  };

export const CATALOGUE: readonly AdversarialCase[] = [
  // --- batch hiding -------------------------------------------------------------------------
  {
    id: 'ADV-BATCH-01',
    family: 'batch',
    title: 'tools/call hidden behind a ping in a 2025-03-26 batch',
    threat: 'an inspector that reads only the first message sees a harmless ping',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION_0326,
        body: `[${rpc('ping', undefined, 1)},${call('delete_repo', 2)}]`,
      }),
    expect: GH_TOOL_DENIED,
    verify: ({ log }) => {
      expect(toolOf(log)).toBe('delete_repo');
    },
  },
  {
    id: 'ADV-BATCH-02',
    family: 'batch',
    title: 'batch under 2025-11-25, which forbids batches',
    threat: 'a server that still accepts batches runs what a batch-unaware hop ignores',
    request: () =>
      check({ ...GITHUB, headers: SESSION, body: `[${call('get_issue', 1)},${call('x', 2)}]` }),
    expect: ghUninspectable('batch_forbidden'),
  },
  {
    id: 'ADV-BATCH-03',
    family: 'batch',
    title: 'allowed tool first, denied tool second, no MCP headers',
    threat: 'first-element inspection approves the batch',
    request: () =>
      check({
        ...GITHUB,
        headers: STREAM,
        body: `[${call('get_issue', 1)},${call('delete_repo', 2)}]`,
      }),
    expect: GH_TOOL_DENIED,
  },
  {
    id: 'ADV-BATCH-04',
    family: 'batch',
    title: 'batch of 1,001 messages',
    threat: 'unbounded work per request, or a tools/call past an inspection limit',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION_0326,
        body: `[${Array.from({ length: 1001 }, (_, i) => rpc('ping', undefined, i)).join(',')}]`,
      }),
    expect: ghUninspectable('too_large'),
  },
  {
    id: 'ADV-BATCH-05',
    family: 'batch',
    title: 'empty batch',
    threat: 'an empty array slips through element-wise checks',
    request: () => check({ ...GITHUB, headers: SESSION_0326, body: '[]' }),
    expect: ghUninspectable('malformed'),
  },
  {
    id: 'ADV-BATCH-06',
    family: 'batch',
    title: 'nested batch',
    threat: 'a flattening server runs the inner tools/call that an element reader never sees',
    request: () =>
      check({ ...GITHUB, headers: SESSION_0326, body: `[[${call('delete_repo', 1)}]]` }),
    expect: ghUninspectable('malformed'),
  },
  {
    id: 'ADV-BATCH-07',
    family: 'batch',
    title: 'denied tools/call behind a client-sent response in a batch',
    threat: 'a batch that starts with a response is taken for a reply, not a request',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION_0326,
        body: `[{"jsonrpc":"2.0","id":5,"result":{}},${call('delete_repo', 2)}]`,
      }),
    expect: GH_TOOL_DENIED,
  },

  {
    id: 'ADV-BATCH-08',
    family: 'batch',
    title: 'nested batch, no MCP headers',
    threat:
      'without headers a nested array looks like foreign JSON, and a flattening server runs it',
    request: () => check({ ...EVIL, headers: STREAM, body: `[[${call('delete_repo', 1)}]]` }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-BATCH-09',
    family: 'batch',
    title: 'a non-message first, the call nested after it, no MCP headers',
    threat: 'the first element decides that the array is not JSON-RPC',
    request: () =>
      check({ ...GITHUB, headers: STREAM, body: `[1,[{"a":2},${call('delete_repo', 1)}]]` }),
    expect: ghUninspectable('malformed'),
  },
  {
    id: 'ADV-BATCH-10',
    family: 'batch',
    title: '20,000 empty objects and then a tools/call, in a 2025-03-26 session',
    threat: 'a huge cheap batch costs a full parse and a walk of every element per check',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION_0326,
        body: `[${'{},'.repeat(20_000)}${call('delete_repo', 1)}]`,
      }),
    expect: ghUninspectable('too_large'),
  },
  {
    id: 'ADV-BATCH-11',
    family: 'batch',
    title: '2,000 pings then a tools/call to an unapproved server, no MCP headers',
    threat: 'an over-long batch is refused unread and so passes as foreign JSON',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: `[${Array.from({ length: 2000 }, (_, i) => rpc('ping', undefined, i)).join(',')},${call('x', 1)}]`,
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-BATCH-12',
    family: 'batch',
    title: 'ordinary JSON array of 5,000 records',
    threat: 'none: a long non-MCP array must still pass untouched',
    request: () =>
      check({
        ...EVIL,
        path: '/api/import',
        headers: { 'content-type': 'application/json' },
        body: `[${Array.from({ length: 5000 }, (_, i) => `{"row":${i}}`).join(',')}]`,
      }),
    expect: NOT_MCP,
  },

  // --- duplicate keys -----------------------------------------------------------------------
  {
    id: 'ADV-DUP-01',
    family: 'duplicate-keys',
    title: 'duplicate method',
    threat: 'last-wins parsers see tools/list, first-wins servers run tools/call',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list","params":{"name":"delete_repo"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-02',
    family: 'duplicate-keys',
    title: 'duplicate params.name',
    threat: 'the inspector approves get_issue while the server runs delete_repo',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_repo","name":"get_issue"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-03',
    family: 'duplicate-keys',
    title: 'duplicate params object',
    threat: 'two whole params objects, one per parser',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_repo"},"params":{"name":"get_issue"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-04',
    family: 'duplicate-keys',
    title: 'duplicate jsonrpc',
    threat: 'a message that is JSON-RPC to one parser and not to the other',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"1.0","jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-05',
    family: 'duplicate-keys',
    title: 'duplicate id',
    threat:
      'the tool-result denial echoes an id the client never matches, or a notification turns into a request',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"get_issue"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-06',
    family: 'duplicate-keys',
    title: 'duplicate params.name spelled with a \\u escape',
    threat: 'a byte-level duplicate check misses "\\u006eame"',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_repo","\\u006eame":"get_issue"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-07',
    family: 'duplicate-keys',
    title: 'duplicate params.name inside the second batch element',
    threat: 'duplicate checks that only look at the top level',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION_0326,
        body: `[${rpc('ping', undefined, 1)},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_repo","name":"get_issue"}}]`,
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-08',
    family: 'duplicate-keys',
    title: 'duplicate params.protocolVersion in initialize',
    threat: 'negotiating a batch-allowing revision with one parser and a newer one with the other',
    request: () =>
      check({
        ...GITHUB,
        headers: STREAM,
        body: '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","protocolVersion":"2025-11-25","capabilities":{}}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-09',
    family: 'duplicate-keys',
    title: 'duplicate method whose last value is not an MCP method, no MCP headers',
    threat: 'last-wins recognition says "not MCP" while a first-wins server runs tools/call',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"eth_call","params":{"name":"x"}}',
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-DUP-10',
    family: 'duplicate-keys',
    title: 'duplicate params.uri in resources/read',
    threat: 'reading one resource while the audit log names another',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"repo://a","uri":"repo://b"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-11',
    family: 'duplicate-keys',
    title: 'duplicate key inside tool arguments',
    threat:
      'none for the allowlist: arguments are the server’s business, so this must not be blocked',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue","arguments":{"n":1,"n":2}}}',
      }),
    expect: GH_APPROVED,
  },

  {
    id: 'ADV-DUP-12',
    family: 'duplicate-keys',
    title: 'params.name and params.Name (CVE-2026-27896)',
    threat:
      "Go's encoding/json matches keys case-insensitively, last wins: we approve get_issue, a Go server runs delete_repo",
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue","Name":"delete_repo"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-13',
    family: 'duplicate-keys',
    title: 'params.name and "name\\u0000" (GHSA-q382-vc8q-7jhj)',
    threat: 'a Go SDK decoder reads a key with a trailing NUL as name',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue","name\\u0000":"delete_repo"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-14',
    family: 'duplicate-keys',
    title: 'params and "param\\u017f" (long s folds to s)',
    threat: 'Unicode simple folding makes a Go server fill params from the second object',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue"},"param\\u017f":{"name":"delete_repo"}}',
      }),
    expect: ghUninspectable('duplicate_keys'),
  },
  {
    id: 'ADV-DUP-15',
    family: 'duplicate-keys',
    title: 'the only method key spelled "Method", no MCP headers',
    threat:
      'a JavaScript reader sees no method and passes it as non-MCP; a Go server runs the call',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: '{"jsonrpc":"2.0","id":1,"Method":"tools/call","Params":{"Name":"delete_repo"}}',
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-DUP-16',
    family: 'duplicate-keys',
    title: 'the only tool-name key spelled "NAME"',
    threat: 'a JavaScript reader finds no name; a Go server runs delete_repo',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"delete_repo"}}',
      }),
    expect: GH_TOOL_RESULT,
    verify: ({ log }) => {
      expect(toolOf(log)).toBe('delete_repo');
    },
  },

  // --- truncated, partial and oversized bodies ------------------------------------------------
  {
    id: 'ADV-TRUNC-01',
    family: 'truncation',
    title: 'tools/call cut by Envoy, name visible before the cut',
    threat: 'a second "name" after the cut would override the visible one',
    request: () =>
      check({ ...GITHUB, headers: SESSION, body: call('get_issue'), maxRequestBytes: 60 }),
    expect: ghUninspectable('truncated'),
  },
  {
    id: 'ADV-TRUNC-02',
    family: 'truncation',
    title: 'cut tools/call on an entry without tool rules',
    threat: 'none: every tool of that server is approved, so the cut must not block it',
    request: () =>
      check({ ...OPEN, headers: SESSION, body: call('anything'), maxRequestBytes: 60 }),
    expect: { verdict: 'allow', reason: 'approved', entry: 'internal-tools' },
  },
  {
    id: 'ADV-TRUNC-03',
    family: 'truncation',
    title: 'first initialize padded past max_request_bytes, no MCP headers',
    threat: 'a cut body without MCP headers is taken for an ordinary upload',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: padded('initialize', { protocolVersion: '2025-11-25' }, 4096),
        maxRequestBytes: 1024,
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-TRUNC-04',
    family: 'truncation',
    title: 'cut body with every key and the method escaped',
    threat: 'a pattern search for "method":"tools/call" finds nothing',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: `{"\\u006asonrpc":"2.0","\\u006dethod":"tools\\/call","params":{"name":"x","pad":"${'A'.repeat(4096)}"}}`,
        maxRequestBytes: 1024,
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-TRUNC-05',
    family: 'truncation',
    title: 'cut body with a UTF-8 BOM and whitespace before the JSON',
    threat: 'a signal check anchored at byte 0 misses the message',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: `\ufeff \r\n ${padded('tools/call', { name: 'x' }, 4096)}`,
        maxRequestBytes: 1024,
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-TRUNC-06',
    family: 'truncation',
    title: 'cut gzip body, no MCP headers',
    threat: 'a compressed cut body cannot be decoded, so it is waved through as non-MCP',
    request: () =>
      check({
        ...EVIL,
        headers: { ...STREAM, 'content-encoding': 'gzip' },
        body: gz(padded('tools/call', { name: 'x', noise: incompressible(4096) }, 20_000)),
        maxRequestBytes: 1024,
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-TRUNC-07',
    family: 'truncation',
    title: 'cut JSON upload that is not JSON-RPC',
    threat: 'none: large ordinary uploads must keep passing untouched',
    request: () =>
      check({
        authority: 'uploads.example.org',
        path: '/v1/records',
        headers: { 'content-type': 'application/json' },
        body: `{"records":[${'1,'.repeat(4000)}1]}`,
        maxRequestBytes: 1024,
      }),
    expect: NOT_MCP,
  },
  {
    id: 'ADV-TRUNC-08',
    family: 'truncation',
    title: 'cut multipart file upload',
    threat: 'none: a file upload is not MCP even when cut',
    request: () =>
      check({
        authority: 'uploads.example.org',
        path: '/upload',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        body: `--x\r\nContent-Disposition: form-data; name="f"\r\n\r\n${'B'.repeat(4096)}`,
        maxRequestBytes: 1024,
      }),
    expect: NOT_MCP,
  },
  {
    id: 'ADV-TRUNC-09',
    family: 'truncation',
    title: 'body over our --max-body-bytes cap, no MCP headers',
    threat: 'an over-size body is refused by the parser and then passes as non-MCP',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: padded('tools/call', { name: 'x' }, 2 * MAX_BODY_BYTES),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-TRUNC-10',
    family: 'truncation',
    title: 'body over our cap on an entry with tool rules',
    threat: 'the tool name is hidden in a body we will not parse',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: padded('tools/call', { name: 'delete_repo' }, 2 * MAX_BODY_BYTES),
      }),
    expect: ghUninspectable('too_large'),
  },
  {
    id: 'ADV-TRUNC-11',
    family: 'truncation',
    title: 'body over our cap on an entry without tool rules',
    threat: 'none: the entry approves every tool, so size alone must not block it',
    request: () =>
      check({
        ...OPEN,
        headers: SESSION,
        body: padded('tools/call', { name: 'anything' }, 2 * MAX_BODY_BYTES),
      }),
    expect: { verdict: 'allow', reason: 'approved', entry: 'internal-tools' },
  },
  {
    id: 'ADV-TRUNC-12',
    family: 'truncation',
    title: 'POST with an empty body in a session',
    threat: 'no body, no tool name, no denial',
    request: () => check({ ...GITHUB, method: 'POST', headers: SESSION }),
    expect: ghUninspectable('body_missing'),
  },
  {
    id: 'ADV-TRUNC-13',
    family: 'truncation',
    title: 'body-less 2025 POST that claims get_issue in Mcp-Method/Mcp-Name',
    threat: 'headers stand in for the body although no 2025 server validates them',
    request: () =>
      check({
        ...GITHUB,
        method: 'POST',
        headers: { ...SESSION, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' },
      }),
    expect: ghUninspectable('body_missing'),
  },
  {
    id: 'ADV-TRUNC-14',
    family: 'truncation',
    title: 'whitespace-only body in a session',
    threat: 'an empty message that an inspector skips',
    request: () => check({ ...GITHUB, headers: SESSION, body: ' \r\n\t ' }),
    expect: ghUninspectable('body_missing'),
  },

  // --- compression ---------------------------------------------------------------------------
  {
    id: 'ADV-ZIP-01',
    family: 'compression',
    title: 'gzip body',
    threat: 'an inspector that does not inflate sees binary, not the tool',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'gzip' },
        body: gz(call('delete_repo')),
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-ZIP-02',
    family: 'compression',
    title: 'deflate (zlib) body',
    threat: 'as ADV-ZIP-01 with another coding',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'deflate' },
        body: zlibDeflate(call('delete_repo')),
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-ZIP-03',
    family: 'compression',
    title: 'brotli body',
    threat: 'as ADV-ZIP-01 with another coding',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'br' },
        body: br(call('delete_repo')),
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-ZIP-04',
    family: 'compression',
    title: 'nested codings "gzip, br" with odd case and spacing',
    threat: 'only one layer is undone and the inner one hides the tool',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': ' GZip ,br' },
        body: br(gz(call('delete_repo'))),
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-ZIP-05',
    family: 'compression',
    title: 'three coding layers',
    threat: 'unbounded nesting multiplies decompression work',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'gzip, gzip, gzip' },
        body: gz(gz(gz(call('get_issue')))),
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-ZIP-06',
    family: 'compression',
    title: 'content-encoding gzip on a plain body, in a session',
    threat: 'falling back to the raw bytes reads what an encoding-ignoring server reads, or not',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'gzip' },
        body: call('delete_repo'),
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-ZIP-07',
    family: 'compression',
    title: 'content-encoding gzip on a plain initialize, no MCP headers',
    threat:
      'the body fails to inflate, is taken for a foreign upload, and the server, ignoring the header, runs it',
    request: () =>
      check({ ...EVIL, headers: { ...STREAM, 'content-encoding': 'gzip' }, body: init() }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-ZIP-08',
    family: 'compression',
    title: 'unknown coding zstd on a plain tools/call, no MCP headers',
    threat: 'an unknown coding makes the body opaque, so it passes as non-MCP',
    request: () =>
      check({
        ...EVIL,
        headers: { ...STREAM, 'content-encoding': 'zstd' },
        body: call('delete_repo'),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-ZIP-09',
    family: 'compression',
    title: 'raw DEFLATE under content-encoding deflate',
    threat: 'decoders disagree on raw versus zlib-wrapped deflate',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'deflate' },
        body: rawDeflate(call('delete_repo')),
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-ZIP-10',
    family: 'compression',
    title: 'gzip stream followed by trailing bytes',
    threat: 'a second message after the stream that one decoder reads and another drops',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'gzip' },
        body: Buffer.concat([gz(call('get_issue')), bytes(call('delete_repo'))]),
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-ZIP-11',
    family: 'compression',
    title: 'gzip bomb in a session',
    threat: 'memory exhaustion while inflating, or the tool hidden past an inspection limit',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'gzip' },
        body: gz(BOMB_TEXT),
      }),
    expect: ghUninspectable('too_large'),
  },
  {
    id: 'ADV-ZIP-12',
    family: 'compression',
    title: 'gzip bomb without MCP headers',
    threat: 'the bomb is refused by the decoder and then passes as non-MCP',
    request: () =>
      check({ ...EVIL, headers: { ...STREAM, 'content-encoding': 'gzip' }, body: gz(BOMB_TEXT) }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-ZIP-13',
    family: 'compression',
    title: 'nested gzip-in-gzip bomb',
    threat: 'each layer stays under the cap while the inner one explodes',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'gzip, gzip' },
        body: gz(gz(BOMB_TEXT)),
      }),
    expect: ghUninspectable('too_large'),
  },
  {
    id: 'ADV-ZIP-14',
    family: 'compression',
    title: 'gzip body without a content-encoding header',
    threat: 'a server that sniffs gzip magic runs what we cannot read',
    request: () => check({ ...GITHUB, headers: SESSION, body: gz(call('delete_repo')) }),
    expect: ghUninspectable('undecodable'),
  },

  {
    id: 'ADV-ZIP-15',
    family: 'compression',
    title: 'a real zstd tools/call, in a session',
    threat:
      'body-parser inflates zstd wherever node:zlib has it (Node 22.15 and later) and the server runs the call',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-encoding': 'zstd' },
        body: ZSTD_DELETE_REPO,
      }),
    // Where node:zlib has zstd (the production LTS) the call is read and judged; on Node 20 the
    // body cannot be read at all.
    expect: ZSTD_SUPPORTED ? GH_TOOL_RESULT : ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-ZIP-16',
    family: 'compression',
    title: 'a real zstd tools/call to an unapproved server, no MCP headers',
    threat: 'a compressed body shows no JSON-RPC bytes, so it passes as a foreign upload',
    request: () =>
      check({
        ...EVIL,
        headers: { ...STREAM, 'content-encoding': 'zstd' },
        body: ZSTD_DELETE_REPO,
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-ZIP-17',
    family: 'compression',
    title: 'ordinary binary upload in an unknown coding',
    threat: 'none: a non-JSON upload whose coding we cannot undo must still pass untouched',
    request: () =>
      check({
        ...EVIL,
        path: '/upload',
        headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'compress' },
        body: Buffer.from([0x1f, 0x9d, 0x90, 0x7b, 0x22]),
      }),
    expect: NOT_MCP,
  },

  // --- charset and byte-order marks ----------------------------------------------------------
  {
    id: 'ADV-CHAR-01',
    family: 'charset',
    title: 'UTF-8 BOM before a denied tools/call',
    threat: 'a strict parser fails on the BOM while the server strips it and runs the call',
    request: () => check({ ...GITHUB, headers: SESSION, body: `\ufeff${call('delete_repo')}` }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-CHAR-02',
    family: 'charset',
    title: 'two UTF-8 BOMs',
    threat: 'one layer of BOM stripping leaves a second one that servers treat differently',
    request: () => check({ ...GITHUB, headers: SESSION, body: `\ufeff\ufeff${call('get_issue')}` }),
    expect: ghUninspectable('not_json'),
  },
  {
    id: 'ADV-CHAR-03',
    family: 'charset',
    title: 'UTF-16LE body declared as charset=utf-16le, in a session',
    threat: 'servers that honour the charset read a message a UTF-8 inspector cannot',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-type': 'application/json; charset=utf-16le' },
        body: utf16le(call('delete_repo')),
      }),
    expect: GH_TOOL_RESULT,
    verify: ({ log }) => {
      expect(toolOf(log)).toBe('delete_repo');
    },
  },
  {
    id: 'ADV-CHAR-04',
    family: 'charset',
    title: 'UTF-16LE initialize with a BOM, no MCP headers',
    threat:
      'the TypeScript SDK server decodes the declared charset; we would see NUL-laced bytes and pass them as non-MCP',
    request: () =>
      check({
        ...EVIL,
        headers: { ...STREAM, 'content-type': 'application/json; charset=utf-16le' },
        body: utf16le(init()),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-CHAR-05',
    family: 'charset',
    title: 'ASCII tools/call declared as charset=iso-8859-1, no MCP headers',
    threat: 'a refused charset makes the body opaque, so it passes as non-MCP',
    request: () =>
      check({
        ...EVIL,
        headers: { ...STREAM, 'content-type': 'application/json; charset=iso-8859-1' },
        body: call('x'),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-CHAR-06',
    family: 'charset',
    title: 'invalid UTF-8 byte inside the arguments, no MCP headers',
    threat: 'a lenient server replaces the byte with U+FFFD and runs the call we refused to read',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: Buffer.concat([
          bytes(
            '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"q":"',
          ),
          Buffer.from([0xff]),
          bytes('"}}}'),
        ]),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-CHAR-07',
    family: 'charset',
    title: 'overlong UTF-8 encoding of "/" in the method, in a session',
    threat: 'a lenient decoder turns C0 AF into "/" and reads tools/call',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: Buffer.concat([
          bytes('{"jsonrpc":"2.0","id":1,"method":"tools'),
          Buffer.from([0xc0, 0xaf]),
          bytes('call","params":{"name":"delete_repo"}}'),
        ]),
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-CHAR-08',
    family: 'charset',
    title: 'conflicting charset parameters',
    threat: 'we read the first charset, the server the last',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-type': 'application/json; charset=utf-8; charset=utf-16' },
        body: call('delete_repo'),
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-CHAR-09',
    family: 'charset',
    title: 'quoted upper-case "UTF-8" charset',
    threat: 'none: a legitimate spelling of UTF-8 must still be inspected',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-type': 'application/json; Charset="UTF-8"' },
        body: call('delete_repo'),
      }),
    expect: GH_TOOL_RESULT,
  },

  {
    id: 'ADV-CHAR-10',
    family: 'charset',
    title: 'charset=utf-7 with the opening brace shifted (+AHs-), no MCP headers',
    threat:
      'body-parser decodes UTF-7 with iconv-lite and the server runs the call; a UTF-8 reader sees no JSON',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...STREAM, 'content-type': 'application/json; charset=utf-7' },
        body: `+AHs-${call('delete_repo').slice(1)}`,
      }),
    expect: GH_TOOL_RESULT,
    verify: ({ log }) => {
      expect(toolOf(log)).toBe('delete_repo');
    },
  },
  {
    id: 'ADV-CHAR-11',
    family: 'charset',
    title: 'charset=utf-7 initialize to an unapproved server, no MCP headers',
    threat: 'a first initialize in UTF-7 passes as non-MCP',
    request: () =>
      check({
        ...EVIL,
        headers: { ...STREAM, 'content-type': 'application/json; charset=utf-7' },
        body: `+AHs-${init().slice(1)}`,
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-CHAR-12',
    family: 'charset',
    title: 'two content-type headers, the second naming utf-7 (Envoy joins them with ",")',
    threat: 'Node keeps the first value, other stacks the last: each reads a different body',
    request: () =>
      check({
        ...GITHUB,
        headers: [
          ['accept', STREAM.accept],
          ['mcp-protocol-version', '2025-11-25'],
          ['content-type', 'application/json'],
          ['content-type', 'application/json; charset=utf-7'],
        ],
        body: call('get_issue'),
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-CHAR-13',
    family: 'charset',
    title: 'charset=latin1 with a non-ASCII byte in the tool name',
    threat:
      'a charset-honouring server and a charset-ignoring one read two different tool names from one body',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'content-type': 'application/json; charset=latin1' },
        body: Buffer.concat([
          bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_'),
          Buffer.from([0xe9]),
          bytes('"}}'),
        ]),
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-CHAR-14',
    family: 'charset',
    title: 'UTF-8 tools/call mislabelled charset=utf-16le, no MCP headers',
    threat:
      'the declared charset turns the body into CJK noise, while servers that ignore it run the UTF-8 call',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...STREAM, 'content-type': 'application/json; charset=utf-16le' },
        body: call('delete_repo'),
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-CHAR-15',
    family: 'charset',
    title: 'ordinary latin1 JSON upload with accented text',
    threat: 'none: non-MCP JSON in another charset must still pass untouched',
    request: () =>
      check({
        ...EVIL,
        path: '/api/customers',
        headers: { 'content-type': 'application/json; charset=iso-8859-1' },
        body: Buffer.concat([
          bytes('{"name":"Ren'),
          Buffer.from([0xe9]),
          bytes('e","city":"Koeln"}'),
        ]),
      }),
    expect: NOT_MCP,
  },

  {
    id: 'ADV-CHAR-16',
    family: 'charset',
    title: 'a whole body in UTF-7 under a lying content-encoding gzip, no MCP headers',
    threat:
      "the SDK's legacy SSE transport ignores the coding and decodes the charset, so it runs what fails to inflate here",
    request: () =>
      check({
        ...EVIL,
        headers: {
          ...STREAM,
          'content-type': 'application/json; charset=utf-7',
          'content-encoding': 'gzip',
        },
        body: iconv.encode(call('delete_repo'), 'utf-7'),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-CHAR-17',
    family: 'charset',
    title: 'two content-type headers naming utf-7, the body in UTF-7, no MCP headers',
    threat: 'an ambiguous content-type makes the body undecodable, and so it passes as non-MCP',
    request: () =>
      check({
        ...EVIL,
        headers: [
          ['accept', STREAM.accept],
          ['content-type', 'application/json; charset=utf-7'],
          ['content-type', 'application/json; charset=utf-7'],
        ],
        body: iconv.encode(init(), 'utf-7'),
      }),
    expect: UNAPPROVED,
  },

  // --- JSON edge cases -----------------------------------------------------------------------
  {
    id: 'ADV-JSON-01',
    family: 'json',
    title: 'id 1e400 (overflows a double)',
    threat: 'an id we cannot echo exactly breaks the tool-result denial',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1e400,"method":"tools/call","params":{"name":"delete_repo"}}',
      }),
    expect: GH_TOOL_RESULT,
    verify: ({ body }) => {
      expect(body.startsWith('{"jsonrpc":"2.0","id":1e400,"result":')).toBe(true);
    },
  },
  {
    id: 'ADV-JSON-02',
    family: 'json',
    title: '30-digit integer id',
    threat: 'precision loss changes the id the client waits for',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: call('delete_repo', 0).replace('"id":0', '"id":123456789012345678901234567890'),
      }),
    expect: GH_TOOL_RESULT,
    verify: ({ body }) => {
      expect(body.startsWith('{"jsonrpc":"2.0","id":123456789012345678901234567890,')).toBe(true);
    },
  },
  {
    id: 'ADV-JSON-03',
    family: 'json',
    title: '\\u0000 inside a denied tool name',
    threat: 'C-string handling cuts the name at NUL before "delete"',
    request: () => check({ ...GITHUB, headers: SESSION, body: call('get_x\u0000delete_repo') }),
    expect: GH_TOOL_RESULT,
    verify: ({ body, log }) => {
      expect(body).not.toContain('\u0000');
      expect(body).toContain('get_x\\\\u0000delete_repo');
      expect(toolOf(log)).toBe('get_x\u0000delete_repo');
    },
  },
  {
    id: 'ADV-JSON-04',
    family: 'json',
    title: 'lone surrogate in a denied tool name',
    threat:
      'the echoed name makes the CheckResponse invalid UTF-8, which Envoy rejects, or crashes the review-link encoder',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_\\ud800repo"}}',
      }),
    expect: GH_TOOL_RESULT,
    verify: ({ body, log, response }) => {
      expect(body).toContain('delete_\\\\ud800repo');
      expect(body).toContain('tool=delete_%EF%BF%BDrepo');
      expect(response.dynamic_metadata?.fields?.['tool']?.stringValue).toBe('delete_\\ud800repo');
      expect(toolOf(log)).toBe('delete_\ud800repo');
    },
  },
  {
    id: 'ADV-JSON-05',
    family: 'json',
    title: '10,000 nested arrays in a session',
    threat: 'stack exhaustion in a recursive parser takes the service down',
    request: () => check({ ...GITHUB, headers: SESSION, body: deep(10_000) }),
    expect: ghUninspectable('not_json'),
  },
  {
    id: 'ADV-JSON-06',
    family: 'json',
    title: 'tools/call with 100-deep arguments, no MCP headers',
    threat:
      'our depth limit rejects it as "not JSON", so it passes as non-MCP while the server runs it',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":${deep(100)}}}}`,
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-JSON-07',
    family: 'json',
    title: 'initialize with NaN in capabilities, no MCP headers',
    threat: 'Python servers accept NaN; a strict parser refuses and passes it as non-MCP',
    request: () =>
      check({
        ...EVIL,
        headers: STREAM,
        body: '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"x":NaN}}}',
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-JSON-08',
    family: 'json',
    title: 'trailing comma in a tools/call, in a session',
    threat: 'lenient servers accept it; strict inspection must not then allow it unread',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_repo"},}',
      }),
    expect: ghUninspectable('not_json'),
  },
  {
    id: 'ADV-JSON-09',
    family: 'json',
    title: '__proto__ carrying an allowed name beside a denied one',
    threat: 'prototype tricks make params.name read as get_issue',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"__proto__":{"name":"get_issue"},"name":"delete_repo"}}',
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-JSON-10',
    family: 'json',
    title: 'tool name only under __proto__',
    threat:
      'a server that merges params through the prototype runs get_issue; we must not invent a name',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"__proto__":{"name":"get_issue","polluted":true}}}',
      }),
    expect: ghUninspectable('malformed'),
    verify: () => {
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    },
  },
  {
    id: 'ADV-JSON-11',
    family: 'json',
    title: 'constructor.prototype keys in arguments',
    threat: 'prototype pollution of the authorizer itself',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_issue","arguments":{"constructor":{"prototype":{"polluted":true}},"__proto__":{"polluted":true}}}}',
      }),
    expect: GH_APPROVED,
    verify: () => {
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    },
  },
  {
    id: 'ADV-JSON-12',
    family: 'json',
    title: 'tool name as an array',
    threat: 'type confusion: ["delete_repo"] stringifies to the name on a lax server',
    request: () =>
      check({ ...GITHUB, headers: SESSION, body: rpc('tools/call', { name: ['delete_repo'] }) }),
    expect: ghUninspectable('malformed'),
  },
  {
    id: 'ADV-JSON-13',
    family: 'json',
    title: 'positional params for tools/call',
    threat: 'a params.name reader finds no name and checks nothing',
    request: () =>
      check({ ...GITHUB, headers: SESSION, body: rpc('tools/call', ['delete_repo', {}]) }),
    expect: ghUninspectable('malformed'),
  },

  {
    id: 'ADV-JSON-14',
    family: 'json',
    title: 'a tools/call whose arguments hold over 10,000 object members, in a session',
    threat:
      'members (distinct keys above all) cost JSON.parse far more than their bytes: a CPU amplification on every check',
    request: () => check({ ...GITHUB, headers: SESSION, body: callWithManyMembers('get_issue') }),
    expect: ghUninspectable('too_large'),
  },
  {
    id: 'ADV-JSON-15',
    family: 'json',
    title: 'the same body to an entry without tool rules',
    threat: 'none: an approval for every tool does not need the tool name',
    request: () => check({ ...OPEN, headers: SESSION, body: callWithManyMembers('anything') }),
    expect: { verdict: 'allow', reason: 'approved', entry: 'internal-tools' },
  },

  // --- 2026-07-28 headers -----------------------------------------------------------------
  {
    id: 'ADV-H26-01',
    family: 'headers-2026',
    title: 'Mcp-Name names an allowed tool, the body a denied one',
    threat: 'a header-routing hop approves get_issue while the server runs delete_repo',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' },
        body: call('delete_repo'),
      }),
    expect: ghUninspectable('header_mismatch'),
  },
  {
    id: 'ADV-H26-02',
    family: 'headers-2026',
    title: 'Mcp-Method says tools/list, the body is tools/call',
    threat: 'method-level routing is fooled',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...V2026, 'mcp-method': 'tools/list' },
        body: call('delete_repo'),
      }),
    expect: ghUninspectable('header_mismatch'),
  },
  {
    id: 'ADV-H26-03',
    family: 'headers-2026',
    title: '2026-07-28 request without Mcp-Method',
    threat: 'dropping the required headers skips header-based checks',
    request: () => check({ ...GITHUB, headers: V2026, body: call('get_issue') }),
    expect: ghUninspectable('header_mismatch'),
  },
  {
    id: 'ADV-H26-04',
    family: 'headers-2026',
    title: 'base64-wrapped Mcp-Name agreeing with a non-ASCII body name',
    threat: 'none: the wrapped form is how clients must send such names, so it must work',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': b64Header('get_résumé') },
        body: call('get_résumé'),
      }),
    expect: GH_APPROVED,
  },
  {
    id: 'ADV-H26-05',
    family: 'headers-2026',
    title: 'body-less 2026 request naming a denied tool in base64',
    threat: 'wrapping the name hides "delete" from a plain-text header check',
    request: () =>
      check({
        ...GITHUB,
        method: 'POST',
        headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': b64Header('delete_repo') },
      }),
    expect: GH_TOOL_DENIED,
  },
  {
    id: 'ADV-H26-06',
    family: 'headers-2026',
    title: 'upper-case sentinel =?BASE64?…?=',
    threat: 'a server decoding case-insensitively reads a different name than a literal reader',
    request: () =>
      check({
        ...GITHUB,
        method: 'POST',
        headers: {
          ...V2026,
          'mcp-method': 'tools/call',
          'mcp-name': `=?BASE64?${Buffer.from('get_issue').toString('base64')}?=`,
        },
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-H26-07',
    family: 'headers-2026',
    title: 'base64 with non-zero pad bits',
    threat: 'two spellings of one name, compared byte-wise by some hops',
    request: () =>
      check({
        ...GITHUB,
        method: 'POST',
        // "get_issues" is Z2V0X2lzc3Vlcw==; "x" sets a bit an encoder leaves zero.
        headers: {
          ...V2026,
          'mcp-method': 'tools/call',
          'mcp-name': '=?base64?Z2V0X2lzc3Vlcx==?=',
        },
      }),
    expect: ghUninspectable('undecodable'),
  },
  {
    id: 'ADV-H26-08',
    family: 'headers-2026',
    title: 'Mcp-Name sent twice (Envoy joins them with ",")',
    threat: 'one hop reads the first value, another the last',
    request: () =>
      check({
        ...GITHUB,
        headers: [
          ...Object.entries(V2026),
          ['mcp-method', 'tools/call'],
          ['mcp-name', 'get_issue'],
          ['mcp-name', 'delete_repo'],
        ],
        body: call('get_issue'),
      }),
    expect: ghUninspectable('header_mismatch'),
  },
  {
    id: 'ADV-H26-09',
    family: 'headers-2026',
    title: 'body-less 2026 tools/call without Mcp-Name',
    threat: 'no name, nothing to deny',
    request: () =>
      check({ ...GITHUB, method: 'POST', headers: { ...V2026, 'mcp-method': 'tools/call' } }),
    expect: ghUninspectable('malformed'),
  },
  {
    id: 'ADV-H26-10',
    family: 'headers-2026',
    title: 'raw non-ASCII Mcp-Name bytes (not base64-wrapped)',
    threat: 'servers read raw header bytes in different charsets',
    request: () =>
      check({
        ...GITHUB,
        encodeRawHeaders: true,
        headers: {
          ...V2026,
          'mcp-method': 'tools/call',
          'mcp-name': Buffer.from('get_résumé', 'latin1'),
        },
        body: call('get_résumé'),
      }),
    expect: ghUninspectable('undecodable'),
  },

  // --- host tricks ---------------------------------------------------------------------------
  {
    id: 'ADV-HOST-01',
    family: 'host',
    title: 'mixed-case authority',
    threat: 'case differences make a denied tool reach an entry-less, default path',
    request: () =>
      check({
        ...GITHUB,
        authority: 'API.GitHubCopilot.COM',
        headers: SESSION,
        body: call('delete_repo'),
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-HOST-02',
    family: 'host',
    title: 'trailing dot on the authority',
    threat: 'the fully qualified spelling escapes the entry’s tool rules',
    request: () =>
      check({
        ...GITHUB,
        authority: 'api.githubcopilot.com.',
        headers: SESSION,
        body: call('delete_repo'),
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-HOST-03',
    family: 'host',
    title: 'explicit :443 on the authority',
    threat: 'a port spelling escapes the entry’s tool rules',
    request: () =>
      check({
        ...GITHUB,
        authority: 'api.githubcopilot.com:443',
        headers: SESSION,
        body: call('delete_repo'),
      }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-HOST-04',
    family: 'host',
    title: 'approved IPv4 host on the port its url names',
    threat: 'none: the approved address and port must keep working',
    request: () =>
      check({ authority: '10.20.30.40:8443', path: '/mcp', headers: STREAM, body: init() }),
    expect: { verdict: 'allow', reason: 'approved', entry: 'lab-server' },
  },
  {
    id: 'ADV-HOST-05',
    family: 'host',
    title: 'approved IPv4 host on another port',
    threat: 'another service on the same address rides on the approval',
    request: () =>
      check({ authority: '10.20.30.40:9000', path: '/mcp', headers: STREAM, body: init() }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-06',
    family: 'host',
    title: 'the approved IPv4 address written as one decimal number',
    threat: 'resolvers accept 169090600 for 10.20.30.40; an allowlist comparing strings does not',
    request: () =>
      check({ authority: '169090600:8443', path: '/mcp', headers: STREAM, body: init() }),
    expect: UNAPPROVED,
    verify: ({ body, log }) => {
      expect(body).toMatch(/^MCP server 169090600:8443 is not approved/);
      expect(log?.['host']).toBe('169090600:8443');
    },
  },
  {
    id: 'ADV-HOST-07',
    family: 'host',
    title: 'the approved IPv4 address as an IPv4-mapped IPv6 literal',
    threat: '[::ffff:10.20.30.40] reaches the same server under a different spelling',
    request: () =>
      check({
        authority: '[::ffff:10.20.30.40]:8443',
        path: '/mcp',
        headers: STREAM,
        body: init(),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-08',
    family: 'host',
    title: 'IDN written in Unicode for an entry written in punycode',
    threat: 'none: bücher.example is xn--bcher-kva.example and must match it',
    request: () =>
      check({ authority: 'bücher.example', path: '/mcp', headers: STREAM, body: init() }),
    expect: { verdict: 'allow', reason: 'approved', entry: 'buecher' },
  },
  {
    id: 'ADV-HOST-09',
    family: 'host',
    title: 'Cyrillic look-alike of an approved host',
    threat: 'аpi.githubcopilot.com (Cyrillic а) passes for the approved name',
    request: () =>
      check({
        ...GITHUB,
        authority: '\u0430pi.githubcopilot.com',
        headers: SESSION,
        body: call('get_issue'),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-10',
    family: 'host',
    title: 'approved name as a prefix of an attacker domain',
    threat: 'api.githubcopilot.com.evil.example matches a prefix or substring check',
    request: () =>
      check({
        ...GITHUB,
        authority: 'api.githubcopilot.com.evil.example',
        headers: SESSION,
        body: call('get_issue'),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-11',
    family: 'host',
    title: 'look-alike suffix of a wildcard entry',
    threat: 'evildocs.example.com matches *.docs.example.com by string suffix',
    request: () =>
      check({ authority: 'evildocs.example.com', path: '/mcp', headers: STREAM, body: init() }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-12',
    family: 'host',
    title: 'apex of a wildcard entry',
    threat: 'docs.example.com rides on *.docs.example.com',
    request: () =>
      check({ authority: 'docs.example.com', path: '/mcp', headers: STREAM, body: init() }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-13',
    family: 'host',
    title: 'deep subdomain under a wildcard entry, tool outside its rules',
    threat: 'depth escapes the wildcard’s tool rules',
    request: () =>
      check({
        authority: 'a.b.docs.example.com',
        path: '/mcp',
        headers: SESSION,
        body: call('delete_all'),
      }),
    expect: { verdict: 'deny', reason: 'tool_not_allowed', entry: 'docs-search', http: 200 },
  },
  {
    id: 'ADV-HOST-14',
    family: 'host',
    title: 'x-forwarded-host naming an approved host',
    threat: 'the authorizer trusts a client-written header for the destination',
    request: () =>
      check({
        ...EVIL,
        headers: { ...STREAM, 'x-forwarded-host': 'api.githubcopilot.com' },
        body: init(),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-15',
    family: 'host',
    title: 'forged host header beside :authority',
    threat: 'a "host" entry in the header map is preferred over the real authority',
    request: () =>
      withMapHeader(
        check({ ...EVIL, headers: STREAM, body: init() }),
        'host',
        'api.githubcopilot.com',
      ),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-16',
    family: 'host',
    title: 'user info in the authority',
    threat: 'api.githubcopilot.com@mcp.evil.example looks approved to a naive split',
    request: () =>
      check({
        ...EVIL,
        authority: 'api.githubcopilot.com@mcp.evil.example',
        headers: STREAM,
        body: init(),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-17',
    family: 'host',
    title: 'percent-encoded dot in the authority',
    threat: 'a URL parser decodes api%2egithubcopilot.com into the approved name',
    request: () =>
      check({
        ...GITHUB,
        authority: 'api%2egithubcopilot.com',
        headers: SESSION,
        body: call('delete_repo'),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-18',
    family: 'host',
    title: 'CONNECT to a known MCP host in odd case with a trailing dot',
    threat: 'spelling differences get a tunnel past the known-host list',
    request: () => check({ method: 'CONNECT', authority: 'MCP.Linear.App.:443' }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-19',
    family: 'host',
    title: 'CONNECT to a host neither approved nor known',
    threat: 'none we can see: the tunnel hides whether it carries MCP (documented limit)',
    request: () => check({ method: 'CONNECT', authority: 'www.example.org:443' }),
    expect: { verdict: 'allow', reason: 'unknown_host' },
  },

  {
    id: 'ADV-HOST-20',
    family: 'host',
    title: 'CONNECT to a known MCP host with the port written 0443',
    threat:
      'Envoy reads the port as 443; a reader that refuses it lets the tunnel through as unknown',
    request: () => check({ method: 'CONNECT', authority: 'mcp.linear.app:0443' }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-HOST-21',
    family: 'host',
    title: 'CONNECT with an empty port',
    threat: 'an authority we refuse to read passes as an unknown host',
    request: () => check({ method: 'CONNECT', authority: 'mcp.linear.app:' }),
    expect: AMBIGUOUS_AUTHORITY,
  },
  {
    id: 'ADV-HOST-22',
    family: 'host',
    title: 'CONNECT with a signed port +443',
    threat: "Envoy's number parser accepts the sign; URL parsers do not",
    request: () => check({ method: 'CONNECT', authority: 'mcp.linear.app:+443' }),
    expect: AMBIGUOUS_AUTHORITY,
  },
  {
    id: 'ADV-HOST-23',
    family: 'host',
    title: 'CONNECT with two trailing dots',
    threat: 'resolvers drop the dots and reach the known MCP host',
    request: () => check({ method: 'CONNECT', authority: 'mcp.linear.app..:443' }),
    expect: AMBIGUOUS_AUTHORITY,
  },
  {
    id: 'ADV-HOST-24',
    family: 'host',
    title: 'CONNECT with the port repeated',
    threat: 'readers splitting at the last colon and at the first disagree on the host',
    request: () => check({ method: 'CONNECT', authority: 'mcp.linear.app:443:443' }),
    expect: AMBIGUOUS_AUTHORITY,
  },
  {
    id: 'ADV-HOST-25',
    family: 'host',
    title: 'CONNECT with userinfo carrying a password',
    threat: 'the tunnel passes as unknown, and the password is echoed into logs and deny texts',
    request: () => check({ method: 'CONNECT', authority: 'alice:hunter2@mcp.linear.app:443' }),
    expect: AMBIGUOUS_AUTHORITY,
    verify: ({ response, log, body }) => {
      expect(JSON.stringify([response, log, body])).not.toContain('hunter2');
      expect(log?.['host']).toBe('[userinfo]@mcp.linear.app:443');
    },
  },
  {
    id: 'ADV-HOST-26',
    family: 'host',
    title: 'MCP POST whose authority carries userinfo',
    threat: 'the credential in the authority lands in the audit log and the deny text',
    request: () =>
      check({
        authority: 'alice:hunter2@api.githubcopilot.com',
        path: 'http://alice:hunter2@api.githubcopilot.com/mcp/',
        headers: SESSION,
        body: call('get_issue'),
      }),
    expect: UNAPPROVED,
    verify: ({ response, log, body }) => {
      expect(JSON.stringify([response, log, body])).not.toContain('hunter2');
    },
  },
  {
    id: 'ADV-HOST-27',
    family: 'host',
    title: 'CONNECT to a host-only approval with the port written 0443',
    threat: 'none: a port Envoy reads with certainty is judged as that port',
    request: () => check({ method: 'CONNECT', authority: 'tools.corp.example:0443' }),
    expect: { verdict: 'allow', reason: 'approved', entry: 'internal-tools' },
  },

  // --- path tricks ---------------------------------------------------------------------------
  {
    id: 'ADV-PATH-01',
    family: 'path',
    title: 'dot segments out of the approved prefix',
    threat: '/mcp/../admin passes a /mcp prefix check and reaches /admin',
    request: () =>
      check({ ...GITHUB, path: '/mcp/../admin', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-02',
    family: 'path',
    title: 'percent-encoded dot segments',
    threat: '/mcp/%2e%2e/admin is resolved by the server after we compared it',
    request: () =>
      check({ ...GITHUB, path: '/mcp/%2E%2e/admin', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-03',
    family: 'path',
    title: 'encoded slash glued to the prefix',
    threat:
      '/mcp%2fadmin decodes to /mcp/admin on some servers and looks like /mcp to a prefix check',
    request: () =>
      check({ ...GITHUB, path: '/mcp%2fadmin', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-04',
    family: 'path',
    title: 'double-encoded dot segments under the prefix',
    threat: '%252e%252e is decoded twice by a server and climbs out',
    request: () =>
      check({ ...GITHUB, path: '/mcp/%252e%252e/x', headers: SESSION, body: call('delete_repo') }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-PATH-05',
    family: 'path',
    title: 'prefix look-alike /mcpx',
    threat: 'string-prefix matching approves a sibling path',
    request: () => check({ ...GITHUB, path: '/mcpx', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-06',
    family: 'path',
    title: 'approved prefix only in the query',
    threat: '/admin?next=/mcp/ matches a check that includes the query',
    request: () =>
      check({ ...GITHUB, path: '/admin?next=/mcp/', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-07',
    family: 'path',
    title: 'approved prefix only in a fragment',
    threat: '/admin#/mcp/ matches a check that keeps the fragment',
    request: () =>
      check({ ...GITHUB, path: '/admin#/mcp/', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-08',
    family: 'path',
    title: 'backslash dot segments',
    threat: '/mcp\\..\\admin is /admin to servers that treat "\\" as "/"',
    request: () =>
      check({ ...GITHUB, path: '/mcp\\..\\admin', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-09',
    family: 'path',
    title: 'dot segment with a path parameter',
    threat: '/mcp/..;/admin is resolved by servlet-style servers after stripping ";"',
    request: () =>
      check({ ...GITHUB, path: '/mcp/..;/admin', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-10',
    family: 'path',
    title: 'duplicate slashes before the prefix',
    threat: '//mcp/ escapes the entry and its tool rules',
    request: () =>
      check({ ...GITHUB, path: '//mcp//', headers: SESSION, body: call('delete_repo') }),
    expect: ghUninspectable('ambiguous_path'),
  },
  {
    id: 'ADV-PATH-11',
    family: 'path',
    title: 'absolute-form request target naming an approved host',
    threat: 'the host inside :path is believed over :authority',
    request: () =>
      check({
        ...EVIL,
        path: 'http://api.githubcopilot.com/mcp/',
        headers: SESSION,
        body: call('get_issue'),
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-PATH-12',
    family: 'path',
    title: 'upper-case prefix /MCP/',
    threat: 'a case-insensitive server serves /MCP/ as /mcp/ while the entry does not match',
    request: () => check({ ...GITHUB, path: '/MCP/', headers: SESSION, body: call('get_issue') }),
    expect: UNAPPROVED,
  },

  {
    id: 'ADV-PATH-13',
    family: 'path',
    title: 'dot segments that resolve into the approved prefix',
    threat:
      'Express serves /mcp/x/../open/ from its /mcp mount while a resolving reader matches an entry for /mcp/open',
    request: () =>
      check({ ...GITHUB, path: '/mcp/x/../open/', headers: SESSION, body: call('delete_repo') }),
    // Resolved, the path is /mcp/open/: github-open, which allows every tool, would match.
    expect: { ...ghUninspectable('ambiguous_path'), entry: 'github-open' },
  },
  {
    id: 'ADV-PATH-14',
    family: 'path',
    title: 'percent-encoded dot inside the approved prefix',
    threat: 'some servers decode %2e before routing, others never do',
    request: () =>
      check({ ...GITHUB, path: '/mcp/%2e/', headers: SESSION, body: call('get_issue') }),
    expect: ghUninspectable('ambiguous_path'),
  },
  {
    id: 'ADV-PATH-15',
    family: 'path',
    title: 'encoded slash inside the approved prefix',
    threat: '/mcp/a%2Fb is one segment to a router and two to a decoding server',
    request: () =>
      check({ ...GITHUB, path: '/mcp/a%2Fb', headers: SESSION, body: call('get_issue') }),
    expect: ghUninspectable('ambiguous_path'),
  },
  {
    id: 'ADV-PATH-16',
    family: 'path',
    title: 'backslash inside the approved prefix',
    threat: '/mcp/a\\b is /mcp/a/b to servers that treat "\\" as "/" and one segment to others',
    request: () =>
      check({ ...GITHUB, path: '/mcp/a\\b', headers: SESSION, body: call('get_issue') }),
    expect: ghUninspectable('ambiguous_path'),
  },
  {
    id: 'ADV-PATH-17',
    family: 'path',
    title: 'ordinary GET with dot segments, not MCP',
    threat: 'none: non-MCP traffic with an odd path must still pass untouched',
    request: () => check({ ...EVIL, method: 'GET', path: '/static/../index.html', headers: {} }),
    expect: NOT_MCP,
  },

  {
    id: 'ADV-PATH-18',
    family: 'path',
    title: 'an empty segment inside the approved prefix: /mcp//open',
    threat:
      'Express serves it under /mcp (tools restricted) while a slash-merging reader matches /mcp/open',
    request: () =>
      check({ ...GITHUB, path: '/mcp//open', headers: SESSION, body: call('get_issue') }),
    expect: { ...ghUninspectable('ambiguous_path'), entry: 'github-open' },
  },

  // --- method tricks -------------------------------------------------------------------------
  {
    id: 'ADV-METH-01',
    family: 'method',
    title: 'lower-case "post" carrying a denied tools/call',
    threat: 'method checks compare case-sensitively and skip the body',
    request: () =>
      check({ ...GITHUB, method: 'post', headers: SESSION, body: call('delete_repo') }),
    expect: GH_TOOL_RESULT,
  },
  {
    id: 'ADV-METH-02',
    family: 'method',
    title: 'PUT carrying a denied tools/call',
    threat: 'only POST bodies are inspected',
    request: () => check({ ...GITHUB, method: 'PUT', headers: SESSION, body: call('delete_repo') }),
    expect: GH_TOOL_DENIED,
  },
  {
    id: 'ADV-METH-03',
    family: 'method',
    title: 'GET with a tools/call body',
    threat: 'GET is assumed to be the SSE stream and its body ignored',
    request: () => check({ ...GITHUB, method: 'GET', headers: SESSION, body: call('delete_repo') }),
    expect: GH_TOOL_DENIED,
  },
  {
    id: 'ADV-METH-04',
    family: 'method',
    title: 'OPTIONS with MCP headers to an unapproved server',
    threat: 'preflights are waved through and reveal an unapproved server’s CORS policy',
    request: () =>
      check({ ...EVIL, method: 'OPTIONS', headers: { 'mcp-protocol-version': '2025-11-25' } }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-METH-05',
    family: 'method',
    title: 'HEAD on /sse',
    threat: 'none: a HEAD opens no stream and carries no message',
    request: () =>
      check({ ...EVIL, method: 'HEAD', path: '/sse', headers: { accept: 'text/event-stream' } }),
    expect: NOT_MCP,
  },
  {
    id: 'ADV-METH-06',
    family: 'method',
    title: 'mixed-case "PoSt" without a body in a session',
    threat: 'a body-less POST check compares the method case-sensitively',
    request: () => check({ ...GITHUB, method: 'PoSt', headers: SESSION }),
    expect: ghUninspectable('body_missing'),
  },

  // --- legacy HTTP+SSE -----------------------------------------------------------------------
  {
    id: 'ADV-SSE-01',
    family: 'legacy-sse',
    title: 'GET /sse event stream to an unapproved server, no MCP headers',
    threat: 'the legacy transport opens without any MCP header',
    request: () =>
      check({ ...EVIL, method: 'GET', path: '/sse', headers: { accept: 'text/event-stream' } }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-SSE-02',
    family: 'legacy-sse',
    title: 'GET /sse/ with a trailing slash and an odd-case media type',
    threat: 'a trailing slash or case defeats the stream-path check',
    request: () =>
      check({
        ...EVIL,
        method: 'GET',
        path: '/sse/',
        headers: { accept: 'Text/Event-Stream; q=1' },
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-SSE-03',
    family: 'legacy-sse',
    title: 'legacy message POST with a denied tool',
    threat: 'the /messages endpoint is not recognised as MCP',
    request: () =>
      check({
        ...GITHUB,
        path: '/mcp/messages?sessionId=2b1c',
        headers: { 'content-type': 'application/json', accept: '*/*' },
        body: call('delete_repo'),
      }),
    expect: GH_TOOL_DENIED,
    verify: ({ response }) => {
      expect(
        response.denied_response?.headers?.find((h) => h.header?.key === 'content-type')?.header
          ?.value,
      ).toBe('text/plain; charset=utf-8');
    },
  },
  {
    id: 'ADV-SSE-04',
    family: 'legacy-sse',
    title: 'legacy message POST with initialize to an unapproved server',
    threat: 'a legacy session is set up without any MCP header',
    request: () =>
      check({
        ...EVIL,
        path: '/messages/?session_id=x',
        headers: { 'content-type': 'application/json' },
        body: init(),
      }),
    expect: UNAPPROVED,
  },

  // --- client-sent responses -----------------------------------------------------------------
  {
    id: 'ADV-RESP-01',
    family: 'client-response',
    title: 'client-sent response in a session to an unapproved server',
    threat: 'answers to server requests (sampling, elicitation) leak data to an unapproved server',
    request: () =>
      check({
        ...EVIL,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":4,"result":{"content":[]}}',
      }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-RESP-02',
    family: 'client-response',
    title: 'JSON-RPC response without MCP headers',
    threat: 'none we can tell apart: any JSON-RPC API sends these; a response runs no tool',
    request: () =>
      check({
        ...EVIL,
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":4,"result":{}}',
      }),
    expect: NOT_MCP,
  },
  {
    id: 'ADV-RESP-03',
    family: 'client-response',
    title: 'response carrying Mcp-Method/Mcp-Name headers',
    threat: 'headers describe a tool call that the body does not contain',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': 'get_issue' },
        body: '{"jsonrpc":"2.0","id":4,"result":{}}',
      }),
    expect: ghUninspectable('header_mismatch'),
  },
  {
    id: 'ADV-RESP-04',
    family: 'client-response',
    title: 'response object that also carries method and params',
    threat: 'classified as a response by its result member, run as a request by the server',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":4,"result":{},"method":"tools/call","params":{"name":"delete_repo"}}',
      }),
    expect: GH_TOOL_RESULT,
  },

  // --- notifications -------------------------------------------------------------------------
  {
    id: 'ADV-NOTIF-01',
    family: 'notification',
    title: 'notification-only body to an unapproved server, no MCP headers',
    threat: 'a message without an id is not taken for MCP',
    request: () =>
      check({ ...EVIL, headers: STREAM, body: rpc('notifications/initialized', undefined, null) }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-NOTIF-02',
    family: 'notification',
    title: 'tools/call sent as a notification (no id)',
    threat: 'only requests are checked, and some servers still run the call',
    request: () => check({ ...GITHUB, headers: SESSION, body: call('delete_repo', null) }),
    expect: GH_TOOL_DENIED,
  },
  {
    id: 'ADV-NOTIF-03',
    family: 'notification',
    title: 'batch of notifications hiding an id-less tools/call',
    threat: 'a batch of notifications is skipped as harmless',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION_0326,
        body: `[${rpc('notifications/initialized', undefined, null)},${call('delete_repo', null)}]`,
      }),
    expect: GH_TOOL_DENIED,
  },
  {
    id: 'ADV-NOTIF-04',
    family: 'notification',
    title: 'tools/call with "id": null',
    threat: 'a null id is treated as a notification and skipped',
    request: () =>
      check({
        ...GITHUB,
        headers: SESSION,
        body: '{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"delete_repo"}}',
      }),
    expect: GH_TOOL_RESULT,
    verify: ({ body }) => {
      expect(body.startsWith('{"jsonrpc":"2.0","id":null,"result":')).toBe(true);
    },
  },

  // --- echoed values and header injection ----------------------------------------------------
  {
    id: 'ADV-ECHO-01',
    family: 'echo-injection',
    title: 'CR/LF in a denied tool name (tool-result denial)',
    threat: 'the name is echoed into a response header or splits a log line',
    request: () => check({ ...GITHUB, headers: SESSION, body: call(CRLF_TOOL) }),
    expect: GH_TOOL_RESULT,
    verify: ({ body, log }) => {
      const text = (JSON.parse(body) as { result: { content: { text: string }[] } }).result
        .content[0]?.text;
      expect(text).toContain('delete_repo\\u000d\\u000ax-injected: yes');
      expect(text).toContain('tool=delete_repo%0D%0Ax-injected%3A%20yes');
      expect(toolOf(log)).toBe(CRLF_TOOL);
    },
  },
  {
    id: 'ADV-ECHO-02',
    family: 'echo-injection',
    title: 'CR/LF in a denied tool name (403 text denial)',
    threat: 'the plain-text body carries a forged second line',
    request: () =>
      check({ ...GITHUB, headers: { ...SESSION, accept: '*/*' }, body: call(CRLF_TOOL) }),
    expect: GH_TOOL_DENIED,
    verify: ({ body }) => {
      expect(body).toContain('delete_repo\\u000d\\u000ax-injected: yes');
    },
  },
  {
    id: 'ADV-ECHO-03',
    family: 'echo-injection',
    title: 'CR/LF smuggled through a base64-wrapped Mcp-Name',
    threat: 'the decoded header value carries CR/LF that raw headers never could',
    request: () =>
      check({
        ...GITHUB,
        method: 'POST',
        headers: { ...V2026, 'mcp-method': 'tools/call', 'mcp-name': b64Header(CRLF_TOOL) },
      }),
    expect: GH_TOOL_DENIED,
    verify: ({ body, log }) => {
      expect(body).toContain('delete_repo\\u000d\\u000ax-injected: yes');
      expect(toolOf(log)).toBe(CRLF_TOOL);
    },
  },
  {
    id: 'ADV-ECHO-04',
    family: 'echo-injection',
    title: 'CR/LF in the authority',
    threat: 'the host is echoed into the deny text, the review link and the log',
    request: () =>
      check({
        ...EVIL,
        authority: 'mcp.evil.example\r\nx-injected: yes',
        headers: STREAM,
        body: init(),
      }),
    expect: UNAPPROVED,
    verify: ({ body, log }) => {
      expect(body).toMatch(/^MCP server mcp\.evil\.example\\u000d\\u000ax-injected: yes is not/);
      expect(body).toContain('host=mcp.evil.example%0D%0Ax-injected%3A%20yes');
      expect(log?.['host']).toBe('mcp.evil.example\r\nx-injected: yes');
    },
  },
  {
    id: 'ADV-ECHO-05',
    family: 'echo-injection',
    title: 'tool name spelling 404 and Unauthorized',
    threat: 'the echoed name makes the client switch transport or start an OAuth sign-in',
    request: () =>
      check({ ...GITHUB, headers: SESSION, body: call('delete_404_Unauthorized_Not Found') }),
    expect: GH_TOOL_RESULT,
    verify: ({ body }) => {
      const text =
        (JSON.parse(body) as { result: { content: { text: string }[] } }).result.content[0]?.text ??
        '';
      expect(text).not.toMatch(/404|405|unauthori[sz]ed|not found/i);
      expect(text).toContain('delete_4\u200b04_U\u200bnauthorized_N\u200bot Found');
    },
  },
  {
    id: 'ADV-ECHO-06',
    family: 'echo-injection',
    title: 'forged x-mcp-gate-* headers on an allowed request',
    threat: 'the upstream trusts an x-mcp-gate-server the client wrote',
    request: () =>
      check({
        ...GITHUB,
        headers: { ...SESSION, 'x-mcp-gate-server': 'forged', 'x-mcp-gate-would-deny': 'none' },
        body: call('get_issue'),
      }),
    expect: GH_APPROVED,
    verify: ({ response }) => {
      expect(response.ok_response?.headers_to_remove).toEqual(['x-mcp-gate-would-deny']);
      const server = response.ok_response?.headers?.find(
        (h) => h.header?.key === 'x-mcp-gate-server',
      );
      expect(server?.header?.value).toBe('github-official');
      expect(server?.append?.value).toBe(false);
    },
  },
  {
    id: 'ADV-ECHO-07',
    family: 'echo-injection',
    title: 'forged x-mcp-gate-* header on non-MCP traffic',
    threat: 'an upstream behind the proxy trusts the forged header',
    request: () =>
      check({
        authority: 'api.example.org',
        path: '/v1',
        method: 'GET',
        headers: { 'x-mcp-gate-server': 'github-official' },
      }),
    expect: NOT_MCP,
    verify: ({ response }) => {
      expect(response.ok_response?.headers_to_remove).toEqual(['x-mcp-gate-server']);
    },
  },
  {
    id: 'ADV-ECHO-08',
    family: 'echo-injection',
    title: '10,000-character denied tool name',
    threat: 'an unbounded echo bloats the response and the log',
    request: () =>
      check({ ...GITHUB, headers: SESSION, body: call(`delete_${'x'.repeat(10_000)}`) }),
    expect: GH_TOOL_RESULT,
    verify: ({ body }) => {
      expect(body.length).toBeLessThan(1200);
    },
  },
  {
    id: 'ADV-ECHO-09',
    family: 'echo-injection',
    title: 'U+2028/U+2029 and a U+0085 next-line in a denied tool name',
    threat: 'line separators that some log viewers and JS consumers treat as newlines',
    request: () =>
      check({ ...GITHUB, headers: SESSION, body: call('delete\u2028x\u2029y\u0085z') }),
    expect: GH_TOOL_RESULT,
    verify: ({ body }) => {
      expect(body).not.toMatch(/[\u2028\u2029\u0085]/);
      expect(body).toContain('delete\\\\u2028x\\\\u2029y\\\\u0085z');
    },
  },

  // --- WebSocket ------------------------------------------------------------------------------
  {
    id: 'ADV-WS-01',
    family: 'websocket',
    title: 'WebSocket upgrade with the mcp subprotocol to an unapproved server',
    threat: 'a GET without a body or MCP headers passes as non-MCP, and the frames carry the calls',
    request: () => check({ ...EVIL, method: 'GET', path: '/ws', headers: WEBSOCKET_MCP }),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-WS-02',
    family: 'websocket',
    title: 'WebSocket upgrade with the mcp subprotocol to a tool-restricted entry',
    threat: 'frames are never inspected, so tool rules would not apply to anything sent in them',
    request: () => check({ ...GITHUB, method: 'GET', headers: WEBSOCKET_MCP }),
    expect: ghUninspectable('websocket'),
  },
  {
    id: 'ADV-WS-03',
    family: 'websocket',
    title: 'WebSocket upgrade with the mcp subprotocol to an entry without tool rules',
    threat: 'none: a host approved for every tool may be reached over WebSocket',
    request: () => check({ ...OPEN, method: 'GET', headers: WEBSOCKET_MCP }),
    expect: { verdict: 'allow', reason: 'approved', entry: 'internal-tools' },
  },
  {
    id: 'ADV-WS-04',
    family: 'websocket',
    title: 'HTTP/2 extended CONNECT with :protocol websocket and the mcp subprotocol',
    threat: 'an extended CONNECT is read as a tunnel or as a plain request without a body',
    request: () =>
      withMapHeader(
        check({
          ...EVIL,
          method: 'CONNECT',
          protocol: 'HTTP/2',
          headers: { 'sec-websocket-protocol': 'mcp', 'sec-websocket-version': '13' },
        }),
        ':protocol',
        'websocket',
      ),
    expect: UNAPPROVED,
  },
  {
    id: 'ADV-WS-05',
    family: 'websocket',
    title: 'ordinary WebSocket upgrade without the mcp subprotocol',
    threat: 'none: chat and live-update sockets must still pass untouched',
    request: () =>
      check({
        ...EVIL,
        method: 'GET',
        path: '/live',
        headers: { ...WEBSOCKET_MCP, 'sec-websocket-protocol': 'graphql-ws' },
      }),
    expect: NOT_MCP,
  },
  // --- tunnels to hosts whose rules need the request ------------------------------------------
  {
    id: 'ADV-TUNNEL-01',
    family: 'tunnel',
    title: 'CONNECT to a host whose entry has tool rules',
    threat: 'a tunnel the proxy did not intercept carries tool calls the tool rules never see',
    request: () => check({ method: 'CONNECT', authority: 'api.githubcopilot.com:443' }),
    expect: ghUninspectable('tunnel_not_inspected'),
    verify: ({ body }) => {
      expect(body).toContain("add api.githubcopilot.com to the proxy's TLS inspection");
    },
  },
  {
    id: 'ADV-TUNNEL-02',
    family: 'tunnel',
    title: 'SNI-only network check to a host whose entry has tool rules',
    threat: 'transparent interception skipped for a host, so only its SNI is judged',
    request: () => ({ attributes: { tls_session: { sni: 'api.githubcopilot.com' } } }),
    expect: ghUninspectable('tunnel_not_inspected'),
  },
  {
    id: 'ADV-TUNNEL-03',
    family: 'tunnel',
    title: 'CONNECT to a tool-rule host in odd case, trailing dot and port 0443',
    threat: 'a spelling of the host that the inspection-set lookup misses passes as approved',
    request: () => check({ method: 'CONNECT', authority: 'API.GitHubCopilot.com.:0443' }),
    expect: ghUninspectable('tunnel_not_inspected'),
  },
  {
    id: 'ADV-TUNNEL-04',
    family: 'tunnel',
    title: 'CONNECT to a host under a wildcard entry with tool rules',
    threat: 'a subdomain of a wildcard approval with rules tunnels past them',
    request: () => check({ method: 'CONNECT', authority: 'search.docs.example.com:443' }),
    expect: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
      entry: 'docs-search',
    },
  },
  {
    id: 'ADV-TUNNEL-05',
    family: 'tunnel',
    title: 'CONNECT to a host whose entry restricts the port',
    threat: 'a tunnel to another port of a host approved for one port only',
    request: () => check({ method: 'CONNECT', authority: '10.20.30.40:9999' }),
    expect: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
      entry: 'lab-server',
    },
  },
  // --- scoping: identity, access rules and conditions ------------------------------------------
  {
    id: 'ADV-SCOPE-01',
    family: 'scoping',
    title: 'user header sent twice, ana then mallory',
    threat: 'a reader that takes the first or the last copy lets a client-sent copy name the user',
    request: () =>
      check({
        ...DATA,
        headers: { ...ANA, 'x-forwarded-email': ['ana@corp.example', 'mallory@corp.example'] },
        metadataContext: DATA_ENG,
        body: callWith('run_query', '{"query":"SELECT 1"}'),
      }),
    expect: { ...SCOPED_IDENTITY_MISSING, http: 403 },
    verify: ({ log }) => {
      expect(log?.['user']).toBeUndefined();
      expect(log?.['rule']).toBe('entry access');
    },
  },
  {
    id: 'ADV-SCOPE-02',
    family: 'scoping',
    title: 'user header sent twice, with encode_raw_headers (repeats kept apart in header_map)',
    threat: 'the raw header list has one entry per copy, and a reader keeps one of them',
    request: () =>
      check({
        ...DATA,
        headers: { ...ANA, 'x-forwarded-email': ['mallory@corp.example', 'ana@corp.example'] },
        metadataContext: DATA_ENG,
        body: callWith('run_query', '{"query":"SELECT 1"}'),
        encodeRawHeaders: true,
      }),
    expect: { ...SCOPED_IDENTITY_MISSING, http: 403 },
    verify: ({ log }) => {
      expect(log?.['user']).toBeUndefined();
    },
  },
  {
    id: 'ADV-SCOPE-03',
    family: 'scoping',
    title: 'user header of 530 characters ending in @corp.example',
    threat: 'an unbounded user is matched, logged and echoed, and cut copies compare differently',
    request: () =>
      check({
        ...DATA,
        headers: { ...ANA, 'x-forwarded-email': `${'a'.repeat(517)}@corp.example` },
        metadataContext: DATA_ENG,
        body: callWith('run_query', '{"query":"SELECT 1"}'),
      }),
    expect: { ...SCOPED_IDENTITY_MISSING, http: 403 },
    verify: ({ log }) => {
      expect(log?.['user']).toBeUndefined();
    },
  },
  {
    id: 'ADV-SCOPE-04',
    family: 'scoping',
    title: 'groups in a forged x-forwarded-groups header when groups come from the verified token',
    threat: 'a gateway that falls back to a header when the token claim is absent',
    request: () =>
      check({
        ...DATA,
        headers: { ...ANA, 'x-forwarded-groups': 'data-eng' },
        body: callWith('run_query', '{"query":"SELECT 1"}'),
      }),
    expect: { ...SCOPED_IDENTITY_MISSING, http: 200 },
    verify: ({ log }) => {
      expect(log?.['groups']).toBeUndefined();
      expect(log?.['rule']).toBe('tool rule 1 access');
    },
  },
  {
    id: 'ADV-SCOPE-05',
    family: 'scoping',
    title: "groups claim in another filter's metadata namespace",
    threat:
      'a filter that copies client headers into metadata (header_to_metadata, Lua) writes a payload that was never verified',
    request: () =>
      toData(
        callWith('run_query', '{"query":"SELECT 1"}'),
        jwtGroups(['data-eng'], 'envoy.filters.http.header_to_metadata'),
      ),
    expect: { ...SCOPED_IDENTITY_MISSING, http: 200 },
  },
  {
    id: 'ADV-SCOPE-06',
    family: 'scoping',
    title: 'groups claim at the top of the jwt_authn namespace, outside the verified payload key',
    threat: 'a reader that searches the whole namespace finds a value the token did not carry',
    request: () =>
      check({
        ...DATA,
        headers: ANA,
        metadataContext: {
          [JWT_NAMESPACE]: { groups: ['data-eng'], other: { groups: ['data-eng'] } },
        },
        body: callWith('run_query', '{"query":"SELECT 1"}'),
      }),
    expect: { ...SCOPED_IDENTITY_MISSING, http: 200 },
  },
  {
    id: 'ADV-SCOPE-07',
    family: 'scoping',
    title: 'a group named "eng,data-eng" in the token\'s groups list',
    threat: 'a self-service group whose name holds the separator becomes two groups when split',
    request: () =>
      check({
        ...DATA,
        headers: ANA,
        metadataContext: jwtGroups(['eng,data-eng', 'eng;data-eng', ' data-eng2']),
        body: callWith('run_query', '{"query":"SELECT 1"}'),
      }),
    expect: SCOPED_TOOL_DENIED('principal_not_allowed'),
    verify: ({ log }) => {
      expect(log?.['groups']).toEqual(['eng,data-eng', 'eng;data-eng', 'data-eng2']);
    },
  },
  {
    id: 'ADV-SCOPE-08',
    family: 'scoping',
    title: 'groups claim that is one string "eng,data-eng"',
    threat: 'a reader that splits every string claim at "," finds data-eng',
    request: () => toData(callWith('run_query', '{"query":"SELECT 1"}'), jwtGroups('eng,data-eng')),
    expect: SCOPED_TOOL_DENIED('principal_not_allowed'),
    verify: ({ log }) => {
      expect(log?.['groups']).toEqual(['eng,data-eng']);
    },
  },
  {
    id: 'ADV-SCOPE-09',
    family: 'scoping',
    title: 'a SELECT by ana, in data-eng by her verified token',
    threat: 'none: the request the approval was reviewed for must pass',
    request: () => toData(callWith('run_query', '{"query":"  select id from orders"}'), DATA_ENG),
    expect: { verdict: 'allow', reason: 'approved', entry: 'scoped-data' },
    verify: ({ log }) => {
      expect(log).toMatchObject({ user: 'ana@corp.example', groups: ['eng', 'data-eng'] });
    },
  },
  {
    id: 'ADV-SCOPE-10',
    family: 'scoping',
    title: 'owner 1, a number, where the condition compares a string',
    threat: 'a loosely typed comparison coerces, or an error is read as "no objection"',
    request: () => toData(callWith('create_issue', '{"owner":1}')),
    expect: SCOPED_TOOL_DENIED('condition_failed'),
    verify: ruleIs(OWNER_CONDITION),
  },
  {
    id: 'ADV-SCOPE-11',
    family: 'scoping',
    title: 'limit "100", a string, where the condition compares a number (limit <= 100)',
    threat: 'a string compared with a number is coerced (JavaScript), or the error passes',
    request: () => toData(callWith('list_rows', '{"limit":"100"}')),
    expect: SCOPED_TOOL_DENIED('condition_failed'),
    verify: ruleIs('tool rule 3 condition "at most 100 rows"'),
  },
  {
    id: 'ADV-SCOPE-12',
    family: 'scoping',
    title: 'owner {"login":"acme"}, an object, where the condition compares a string',
    threat: 'a reader that flattens objects or compares their text finds "acme"',
    request: () => toData(callWith('create_issue', '{"owner":{"login":"acme"}}')),
    expect: SCOPED_TOOL_DENIED('condition_failed'),
    verify: ruleIs(OWNER_CONDITION),
  },
  {
    id: 'ADV-SCOPE-13',
    family: 'scoping',
    title: 'owner null where the condition compares a string',
    threat: 'null is read as "not given", and a missing value as "nothing to object to"',
    request: () => toData(callWith('create_issue', '{"owner":null}')),
    expect: SCOPED_TOOL_DENIED('condition_failed'),
    verify: ruleIs(OWNER_CONDITION),
  },
  {
    id: 'ADV-SCOPE-14',
    family: 'scoping',
    title: 'owner ["acme"], an array, where the condition compares a string',
    threat:
      'a one-element array compares equal to its element (JavaScript `==`), and the server takes another',
    request: () => toData(callWith('create_issue', '{"owner":["acme"]}')),
    expect: SCOPED_TOOL_DENIED('condition_failed'),
    verify: ruleIs(OWNER_CONDITION),
  },
  {
    id: 'ADV-SCOPE-15',
    family: 'scoping',
    title: 'query beside Query in the arguments of the SELECT-only tool',
    threat: 'the condition reads query (a SELECT), a case-insensitive Go server Query (a DROP)',
    request: () =>
      toData(callWith('run_query', '{"query":"SELECT 1","Query":"DROP TABLE orders"}'), DATA_ENG),
    expect: scopedUninspectable('ambiguous_arguments'),
  },
  {
    id: 'ADV-SCOPE-16',
    family: 'scoping',
    title: 'query beside QUERY',
    threat: 'as above, in upper case',
    request: () =>
      toData(callWith('run_query', '{"QUERY":"DROP TABLE orders","query":"SELECT 1"}'), DATA_ENG),
    expect: scopedUninspectable('ambiguous_arguments'),
  },
  {
    id: 'ADV-SCOPE-17',
    family: 'scoping',
    title: 'tasks beside "ta\\u017fks" (long s)',
    threat: 'Go reads U+017F as s, so the server runs the other list',
    request: () =>
      toData(callWith('run_tasks', '{"tasks":["report-daily"],"ta\\u017fks":["wipe-all"]}')),
    expect: scopedUninspectable('ambiguous_arguments'),
  },
  {
    id: 'ADV-SCOPE-18',
    family: 'scoping',
    title: 'tasks beside "tas\\u212as" (Kelvin sign)',
    threat: 'Go reads U+212A as k, so the server runs the other list',
    request: () =>
      toData(callWith('run_tasks', '{"tasks":["report-daily"],"tas\\u212as":["wipe-all"]}')),
    expect: scopedUninspectable('ambiguous_arguments'),
  },
  {
    id: 'ADV-SCOPE-19',
    family: 'scoping',
    title: 'query beside "query\\u0000" (trailing NUL)',
    threat: 'a decoder that drops trailing NULs (segmentio/encoding) reads the second as query',
    request: () =>
      toData(
        callWith('run_query', '{"query":"SELECT 1","query\\u0000":"DROP TABLE orders"}'),
        DATA_ENG,
      ),
    expect: scopedUninspectable('ambiguous_arguments'),
  },
  {
    id: 'ADV-SCOPE-20',
    family: 'scoping',
    title: 'Sudo where the condition tests !has(args.sudo)',
    threat: 'has() finds no sudo key, and a case-insensitive server fills its sudo field',
    request: () =>
      check({ ...NOTES, headers: SESSION, body: callWith('write_note', '{"Sudo":true}') }),
    expect: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'ambiguous_arguments',
      entry: 'scoped-notes',
      http: 200,
    },
  },
  {
    id: 'ADV-SCOPE-21',
    family: 'scoping',
    title: 'two arguments objects in params, the SELECT last',
    threat: 'JSON.parse keeps the last (a SELECT), a first-wins server runs the DROP',
    request: () =>
      toData(
        '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"run_query","arguments":{"query":"DROP TABLE orders"},"arguments":{"query":"SELECT 1"}}}',
        DATA_ENG,
      ),
    // An envelope duplicate: the body is refused before any rule is read, as 403 text.
    expect: { ...scopedUninspectable('duplicate_keys'), http: 403 },
  },
  {
    id: 'ADV-SCOPE-22',
    family: 'scoping',
    title: 'query twice inside arguments, the SELECT last',
    threat: 'JSON.parse keeps the last (a SELECT), a first-wins server runs the DROP',
    request: () =>
      toData(callWith('run_query', '{"query":"DROP TABLE orders","query":"SELECT 1"}'), DATA_ENG),
    expect: scopedUninspectable('ambiguous_arguments'),
  },
  {
    id: 'ADV-SCOPE-23',
    family: 'scoping',
    title: 'a list of 10,001 tasks (about 40 KB, under the body cap)',
    threat: 'a comprehension over every element makes one check as slow as the attacker likes',
    request: () =>
      toData(callWith('run_tasks', `{"tasks":[${Array(10_001).fill('"r"').join(',')}]}`)),
    expect: scopedUninspectable('too_large'),
    verify: ruleIs('tool arguments'),
  },
  {
    id: 'ADV-SCOPE-24',
    family: 'scoping',
    title: 'a list of 2,000 report tasks, within the value limit, that the comprehension must walk',
    threat:
      'a list under every size limit whose comprehension still costs more than a check may spend',
    request: () =>
      toData(callWith('run_tasks', `{"tasks":[${Array(2_000).fill('"report-daily"').join(',')}]}`)),
    expect: scopedUninspectable('too_large'),
    verify: ruleIs('tool rule 4 condition "only report tasks"'),
  },
  {
    id: 'ADV-SCOPE-25',
    family: 'scoping',
    title: 'a SELECT of 60,000 characters to the SELECT-only regex',
    threat: 'a long enough input makes any regex condition run as long as the attacker likes',
    request: () =>
      toData(
        callWith('run_query', JSON.stringify({ query: `SELECT ${'x'.repeat(60_000)}` })),
        DATA_ENG,
      ),
    expect: scopedUninspectable('too_large'),
    verify: ruleIs('tool rule 1 condition "only SELECT statements"'),
  },
  {
    id: 'ADV-SCOPE-26',
    family: 'scoping',
    title: '1,000 letters and a "!" to the condition ^([a-z0-9]+[-_]?)*$',
    threat: 'a backtracking regex engine takes exponential time on it and stalls every check',
    request: () =>
      toData(callWith('find_names', JSON.stringify({ pattern: `${'a'.repeat(1_000)}!` }))),
    expect: SCOPED_TOOL_DENIED('condition_failed'),
    verify: ({ log }) => {
      expect(log?.['rule']).toBe('tool rule 5 condition "plain names only"');
      // RE2 runs in time linear in the input: microseconds, where backtracking never ends.
      expect(log?.['duration_ms']).toBeLessThan(1000);
    },
  },
  {
    id: 'ADV-SCOPE-27',
    family: 'scoping',
    title: 'tools/call cut by Envoy on an entry that has conditions but no tool rules',
    threat: 'an argument after the cut (sudo) would change what the condition says',
    request: () =>
      check({
        ...NOTES,
        headers: SESSION,
        body: callWith('write_note', `{"text":"${'n'.repeat(200)}","sudo":true}`),
        maxRequestBytes: 120,
      }),
    expect: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'truncated',
      entry: 'scoped-notes',
    },
  },
  {
    id: 'ADV-SCOPE-28',
    family: 'scoping',
    title: 'CONNECT to a host whose only rule is a condition (from a bundle)',
    threat: 'a tunnel carries tool calls that the condition never sees',
    request: () => check({ method: 'CONNECT', authority: 'notes-mcp.corp.example:443' }),
    expect: {
      verdict: 'deny',
      reason: 'uninspectable',
      detail: 'tunnel_not_inspected',
      entry: 'scoped-notes',
    },
  },
  {
    id: 'ADV-SCOPE-29',
    family: 'scoping',
    title: "a script sending claude-code's User-Agent to a tool only claude-code may call",
    threat:
      'none mcp-gate can stop, as this row shows: the AI client is self-reported, so access.clients is a scope, not an authentication',
    request: () =>
      check({
        ...DATA,
        headers: { ...ANA, 'user-agent': 'claude-code/2.1.221 (cli)' },
        body: callWith('run_shell', '{"command":"id"}'),
      }),
    expect: { verdict: 'allow', reason: 'approved', entry: 'scoped-data' },
    verify: ({ log }) => {
      expect(log?.['client']).toBe('claude-code');
    },
  },
  {
    id: 'ADV-SCOPE-30',
    family: 'scoping',
    title: 'the same tool from a client that names itself honestly (python-httpx)',
    threat: 'none: the clients rule still keeps out the clients its review did not cover',
    request: () =>
      check({
        ...DATA,
        headers: { ...ANA, 'user-agent': 'python-httpx/0.28.1' },
        body: callWith('run_shell', '{"command":"id"}'),
      }),
    expect: SCOPED_TOOL_DENIED('client_not_allowed'),
    verify: ({ log }) => {
      expect(log?.['client']).toBe('mcp-sdk-python');
    },
  },
];
