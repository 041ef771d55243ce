/**
 * What a request's headers and shape say about MCP, before any body is read: the MCP request
 * headers (`Mcp-Method`/`Mcp-Name` decoded once), the transport the `Accept` header implies,
 * WebSocket openings and OAuth discovery, and the 2026-07-28 rules that tie the headers to the
 * body (docs/wire/mcp.md, Request headers and MCP signals).
 *
 * Pure and total: no I/O, no clock, never throws.
 */
import type { RequestFacts } from '../facts.js';
import { decodeMcpHeaderValue } from './header-value.js';
import type { InspectionDetail, McpMessage, McpTransport } from './inspection.js';
import { HEADER_VALIDATING_REVISION, NAMED_METHODS, revisionAtLeast } from './methods.js';
import { trimOws } from './ows.js';

/** The MCP request headers of one request, read once. */
export interface HeaderSignals {
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

/** Reads the MCP request headers once; `any` is true when any of them is present. */
export function readHeaderSignals(facts: RequestFacts): HeaderSignals {
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
export function isMcpWebSocket(facts: RequestFacts): boolean {
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

/** A GET or HEAD under `/.well-known/`: OAuth discovery, never MCP even with MCP headers. */
export function isOAuthDiscovery(facts: RequestFacts): boolean {
  return (
    (facts.method === 'GET' || facts.method === 'HEAD') && facts.path.startsWith('/.well-known/')
  );
}

/** True when an `Accept` header lists `text/event-stream` (wildcards do not count). */
export function acceptsEventStream(accept: string | undefined): boolean {
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

/** The transport a POST uses: Streamable HTTP when it accepts an event stream, else legacy SSE. */
export function transportOf(facts: RequestFacts): McpTransport {
  if (facts.method !== 'POST') return 'none';
  return acceptsEventStream(facts.headers.get('accept')) ? 'streamable_http' : 'legacy_sse';
}

export type TrustedHeaders =
  | { readonly ok: true; readonly message: McpMessage | undefined }
  | {
      readonly ok: false;
      readonly failure: { detail: InspectionDetail; message: string } | undefined;
    };

/**
 * 2026-07-28 servers must reject requests whose `Mcp-Method`/`Mcp-Name` disagree with the body,
 * so when no body is available those headers may stand in for it. Older or absent revisions
 * give no such guarantee: the spec tells intermediaries not to trust the headers then
 * (docs/wire/mcp.md, Request headers).
 */
export function trustedHeaderMessage(headers: HeaderSignals): TrustedHeaders {
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
      arguments: undefined,
      argumentsRepeatKeys: false,
      resourceUri: method === 'resources/read' ? name : undefined,
      prompt: method === 'prompts/get' ? name : undefined,
      protocolVersion: headers.protocolVersion,
      clientName: undefined,
    },
  };
}

/**
 * `Mcp-Method`/`Mcp-Name` must agree with the body whenever they are sent (some 2025-era
 * bridges send them too). A 2026-07-28 request must carry them.
 */
export function headerBodyMismatch(
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
