/**
 * Envoy emulator: an HTTP/1.1 proxy that behaves like Envoy's ext_authz HTTP filter in front of
 * one upstream, for end-to-end tests with real MCP SDK clients where no Envoy binary exists.
 *
 * What it models (docs/wire/envoy-ext-authz.md; its headings in brackets):
 * - [Headers], [CONNECT and absolute-form requests] the HCM and HTTP/1 codec: origin-form and
 *   absolute-form targets become `:authority`, `:path` (query kept), `:method`, `:scheme`; `host`
 *   disappears into `:authority`; hop-by-hop headers are removed; `x-forwarded-proto` is set and
 *   `x-request-id` (UUID4) generated when missing.
 * - [CheckRequest], [Headers], [header_map], [Request body] the CheckRequest: lower-case keys,
 *   duplicates joined with a bare ",", UTF-8 sanitising ('!' per bad byte, as
 *   `MessageUtil::sanitizeUtf8String`), the client's `x-envoy-auth-partial-body` dropped,
 *   `with_request_body` buffering (`raw_body` or `body`, `x-envoy-auth-partial-body: true|false`
 *   only when a body exists, 413 without a check when the body is too large and partial messages
 *   are off), `size` = bytes received at check time, `id` a random uint64, `time` the stream
 *   start, socket `source`/`destination`, empty `context_extensions`/`metadata_context`/
 *   `route_metadata_context`, `encode_raw_headers` (`header_map` of raw bytes instead of
 *   `headers`).
 * - [CheckResponse] the CheckResponse: non-OK status → local reply with `denied_response` (403
 *   when unset, a body without content-type gets `text/plain`); OK → `ok_response.headers`
 *   (append true: comma-join, false: overwrite, unset: `append_action`, whose default 0 adds
 *   another line as newer Envoy does), `headers_to_remove` (pseudo-headers and `host` ignored),
 *   `response_headers_to_add` on the upstream's answer; gRPC error or deadline →
 *   `status_on_error` with an empty body (failure_mode_allow false).
 * The Check call uses Envoy's own protos from @grpc/grpc-js-xds, so every test that goes through
 * the emulator also shows the authz server is wire-compatible with Envoy's messages.
 *
 * The filter (`createExtAuthzFilter`), the router (`forwardUpstream`) and the CheckRequest
 * building are exported for the egress stand-in (egress-emulator.ts), which adds CONNECT, TLS
 * interception and the `tls_session`/`destination.principal` fields on top of them.
 *
 * Not modelled here: CONNECT and TLS (see egress-emulator.ts), HTTP/2, `use_remote_address`
 * (x-forwarded-for, x-envoy-internal), allowed/disallowed header matchers, query-parameter
 * mutations, mutation validation, `error_response` (not in the npm protos: Envoy < 1.37 treats
 * it as a denial).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

import type { CheckRequest, HeaderValue, HttpRequest, Peer } from '../../src/envoy/check-types.js';
import { RecordedList } from './recorded-list.js';

// ---------------------------------------------------------------------------------------------
// Envoy's protos
// ---------------------------------------------------------------------------------------------

const XDS_DEPS = path.resolve(import.meta.dirname, '../../node_modules/@grpc/grpc-js-xds/deps');

const INCLUDE_DIRS = ['envoy-api', 'googleapis', 'protoc-gen-validate', 'xds'].map((d) =>
  path.join(XDS_DEPS, d),
);

/**
 * The options mcp-gate's server decodes CheckRequests with (src/envoy/proto.ts LOADER_OPTIONS,
 * described by src/envoy/check-types.ts), applied to Envoy's protos. Recorded CheckRequests and
 * `checkRequestFromRecorded` results are decoded with them, so they are exactly what the Check
 * handler receives: zero values and empty maps absent (`context_extensions` never shows),
 * `metadata_context`/`route_metadata_context` as `{}`, int64 as strings, enums as names.
 */
export const ENVOY_PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: INCLUDE_DIRS,
};

/** The emulator's own client decodes enums as numbers: an HttpStatus code reads 403. */
const CLIENT_LOADER_OPTIONS: protoLoader.Options = { ...ENVOY_PROTO_LOADER_OPTIONS, enums: Number };

const services = new Map<protoLoader.Options, protoLoader.ServiceDefinition>();

function loadAuthorizationService(options: protoLoader.Options): protoLoader.ServiceDefinition {
  const cached = services.get(options);
  if (cached !== undefined) return cached;
  const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', options);
  const service = definition['envoy.service.auth.v3.Authorization'];
  if (service === undefined || 'format' in service) {
    throw new Error('envoy.service.auth.v3.Authorization is missing from the xds protos');
  }
  services.set(options, service);
  return service;
}

/**
 * `envoy.service.auth.v3.Authorization` loaded from Envoy's own protos (@grpc/grpc-js-xds) with
 * ENVOY_PROTO_LOADER_OPTIONS, for authz servers written in tests (`server.addService(...)`).
 */
export function envoyAuthorizationService(): protoLoader.ServiceDefinition {
  return loadAuthorizationService(ENVOY_PROTO_LOADER_OPTIONS);
}

function checkMethod(
  options: protoLoader.Options = ENVOY_PROTO_LOADER_OPTIONS,
): protoLoader.MethodDefinition<object, object> {
  const method = loadAuthorizationService(options)['Check'];
  if (method === undefined) throw new Error('Authorization.Check is missing from the xds protos');
  return method;
}

// ---------------------------------------------------------------------------------------------
// CheckResponse shape (requests use mcp-gate's CheckRequest from src/envoy/check-types.ts)
// ---------------------------------------------------------------------------------------------

/** `envoy.config.core.v3.HeaderValue` in a CheckResponse. */
export interface HeaderValueObject {
  key?: string;
  value?: string;
  raw_value?: Buffer;
}

/** `envoy.config.core.v3.HeaderValueOption` in a CheckResponse. */
export interface HeaderValueOptionObject {
  header?: HeaderValueObject;
  append?: { value?: boolean };
  /** HeaderAppendAction: 0 APPEND_IF_EXISTS_OR_ADD, 1 ADD_IF_ABSENT, 2 OVERWRITE_IF_EXISTS_OR_ADD, 3 OVERWRITE_IF_EXISTS. */
  append_action?: number;
  keep_empty_value?: boolean;
}

/**
 * `envoy.service.auth.v3.CheckResponse` as a test authz server writes it and as the emulator
 * decodes it, enum fields as numbers (the serializer also accepts names).
 */
export interface CheckResponseObject {
  status?: { code?: number; message?: string };
  denied_response?: {
    status?: { code?: number };
    headers?: HeaderValueOptionObject[];
    body?: string;
  };
  ok_response?: {
    headers?: HeaderValueOptionObject[];
    headers_to_remove?: string[];
    response_headers_to_add?: HeaderValueOptionObject[];
  };
  http_response?: 'denied_response' | 'ok_response';
  dynamic_metadata?: unknown;
}

// ---------------------------------------------------------------------------------------------
// Building the CheckRequest
// ---------------------------------------------------------------------------------------------

/** ext_authz `with_request_body` (BufferSettings). */
export interface BufferSettings {
  readonly maxRequestBytes: number;
  readonly allowPartialMessage: boolean;
  readonly packAsBytes: boolean;
}

/** One header line: lower-case name, value as a latin1 byte string. */
export type HeaderEntry = [name: string, value: string];

/** A downstream request as Envoy's HCM sees it after its own header mutations. */
export interface EnvoyStream {
  /** Pseudo-headers then regular headers, lower-case names, values as latin1 byte strings. */
  readonly headers: HeaderEntry[];
  readonly startTime: Date;
  readonly source: { address: string; port: number };
  readonly destination: { address: string; port: number };
  /**
   * Set when Envoy terminated TLS on the downstream connection: the SNI the client sent and the
   * first DNS SAN of the certificate Envoy served (`destination.principal`); see
   * docs/wire/envoy-ext-authz.md, CheckRequest.
   */
  readonly tls?: { readonly sni: string; readonly localPrincipal: string } | undefined;
}

/** The buffered body at check time, or undefined when the request had none (end_stream). */
export interface BufferedBody {
  readonly bytes: Buffer;
  /** Bytes received so far (`size`); can exceed `bytes.length` only when truncated. */
  readonly received: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);
const PARTIAL_BODY_HEADER = 'x-envoy-auth-partial-body';

/**
 * The HCM/codec step: request target + raw header lines → Envoy's header list
 * (docs/wire/envoy-ext-authz.md, Headers; CONNECT and absolute-form requests). Absolute-form
 * targets replace any Host header; a CONNECT's target is its `:authority` and it has no `:path`.
 * `downstreamScheme` is `https` on a connection where Envoy terminated TLS, which the HCM writes
 * as `:scheme` of origin-form requests.
 */
export function toEnvoyHeaders(
  method: string,
  target: string,
  rawHeaders: readonly string[],
  downstreamScheme: 'http' | 'https' = 'http',
): HeaderEntry[] {
  let authority: string | undefined;
  let requestPath: string | undefined = target;
  let scheme: string = downstreamScheme;
  const absolute = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i.exec(target);
  if (method === 'CONNECT') {
    authority = target;
    requestPath = undefined;
  } else if (absolute !== null) {
    scheme = absolute[1]!.toLowerCase();
    authority = absolute[2]!;
    const rest = absolute[3]!.replace(/#.*$/, '');
    requestPath = rest.startsWith('/') ? rest : `/${rest}`;
  }
  const regular: HeaderEntry[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'host') {
      authority ??= value;
      continue;
    }
    if (HOP_BY_HOP.has(name)) continue;
    regular.push([name, value]);
  }
  if (!regular.some(([name]) => name === 'x-forwarded-proto'))
    regular.push(['x-forwarded-proto', scheme]);
  if (!regular.some(([name]) => name === 'x-request-id'))
    regular.push(['x-request-id', randomUUID()]);
  return [
    [':authority', authority ?? ''],
    ...(requestPath === undefined ? [] : [[':path', requestPath] satisfies HeaderEntry]),
    [':method', method],
    [':scheme', scheme],
    ...regular,
  ];
}

/** Length of the structurally valid UTF-8 character at `i`, or 0 (utf8_range semantics). */
function utf8CharLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number): boolean => {
    const b = bytes[i + k];
    return b !== undefined && (b & 0xc0) === 0x80;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const b1 = bytes[i + 1] ?? 0;
    if (b0 === 0xe0 && b1 < 0xa0) return 0; // overlong
    if (b0 === 0xed && b1 > 0x9f) return 0; // UTF-16 surrogate
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const b1 = bytes[i + 1] ?? 0;
    if (b0 === 0xf0 && b1 < 0x90) return 0; // overlong
    if (b0 === 0xf4 && b1 > 0x8f) return 0; // above U+10FFFF
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Envoy's `MessageUtil::sanitizeUtf8String`: every byte that breaks UTF-8 becomes `!`. */
export function sanitizeUtf8(bytes: Buffer): string {
  const out = Buffer.alloc(bytes.length);
  let i = 0;
  while (i < bytes.length) {
    const n = utf8CharLength(bytes, i);
    if (n === 0) {
      out[i] = 0x21;
      i += 1;
    } else {
      bytes.copy(out, i, i, i + n);
      i += n;
    }
  }
  return out.toString('utf8');
}

function latin1Bytes(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}

function timestamp(date: Date): { seconds: string; nanos: number } {
  const ms = date.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

function socketAddress(peer: { address: string; port: number }): Peer {
  return { address: { socket_address: { address: peer.address, port_value: peer.port } } };
}

export interface BuildOptions {
  readonly withRequestBody: BufferSettings | undefined;
  readonly encodeRawHeaders: boolean;
  /** ext_authz `include_tls_session`: `tls_session.sni` from the downstream TLS. */
  readonly includeTlsSession?: boolean | undefined;
  /** Envoy's stream id (`request.http.id`); random uint64 when omitted. */
  readonly streamId?: string | undefined;
}

/**
 * The CheckRequest object before serialisation (docs/wire/envoy-ext-authz.md, CheckRequest to
 * Request body).
 */
export function buildCheckRequest(
  stream: EnvoyStream,
  body: BufferedBody | undefined,
  options: BuildOptions,
): CheckRequest {
  const pseudo = (name: string): string => stream.headers.find(([k]) => k === name)?.[1] ?? '';
  const entries = stream.headers.filter(([name]) => name !== PARTIAL_BODY_HEADER);
  const settings = options.withRequestBody;
  let bodyFields: Pick<HttpRequest, 'raw_body' | 'body' | 'size'> = {};
  let partial: string | undefined;
  if (body !== undefined && settings !== undefined) {
    const length = Math.min(body.bytes.length, settings.maxRequestBytes);
    const data = body.bytes.subarray(0, length);
    bodyFields = {
      ...(settings.packAsBytes ? { raw_body: Buffer.from(data) } : { body: sanitizeUtf8(data) }),
      size: String(body.received),
    };
    partial = length !== body.bytes.length ? 'true' : 'false';
  }
  let headerFields: Pick<HttpRequest, 'headers' | 'header_map'>;
  if (options.encodeRawHeaders) {
    const list: HeaderValue[] = entries.map(([key, value]) => ({
      key,
      raw_value: latin1Bytes(value),
    }));
    if (partial !== undefined)
      list.push({ key: PARTIAL_BODY_HEADER, raw_value: Buffer.from(partial) });
    headerFields = { header_map: { headers: list } };
  } else {
    const map: Record<string, string> = {};
    for (const [key, value] of entries) {
      const clean = sanitizeUtf8(latin1Bytes(value));
      const prior = map[key];
      map[key] = prior === undefined ? clean : `${prior},${clean}`;
    }
    if (partial !== undefined) map[PARTIAL_BODY_HEADER] = partial;
    headerFields = { headers: map };
  }
  const destination = socketAddress(stream.destination);
  return {
    attributes: {
      source: socketAddress(stream.source),
      destination:
        stream.tls === undefined
          ? destination
          : { ...destination, principal: stream.tls.localPrincipal },
      ...(options.includeTlsSession === true
        ? { tls_session: { sni: stream.tls?.sni ?? '' } }
        : {}),
      request: {
        time: timestamp(stream.startTime),
        http: {
          id: options.streamId ?? randomBytes(8).readBigUInt64BE().toString(),
          method: pseudo(':method'),
          path: pseudo(':path'),
          host: pseudo(':authority'),
          scheme: pseudo(':scheme'),
          protocol: 'HTTP/1.1',
          ...headerFields,
          ...bodyFields,
        },
      },
      context_extensions: {},
      metadata_context: {},
      route_metadata_context: {},
    },
  };
}

/** Serialises and decodes a CheckRequest, giving exactly what a grpc-js authz server receives. */
export function asReceived(request: CheckRequest): CheckRequest {
  const method = checkMethod();
  // Typed `object` by proto-loader; CheckRequest (all fields optional) accepts that, and the
  // value has the shape by construction: it was just encoded from one.
  return method.requestDeserialize(method.requestSerialize(request));
}

// ---------------------------------------------------------------------------------------------
// Captured fixture requests → CheckRequest
// ---------------------------------------------------------------------------------------------

/** The fields of a captured request (test/fixtures/mcp-traffic) that matter here. */
export interface RecordedHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}

export interface CheckRequestFromRecordedOptions {
  /** `:authority` to present instead of the capture proxy's host. @default 'mcp.example.com' */
  readonly authority?: string;
  /** @default {maxRequestBytes: 65536, allowPartialMessage: true, packAsBytes: true} (envoy/egress-proxy.yaml). Pass null for no body buffering. */
  readonly withRequestBody?: BufferSettings | null;
  /** @default false */
  readonly encodeRawHeaders?: boolean;
  /** @default 127.0.0.1:40000 */
  readonly source?: { readonly address: string; readonly port: number };
  /** @default 127.0.0.1:10000 */
  readonly destination?: { readonly address: string; readonly port: number };
  /** Stream start. @default now */
  readonly time?: Date;
  /** `request.http.id`. @default random uint64 */
  readonly streamId?: string;
  /** `x-request-id` to add when the capture has none. @default random UUID4 */
  readonly requestId?: string;
}

const DEFAULT_BUFFER_SETTINGS: BufferSettings = {
  maxRequestBytes: 65536,
  allowPartialMessage: true,
  packAsBytes: true,
};

/**
 * Turns a captured request into the CheckRequest Envoy would send for it, decoded as a grpc-js
 * authz server sees it. Throws when Envoy would answer 413 itself (body over `maxRequestBytes`
 * with `allowPartialMessage: false`), because then no CheckRequest exists.
 */
export function checkRequestFromRecorded(
  recorded: RecordedHttpRequest,
  options: CheckRequestFromRecordedOptions = {},
): CheckRequest {
  const withRequestBody =
    options.withRequestBody === null
      ? undefined
      : (options.withRequestBody ?? DEFAULT_BUFFER_SETTINGS);
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(recorded.headers)) {
    if (name !== 'host') rawHeaders.push(name, value);
  }
  if (options.requestId !== undefined && !('x-request-id' in recorded.headers)) {
    rawHeaders.push('x-request-id', options.requestId);
  }
  rawHeaders.push('host', options.authority ?? 'mcp.example.com');
  const bytes = recorded.body === null ? undefined : Buffer.from(recorded.body, 'utf8');
  if (
    bytes !== undefined &&
    withRequestBody !== undefined &&
    !withRequestBody.allowPartialMessage &&
    bytes.length > withRequestBody.maxRequestBytes
  ) {
    throw new Error(
      `Envoy answers 413 without calling authz: body ${bytes.length} > max_request_bytes ${withRequestBody.maxRequestBytes}`,
    );
  }
  const stream: EnvoyStream = {
    headers: toEnvoyHeaders(recorded.method, recorded.path, rawHeaders),
    startTime: options.time ?? new Date(),
    source: options.source ?? { address: '127.0.0.1', port: 40000 },
    destination: options.destination ?? { address: '127.0.0.1', port: 10000 },
  };
  const body = bytes === undefined ? undefined : { bytes, received: bytes.length };
  return asReceived(
    buildCheckRequest(stream, body, {
      withRequestBody,
      encodeRawHeaders: options.encodeRawHeaders ?? false,
      streamId: options.streamId,
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Applying the CheckResponse
// ---------------------------------------------------------------------------------------------

function headerOptionValue(option: HeaderValueOptionObject): string {
  const header = option.header ?? {};
  if (header.value !== undefined && header.value !== '') return header.value;
  return header.raw_value?.toString('latin1') ?? '';
}

/** ok_response's append semantics on a header list (names lower-cased). */
export function applyHeaderOptions(
  list: HeaderEntry[],
  options: readonly HeaderValueOptionObject[],
): void {
  for (const option of options) {
    const name = (option.header?.key ?? '').toLowerCase();
    if (name === '' || name.startsWith(':')) continue;
    const value = headerOptionValue(option);
    const exists = list.some(([k]) => k === name);
    const overwrite = (): void => {
      const kept = list.filter(([k]) => k !== name);
      list.splice(0, list.length, ...kept, [name, value]);
    };
    if (option.append?.value !== undefined) {
      if (option.append.value && exists) {
        const index = list.findIndex(([k]) => k === name);
        const entry = list[index]!;
        list[index] = [name, `${entry[1]},${value}`];
      } else if (option.append.value) {
        list.push([name, value]);
      } else {
        overwrite();
      }
      continue;
    }
    switch (option.append_action ?? 0) {
      case 1: // ADD_IF_ABSENT
        if (!exists) list.push([name, value]);
        break;
      case 2: // OVERWRITE_IF_EXISTS_OR_ADD
        overwrite();
        break;
      case 3: // OVERWRITE_IF_EXISTS
        if (exists) overwrite();
        break;
      default: // APPEND_IF_EXISTS_OR_ADD: another header line (as newer Envoy does)
        list.push([name, value]);
    }
  }
}

export function toNodeHeaders(list: readonly HeaderEntry[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of list) {
    const prior = out[name];
    out[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The ext_authz HTTP filter (shared with the egress stand-in, egress-emulator.ts)
// ---------------------------------------------------------------------------------------------

/** The ext_authz filter's settings that the emulators model. */
export interface ExtAuthzFilterOptions {
  /** The authz server: `host:port` or `unix:/path`. */
  readonly authzAddress: string;
  /** ext_authz `with_request_body`; omit (or undefined) for no body buffering. */
  readonly withRequestBody?: BufferSettings | undefined;
  /** ext_authz `encode_raw_headers`. @default false */
  readonly encodeRawHeaders?: boolean | undefined;
  /** ext_authz `include_tls_session`. @default false */
  readonly includeTlsSession?: boolean | undefined;
  /** `grpc_service.timeout` in ms. @default 1000 */
  readonly timeoutMs?: number | undefined;
  /** ext_authz `status_on_error`. @default 403 */
  readonly statusOnError?: number | undefined;
}

export interface EnvoyEmulatorOptions extends ExtAuthzFilterOptions {
  readonly upstream: { readonly host: string; readonly port: number };
}

/** One Check call and its outcome, in arrival order. */
export interface CheckRecord {
  /** As the authz server decoded it. */
  readonly request: CheckRequest;
  /** The decoded CheckResponse, when the call succeeded. */
  response: CheckResponseObject | undefined;
  /** The gRPC failure, when the call failed (timeout, unavailable…). */
  error: { readonly code: grpc.status; readonly details: string } | undefined;
  /** What the emulator did: forwarded, answered with a denial, answered with status_on_error. */
  outcome: 'pending' | 'allowed' | 'denied' | 'error';
}

export interface EnvoyEmulator {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: CheckRecord[];
  /** Resolves with the first Check (recorded or still to come) that matches. */
  waitForRecord(match: (record: CheckRecord) => boolean): Promise<CheckRecord>;
  close(): Promise<void>;
}

/** What Envoy does with a stream once its Check is answered. */
export type FilterVerdict =
  | {
      readonly kind: 'allowed';
      /** The request headers after `ok_response.headers` and `headers_to_remove`. */
      readonly headers: HeaderEntry[];
      readonly responseHeadersToAdd: readonly HeaderValueOptionObject[];
    }
  | {
      /** A denial or `status_on_error`: Envoy answers itself (a local reply). */
      readonly kind: 'local_reply';
      readonly status: number;
      readonly headers: HeaderEntry[];
      readonly body: string;
    };

/**
 * Sends an allowed request upstream and streams the answer back: the router's part. `buffered`
 * is the body the filter already read; when `ended` is false the rest is still in `req`.
 */
export type Forward = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  headers: HeaderEntry[],
  buffered: readonly Buffer[],
  ended: boolean,
  responseHeadersToAdd: readonly HeaderValueOptionObject[],
) => void;

export interface ExtAuthzFilter {
  readonly records: RecordedList<CheckRecord>;
  /** One Check for a stream whose body (if any) is buffered, and Envoy's verdict on the answer. */
  authorize(stream: EnvoyStream, body: BufferedBody | undefined): Promise<FilterVerdict>;
  /** Runs the filter on a downstream request: buffering, the Check, then a local reply or `forward`. */
  decode(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    stream: EnvoyStream,
    forward: Forward,
  ): void;
  close(): void;
}

/** A local reply's headers as Envoy writes them: `text/plain` for a typeless body, its length. */
export function localReplyHeaders(headers: readonly HeaderEntry[], body: string): HeaderEntry[] {
  const out = [...headers];
  if (body !== '' && !out.some(([k]) => k === 'content-type'))
    out.push(['content-type', 'text/plain']);
  out.push(['content-length', String(Buffer.byteLength(body))], ['server', 'envoy']);
  return out;
}

function sendLocalReply(
  res: http.ServerResponse,
  status: number,
  headers: HeaderEntry[],
  body: string,
): void {
  res.writeHead(status, toNodeHeaders(localReplyHeaders(headers, body)));
  res.end(body);
}

/** The stream Envoy's HCM makes of a request read by node:http on `req.socket`. */
export function toEnvoyStream(
  req: http.IncomingMessage,
  downstreamScheme: 'http' | 'https' = 'http',
  tls?: EnvoyStream['tls'],
): EnvoyStream {
  return {
    headers: toEnvoyHeaders(req.method ?? '', req.url ?? '', req.rawHeaders, downstreamScheme),
    startTime: new Date(),
    source: { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
    destination: { address: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 },
    tls,
  };
}

/** The ext_authz filter with its gRPC client to the authz server. */
export function createExtAuthzFilter(options: ExtAuthzFilterOptions): ExtAuthzFilter {
  const method = checkMethod(CLIENT_LOADER_OPTIONS);
  const client = new grpc.Client(options.authzAddress, grpc.credentials.createInsecure());
  const records = new RecordedList<CheckRecord>();
  const timeoutMs = options.timeoutMs ?? 1000;
  const statusOnError = options.statusOnError ?? 403;
  const bufferSettings = options.withRequestBody;

  type CheckResult =
    | { readonly response: CheckResponseObject }
    | { readonly error: { readonly code: grpc.status; readonly details: string } };
  const check = (request: CheckRequest): Promise<CheckResult> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          if (error !== null) resolve({ error: { code: error.code, details: error.details } });
          // Decoded from CheckResponse bytes (typed `object`, see asReceived).
          else resolve({ response: response ?? {} });
        },
      );
    });

  const authorize = async (
    stream: EnvoyStream,
    body: BufferedBody | undefined,
  ): Promise<FilterVerdict> => {
    const request = asReceived(
      buildCheckRequest(stream, body, {
        withRequestBody: bufferSettings,
        encodeRawHeaders: options.encodeRawHeaders ?? false,
        includeTlsSession: options.includeTlsSession,
      }),
    );
    const record: CheckRecord = {
      request,
      response: undefined,
      error: undefined,
      outcome: 'pending',
    };
    records.push(record);
    const result = await check(request);
    if ('error' in result) {
      record.error = result.error;
      record.outcome = 'error';
      return { kind: 'local_reply', status: statusOnError, headers: [], body: '' };
    }
    const response = result.response;
    record.response = response;
    if ((response.status?.code ?? 0) !== 0) {
      record.outcome = 'denied';
      const denied =
        response.http_response === 'denied_response' ? response.denied_response : undefined;
      const code = denied?.status?.code ?? 0;
      const headers: HeaderEntry[] = [];
      applyHeaderOptions(headers, denied?.headers ?? []);
      return {
        kind: 'local_reply',
        status: code > 0 ? code : 403,
        headers,
        body: denied?.body ?? '',
      };
    }
    record.outcome = 'allowed';
    const ok = response.http_response === 'ok_response' ? response.ok_response : undefined;
    const headers = [...stream.headers];
    applyHeaderOptions(headers, ok?.headers ?? []);
    const remove = new Set(
      (ok?.headers_to_remove ?? [])
        .map((name) => name.toLowerCase())
        .filter((name) => !name.startsWith(':') && name !== 'host'),
    );
    return {
      kind: 'allowed',
      headers: headers.filter(([name]) => !remove.has(name)),
      responseHeadersToAdd: ok?.response_headers_to_add ?? [],
    };
  };

  const decode = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    stream: EnvoyStream,
    forward: Forward,
  ): void => {
    const contentLength = Number(req.headers['content-length'] ?? '0');
    const hasBody = req.headers['transfer-encoding'] !== undefined || contentLength > 0;
    const chunks: Buffer[] = [];
    let received = 0;
    let ended = !hasBody;
    let started = false;

    const runCheck = async (): Promise<void> => {
      started = true;
      req.pause();
      req.off('data', onData);
      const body =
        hasBody && bufferSettings !== undefined
          ? { bytes: Buffer.concat(chunks), received }
          : undefined;
      const verdict = await authorize(stream, body);
      if (verdict.kind === 'local_reply') {
        req.resume();
        sendLocalReply(res, verdict.status, verdict.headers, verdict.body);
        return;
      }
      forward(req, res, verdict.headers, chunks, ended, verdict.responseHeadersToAdd);
    };

    const start = (): void => {
      if (!started) void runCheck();
    };

    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (bufferSettings === undefined || received < bufferSettings.maxRequestBytes) return;
      if (bufferSettings.allowPartialMessage) {
        start();
        return;
      }
      if (received > bufferSettings.maxRequestBytes) {
        // The decoder buffer limit is max_request_bytes: Envoy answers 413 itself and the
        // authz server never sees the request.
        started = true;
        req.off('data', onData);
        req.resume();
        res.setHeader('connection', 'close');
        sendLocalReply(res, 413, [], 'Payload Too Large');
      }
    };

    req.on('end', () => {
      ended = true;
      start();
    });
    if (!hasBody || bufferSettings === undefined) {
      // No body to wait for (or no buffering configured): Envoy checks at headers time.
      start();
    } else {
      req.on('data', onData);
    }
  };

  return {
    records,
    authorize,
    decode,
    close() {
      client.close();
    },
  };
}

/** Opens the upstream request for `forwardUpstream`: where to, over what, with which agent. */
export type OpenUpstream = (
  options: http.RequestOptions,
  onResponse: (res: http.IncomingMessage) => void,
  /** The request's `:authority`, for routers that pick the upstream by it. */
  authority: string,
) => http.ClientRequest;

/**
 * The router: sends an allowed request through `open` and streams the upstream's answer back
 * with `response_headers_to_add` applied. A failure before the upstream's headers is Envoy's 503
 * local reply; after them the downstream is reset.
 */
export function forwardUpstream(open: OpenUpstream): Forward {
  return (req, res, headers, buffered, ended, responseHeadersToAdd) => {
    const pseudo = (name: string): string => headers.find(([k]) => k === name)?.[1] ?? '';
    const regular = headers.filter(([k]) => !k.startsWith(':'));
    regular.push(['host', pseudo(':authority')]);
    const upstream = open(
      { method: pseudo(':method'), path: pseudo(':path'), headers: toNodeHeaders(regular) },
      (upstreamRes) => {
        const list: HeaderEntry[] = [];
        for (let i = 0; i + 1 < upstreamRes.rawHeaders.length; i += 2) {
          const name = upstreamRes.rawHeaders[i]!.toLowerCase();
          if (!HOP_BY_HOP.has(name)) list.push([name, upstreamRes.rawHeaders[i + 1]!]);
        }
        applyHeaderOptions(list, responseHeadersToAdd);
        res.writeHead(upstreamRes.statusCode ?? 502, toNodeHeaders(list));
        // Send the headers now: an SSE answer must reach the client before its first event.
        res.flushHeaders();
        upstreamRes.pipe(res);
      },
      pseudo(':authority'),
    );
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      else
        sendLocalReply(res, 503, [], 'upstream connect error or disconnect/reset before headers');
    });
    res.on('close', () => upstream.destroy());
    for (const chunk of buffered) upstream.write(chunk);
    if (ended) upstream.end();
    else req.pipe(upstream);
  };
}

/** Listens on 127.0.0.1 at a random port; resolves with the port. */
export async function listenOnLoopback(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every connection it still has. */
export async function closeHttpServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------------------------

/** Starts the emulator on 127.0.0.1 (random port). */
export async function startEnvoyEmulator(options: EnvoyEmulatorOptions): Promise<EnvoyEmulator> {
  const filter = createExtAuthzFilter(options);
  const upstreamAgent = new http.Agent({ keepAlive: false });
  const forward = forwardUpstream((requestOptions, onResponse) =>
    http.request(
      {
        ...requestOptions,
        host: options.upstream.host,
        port: options.upstream.port,
        agent: upstreamAgent,
      },
      onResponse,
    ),
  );
  const server = http.createServer((req, res) => {
    filter.decode(req, res, toEnvoyStream(req), forward);
  });
  const port = await listenOnLoopback(server);

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests: filter.records.items,
    waitForRecord: (match) => filter.records.waitFor(match),
    async close() {
      await closeHttpServer(server);
      upstreamAgent.destroy();
      filter.close();
    },
  };
}
// ---------------------------------------------------------------------------------------------
// A fetch that talks to a forward proxy in absolute form
// ---------------------------------------------------------------------------------------------

/** The fetch shape the MCP SDK transports accept (`fetch` option). */
export type ProxyFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch that sends every request to the proxy at `proxyUrl` in absolute form
 * (`POST http://mcp.example.com/mcp HTTP/1.1`), as an explicit HTTP proxy client does for
 * `http://` targets. Give it to an SDK transport (`{fetch: forwardProxyFetch(emulator.url)}`) so
 * the SDK believes it talks to the target host. Response bodies stream (SSE works).
 */
export function forwardProxyFetch(proxyUrl: string): ProxyFetch {
  const proxy = new URL(proxyUrl);
  const agent = new http.Agent({ keepAlive: false });
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      const headers: Record<string, string> = { host: url.host };
      new Headers(init?.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const body = init?.body;
      if (
        body !== undefined &&
        body !== null &&
        typeof body !== 'string' &&
        !(body instanceof Uint8Array)
      ) {
        reject(new TypeError('forwardProxyFetch supports string and Uint8Array bodies only'));
        return;
      }
      const signal = init?.signal ?? undefined;
      if (signal?.aborted === true) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        return;
      }
      const req = http.request(
        {
          host: proxy.hostname,
          port: proxy.port,
          method: init?.method ?? 'GET',
          path: url.href,
          headers,
          agent,
        },
        (res) => {
          const responseHeaders = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          }
          const status = res.statusCode ?? 502;
          const stream = NULL_BODY_STATUS.has(status)
            ? null
            : // Readable.toWeb returns node:stream/web's ReadableStream, which the DOM-typed
              // Response constructor does not name; they are the same class at runtime.
              (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
          if (stream === null) res.resume();
          resolve(
            new Response(stream, {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders,
            }),
          );
        },
      );
      const onAbort = (): void => {
        req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.on('error', reject);
      req.end(body ?? undefined);
    });
}
