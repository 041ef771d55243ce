/**
 * The request bodies h2load sends: real CheckRequests built as Envoy builds them
 * (test/helpers/envoy-check-request.ts), with the ext_authz settings the README recommends
 * (`with_request_body` up to 4 MiB, `pack_as_bytes: true`), encoded with Envoy's own protos and
 * framed as one gRPC message (1 flag byte + 4-byte big-endian length).
 *
 * Each payload says what mcp-gate must answer for it with the generated allowlist
 * (allowlist-gen.ts); the benchmark checks that before measuring, so a misconfigured path is
 * never what gets measured.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckRequest } from '../src/envoy/check-types.js';
import { encodeWithEnvoyProtos, envoyCheckRequest } from '../test/helpers/envoy-check-request.js';
import type { EnvoyCheckRequestOptions } from '../test/helpers/envoy-check-request.js';
import { TARGET_ENTRY } from './allowlist-gen.js';

export const PAYLOAD_NAMES = [
  'tools-call',
  'denied-tool',
  'initialize',
  'non-mcp',
  'body-4k',
  'body-64k',
] as const;
export type PayloadName = (typeof PAYLOAD_NAMES)[number];

/** The answer mcp-gate must give. */
export interface Expected {
  readonly verdict: 'allow' | 'deny';
  readonly reason: string;
}

export interface Payload {
  readonly name: PayloadName;
  readonly description: string;
  readonly request: CheckRequest;
  /** The encoded CheckRequest (what Envoy sends as the gRPC message). */
  readonly message: Buffer;
  /** `message` with its 5-byte gRPC frame prefix: h2load's request body. */
  readonly framed: Buffer;
  /** The HTTP body inside the CheckRequest, in bytes. */
  readonly bodyBytes: number;
  readonly expected: Expected;
}

/** The ext_authz filter settings of README.md ("With Envoy"). */
const EXT_AUTHZ = { maxRequestBytes: 4_194_304, packAsBytes: true } as const;

// Fixed ids keep the files identical from run to run.
const SESSION_ID = '3f0c9a52-7d1e-4b8e-9f36-2c5d1e7a9b40';
const TOKEN = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';

const MCP_HEADERS = {
  accept: 'application/json, text/event-stream',
  'content-type': 'application/json',
  'mcp-protocol-version': '2025-11-25',
  'mcp-session-id': SESSION_ID,
  authorization: `Bearer ${TOKEN}`,
  'user-agent': 'claude-code/2.1.221 (cli)',
} as const;

function toolsCall(tool: string, args: Record<string, unknown>): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 42,
    method: 'tools/call',
    params: { name: tool, arguments: args, _meta: { progressToken: 'c1b2e7f0-42' } },
  });
}

const SEARCH_ARGS = {
  owner: 'acme',
  repo: 'payments-service',
  query: 'is:open is:issue label:bug label:"needs triage" sort:updated-desc',
  perPage: 30,
  page: 1,
};

/** A tools/call for an approved tool whose arguments pad the body to exactly `bytes`. */
function paddedToolsCall(bytes: number): string {
  const bare = toolsCall('search_issues', { ...SEARCH_ARGS, context: '' });
  const pad = bytes - Buffer.byteLength(bare);
  if (pad < 0) throw new Error(`a ${bytes}-byte tools/call is too small for its envelope`);
  // Words and spaces, like pasted text, rather than one run of a single byte.
  const text = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(pad / 27)).slice(0, pad);
  return toolsCall('search_issues', { ...SEARCH_ARGS, context: text });
}

function mcpRequest(body: string): EnvoyCheckRequestOptions {
  return {
    ...EXT_AUTHZ,
    method: 'POST',
    authority: TARGET_ENTRY.host,
    path: TARGET_ENTRY.path,
    protocol: 'HTTP/1.1',
    headers: { ...MCP_HEADERS, 'content-length': String(Buffer.byteLength(body)) },
    body,
    streamId: '14364395182449484694',
    requestId: '6f1c3c1e-2c8e-4a53-9a36-0b9d8f2f6a11',
    time: new Date('2026-11-21T09:14:03.250Z'),
  };
}

interface Spec {
  readonly description: string;
  readonly options: EnvoyCheckRequestOptions;
  readonly expected: Expected;
}

function specs(): Record<PayloadName, Spec> {
  const initialize = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: {} },
      clientInfo: { name: 'claude-code', version: '2.1.221' },
    },
  });
  const order = JSON.stringify({
    customer_id: 'cus_8f2k3j4h5g6f',
    currency: 'EUR',
    items: [
      { sku: 'SKU-10042', quantity: 2, unit_price: 1999 },
      { sku: 'SKU-20417', quantity: 1, unit_price: 4999 },
    ],
    shipping: { method: 'express', address_id: 'addr_71c0d2' },
    metadata: { source: 'checkout-web', campaign: 'winter-2026' },
  });
  return {
    'tools-call': {
      description: 'approved tools/call (search_issues on github-official)',
      options: mcpRequest(toolsCall('search_issues', SEARCH_ARGS)),
      expected: { verdict: 'allow', reason: 'approved' },
    },
    'denied-tool': {
      description: 'tools/call of a denied tool (delete_repo on github-official)',
      options: mcpRequest(toolsCall('delete_repo', { owner: 'acme', repo: 'payments-service' })),
      expected: { verdict: 'deny', reason: 'tool_not_allowed' },
    },
    initialize: {
      description: 'initialize to an unapproved MCP server',
      options: {
        ...mcpRequest(initialize),
        authority: 'mcp.unreviewed-vendor.example',
        path: '/mcp',
        headers: {
          accept: MCP_HEADERS.accept,
          'content-type': 'application/json',
          'user-agent': MCP_HEADERS['user-agent'],
          'content-length': String(Buffer.byteLength(initialize)),
        },
      },
      expected: { verdict: 'deny', reason: 'unapproved' },
    },
    'non-mcp': {
      description: 'a non-MCP JSON API call (POST /v1/orders)',
      options: {
        ...EXT_AUTHZ,
        method: 'POST',
        authority: 'api.shop.corp.example',
        path: '/v1/orders?expand=items',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          authorization: `Bearer ${TOKEN}`,
          'user-agent': 'checkout-web/5.12.0',
          'content-length': String(Buffer.byteLength(order)),
        },
        body: order,
        streamId: '14364395182449484695',
        requestId: '0d6b1c4e-5a7f-4e2b-8c3d-9e1f2a3b4c5d',
        time: new Date('2026-11-21T09:14:03.250Z'),
      },
      expected: { verdict: 'allow', reason: 'not_mcp' },
    },
    'body-4k': {
      description: 'approved tools/call with a 4 KiB body',
      options: mcpRequest(paddedToolsCall(4096)),
      expected: { verdict: 'allow', reason: 'approved' },
    },
    'body-64k': {
      description: 'approved tools/call with a 64 KiB body',
      options: mcpRequest(paddedToolsCall(65_536)),
      expected: { verdict: 'allow', reason: 'approved' },
    },
  };
}

function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(0, 0); // not compressed
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** Builds the named payloads. */
export function buildPayloads(names: readonly PayloadName[]): Payload[] {
  const all = specs();
  return names.map((name) => {
    const spec = all[name];
    const request = envoyCheckRequest(spec.options);
    const message = encodeWithEnvoyProtos(request);
    const body = spec.options.body;
    return {
      name,
      description: spec.description,
      request,
      message,
      framed: frame(message),
      bodyBytes: body === undefined ? 0 : Buffer.byteLength(body),
      expected: spec.expected,
    };
  });
}

/** Writes each payload's framed bytes to `<dir>/<name>.grpc`; returns the paths by name. */
export async function writePayloadFiles(
  payloads: readonly Payload[],
  dir: string,
): Promise<Map<PayloadName, string>> {
  const files = new Map<PayloadName, string>();
  for (const payload of payloads) {
    const file = path.join(dir, `${payload.name}.grpc`);
    await writeFile(file, payload.framed);
    files.set(payload.name, file);
  }
  return files;
}
