/**
 * RequestFacts for unit tests of the pure core, built the way the service builds them: the
 * request goes through the Envoy-faithful CheckRequest builder (envoy-check-request.ts) and then
 * the service's own src/envoy/to-facts.ts, so a test never judges facts Envoy could not send.
 */
import { gzipSync } from 'node:zlib';
import type { RequestFacts, SourceAddress } from '../../src/core/facts.js';
import { toRequestFacts } from '../../src/envoy/to-facts.js';
import { envoyCheckRequest } from './envoy-check-request.js';
import type { JsonObject } from './envoy-check-request.js';

export interface FactsInput {
  readonly method?: string;
  readonly authority?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly truncated?: boolean;
  readonly sni?: string;
  readonly source?: SourceAddress;
  /** The TLS peer's principal (`source.principal`). */
  readonly peerPrincipal?: string;
  /** `metadata_context.filter_metadata`: namespace → plain JSON object. */
  readonly metadata?: Readonly<Record<string, JsonObject>>;
}

/** Streamable HTTP POST headers as the TS SDK sends them. */
export const STREAMABLE_POST = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

/**
 * One request's facts. The body reaches us whole, as exact bytes (`pack_as_bytes`), unless
 * `truncated`: then Envoy buffered exactly `body` of a longer one.
 */
export function makeFacts(input: FactsInput = {}): RequestFacts {
  const body = input.body === undefined ? new Uint8Array(0) : toBytes(input.body);
  const truncated = input.truncated === true;
  if (truncated && body.length === 0) throw new Error('makeFacts: a cut body keeps some bytes');
  return toRequestFacts(
    envoyCheckRequest({
      method: (input.method ?? 'POST').toUpperCase(),
      authority: input.authority ?? 'mcp.example.com',
      path: input.path ?? '/mcp',
      ...(input.headers !== undefined ? { headers: input.headers } : {}),
      // A cut body is the first bytes of a longer one: one more byte than Envoy keeps.
      body: truncated ? Buffer.concat([body, Buffer.from(' ')]) : body,
      maxRequestBytes: Math.max(1, body.length),
      packAsBytes: true,
      ...(input.source !== undefined ? { source: input.source } : {}),
      ...(input.sni !== undefined ? { tlsSni: input.sni } : {}),
      ...(input.peerPrincipal !== undefined ? { sourcePrincipal: input.peerPrincipal } : {}),
      ...(input.metadata !== undefined ? { metadataContext: input.metadata } : {}),
    }),
  );
}

function toBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? new TextEncoder().encode(body) : body;
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
