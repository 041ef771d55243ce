/**
 * Generated requests for the differential suite: JSON-RPC bodies written key by key (so key
 * spellings, duplicates and order are ours to choose), then encoded, labelled and compressed the
 * ways real clients and attackers do, to a raw path and with the headers that shape how servers
 * read them. Every request records how it was built (`label`), never what mcp-gate made of it.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import iconv from 'iconv-lite';

/** The catalogue's hosts: `github-official`/`github-open` approve it; nobody approves the other. */
export const APPROVED_HOST = 'api.githubcopilot.com';
export const SHADOW_HOST = 'mcp.evil.example';

/** Tools the servers offer: allowed, denied and one whose name is not ASCII. */
export const TOOLS = ['get_issue', 'list_repos', 'delete_repo', 'run_query', 'get_\u00e9t\u00e9'];

export interface GeneratedRequest {
  readonly authority: string;
  readonly method: 'POST';
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  /** How the request was built, for reports and catalogue rows. */
  readonly label: string;
  /** The catalogue family its most unusual trait belongs to. */
  readonly family: 'compression' | 'charset' | 'path' | 'batch' | 'duplicate-keys';
}

/** `arbitrary` once in `odds` draws, otherwise undefined. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, odds: number): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: odds - 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary },
  );
}

/** `arbitrary` except once in `odds` draws, then undefined. */
function rarely<T>(arbitrary: fc.Arbitrary<T>, odds: number): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: odds - 1, arbitrary },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

interface MessagePlan {
  readonly jsonrpcKey: string;
  readonly methodKey: string;
  readonly method: string;
  readonly id: number | undefined;
  /** Name keys of `params` with the tool each names; empty for no `params`. */
  readonly names: readonly (readonly [string, string])[];
  /** A second `method` member (a duplicate under some matching), or none. */
  readonly secondMethod: readonly [string, string] | undefined;
  readonly order: number;
}

const nameKey = fc.oneof(
  { weight: 8, arbitrary: fc.constant('name') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('Name', 'NAME', 'naMe', 'name\u0000', 'name\u0000\u0000'),
  },
);

const message: fc.Arbitrary<MessagePlan> = fc.record({
  jsonrpcKey: fc.oneof(
    { weight: 12, arbitrary: fc.constant('jsonrpc') },
    { weight: 1, arbitrary: fc.constantFrom('JSONRPC', 'j\u017fonrpc', 'jsonrpc\u0000') },
  ),
  methodKey: fc.oneof(
    { weight: 10, arbitrary: fc.constant('method') },
    { weight: 1, arbitrary: fc.constantFrom('Method', 'METHOD', 'method\u0000') },
  ),
  method: fc.oneof(
    { weight: 10, arbitrary: fc.constant('tools/call') },
    { weight: 1, arbitrary: fc.constantFrom('ping', 'tools/list') },
  ),
  id: rarely(fc.integer({ min: 1, max: 99 }), 12),
  names: fc.array(fc.tuple(nameKey, fc.constantFrom(...TOOLS)), { minLength: 1, maxLength: 2 }),
  secondMethod: sometimes(
    fc.tuple(
      fc.constantFrom('method', 'Method', 'method\u0000'),
      fc.constantFrom('ping', 'tools/call'),
    ),
    8,
  ),
  order: fc.integer({ min: 0, max: 5 }),
});

function messageText(m: MessagePlan): string {
  const params = `{${m.names.map(([k, tool]) => `${JSON.stringify(k)}:${JSON.stringify(tool)}`).join(',')},"arguments":{}}`;
  const members = [
    `${JSON.stringify(m.jsonrpcKey)}:"2.0"`,
    `${JSON.stringify(m.methodKey)}:${JSON.stringify(m.method)}`,
    ...(m.id === undefined ? [] : [`"id":${m.id}`]),
    `"params":${params}`,
  ];
  // Rotate: the SDKs write method first and jsonrpc late; attackers put anything anywhere.
  const rotated = [
    ...members.slice(m.order % members.length),
    ...members.slice(0, m.order % members.length),
  ];
  if (m.secondMethod !== undefined) {
    rotated.push(`${JSON.stringify(m.secondMethod[0])}:${JSON.stringify(m.secondMethod[1])}`);
  }
  return `{${rotated.join(',')}}`;
}

type Shape = 'single' | 'batch' | 'nested' | 'junk-first';

const body = fc
  .record({
    shape: fc.oneof(
      { weight: 10, arbitrary: fc.constant<Shape>('single') },
      { weight: 2, arbitrary: fc.constant<Shape>('batch') },
      { weight: 1, arbitrary: fc.constantFrom<Shape>('nested', 'junk-first') },
    ),
    messages: fc.array(message, { minLength: 1, maxLength: 3 }),
  })
  .map(({ shape, messages }) => {
    const texts = messages.map(messageText);
    const first = texts[0] ?? '{}';
    switch (shape) {
      case 'single':
        return { shape, text: first };
      case 'batch':
        return { shape, text: `[${texts.join(',')}]` };
      case 'nested':
        return { shape, text: `[[${texts.join(',')}]]` };
      case 'junk-first':
        return { shape, text: `[1,${texts.join(',')}]` };
    }
  });

type Bytes = 'declared' | 'utf8' | 'utf7-brace';

const charset = fc.record({
  name: fc.oneof(
    { weight: 12, arbitrary: fc.constant<string | undefined>(undefined) },
    { weight: 2, arbitrary: fc.constantFrom('utf-8', 'UTF-8', '"utf-8"') },
    {
      weight: 4,
      arbitrary: fc.constantFrom('utf-7', 'utf-16', 'utf-16le', 'utf-16be', 'latin1', 'us-ascii'),
    },
    { weight: 1, arbitrary: fc.constant('x-unknown') },
  ),
  bytes: fc.oneof(
    { weight: 6, arbitrary: fc.constant<Bytes>('declared') },
    { weight: 1, arbitrary: fc.constantFrom<Bytes>('utf8', 'utf7-brace') },
  ),
  bom: fc.boolean(),
  repeated: sometimes(
    fc.constantFrom('application/json; charset=utf-7', 'text/plain', 'application/json'),
    10,
  ),
});

const coding = fc.oneof(
  { weight: 16, arbitrary: fc.constant<string | undefined>(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'x-gzip', 'GZIP', 'gzip, identity'),
  },
  { weight: 1, arbitrary: fc.constantFrom('gzip-lie', 'compress') },
);

const mcpHeaders = fc.oneof(
  { weight: 3, arbitrary: fc.constant<readonly (readonly [string, string])[]>([]) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<readonly (readonly [string, string])[]>(
      [['mcp-protocol-version', '2025-03-26']],
      [['mcp-protocol-version', '2025-11-25']],
      [
        ['mcp-protocol-version', '2025-06-18'],
        ['mcp-session-id', 'differential-session'],
      ],
    ),
  },
);

const path = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('/mcp', '/mcp/', '/mcp/open') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '/mcp/x/../open/',
      '/mcp/open/../',
      '/x/../mcp',
      '/mcp/%2e%2e/mcp/open',
      '/mcp/%2Fopen',
      '/mcp\\open',
      '/mcp/./open',
      '/MCP/OPEN',
      '/mcp//open',
    ),
  },
);

/** Text in a charset the way a client that declares it would send it. */
function encodeText(
  text: string,
  name: string | undefined,
  bytes: Bytes,
  bom: boolean,
): Uint8Array {
  const label = name?.replace(/"/g, '');
  if (bytes === 'utf7-brace') {
    // Only the first brace shifted: the rest reads as ASCII, so a UTF-8 reader sees no JSON.
    return Buffer.from(text.replace('{', '+AHs-'), 'utf8');
  }
  const encoded =
    bytes === 'utf8' || label === undefined || !iconv.encodingExists(label)
      ? Buffer.from(text, 'utf8')
      : iconv.encode(text, label, { addBOM: bom });
  if (bom && (bytes === 'utf8' || label === undefined || /^utf-?8$/i.test(label))) {
    return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), encoded]);
  }
  return encoded;
}

function compress(bytes: Uint8Array, name: string | undefined): Uint8Array {
  switch (name?.split(',')[0]?.trim().toLowerCase() ?? 'none') {
    case 'gzip':
    case 'x-gzip':
      return gzipSync(bytes);
    case 'deflate':
      return deflateSync(bytes);
    case 'br':
      return brotliCompressSync(bytes);
    default:
      // `gzip-lie` and `compress`: the header names a coding the bytes are not in.
      return bytes;
  }
}

/** One generated MCP-shaped POST, to the approved host or to the shadow one. */
export const generatedRequest: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    shadow: sometimes(fc.constant(true), 4).map((v) => v === true),
    path,
    body,
    charset,
    coding,
    mcpHeaders,
  })
  .map(({ shadow, path: rawPath, body: b, charset: cs, coding: cd, mcpHeaders: mcp }) => {
    const bytes = compress(encodeText(b.text, cs.name, cs.bytes, cs.bom), cd);
    const contentType =
      cs.name === undefined ? 'application/json' : `application/json; charset=${cs.name}`;
    const headers: [string, string][] = [
      ['content-type', contentType],
      ['accept', 'application/json, text/event-stream'],
      ...mcp.map(([k, v]): [string, string] => [k, v]),
    ];
    if (cs.repeated !== undefined) headers.push(['content-type', cs.repeated]);
    const headerCoding = cd === 'gzip-lie' ? 'gzip' : cd;
    if (headerCoding !== undefined) headers.push(['content-encoding', headerCoding]);
    const label = [
      b.shape,
      `charset ${cs.name ?? 'none'}${cs.bytes === 'declared' ? '' : ` (bytes ${cs.bytes})`}${cs.bom ? ' +BOM' : ''}`,
      cs.repeated === undefined ? undefined : `second content-type ${cs.repeated}`,
      cd === undefined ? undefined : `coding ${cd}`,
      mcp.length === 0 ? 'no MCP headers' : mcp.map(([k, v]) => `${k}: ${v}`).join(', '),
      `path ${rawPath}`,
    ]
      .filter((part) => part !== undefined)
      .join('; ');
    const plainCharset = cs.name === undefined || /^"?utf-8"?$/i.test(cs.name);
    const family: GeneratedRequest['family'] =
      cd !== undefined
        ? 'compression'
        : !plainCharset || cs.bytes !== 'declared' || cs.repeated !== undefined
          ? 'charset'
          : !['/mcp', '/mcp/', '/mcp/open'].includes(rawPath)
            ? 'path'
            : b.shape !== 'single'
              ? 'batch'
              : 'duplicate-keys';
    return {
      family,
      authority: shadow ? SHADOW_HOST : APPROVED_HOST,
      method: 'POST' as const,
      path: rawPath,
      headers,
      body: bytes,
      label: `${label}; body ${JSON.stringify(b.text)}`,
    };
  });
