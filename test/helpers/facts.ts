/**
 * Builds RequestFacts directly (normalised exactly as src/envoy/to-facts.ts does) for unit tests
 * of the pure core. End-to-end paths use the Envoy-faithful CheckRequest builder instead.
 */
import { gzipSync } from 'node:zlib';
import type { RequestFacts, SourceAddress } from '../../src/core/facts.js';
import type { JsonObject } from '../../src/core/mcp/json-rpc-body.js';
import { normaliseAuthority, normalisePath } from '../../src/core/normalise.js';

export interface FactsInput {
  readonly method?: string;
  readonly authority?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly truncated?: boolean;
  readonly sni?: string;
  readonly source?: SourceAddress;
  readonly peerPrincipal?: string;
  /** `metadata_context.filter_metadata` as plain JSON. */
  readonly metadata?: Readonly<Record<string, JsonObject>>;
}

/** Streamable HTTP POST headers as the TS SDK sends them. */
export const STREAMABLE_POST = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

export function makeFacts(input: FactsInput = {}): RequestFacts {
  const method = (input.method ?? 'POST').toUpperCase();
  const authority = input.authority ?? 'mcp.example.com';
  const isConnect = method === 'CONNECT';
  const rawPath = isConnect ? '' : (input.path ?? '/mcp');
  const { host, port } = normaliseAuthority(authority);
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(input.headers ?? {}))
    headers.set(name.toLowerCase(), value);
  const body =
    input.body === undefined
      ? undefined
      : typeof input.body === 'string'
        ? new TextEncoder().encode(input.body)
        : input.body;
  return {
    method,
    authority,
    host,
    port,
    rawPath,
    path: isConnect ? '' : normalisePath(rawPath),
    isConnect,
    scheme: 'http',
    protocol: 'HTTP/1.1',
    headers,
    body,
    bodyTruncated: input.truncated ?? false,
    requestId: headers.get('x-request-id'),
    sni: input.sni,
    source: input.source,
    peerPrincipal: input.peerPrincipal ?? '',
    peerCertificate: '',
    metadata: new Map(Object.entries(input.metadata ?? {})),
  };
}

/** A JSON-RPC request body (TS SDK key order: method, params, jsonrpc, id). */
export function rpc(method: string, params?: unknown, id: number | string | null = 1): string {
  const message: Record<string, unknown> = { method };
  if (params !== undefined) message['params'] = params;
  message['jsonrpc'] = '2.0';
  if (id !== null) message['id'] = id;
  return JSON.stringify(message);
}

export function gzip(text: string): Uint8Array {
  return gzipSync(Buffer.from(text));
}
