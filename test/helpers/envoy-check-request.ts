/**
 * Builds CheckRequests the way Envoy's HTTP ext_authz filter does (gRPC client, v3), following
 * docs/wire/envoy-ext-authz.md (CheckRequest to Request body), and returns them in the shape
 * grpc-js hands to our Check handler (check-types.ts: keepCase, int64 as strings, Buffers, oneof
 * discriminators, zero values omitted).
 *
 * What it models:
 * - HCM header handling: pseudo-headers first (`:authority`, `:path` except for CONNECT,
 *   `:method`, `:scheme`), hop-by-hop headers removed, `x-forwarded-proto` set, `x-request-id`
 *   generated when the client sent none; optionally `use_remote_address` (XFF, internal/external
 *   markers). A client `host` header becomes `:authority` (the HTTP/1 codec does that) and never
 *   appears as `host`.
 * - ext_authz header handling: names lower-case, a client-sent `x-envoy-auth-partial-body`
 *   dropped, values UTF-8 sanitised (each invalid byte becomes `!`), repeats joined with ","
 *   (HTTP/2 and HTTP/3 cookie crumbs with "; ", as the codec does). With `encodeRawHeaders`:
 *   `headers` empty, one `header_map` entry per header with exact `raw_value` bytes and repeats
 *   kept apart (simplification: Envoy merges repeats of a few inline headers even here).
 * - with_request_body: the first `maxRequestBytes` bytes as `raw_body` (packAsBytes) or as a
 *   sanitised `body` string, `size` = bytes received, and the partial-body header "true"/"false"
 *   only when a body exists. A body over the limit with `allowPartial: false` throws, because
 *   Envoy answers 413 itself and never calls the authorizer.
 * - Attributes: source/destination socket addresses, `request.time`, a decimal uint64 stream id
 *   in `http.id`, `metadata_context` and `route_metadata_context` always present (`{}` when
 *   empty), `context_extensions` (an empty map is absent after decoding, as on the wire),
 *   `tls_session` only when `tlsSni` is given (include_tls_session).
 *
 * test/integration/wire-compat.test.ts proves the returned shape equals what our server decodes
 * from the same request encoded with Envoy's own protos (`encodeWithEnvoyProtos`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';

import type {
  CheckRequest,
  HeaderValue,
  Metadata,
  Peer,
  ProtoStruct,
  ProtoValue,
} from '../../src/envoy/check-types.js';
import { envoyCheckRequestType } from './envoy-protos.js';

/** A header value as the client sent it: text (UTF-8 encoded) or exact bytes. */
export type HeaderInputValue = string | Uint8Array;

/** Client headers: a record (arrays for repeats) or ordered name/value pairs. */
export type ClientHeaders =
  | Readonly<Record<string, HeaderInputValue | readonly HeaderInputValue[]>>
  | readonly (readonly [string, HeaderInputValue])[];

/** An IP:port socket address. */
export interface SocketEndpoint {
  readonly address: string;
  readonly port: number;
}

/** Plain JSON, converted to google.protobuf.Struct wire shape for metadata. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

/** A plain JSON object (an interface, because a recursive Record alias is circular to TS). */

export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** One HTTP request as seen by Envoy, plus the ext_authz filter settings that shape the check. */
export interface EnvoyCheckRequestOptions {
  /** Default `POST` when there is a body, else `GET`. */
  readonly method?: string;
  /** `:authority`. Default: the client's `host` header, else `mcp.example.com`. */
  readonly authority?: string;
  /** `:path` with query. Default `/mcp`. Ignored for CONNECT (which has no `:path`). */
  readonly path?: string;
  /** `:scheme` and `x-forwarded-proto`. Default `http` (a plaintext sidecar hop). */
  readonly scheme?: string;
  /** Default `HTTP/1.1`. */
  readonly protocol?: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2' | 'HTTP/3';
  /** Headers as the client sent them (no pseudo-headers). */
  readonly headers?: ClientHeaders;
  /** Request body. Empty or absent: the request ended with its headers (no buffering). */
  readonly body?: string | Uint8Array;
  /** `with_request_body.max_request_bytes`. Default 8192. */
  readonly maxRequestBytes?: number;
  /** `with_request_body.allow_partial_message`. Default true. */
  readonly allowPartial?: boolean;
  /** `with_request_body.pack_as_bytes`. Default false (sanitised `body` string). */
  readonly packAsBytes?: boolean;
  /** Body bytes Envoy had received when it called us (`size`). Default: the whole body. */
  readonly bytesReceived?: number;
  /** `encode_raw_headers: true`. */
  readonly encodeRawHeaders?: boolean;
  /** Model `use_remote_address: true`: XFF gets the peer IP, plus internal/external markers. */
  readonly useRemoteAddress?: boolean;
  /** Downstream peer. Default 10.1.2.3:54321. */
  readonly source?: SocketEndpoint;
  /** Listener address. Default 10.0.0.10:15001. */
  readonly destination?: SocketEndpoint;
  readonly sourcePrincipal?: string;
  readonly destinationPrincipal?: string;
  /** Stream start. Default 2026-01-01T00:00:00.250Z. */
  readonly time?: Date;
  /** `http.id` (Envoy's stream id). Default: a random uint64 in decimal. */
  readonly streamId?: string;
  /** `x-request-id` Envoy sets (replacing the client's, as on an edge). Default: the client's, else a UUID. */
  readonly requestId?: string;
  readonly contextExtensions?: Readonly<Record<string, string>>;
  /** `metadata_context.filter_metadata`: namespace → plain JSON object. */
  readonly metadataContext?: Readonly<Record<string, JsonObject>>;
  /** `route_metadata_context.filter_metadata`. */
  readonly routeMetadataContext?: Readonly<Record<string, JsonObject>>;
  /** Set to model `include_tls_session`; `""` gives an empty TLSSession message. */
  readonly tlsSni?: string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding']);
const PARTIAL_BODY_HEADER = 'x-envoy-auth-partial-body';
const DEFAULT_TIME = new Date('2026-01-01T00:00:00.250Z');
const utf8Encoder = new TextEncoder();

function toBytes(value: HeaderInputValue): Uint8Array {
  return typeof value === 'string' ? utf8Encoder.encode(value) : value;
}

/** Length of the valid UTF-8 sequence at `i` (RFC 3629), or 0 when the byte starts none. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const b0 = b[i] ?? 0;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const v = b[i + k];
    return v !== undefined && v >= lo && v <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * Envoy's `MessageUtil::sanitizeUtf8String`: every byte that is not part of a valid UTF-8
 * sequence becomes `!`, so the result has as many code units per invalid byte as the input.
 */
export function sanitizeUtf8(bytes: Uint8Array): string {
  const out = new Uint8Array(bytes.length);
  let i = 0;
  while (i < bytes.length) {
    const n = utf8SequenceLength(bytes, i);
    if (n === 0) {
      out[i] = 0x21;
      i += 1;
    } else {
      out.set(bytes.subarray(i, i + n), i);
      i += n;
    }
  }
  return Buffer.from(out).toString('utf8');
}

function clientHeaderPairs(headers: ClientHeaders | undefined): [string, Uint8Array][] {
  if (headers === undefined) return [];
  const pairs: [string, Uint8Array][] = [];
  const entries: readonly (readonly [string, HeaderInputValue | readonly HeaderInputValue[]])[] =
    Array.isArray(headers)
      ? (headers as readonly (readonly [string, HeaderInputValue])[])
      : Object.entries(
          headers as Readonly<Record<string, HeaderInputValue | readonly HeaderInputValue[]>>,
        );
  for (const [name, value] of entries) {
    if (name.startsWith(':')) throw new Error(`builder: pass ${name} through its own option`);
    const values = Array.isArray(value)
      ? (value as readonly HeaderInputValue[])
      : [value as HeaderInputValue];
    for (const v of values) pairs.push([name.toLowerCase(), toBytes(v)]);
  }
  return pairs;
}

function isInternalAddress(ip: string): boolean {
  if (!isIPv4(ip)) return ip === '::1';
  const [a = 0, b = 0] = ip.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

function toProtoValue(value: JsonValue): ProtoValue {
  if (value === null) return { nullValue: 'NULL_VALUE', kind: 'nullValue' };
  if (typeof value === 'boolean') return { boolValue: value, kind: 'boolValue' };
  if (typeof value === 'number') return { numberValue: value, kind: 'numberValue' };
  if (typeof value === 'string') return { stringValue: value, kind: 'stringValue' };
  if (Array.isArray(value)) {
    const list = value as readonly JsonValue[];
    return {
      listValue: list.length === 0 ? {} : { values: list.map(toProtoValue) },
      kind: 'listValue',
    };
  }
  return {
    structValue: toProtoStruct(value as JsonObject),
    kind: 'structValue',
  };
}

/** Plain JSON object → google.protobuf.Struct in the decoded (wire) shape. */
export function toProtoStruct(json: JsonObject): ProtoStruct {
  const keys = Object.keys(json);
  if (keys.length === 0) return {};
  const fields: Record<string, ProtoValue> = {};
  for (const key of keys) fields[key] = toProtoValue(json[key] ?? null);
  return { fields };
}

function toMetadata(namespaces: Readonly<Record<string, JsonObject>> | undefined): Metadata {
  if (namespaces === undefined || Object.keys(namespaces).length === 0) return {};
  const filter_metadata: Record<string, ProtoStruct> = {};
  for (const [ns, json] of Object.entries(namespaces)) filter_metadata[ns] = toProtoStruct(json);
  return { filter_metadata };
}

function peer(endpoint: SocketEndpoint, principal: string | undefined): Peer {
  return {
    address: {
      socket_address: {
        ...(endpoint.address !== '' ? { address: endpoint.address } : {}),
        port_value: endpoint.port,
        port_specifier: 'port_value',
      },
      address: 'socket_address',
    },
    ...(principal !== undefined && principal !== '' ? { principal } : {}),
  };
}

function randomStreamId(): string {
  return randomBytes(8).readBigUInt64BE().toString();
}

/** Builds one CheckRequest as Envoy would send it for the described request. */
export function envoyCheckRequest(options: EnvoyCheckRequestOptions = {}): CheckRequest {
  const bodyBytes = options.body === undefined ? new Uint8Array(0) : toBytes(options.body);
  const hasBody = bodyBytes.length > 0;
  const method = options.method ?? (hasBody ? 'POST' : 'GET');
  const isConnect = method === 'CONNECT';
  const scheme = options.scheme ?? 'http';
  const protocol = options.protocol ?? 'HTTP/1.1';
  const source = options.source ?? { address: '10.1.2.3', port: 54321 };
  const destination = options.destination ?? { address: '10.0.0.10', port: 15001 };

  // --- HCM: what the header map holds when ext_authz runs.
  let client = clientHeaderPairs(options.headers);
  const hostHeader = client.find(([name]) => name === 'host');
  const authority =
    options.authority ??
    (hostHeader !== undefined ? Buffer.from(hostHeader[1]).toString('latin1') : 'mcp.example.com');
  const connectionTokens = client
    .filter(([name]) => name === 'connection')
    .flatMap(([, v]) => Buffer.from(v).toString('latin1').toLowerCase().split(','))
    .map((t) => t.trim());
  const isUpgrade = connectionTokens.includes('upgrade') && client.some(([n]) => n === 'upgrade');
  client = client.filter(
    ([name]) =>
      name !== 'host' &&
      !HOP_BY_HOP.has(name) &&
      !(name === 'upgrade' && !isUpgrade) &&
      // ext_authz never forwards the client's copy of its own body marker.
      name !== PARTIAL_BODY_HEADER &&
      name !== 'x-forwarded-proto' &&
      !(options.useRemoteAddress === true && name === 'x-envoy-internal') &&
      !(options.requestId !== undefined && name === 'x-request-id'),
  );
  if (protocol === 'HTTP/2' || protocol === 'HTTP/3') {
    // The codec re-joins cookie crumbs with "; " into one header.
    const crumbs = client.filter(([name]) => name === 'cookie');
    if (crumbs.length > 1) {
      const joined = Buffer.concat(
        crumbs.flatMap(([, v], i) => (i === 0 ? [v] : [Buffer.from('; '), v])),
      );
      client = client.filter(([name]) => name !== 'cookie');
      client.push(['cookie', joined]);
    }
  }
  const text = (s: string): Uint8Array => utf8Encoder.encode(s);
  const envoyHeaders: [string, Uint8Array][] = [[':authority', text(authority)]];
  if (!isConnect) envoyHeaders.push([':path', text(options.path ?? '/mcp')]);
  envoyHeaders.push([':method', text(method)], [':scheme', text(scheme)], ...client);
  envoyHeaders.push(['x-forwarded-proto', text(scheme)]);
  if (options.useRemoteAddress === true) {
    const xff = envoyHeaders.findIndex(([name]) => name === 'x-forwarded-for');
    const existing = xff >= 0 ? envoyHeaders.splice(xff, 1)[0] : undefined;
    const value =
      existing === undefined
        ? source.address
        : `${Buffer.from(existing[1]).toString('latin1')}, ${source.address}`;
    envoyHeaders.push(['x-forwarded-for', text(value)]);
    envoyHeaders.push(
      isInternalAddress(source.address)
        ? ['x-envoy-internal', text('true')]
        : ['x-envoy-external-address', text(source.address)],
    );
  }
  if (!envoyHeaders.some(([name]) => name === 'x-request-id')) {
    envoyHeaders.push(['x-request-id', text(options.requestId ?? randomUUID())]);
  }

  // --- ext_authz: body buffering.
  const maxRequestBytes = options.maxRequestBytes ?? 8192;
  if (maxRequestBytes <= 0) throw new Error('builder: max_request_bytes must be > 0');
  if (hasBody && options.allowPartial === false && bodyBytes.length > maxRequestBytes) {
    throw new Error(
      `builder: a ${bodyBytes.length}-byte body over max_request_bytes ${maxRequestBytes} without allow_partial_message gets a 413 from Envoy; no CheckRequest is sent`,
    );
  }
  const sent = bodyBytes.subarray(0, Math.min(bodyBytes.length, maxRequestBytes));
  if (hasBody) {
    envoyHeaders.push([
      PARTIAL_BODY_HEADER,
      text(sent.length !== bodyBytes.length ? 'true' : 'false'),
    ]);
  }
  const size = hasBody ? (options.bytesReceived ?? bodyBytes.length) : 0;

  // --- ext_authz: headers or header_map.
  let headers: Record<string, string> | undefined;
  let headerMap: HeaderValue[] | undefined;
  if (options.encodeRawHeaders === true) {
    headerMap = envoyHeaders.map(([key, value]) =>
      value.length > 0 ? { key, raw_value: Buffer.from(value) } : { key },
    );
  } else {
    headers = {};
    for (const [key, value] of envoyHeaders) {
      const v = sanitizeUtf8(value);
      const prev = headers[key];
      headers[key] = prev === undefined ? v : `${prev},${v}`;
    }
  }

  const time = options.time ?? DEFAULT_TIME;
  const ms = time.getTime();
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  const bodyText = hasBody && options.packAsBytes !== true ? sanitizeUtf8(sent) : '';
  const contextExtensions = options.contextExtensions ?? {};

  return {
    attributes: {
      source: peer(source, options.sourcePrincipal),
      destination: peer(destination, options.destinationPrincipal),
      request: {
        time: {
          ...(seconds !== 0 ? { seconds: String(seconds) } : {}),
          ...(nanos !== 0 ? { nanos } : {}),
        },
        http: {
          id: options.streamId ?? randomStreamId(),
          method,
          ...(headers !== undefined ? { headers } : {}),
          ...(headerMap !== undefined ? { header_map: { headers: headerMap } } : {}),
          ...(!isConnect && (options.path ?? '/mcp') !== ''
            ? { path: options.path ?? '/mcp' }
            : {}),
          ...(authority !== '' ? { host: authority } : {}),
          ...(scheme !== '' ? { scheme } : {}),
          ...(size !== 0 ? { size: String(size) } : {}),
          protocol,
          ...(bodyText !== '' ? { body: bodyText } : {}),
          ...(hasBody && options.packAsBytes === true && sent.length > 0
            ? { raw_body: Buffer.from(sent) }
            : {}),
        },
      },
      ...(Object.keys(contextExtensions).length > 0
        ? { context_extensions: { ...contextExtensions } }
        : {}),
      metadata_context: toMetadata(options.metadataContext),
      route_metadata_context: toMetadata(options.routeMetadataContext),
      ...(options.tlsSni !== undefined
        ? { tls_session: options.tlsSni === '' ? {} : { sni: options.tlsSni } }
        : {}),
    },
  };
}

/** Encodes a CheckRequest (decoded grpc-js shape) with Envoy's own protos: the bytes Envoy sends. */
export function encodeWithEnvoyProtos(req: CheckRequest): Buffer {
  const message = envoyCheckRequestType.fromObject(req);
  const bytes = envoyCheckRequestType.encode(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
