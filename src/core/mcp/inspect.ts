/**
 * MCP recognition and inspection: RequestFacts → McpInspection.
 *
 * Pure and total: no I/O, no clock, never throws. Whatever cannot be inspected is reported as
 * an InspectionFailure for the decision to weigh; nothing here allows or denies.
 *
 * A request is MCP when any strong signal holds (docs/mcp-traffic.md §9):
 * - MCP request headers: `mcp-protocol-version`, `mcp-session-id`, `mcp-method`, `mcp-name`,
 *   `mcp-param-*`;
 * - a JSON-RPC 2.0 body (single message or batch) with a method of any MCP revision; MCP's
 *   `initialize` carries `params.protocolVersion`, LSP's does not, so an `initialize` without it
 *   is not MCP;
 * - a GET asking for `text/event-stream` on a path ending `/sse` or `/mcp` (the legacy SSE
 *   stream and the standalone Streamable HTTP stream);
 * - a client-sent JSON-RPC response, but only with MCP headers (any JSON-RPC API has those).
 * - a body we will not parse (cut by Envoy, over the size cap, or in a coding or charset we
 *   refuse) whose visible bytes show a JSON-RPC MCP message (json-rpc-signal.ts), or a JSON
 *   body in a content coding we cannot undo;
 * - a WebSocket opening that offers the `mcp` subprotocol.
 * OAuth discovery (`GET /.well-known/…`) is not MCP even when a client adds MCP headers.
 *
 * A body is read the way the most permissive common server stack reads it: keys as Go folds
 * them (json-key.ts), arrays nested in a batch searched, a charset decoded as body-parser does
 * and also read as UTF-8 as charset-ignoring servers do. Where those readings disagree about
 * what would run, or the raw path is one servers route differently (`ambiguous_path`), the
 * request is an inspection failure, never a guess.
 */
import type { RequestFacts } from '../facts.js';
import { isAmbiguousPath } from '../normalise.js';
import { charsetsNamed, decodeBody, decodeBodyPrefix, decodeInCharset } from './decode-body.js';
import { decodeMcpHeaderValue } from './header-value.js';
import type {
  InspectionDetail,
  InspectionFailure,
  InspectionLimits,
  McpInspection,
  McpMessage,
  McpTransport,
} from './inspection.js';
import {
  BATCHLESS_REVISION,
  HEADER_VALIDATING_REVISION,
  MCP_METHODS,
  META_PREFIX,
  NAMED_METHODS,
  isRevision,
  revisionAtLeast,
} from './methods.js';
import { foldJsonKey, foldedLength } from './json-key.js';
import { batchExceeds, membersExceed, parseJsonRpcBody } from './json-rpc-body.js';
import { trimOws } from './ows.js';
import { showsJsonRpcSignal } from './json-rpc-signal.js';
import type { JsonObject, JsonValue } from './json-rpc-body.js';

/** Nesting deeper than this is not a JSON-RPC envelope anyone sends; it is an attack. */
const MAX_JSON_DEPTH = 64;

/**
 * Object members a body may hold before it is refused unparsed (json-rpc-body.ts
 * `membersExceed`): tool arguments with more keys than this are not what MCP clients send, and
 * parsing that many distinct keys costs far more than the body's size suggests.
 */
export const MAX_OBJECT_MEMBERS = 10_000;

/**
 * Bodies up to this many characters are parsed without counting members: they cannot hold
 * enough distinct keys to cost more than a few milliseconds.
 */
const MEMBER_SCAN_FROM = 32 * 1024;

/** The reserved `_meta` keys read on every message, built once. */
const META_PROTOCOL_VERSION = `${META_PREFIX}protocolVersion`;
const META_CLIENT_INFO = `${META_PREFIX}clientInfo`;

interface HeaderSignals {
  readonly protocolVersion: string | undefined;
  readonly sessionId: string | undefined;
  /** `Mcp-Method`, decoded from `=?base64?…?=` when wrapped; undefined when absent or undecodable. */
  readonly method: string | undefined;
  /** `Mcp-Name`, decoded likewise. */
  readonly name: string | undefined;
  /** The failure to report when `Mcp-Method` or `Mcp-Name` is present but not decodable. */
  readonly undecodable: { readonly detail: InspectionDetail; readonly message: string } | undefined;
  readonly hasParamHeader: boolean;
  readonly any: boolean;
}

/** Inspects one request. See the module comment for what counts as MCP. */
export function inspectMcp(facts: RequestFacts, limits: InspectionLimits): McpInspection {
  const headers = readHeaderSignals(facts);
  const signals: string[] = [];
  if (headers.protocolVersion !== undefined) signals.push('header:mcp-protocol-version');
  if (headers.sessionId !== undefined) signals.push('header:mcp-session-id');
  if (facts.headers.has('mcp-method')) signals.push('header:mcp-method');
  if (facts.headers.has('mcp-name')) signals.push('header:mcp-name');
  if (headers.hasParamHeader) signals.push('header:mcp-param');

  const builder = new InspectionBuilder(facts, headers, signals);

  if (facts.isConnect) return builder.notMcp('connect');
  if (isOAuthDiscovery(facts)) return builder.notMcp('oauth_discovery');
  if (isMcpWebSocket(facts)) {
    builder.signal('header:websocket-mcp');
    return builder.fail(
      'websocket',
      'MCP over WebSocket: the messages travel in frames that ext_authz never sees',
      'tool_restricted',
    );
  }

  const body = facts.body;
  if (body === undefined || body.length === 0) return inspectBodiless(builder, facts, headers);
  if (facts.bodyTruncated) {
    return inspectPartial(builder, facts, headers, body, limits, {
      detail: 'truncated',
      message: 'the body was truncated by Envoy (x-envoy-auth-partial-body: true)',
    });
  }
  if (body.length > limits.maxBodyBytes) {
    // Never parsed: only its first maxBodyBytes are searched for an MCP signal.
    return inspectPartial(builder, facts, headers, body, limits, {
      detail: 'too_large',
      message: `body of ${body.length} bytes exceeds the ${limits.maxBodyBytes}-byte limit`,
    });
  }

  const encoding = facts.headers.get('content-encoding');
  const decoded = decodeBody(
    body,
    encoding,
    facts.headers.get('content-type'),
    limits.maxBodyBytes,
  );
  if (!decoded.ok) {
    if (decoded.detail === 'too_large') {
      return inspectPartial(builder, facts, headers, body, limits, decoded);
    }
    // Without MCP headers an undecodable body is someone else's upload, unless its bytes show a
    // JSON-RPC message (an upstream that ignores the coding or charset would still run it), or
    // a coding we cannot undo hides a JSON body that a server which can undo it may run.
    if (!headers.any) {
      if (bodyShowsJsonRpc(facts, body, limits)) {
        builder.signal('body:json-rpc-bytes');
      } else if (decoded.opaque === true && isJsonMediaType(facts.headers.get('content-type'))) {
        builder.signal('body:json-in-unknown-coding');
      } else {
        return builder.notMcp('body_undecodable');
      }
    }
    return builder.fail(decoded.detail, decoded.message, 'always');
  }
  if (decoded.utf8Reading === undefined) {
    return inspectJsonBody(builder, headers, decoded.text, limits);
  }
  return inspectBothReadings(facts, headers, signals, decoded.text, decoded.utf8Reading, limits);
}

/**
 * A body in a charset other than UTF-8 that reads differently as UTF-8: servers that honour the
 * charset (body-parser) parse one text, servers that ignore it (Fetch-based SDKs) the other. A
 * reading that no server can run (not JSON) drops out; when both could run and name different
 * messages, we cannot tell which the server runs.
 */
function inspectBothReadings(
  facts: RequestFacts,
  headers: HeaderSignals,
  signals: readonly string[],
  honouredText: string,
  utf8Text: string,
  limits: InspectionLimits,
): McpInspection {
  const start = (): InspectionBuilder => new InspectionBuilder(facts, headers, [...signals]);
  const honoured = inspectJsonBody(start(), headers, honouredText, limits);
  const ignored = inspectJsonBody(start(), headers, utf8Text, limits);
  // A reading is one some server may run when it is MCP and either parsed or, rejected by us,
  // still looks like JSON-RPC to a more lenient parser. NULs are JSON to no parser: a reader
  // that sniffs UTF-16 from them reads what the declared charset reads.
  const runnable = (i: McpInspection, text: string): boolean =>
    i.isMcp &&
    (i.failure?.detail !== 'not_json' || (!text.includes('\0') && showsJsonRpcSignal(text)));
  if (!runnable(ignored, utf8Text)) return honoured;
  if (!runnable(honoured, honouredText)) return ignored;
  if (sameMessages(honoured, ignored)) return honoured;
  const builder = start();
  builder.signal('body:charset-readings-differ');
  return builder.fail(
    'undecodable',
    'the body reads as different MCP messages in its declared charset and as UTF-8',
    'always',
  );
}

function sameMessages(a: McpInspection, b: McpInspection): boolean {
  if (a.messages.length !== b.messages.length || a.batch !== b.batch) return false;
  return a.messages.every((m, i) => {
    const o = b.messages[i];
    if (o === undefined) return false;
    return (
      m.kind === o.kind &&
      m.method === o.method &&
      m.tool === o.tool &&
      m.resourceUri === o.resourceUri &&
      m.prompt === o.prompt
    );
  });
}

/**
 * `application/json` or a `+json` type: what MCP servers require before they parse a POST body
 * (the SDKs answer anything else with 415). Several joined values count if any is JSON.
 */
function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  for (const value of contentType.split(',')) {
    const media = trimOws(value.split(';', 1)[0] ?? '').toLowerCase();
    if (
      media === 'application/json' ||
      (media.startsWith('application/') && media.endsWith('+json'))
    ) {
      return true;
    }
  }
  return false;
}

function readHeaderSignals(facts: RequestFacts): HeaderSignals {
  const h = facts.headers;
  const protocolVersion = h.get('mcp-protocol-version')?.trim();
  const sessionId = h.get('mcp-session-id');
  const rawMethod = h.get('mcp-method');
  const rawName = h.get('mcp-name');
  // Decoded once here; every later check reads the decoded values.
  const method = rawMethod === undefined ? undefined : decodeMcpHeaderValue(rawMethod);
  const name = rawName === undefined ? undefined : decodeMcpHeaderValue(rawName);
  let undecodable: HeaderSignals['undecodable'];
  if (method?.ok === false) {
    undecodable = { detail: 'undecodable', message: 'Mcp-Method header is not decodable' };
  } else if (name?.ok === false) {
    undecodable = { detail: 'undecodable', message: 'Mcp-Name header is not decodable' };
  }
  let hasParamHeader = false;
  for (const key of h.keys()) {
    if (key.startsWith('mcp-param-')) {
      hasParamHeader = true;
      break;
    }
  }
  return {
    protocolVersion,
    sessionId,
    method: method?.ok === true ? method.value : undefined,
    name: name?.ok === true ? name.value : undefined,
    undecodable,
    hasParamHeader,
    any:
      protocolVersion !== undefined ||
      sessionId !== undefined ||
      rawMethod !== undefined ||
      rawName !== undefined ||
      hasParamHeader,
  };
}

/**
 * A WebSocket opened for MCP: the `mcp` subprotocol offered on an HTTP/1.1 `Upgrade: websocket`
 * GET (the Python SDK's WebSocket server, the TypeScript SDK's WebSocket client transport) or on
 * an HTTP/2 extended CONNECT with `:protocol: websocket` (RFC 8441).
 */
function isMcpWebSocket(facts: RequestFacts): boolean {
  const h = facts.headers;
  const protocols = h.get('sec-websocket-protocol');
  if (protocols === undefined || !listsToken(protocols, 'mcp')) return false;
  if (facts.method === 'CONNECT') return h.get(':protocol')?.toLowerCase() === 'websocket';
  const upgrade = h.get('upgrade');
  return facts.method === 'GET' && upgrade !== undefined && listsToken(upgrade, 'websocket');
}

/** True when a comma-separated header value lists `token` (any case). */
function listsToken(value: string, token: string): boolean {
  for (const part of value.split(',')) if (trimOws(part).toLowerCase() === token) return true;
  return false;
}

function isOAuthDiscovery(facts: RequestFacts): boolean {
  return (
    (facts.method === 'GET' || facts.method === 'HEAD') && facts.path.startsWith('/.well-known/')
  );
}

/** True when an `Accept` header lists `text/event-stream` (wildcards do not count). */
function acceptsEventStream(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  // A client sends the same Accept value on every request: remembering the last answer spares
  // the split strings on the common path. The function is pure, so the answer is the same.
  if (accept !== lastAccept) {
    lastAccept = accept;
    lastAcceptsEventStream = listsEventStream(accept);
  }
  return lastAcceptsEventStream;
}

let lastAccept: string | undefined;
let lastAcceptsEventStream = false;

function listsEventStream(accept: string): boolean {
  for (const part of accept.split(',')) {
    const media = part.split(';', 1)[0]?.trim().toLowerCase();
    if (media === 'text/event-stream') return true;
  }
  return false;
}

function transportOf(facts: RequestFacts): McpTransport {
  if (facts.method !== 'POST') return 'none';
  return acceptsEventStream(facts.headers.get('accept')) ? 'streamable_http' : 'legacy_sse';
}

/**
 * GET streams, DELETE session ends, and POSTs without a body (Envoy not configured to send
 * bodies, or an empty POST). Only 2026-07-28 requests may be judged on their headers alone.
 */
function inspectBodiless(
  builder: InspectionBuilder,
  facts: RequestFacts,
  headers: HeaderSignals,
): McpInspection {
  if (facts.method === 'GET' && acceptsEventStream(facts.headers.get('accept'))) {
    // A trailing slash reaches the same endpoint on most servers (or a redirect to it).
    const path = facts.path.endsWith('/') ? facts.path.slice(0, -1) : facts.path;
    if (path.endsWith('/sse') || path.endsWith('/mcp')) builder.signal('get:event-stream-path');
  }
  if (!headers.any && builder.signalCount() === 0) return builder.notMcp('no_signal');
  if (facts.method !== 'POST') return builder.done();

  const trusted = trustedHeaderMessage(headers);
  if (trusted.ok) {
    builder.signal('header:trusted-2026');
    if (trusted.message !== undefined) builder.addMessage(trusted.message);
    return builder.done();
  }
  if (trusted.failure !== undefined) {
    return builder.fail(trusted.failure.detail, trusted.failure.message, 'always');
  }
  return builder.fail(
    'body_missing',
    'POST without a body: the MCP method is unknown',
    'tool_restricted',
  );
}

type TrustedHeaders =
  | { readonly ok: true; readonly message: McpMessage | undefined }
  | {
      readonly ok: false;
      readonly failure: { detail: InspectionDetail; message: string } | undefined;
    };

/**
 * 2026-07-28 servers must reject requests whose `Mcp-Method`/`Mcp-Name` disagree with the body,
 * so when no body is available those headers may stand in for it. Older or absent revisions
 * give no such guarantee: the spec tells intermediaries not to trust the headers then.
 */
function trustedHeaderMessage(headers: HeaderSignals): TrustedHeaders {
  if (!revisionAtLeast(headers.protocolVersion, HEADER_VALIDATING_REVISION)) {
    return { ok: false, failure: undefined };
  }
  if (headers.undecodable !== undefined) return { ok: false, failure: headers.undecodable };
  const method = headers.method;
  if (method === undefined) return { ok: false, failure: undefined };
  const name = headers.name;
  if (NAMED_METHODS.has(method) && (name === undefined || name === '')) {
    return {
      ok: false,
      failure: { detail: 'malformed', message: `${method} without the required Mcp-Name header` },
    };
  }
  return {
    ok: true,
    message: {
      kind: 'request',
      method,
      idJson: undefined,
      tool: method === 'tools/call' ? name : undefined,
      resourceUri: method === 'resources/read' ? name : undefined,
      prompt: method === 'prompts/get' ? name : undefined,
      protocolVersion: headers.protocolVersion,
      clientName: undefined,
    },
  };
}

/**
 * A body we see only in part: Envoy cut it at `max_request_bytes`, or it (or what it inflates
 * to) exceeds our cap. It is never parsed, and a duplicate key after the cut could change what
 * the server sees, so no tool can be known. The request is still recognised as MCP when its
 * headers say so or its visible part shows a JSON-RPC message, so that padding a first
 * `initialize` cannot smuggle it past us as non-MCP. A cut upload that shows no such thing
 * (a file, a form) stays non-MCP.
 */
function inspectPartial(
  builder: InspectionBuilder,
  facts: RequestFacts,
  headers: HeaderSignals,
  body: Uint8Array,
  limits: InspectionLimits,
  why: { readonly detail: InspectionDetail; readonly message: string },
): McpInspection {
  if (!headers.any) {
    if (!bodyShowsJsonRpc(facts, body, limits)) {
      return builder.notMcp(`${why.detail}_body_without_mcp_signal`);
    }
    builder.signal('body:json-rpc-prefix');
  }
  return builder.fail(why.detail, why.message, 'tool_restricted');
}

/**
 * Searches what we can see of a body we will not parse: its raw bytes, and, when it names
 * content codings, as much of its decoded form as fits the cap; each of them also in every
 * charset `Content-Type` names, since a server may ignore the coding and honour the charset.
 */
function bodyShowsJsonRpc(
  facts: RequestFacts,
  body: Uint8Array,
  limits: InspectionLimits,
): boolean {
  const contentEncoding = facts.headers.get('content-encoding');
  const charsets = charsetsNamed(facts.headers.get('content-type'));
  const shows = (view: Uint8Array): boolean =>
    showsJsonRpcSignal(latin1(view)) ||
    charsets.some((charset) => showsJsonRpcSignal(decodeInCharset(view, charset)));
  const visible = body.length > limits.maxBodyBytes ? body.subarray(0, limits.maxBodyBytes) : body;
  if (shows(visible)) return true;
  if (contentEncoding === undefined) return false;
  const decoded = decodeBodyPrefix(body, contentEncoding, limits.maxBodyBytes);
  return decoded !== undefined && decoded !== body && shows(decoded);
}

/** One char per byte: enough for an ASCII pattern search, whatever the bytes. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function inspectJsonBody(
  builder: InspectionBuilder,
  headers: HeaderSignals,
  text: string,
  limits: InspectionLimits,
): McpInspection {
  if (/^[ \t\r\n]*$/.test(text)) {
    if (!headers.any) return builder.notMcp('empty_body');
    return builder.fail('body_missing', 'the body is empty', 'tool_restricted');
  }
  if (batchExceeds(text, limits.maxBatchElements)) {
    // Never parsed: the work per request stays bounded by the batch limit, not the body size.
    if (!headers.any) {
      if (!showsJsonRpcSignal(text)) return builder.notMcp('long_array_without_mcp_signal');
      builder.signal('body:json-rpc-text');
    }
    builder.markBatch();
    return builder.fail(
      'too_large',
      `a batch of more than ${limits.maxBatchElements} messages`,
      'always',
    );
  }
  if (text.length > MEMBER_SCAN_FROM && membersExceed(text, MAX_OBJECT_MEMBERS)) {
    // Never parsed, like a body over the size cap: which tool it calls stays unknown.
    if (!headers.any) {
      if (!showsJsonRpcSignal(text)) return builder.notMcp('many_members_without_mcp_signal');
      builder.signal('body:json-rpc-text');
    }
    return builder.fail(
      'too_large',
      `more than ${MAX_OBJECT_MEMBERS} object members`,
      'tool_restricted',
    );
  }
  const parsed = parseJsonRpcBody(text, { maxDepth: MAX_JSON_DEPTH });
  if (!parsed.ok) {
    // A JSON-RPC message we reject (too deep, `NaN`, a trailing comma) may still be one a lenient
    // upstream runs: without MCP headers, its text decides whether it is MCP.
    if (!headers.any) {
      if (!showsJsonRpcSignal(text)) return builder.notMcp('body_not_json');
      builder.signal('body:json-rpc-text');
    }
    return builder.fail(
      'not_json',
      `MCP headers but the body is not JSON (${parsed.message})`,
      'always',
    );
  }
  const value = parsed.value;
  const isBatch = Array.isArray(value);
  const elements: readonly JsonValue[] = isBatch ? value : [value];

  const envelopeDuplicates = parsed.envelopeDuplicates;
  const jsonRpcShaped = elements.some((e) => isObject(e) && hasMember(e, 'jsonrpc'));

  if (isBatch) builder.markBatch();

  // Recognise first: everything below is only an MCP failure if this is MCP at all.
  const messages: McpMessage[] = [];
  let mcpByBody = false;
  const nestedBudget = { left: limits.maxBatchElements };
  let malformed: string | undefined;
  for (let index = 0; index < elements.length; index++) {
    const read = readMessage(elements[index], parsed.topLevelIds[index]);
    if (read.kind === 'message') {
      if (read.isMcpMethod) mcpByBody = true;
      messages.push(read.message);
    } else if (read.kind === 'malformed') {
      malformed ??= `message ${index}: ${read.why}`;
      if (read.mcpMethod) mcpByBody = true;
    } else {
      malformed ??= `message ${index}: not a JSON-RPC 2.0 message`;
      // A server that flattens nested arrays runs what they hold, headers or not.
      const element = elements[index];
      if (Array.isArray(element) && !mcpByBody) {
        const nested = holdsMcpMessage(element, nestedBudget);
        mcpByBody = nested ?? showsJsonRpcSignal(text);
      }
    }
  }
  if (mcpByBody) builder.signal('body:mcp-method');

  // Duplicate envelope keys on a JSON-RPC body are an evasion attempt whatever the method looks
  // like: JSON.parse keeps the last duplicate, other parsers the first.
  const isMcp = headers.any || mcpByBody || (envelopeDuplicates.length > 0 && jsonRpcShaped);
  if (!isMcp) return builder.notMcp(jsonRpcShaped ? 'json_rpc_not_mcp' : 'json_not_json_rpc');

  for (const message of messages) builder.addMessage(message);

  if (envelopeDuplicates.length > 0) {
    return builder.fail(
      'duplicate_keys',
      `duplicate JSON-RPC envelope keys: ${envelopeDuplicates.join(', ')}`,
      'always',
    );
  }
  if (isBatch) {
    if (revisionAtLeast(headers.protocolVersion, BATCHLESS_REVISION)) {
      return builder.fail(
        'batch_forbidden',
        `a JSON-RPC batch under protocol ${headers.protocolVersion ?? ''}, which forbids batches`,
        'always',
      );
    }
    if (elements.length === 0) return builder.fail('malformed', 'an empty batch', 'always');
  }
  if (malformed !== undefined) return builder.fail('malformed', malformed, 'always');

  const mismatch = headerBodyMismatch(headers, messages, isBatch);
  if (mismatch !== undefined) {
    return builder.fail(mismatch.detail, mismatch.message, 'always');
  }
  return builder.done();
}

/**
 * True when nested arrays hold a JSON-RPC message with an MCP method at any depth. All nested
 * arrays of one body share a budget of `maxBatchElements` values, so a huge nested body costs no
 * more than a batch at the limit; past it the answer is undefined (unknown), and the caller asks
 * the text instead.
 */
function holdsMcpMessage(
  outer: readonly JsonValue[],
  budget: { left: number },
): boolean | undefined {
  const pending: (readonly JsonValue[])[] = [outer];
  for (let list = pending.pop(); list !== undefined; list = pending.pop()) {
    for (const value of list) {
      if (--budget.left < 0) return undefined;
      if (Array.isArray(value)) {
        pending.push(value);
      } else if (isObject(value) && member(value, 'jsonrpc') === '2.0') {
        const method = member(value, 'method');
        if (typeof method === 'string' && MCP_METHODS.has(method)) return true;
      }
    }
  }
  return false;
}

type ReadMessage =
  | { readonly kind: 'message'; readonly message: McpMessage; readonly isMcpMethod: boolean }
  | { readonly kind: 'malformed'; readonly why: string; readonly mcpMethod: boolean }
  | { readonly kind: 'not_json_rpc' };

function readMessage(element: JsonValue | undefined, idJson: string | undefined): ReadMessage {
  if (!isObject(element) || member(element, 'jsonrpc') !== '2.0') return { kind: 'not_json_rpc' };
  const method = member(element, 'method');
  const params = member(element, 'params');
  const hasId = hasMember(element, 'id');

  if (method === undefined) {
    if (hasId && (hasMember(element, 'result') || hasMember(element, 'error'))) {
      return { kind: 'message', message: responseMessage(idJson), isMcpMethod: false };
    }
    return { kind: 'malformed', why: 'neither a request nor a response', mcpMethod: false };
  }
  if (typeof method !== 'string') {
    return { kind: 'malformed', why: 'method is not a string', mcpMethod: false };
  }
  const known = MCP_METHODS.has(method);
  const paramsObject = isObject(params) ? params : undefined;
  if (params !== undefined && paramsObject === undefined && known) {
    return { kind: 'malformed', why: `${method} params is not an object`, mcpMethod: true };
  }
  const meta = paramsObject !== undefined ? asObject(member(paramsObject, '_meta')) : undefined;
  const metaVersion =
    meta !== undefined ? asString(member(meta, META_PROTOCOL_VERSION)) : undefined;
  const metaClient = meta !== undefined ? asObject(member(meta, META_CLIENT_INFO)) : undefined;
  const hasMcpMeta = meta !== undefined && hasMcpMetaKey(meta);

  let isMcpMethod = known;
  let protocolVersion = metaVersion;
  let clientName = metaClient !== undefined ? asString(member(metaClient, 'name')) : undefined;
  if (method === 'initialize') {
    // LSP's initialize has no protocolVersion; MCP's always does.
    const declared =
      paramsObject !== undefined ? member(paramsObject, 'protocolVersion') : undefined;
    isMcpMethod = typeof declared === 'string' || hasMcpMeta;
    if (typeof declared === 'string') protocolVersion = declared;
    const clientInfo =
      paramsObject !== undefined ? asObject(member(paramsObject, 'clientInfo')) : undefined;
    clientName =
      (clientInfo !== undefined ? asString(member(clientInfo, 'name')) : undefined) ?? clientName;
  } else if (hasMcpMeta) {
    isMcpMethod = true;
  }

  let tool: string | undefined;
  let resourceUri: string | undefined;
  let prompt: string | undefined;
  if (isMcpMethod) {
    const nameValue = paramsObject !== undefined ? member(paramsObject, 'name') : undefined;
    if (method === 'tools/call') {
      if (typeof nameValue !== 'string' || nameValue === '') {
        return {
          kind: 'malformed',
          why: 'tools/call without a string params.name',
          mcpMethod: true,
        };
      }
      tool = nameValue;
    } else if (method === 'prompts/get') {
      if (typeof nameValue !== 'string') {
        return {
          kind: 'malformed',
          why: 'prompts/get without a string params.name',
          mcpMethod: true,
        };
      }
      prompt = nameValue;
    } else if (method === 'resources/read') {
      const uri = paramsObject !== undefined ? member(paramsObject, 'uri') : undefined;
      if (typeof uri !== 'string') {
        return {
          kind: 'malformed',
          why: 'resources/read without a string params.uri',
          mcpMethod: true,
        };
      }
      resourceUri = uri;
    }
  }
  return {
    kind: 'message',
    isMcpMethod,
    message: {
      kind: hasId ? 'request' : 'notification',
      method,
      idJson: hasId ? idJson : undefined,
      tool,
      resourceUri,
      prompt,
      protocolVersion,
      clientName,
    },
  };
}

function responseMessage(idJson: string | undefined): McpMessage {
  return {
    kind: 'response',
    method: undefined,
    idJson,
    tool: undefined,
    resourceUri: undefined,
    prompt: undefined,
    protocolVersion: undefined,
    clientName: undefined,
  };
}

/**
 * `Mcp-Method`/`Mcp-Name` must agree with the body whenever they are sent (some 2025-era
 * bridges send them too). A 2026-07-28 request must carry them.
 */
function headerBodyMismatch(
  headers: HeaderSignals,
  messages: readonly McpMessage[],
  isBatch: boolean,
): { detail: InspectionDetail; message: string } | undefined {
  const requires = revisionAtLeast(headers.protocolVersion, HEADER_VALIDATING_REVISION);
  if (headers.undecodable !== undefined) return headers.undecodable;
  const headerMethod = headers.method;
  const headerName = headers.name;
  if (headerMethod === undefined && headerName === undefined && !requires) return undefined;
  if (isBatch) {
    return headerMethod !== undefined || headerName !== undefined
      ? { detail: 'header_mismatch', message: 'Mcp-Method/Mcp-Name headers on a batch' }
      : undefined;
  }
  const message = messages[0];
  if (message === undefined || message.kind === 'response') {
    return headerMethod !== undefined || headerName !== undefined
      ? { detail: 'header_mismatch', message: 'Mcp-Method/Mcp-Name headers on a JSON-RPC response' }
      : undefined;
  }
  const bodyName = message.tool ?? message.prompt ?? message.resourceUri;
  if (requires && message.kind === 'request' && headerMethod === undefined) {
    return { detail: 'header_mismatch', message: 'protocol 2026-07-28 request without Mcp-Method' };
  }
  if (headerMethod !== undefined && headerMethod !== message.method) {
    return {
      detail: 'header_mismatch',
      message: `Mcp-Method ${JSON.stringify(headerMethod)} but the body says ${JSON.stringify(message.method)}`,
    };
  }
  if (bodyName !== undefined && (headerName !== undefined || requires) && headerName !== bodyName) {
    return {
      detail: 'header_mismatch',
      message: `Mcp-Name ${JSON.stringify(headerName ?? null)} but the body names ${JSON.stringify(bodyName)}`,
    };
  }
  if (bodyName === undefined && headerName !== undefined) {
    return {
      detail: 'header_mismatch',
      message: `Mcp-Name ${JSON.stringify(headerName)} on a ${message.method ?? ''} message`,
    };
  }
  return undefined;
}

/**
 * An own member of a parsed object, found as a Go server finds the field: by its name, or by a
 * key that folds onto it (json-key.ts), so `{"Method":"tools/call"}` has a method. Two keys for
 * one envelope field are duplicates, denied before any member is trusted. Bodies come from
 * JSON.parse (json-rpc-body.ts), whose objects inherit from Object.prototype: an inherited name
 * must read as absent, never as a value.
 */
function member(object: JsonObject, key: string): JsonValue | undefined {
  if (Object.hasOwn(object, key)) return object[key];
  const found = foldedKey(object, key);
  return found === undefined ? undefined : object[found];
}

function hasMember(object: JsonObject, key: string): boolean {
  return Object.hasOwn(object, key) || foldedKey(object, key) !== undefined;
}

/** The own key of `object` that folds onto `name`, when `name` itself is absent. */
function foldedKey(object: JsonObject, name: string): string | undefined {
  let folded: string | undefined;
  // for-in over a JSON.parse object visits exactly its own keys, without an array of them.
  for (const key in object) {
    if (foldedLength(key) !== name.length) continue;
    folded ??= foldJsonKey(name);
    if (foldJsonKey(key) === folded) return key;
  }
  return undefined;
}

/** True when `_meta` holds any reserved `io.modelcontextprotocol/` key. */
function hasMcpMetaKey(meta: JsonObject): boolean {
  for (const key of Object.keys(meta)) if (key.startsWith(META_PREFIX)) return true;
  return false;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

function asString(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Accumulates signals and messages, then freezes them into an McpInspection. */
class InspectionBuilder {
  private readonly facts: RequestFacts;
  private readonly headers: HeaderSignals;
  private readonly signals: string[];
  private readonly messages: McpMessage[] = [];
  private batch = false;

  constructor(facts: RequestFacts, headers: HeaderSignals, signals: string[]) {
    this.facts = facts;
    this.headers = headers;
    this.signals = signals;
  }

  signal(name: string): void {
    this.signals.push(name);
  }

  signalCount(): number {
    return this.signals.length;
  }

  markBatch(): void {
    this.batch = true;
  }

  addMessage(message: McpMessage): void {
    this.messages.push(message);
  }

  notMcp(why: string): McpInspection {
    this.signals.push(`not_mcp:${why}`);
    this.messages.length = 0;
    return this.build(false, undefined);
  }

  fail(
    detail: InspectionDetail,
    message: string,
    scope: InspectionFailure['scope'],
  ): McpInspection {
    return this.build(true, { detail, message, scope });
  }

  done(): McpInspection {
    return this.build(true, undefined);
  }

  private build(isMcp: boolean, found: InspectionFailure | undefined): McpInspection {
    let failure = found;
    // The path decides which entry applies, so a path servers may route elsewhere outweighs any
    // failure that matters only on tool-restricted entries.
    if (isMcp && failure?.scope !== 'always' && isAmbiguousPath(this.facts.rawPath)) {
      failure = {
        detail: 'ambiguous_path',
        message: 'the raw path has dot segments, backslashes or encoded separators',
        scope: 'always',
      };
    }
    let fromBody: string | undefined;
    let clientName: string | undefined;
    for (const m of this.messages) {
      fromBody ??= m.protocolVersion;
      clientName ??= m.clientName;
    }
    const headerVersion = this.headers.protocolVersion;
    return {
      isMcp,
      signals: this.signals,
      transport: isMcp ? transportOf(this.facts) : 'none',
      batch: this.batch,
      messages: this.messages,
      protocolVersion: isRevision(headerVersion) ? headerVersion : (fromBody ?? headerVersion),
      clientName,
      userAgent: this.facts.headers.get('user-agent'),
      headerMethod: this.headers.method,
      headerName: this.headers.name,
      failure,
    };
  }
}
