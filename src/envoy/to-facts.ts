/**
 * CheckRequest (as proto-loader decodes it, see check-types.ts) → RequestFacts, the transport-neutral
 * view the core decides on.
 *
 * Invariants:
 * - Pure and total: never throws, whatever the shape of the input. Every field is read through
 *   a type guard, so a missing, null or wrongly typed field reads as absent; missing attributes
 *   give empty facts (host `""`, which matches no allowlist entry).
 * - Only what Envoy itself sets is trusted for routing facts (docs/wire/envoy-ext-authz.md,
 *   Trusted and forgeable fields): the host comes from `request.http.host` or the `:authority`
 *   pseudo-header, never from a `host` or `x-forwarded-host` header (a client can write those;
 *   Envoy's HTTP/1 codec turns the real `Host` into `:authority`, so a `host` key can only be a
 *   forgery or a different proxy).
 *   `bodyTruncated` reads `x-envoy-auth-partial-body`, which Envoy strips from client requests.
 * - Headers come from the `headers` map, or from `header_map` when Envoy runs with
 *   `encode_raw_headers` and leaves the map empty. Names are lower-cased and repeats joined
 *   with "," in both cases, so the two encodings give the same facts.
 * - Hot path: one Map for the headers, no copies of the body when Envoy sent bytes.
 */
import type { RequestFacts, SourceAddress } from '../core/facts.js';
import type { JsonObject } from '../core/mcp/json-rpc-body.js';
import { structToJson } from './struct-json.js';
import {
  normaliseAuthority,
  normalisePath,
  targetWithoutUserinfo,
  withoutUserinfo,
} from '../core/normalise.js';
import type { CheckRequest } from './check-types.js';

const EMPTY_HEADERS: ReadonlyMap<string, string> = new Map();
const EMPTY_METADATA: ReadonlyMap<string, JsonObject> = new Map();

const EMPTY_FACTS: RequestFacts = Object.freeze({
  method: '',
  authority: '',
  host: '',
  port: undefined,
  rawPath: '',
  path: '',
  isConnect: false,
  scheme: '',
  protocol: '',
  headers: EMPTY_HEADERS,
  body: undefined,
  bodyTruncated: false,
  requestId: undefined,
  sni: undefined,
  source: undefined,
  peerPrincipal: '',
  peerCertificate: '',
  metadata: EMPTY_METADATA,
});

/** Envoy's own marker for a body cut at `max_request_bytes` ("true") or complete ("false"). */
const PARTIAL_BODY_HEADER = 'x-envoy-auth-partial-body';

// Invalid UTF-8 becomes U+FFFD; never throws (fatal: false).
const utf8 = new TextDecoder('utf-8', { fatal: false });

type Bag = Readonly<Record<string, unknown>>;

function isBag(value: unknown): value is Bag {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bag(value: unknown): Bag | undefined {
  return isBag(value) ? value : undefined;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function bytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

function addHeader(map: Map<string, string>, name: string, value: string): void {
  const key = name.toLowerCase();
  const prev = map.get(key);
  map.set(key, prev === undefined ? value : prev + ',' + value);
}

/** `headers` (map form) if it has entries, else `header_map.headers` (raw form). */
function readHeaders(http: Bag): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  const plain = bag(http['headers']);
  if (plain !== undefined) {
    for (const name in plain) {
      if (!Object.hasOwn(plain, name)) continue;
      const value = plain[name];
      if (typeof value === 'string') addHeader(map, name, value);
    }
  }
  if (map.size > 0) return map;

  const list = bag(http['header_map'])?.['headers'];
  if (!Array.isArray(list)) return map;
  for (const entry of list as readonly unknown[]) {
    if (!isBag(entry)) continue;
    const key = str(entry['key']);
    if (key === '') continue;
    // Envoy fills raw_value (exact bytes) in this mode; value is the text fallback.
    const raw = bytes(entry['raw_value']);
    addHeader(
      map,
      key,
      raw !== undefined && raw.length > 0 ? utf8.decode(raw) : str(entry['value']),
    );
  }
  return map;
}

/**
 * Maps one decoded CheckRequest to RequestFacts. Never throws; see the module header for which
 * fields are trusted and why.
 */
export function toRequestFacts(req: CheckRequest): RequestFacts {
  try {
    return buildFacts(req);
  } catch {
    // Only reachable with exotic inputs (a throwing getter or Proxy): no real decode produces
    // one. Empty facts fail closed, because host "" matches no entry.
    return EMPTY_FACTS;
  }
}

/**
 * Envoy's network (L4) ext_authz filter sends no HTTP attributes: only the connection, with the
 * TLS SNI in `tls_session.sni` (with `include_tls_session`) or `destination.service`. Like a
 * CONNECT, all that can be judged is the host.
 */
function tlsOnlyFacts(sni: string, attributes: Bag): RequestFacts {
  const serverName = sni || str(bag(attributes['destination'])?.['service']);
  if (serverName === '') return EMPTY_FACTS;
  const { host, port } = normaliseAuthority(serverName);
  return {
    ...EMPTY_FACTS,
    authority: withoutUserinfo(serverName),
    host,
    port,
    isConnect: true,
    sni: withoutUserinfo(serverName),
    source: sourceAddress(attributes),
    ...peerIdentity(attributes),
  };
}

/** `source.address.socket_address`, when Envoy reported an IP address there. */
function sourceAddress(attributes: Bag): SourceAddress | undefined {
  const socket = bag(bag(bag(attributes['source'])?.['address'])?.['socket_address']);
  const address = str(socket?.['address']);
  if (address === '') return undefined;
  const port = socket?.['port_value'];
  return { address, port: typeof port === 'number' ? port : 0 };
}

function buildFacts(req: unknown): RequestFacts {
  const attributes = bag(bag(req)?.['attributes']);
  if (attributes === undefined) return EMPTY_FACTS;
  const sni = str(bag(attributes['tls_session'])?.['sni']);
  const httpAttributes = bag(bag(attributes['request'])?.['http']);
  if (httpAttributes === undefined) return tlsOnlyFacts(sni, attributes);
  const http = httpAttributes;
  const headers = readHeaders(http);

  const authority = str(http['host']) || (headers.get(':authority') ?? '');
  const { host, port } = normaliseAuthority(authority);
  const method = (str(http['method']) || (headers.get(':method') ?? '')).toUpperCase();
  // Extended CONNECT (RFC 8441, `:protocol` set) has a real path; only plain CONNECT is a tunnel
  // whose one fact is the authority.
  const isConnect = method === 'CONNECT' && !headers.has(':protocol');
  const rawPath = isConnect ? '' : str(http['path']) || (headers.get(':path') ?? '');

  const partial = headers.get(PARTIAL_BODY_HEADER);
  let body = bytes(http['raw_body']);
  if (body === undefined || body.length === 0) {
    const text = str(http['body']);
    if (text !== '') body = Buffer.from(text, 'utf8');
    // proto3 drops empty bytes/strings on the wire; Envoy's partial-body marker says a body
    // buffer existed, so an empty one is still "a body of length 0", not "no body".
    else body = partial === undefined ? undefined : new Uint8Array(0);
  }

  return {
    method,
    // Userinfo is a credential: it never reaches a log, metadata or deny text.
    authority: withoutUserinfo(authority),
    host,
    port,
    rawPath: targetWithoutUserinfo(rawPath),
    path: isConnect ? '' : normalisePath(rawPath),
    isConnect,
    scheme: str(http['scheme']) || (headers.get(':scheme') ?? ''),
    protocol: str(http['protocol']),
    headers,
    body,
    bodyTruncated: partial === 'true',
    requestId: headers.get('x-request-id'),
    sni: sni === '' ? undefined : withoutUserinfo(sni),
    source: sourceAddress(attributes),
    ...peerIdentity(attributes),
  };
}

/** The TLS peer's principal and certificate, and the dynamic metadata Envoy passed on. */
function peerIdentity(
  attributes: Bag,
): Pick<RequestFacts, 'peerPrincipal' | 'peerCertificate' | 'metadata'> {
  const source = bag(attributes['source']);
  return {
    peerPrincipal: str(source?.['principal']),
    peerCertificate: str(source?.['certificate']),
    metadata: filterMetadata(bag(bag(attributes['metadata_context'])?.['filter_metadata'])),
  };
}

/** `filter_metadata` (namespace → Struct in wire shape) as plain JSON objects. */
function filterMetadata(namespaces: Bag | undefined): ReadonlyMap<string, JsonObject> {
  if (namespaces === undefined) return EMPTY_METADATA;
  const map = new Map<string, JsonObject>();
  for (const name in namespaces) {
    if (!Object.hasOwn(namespaces, name)) continue;
    const struct = bag(namespaces[name]);
    if (struct !== undefined) map.set(name, structToJson(struct));
  }
  return map.size === 0 ? EMPTY_METADATA : map;
}
