/**
 * MCP recognition and inspection: RequestFacts → McpInspection.
 *
 * Pure and total: no I/O, no clock, never throws. Whatever cannot be inspected is reported as
 * an InspectionFailure for the decision to weigh; nothing here allows or denies.
 *
 * A request is MCP when any strong signal holds (docs/wire/mcp.md, MCP signals):
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
 *
 * This file is the order of judgement; its parts each have a file: header-signals.ts (what the
 * headers and request shape say), decode-body.ts (bytes → text), json-rpc-body.ts (text → JSON),
 * read-messages.ts (JSON → McpMessage list) and inspection-builder.ts (the McpInspection value).
 */
import type { RequestFacts } from '../facts.js';
import { charsetsNamed, decodeBody, decodeBodyPrefix } from './decode-body.js';
import type { CharsetDecoder } from './decode-body.js';
import type { HeaderSignals } from './header-signals.js';
import {
  acceptsEventStream,
  headerBodyMismatch,
  isMcpWebSocket,
  isOAuthDiscovery,
  readHeaderSignals,
  trustedHeaderMessage,
} from './header-signals.js';
import { InspectionBuilder } from './inspection-builder.js';
import type { InspectionDetail, InspectionLimits, McpInspection } from './inspection.js';
import { BATCHLESS_REVISION, revisionAtLeast } from './methods.js';
import { batchExceeds, membersExceed, parseJsonRpcBody } from './json-rpc-body.js';
import type { JsonValue } from './json-rpc-body.js';
import { showsJsonRpcSignal } from './json-rpc-signal.js';
import { trimOws } from './ows.js';
import { readMessages } from './read-messages.js';

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

/**
 * Inspects one request. See the module comment for what counts as MCP. `charsets` reads a body
 * in a charset other than UTF-8 (injected: the core imports no package).
 */
export function inspectMcp(
  facts: RequestFacts,
  limits: InspectionLimits,
  charsets: CharsetDecoder,
): McpInspection {
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
    return inspectPartial(builder, facts, headers, body, limits, charsets, {
      detail: 'truncated',
      message: 'the body was truncated by Envoy (x-envoy-auth-partial-body: true)',
    });
  }
  if (body.length > limits.maxBodyBytes) {
    // Never parsed: only its first maxBodyBytes are searched for an MCP signal.
    return inspectPartial(builder, facts, headers, body, limits, charsets, {
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
    charsets,
  );
  if (!decoded.ok) {
    if (decoded.detail === 'too_large') {
      return inspectPartial(builder, facts, headers, body, limits, charsets, decoded);
    }
    // Without MCP headers an undecodable body is someone else's upload, unless its bytes show a
    // JSON-RPC message (an upstream that ignores the coding or charset would still run it), or
    // a coding we cannot undo hides a JSON body that a server which can undo it may run.
    if (!headers.any) {
      if (bodyShowsJsonRpc(facts, body, limits, charsets)) {
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
  charsets: CharsetDecoder,
  why: { readonly detail: InspectionDetail; readonly message: string },
): McpInspection {
  if (!headers.any) {
    if (!bodyShowsJsonRpc(facts, body, limits, charsets)) {
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
  charsets: CharsetDecoder,
): boolean {
  const contentEncoding = facts.headers.get('content-encoding');
  const named = charsetsNamed(facts.headers.get('content-type'), charsets);
  const shows = (view: Uint8Array): boolean =>
    showsJsonRpcSignal(latin1(view)) ||
    named.some((charset) => showsJsonRpcSignal(charsets.decode(view, charset)));
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
  if (isBatch) builder.markBatch();

  // Recognise first: everything below is only an MCP failure if this is MCP at all.
  const { messages, mcpByBody, malformed, jsonRpcShaped } = readMessages(
    elements,
    parsed.topLevelIds,
    parsed.argumentDuplicates,
    limits.maxBatchElements,
    text,
  );
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
