/**
 * The proof that proto/ (our own subset) speaks Envoy's wire format.
 *
 * Requests: bytes encoded with Envoy's own definitions (@grpc/grpc-js-xds deps/envoy-api) are
 * decoded with the exact function grpc-js uses in our server (`requestDeserialize` of the
 * Authorization service definition) and must give the same object, and the same facts, as
 * Envoy's definitions do. Responses: bytes from our `responseSerialize` are decoded with Envoy's
 * definitions and must carry exactly the values we meant.
 */
import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';

import { parseAllowlist } from '../../src/config/load-allowlist.js';
import { parseKnownHosts } from '../../src/config/load-known-hosts.js';
import { authorize } from '../../src/core/pipeline.js';
import type { Mode } from '../../src/core/policy/policy.js';
import type { CheckRequest, CheckResponse } from '../../src/envoy/check-types.js';
import { authorizationService } from '../../src/envoy/proto.js';
import { toRequestFacts } from '../../src/envoy/to-facts.js';
import { serviceFaultResponse, toCheckResponse } from '../../src/envoy/to-response.js';
import {
  encodeWithEnvoyProtos,
  envoyCheckRequest,
  type EnvoyCheckRequestOptions,
} from '../helpers/envoy-check-request.js';
import {
  ENVOY_TO_OBJECT,
  envoyCheckRequestType,
  envoyCheckResponseType,
  envoyRoot,
} from '../helpers/envoy-protos.js';
import { rpc } from '../helpers/facts.js';
import { githubAllowlist, REVIEW_URL } from '../helpers/github-allowlist.js';
import { ICONV_CHARSETS } from '../../src/text/iconv-charsets.js';

const ourDecode = authorizationService.Check.requestDeserialize;
const ourSerialize = authorizationService.Check.responseSerialize;
const ourResponseDecode = authorizationService.Check.responseDeserialize;

function envoyDecodeRequest(wire: Buffer): CheckRequest {
  return envoyCheckRequestType.toObject(envoyCheckRequestType.decode(wire), ENVOY_TO_OBJECT);
}

function envoyDecodeResponse(
  wire: Buffer,
  options: protobuf.IConversionOptions = ENVOY_TO_OBJECT,
): Record<string, unknown> {
  return envoyCheckResponseType.toObject(envoyCheckResponseType.decode(wire), options);
}

/** Top-level field numbers present in an encoded message, in order. */
function fieldNumbers(wire: Uint8Array): number[] {
  const reader = protobuf.Reader.create(wire);
  const numbers: number[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    numbers.push(tag >>> 3);
    reader.skipType(tag & 7);
  }
  return numbers;
}

const MCP_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'search', arguments: { q: 'ünïcödé' } },
});

interface RequestRow {
  readonly name: string;
  readonly options: EnvoyCheckRequestOptions;
  readonly rationale: string;
}

const REQUEST_ROWS: readonly RequestRow[] = [
  {
    name: 'headers map, body string, metadata, TLS, context extensions',
    options: {
      authority: 'MCP.Example.com:8443',
      path: '/mcp/../mcp?session=1',
      scheme: 'https',
      protocol: 'HTTP/2',
      headers: {
        'content-type': 'application/json',
        'mcp-session-id': 'abc',
        'x-foo': ['a', 'b'],
        cookie: ['a=1', 'b=2'],
        'proxy-authorization': 'Basic eDp5',
        connection: 'keep-alive',
        'x-envoy-auth-partial-body': 'false',
      },
      body: MCP_BODY,
      source: { address: '192.168.1.20', port: 40000 },
      destination: { address: '127.0.0.1', port: 15001 },
      sourcePrincipal: 'spiffe://cluster.local/ns/a/sa/b',
      destinationPrincipal: 'envoy.domain.com',
      tlsSni: 'mcp.example.com',
      contextExtensions: { route: 'mcp', 'X-Case': 'Kept' },
      metadataContext: {
        'envoy.filters.http.mcp': {
          method: 'tools/call',
          id: 1,
          batch: false,
          params: { name: 'search', tags: ['a', 2, null, { deep: true }], empty: {}, none: [] },
        },
      },
      time: new Date('2026-03-04T05:06:07.089Z'),
      streamId: '14364395182449484694',
      requestId: '6f1c3c1e-2c8e-4a53-9a36-0b9d8f2f6a11',
    },
    rationale: 'every field of the default (map) encoding that we read',
  },
  {
    name: 'encode_raw_headers, raw_body bytes, non-UTF-8 header bytes',
    options: {
      encodeRawHeaders: true,
      packAsBytes: true,
      headers: [
        ['content-type', 'application/json'],
        ['x-bin', Uint8Array.of(0x61, 0xff, 0x62)],
        ['x-foo', 'a'],
        ['x-foo', 'b'],
        ['x-empty', ''],
      ],
      body: Uint8Array.of(0x7b, 0x7d, 0x00, 0xff),
      useRemoteAddress: true,
      source: { address: '203.0.113.9', port: 1234 },
    },
    rationale: 'header_map with raw_value Buffers (headers empty), exact body bytes',
  },
  {
    name: 'truncated body string',
    options: { body: 'é'.repeat(10), maxRequestBytes: 5, bytesReceived: 20 },
    rationale: 'size is bytes received, body the first max bytes, sanitised',
  },
  {
    name: 'CONNECT',
    options: {
      method: 'CONNECT',
      authority: 'api.example.com:443',
      headers: { 'proxy-authorization': 'Basic eDp5' },
      tlsSni: '',
    },
    rationale: 'no :path, no path; an empty TLSSession message',
  },
  {
    name: 'GET without body',
    options: { path: '/mcp', headers: { accept: 'text/event-stream' } },
    rationale: 'no body fields, no partial-body header, size 0',
  },
];

describe('CheckRequest: Envoy encodes, we decode', () => {
  test.each(REQUEST_ROWS)('$name', ({ options }) => {
    const built = envoyCheckRequest(options);
    const wire = encodeWithEnvoyProtos(built);
    const ours = ourDecode(wire);

    // The builder's hand-made shape is exactly what grpc-js delivers to our handler...
    expect(ours).toEqual(built);
    // ...and exactly what Envoy's own definitions decode from the same bytes.
    expect(ours).toEqual(envoyDecodeRequest(wire));
    // Re-encoding what we decoded with Envoy's definitions reproduces the bytes: nothing lost.
    expect(encodeWithEnvoyProtos(ours).equals(wire)).toBe(true);
    expect(toRequestFacts(ours)).toEqual(toRequestFacts(envoyDecodeRequest(wire)));
  });

  test('facts from the map encoding', () => {
    const ours = ourDecode(encodeWithEnvoyProtos(envoyCheckRequest(REQUEST_ROWS[0]!.options)));
    const facts = toRequestFacts(ours);
    expect(facts).toMatchObject({
      method: 'POST',
      authority: 'MCP.Example.com:8443',
      host: 'mcp.example.com',
      port: 8443,
      rawPath: '/mcp/../mcp?session=1',
      path: '/mcp',
      isConnect: false,
      scheme: 'https',
      protocol: 'HTTP/2',
      bodyTruncated: false,
      requestId: '6f1c3c1e-2c8e-4a53-9a36-0b9d8f2f6a11',
      sni: 'mcp.example.com',
    });
    expect(Buffer.from(facts.body ?? []).toString('utf8')).toBe(MCP_BODY);
    expect(facts.headers.get('x-foo')).toBe('a,b');
    expect(facts.headers.get('cookie')).toBe('a=1; b=2');
    expect(facts.headers.get('proxy-authorization')).toBe('Basic eDp5');
    expect(facts.headers.get('x-envoy-auth-partial-body')).toBe('false');
    expect(facts.headers.has('connection')).toBe(false);
    expect(facts.headers.has('host')).toBe(false);
    expect(ours.attributes?.context_extensions).toEqual({ route: 'mcp', 'X-Case': 'Kept' });
    expect(ours.attributes?.metadata_context?.filter_metadata?.['envoy.filters.http.mcp']).toEqual({
      fields: expect.objectContaining({
        method: { stringValue: 'tools/call', kind: 'stringValue' },
        batch: { boolValue: false, kind: 'boolValue' },
      }) as unknown,
    });
    expect(ours.attributes?.request?.time).toEqual({ seconds: '1772600767', nanos: 89_000_000 });
    expect(ours.attributes?.request?.http?.size).toBe(String(Buffer.byteLength(MCP_BODY)));
    expect(ours.attributes?.request?.http?.id).toBe('14364395182449484694');
    expect(ours.attributes?.source?.address).toEqual({
      socket_address: { address: '192.168.1.20', port_value: 40000, port_specifier: 'port_value' },
      address: 'socket_address',
    });
  });

  test('facts from the raw encoding', () => {
    const ours = ourDecode(encodeWithEnvoyProtos(envoyCheckRequest(REQUEST_ROWS[1]!.options)));
    expect(ours.attributes?.request?.http?.headers).toBeUndefined();
    expect(
      Buffer.isBuffer(ours.attributes?.request?.http?.header_map?.headers?.[0]?.raw_value),
    ).toBe(true);
    const facts = toRequestFacts(ours);
    expect(facts.headers.get('x-foo')).toBe('a,b');
    expect(facts.headers.get('x-bin')).toBe('a\ufffdb');
    expect(facts.headers.get('x-empty')).toBe('');
    expect(facts.headers.get('x-forwarded-for')).toBe('203.0.113.9');
    expect(facts.headers.get('x-envoy-external-address')).toBe('203.0.113.9');
    expect(facts.host).toBe('mcp.example.com');
    expect(Buffer.isBuffer(ours.attributes?.request?.http?.raw_body)).toBe(true);
    expect([...(facts.body ?? [])]).toEqual([0x7b, 0x7d, 0x00, 0xff]);
  });

  test('every field our subset declares, including the ones we do not read', () => {
    // Written directly against Envoy's definitions, not through the builder.
    const typedAny = envoyRoot.lookupType('google.protobuf.Struct');
    const full = {
      attributes: {
        source: {
          address: {
            socket_address: {
              protocol: 'UDP',
              address: '10.0.0.1',
              named_port: 'http',
              resolver_name: 'r',
              ipv4_compat: true,
            },
          },
          service: 'svc',
          labels: { a: 'b' },
          principal: 'p',
          certificate: 'c%20d',
        },
        destination: { address: { pipe: { path: '/run/envoy.sock', mode: 420 } } },
        request: {
          time: { seconds: '-1', nanos: 5 },
          http: {
            id: '18446744073709551615',
            method: 'PUT',
            headers: { ':authority': 'x' },
            header_map: { headers: [{ key: 'k', value: 'v', raw_value: Buffer.from('rv') }] },
            path: '/p?q',
            host: 'h',
            scheme: 's',
            query: 'q',
            fragment: 'f',
            size: '9223372036854775807',
            protocol: 'HTTP/3',
            body: 'b',
            raw_body: Buffer.from([1, 2, 3]),
          },
        },
        context_extensions: { k: 'v' },
        metadata_context: {
          filter_metadata: { ns: { fields: { n: { numberValue: 1.5 } } } },
          typed_filter_metadata: {
            ns: {
              type_url: 'type.googleapis.com/google.protobuf.Struct',
              value: Buffer.from(typedAny.encode(typedAny.fromObject({ fields: {} })).finish()),
            },
          },
        },
        tls_session: { sni: 'sni.example' },
        route_metadata_context: { filter_metadata: { r: {} } },
      },
    };
    const other = {
      attributes: {
        source: {
          address: { envoy_internal_address: { server_listener_name: 'l', endpoint_id: 'e' } },
        },
      },
    };
    for (const message of [full, other]) {
      const wire = Buffer.from(
        envoyCheckRequestType.encode(envoyCheckRequestType.fromObject(message)).finish(),
      );
      const ours = ourDecode(wire);
      expect(ours).toEqual(envoyDecodeRequest(wire));
      expect(encodeWithEnvoyProtos(ours).equals(wire)).toBe(true);
    }
  });

  test('fields newer Envoy versions add are skipped, not fatal', () => {
    const wire = encodeWithEnvoyProtos(envoyCheckRequest({ streamId: '1', requestId: 'r' }));
    // Field 99 (length-delimited) is unknown to both definitions, as a future field would be.
    const future = protobuf.Writer.create()
      .uint32((99 << 3) | 2)
      .string('from the future')
      .finish();
    const extended = Buffer.concat([wire, future]);
    expect(ourDecode(extended)).toEqual(ourDecode(wire));
  });
});

describe('CheckResponse: we encode, Envoy decodes', () => {
  const dynamicMetadata = {
    fields: {
      reason: { stringValue: 'unapproved' },
      decision_id: { stringValue: 'bcdfghjkmnpqrstvwxyz' },
      dry_run: { boolValue: false },
      count: { numberValue: 2 },
    },
  };
  const dynamicMetadataDecoded = {
    fields: {
      reason: { stringValue: 'unapproved', kind: 'stringValue' },
      decision_id: { stringValue: 'bcdfghjkmnpqrstvwxyz', kind: 'stringValue' },
      dry_run: { boolValue: false, kind: 'boolValue' },
      count: { numberValue: 2, kind: 'numberValue' },
    },
  };

  test('denied with 403, headers, body and dynamic metadata', () => {
    const response: CheckResponse = {
      status: { code: 7, message: 'unapproved' },
      denied_response: {
        status: { code: 403 },
        headers: [
          { header: { key: 'content-type', value: 'application/json' }, append: { value: false } },
          { header: { key: 'x-mcp-gate-reason', value: 'unapproved' }, append: { value: false } },
        ],
        body: '{"error":"unapproved"}',
      },
      dynamic_metadata: dynamicMetadata,
    };
    const wire = ourSerialize(response);
    expect(envoyDecodeResponse(wire)).toEqual({
      status: { code: 7, message: 'unapproved' },
      denied_response: {
        status: { code: 'Forbidden' },
        // The wrapper is present (Envoy's has_append() is true) and says false: overwrite.
        // protobufjs writes a scalar that was set explicitly even when it equals the default.
        headers: [
          { header: { key: 'content-type', value: 'application/json' }, append: { value: false } },
          { header: { key: 'x-mcp-gate-reason', value: 'unapproved' }, append: { value: false } },
        ],
        body: '{"error":"unapproved"}',
      },
      http_response: 'denied_response',
      dynamic_metadata: dynamicMetadataDecoded,
    });
  });

  test('denied with status 200 (a soft denial the client can read)', () => {
    const wire = ourSerialize({
      status: { code: 7 },
      denied_response: { status: { code: 200 }, headers: [], body: 'no' },
    });
    expect(envoyDecodeResponse(wire)).toEqual({
      status: { code: 7 },
      denied_response: { status: { code: 'OK' }, body: 'no' },
      http_response: 'denied_response',
    });
    expect(envoyDecodeResponse(wire, { enums: Number })).toMatchObject({
      denied_response: { status: { code: 200 } },
    });
  });

  test('ok with request headers, removals, response headers and query mutations', () => {
    const wire = ourSerialize({
      status: { code: 0 },
      ok_response: {
        headers: [
          { header: { key: 'x-mcp-gate-decision-id', value: 'abc' }, append: { value: false } },
          { header: { key: 'x-trace', value: '1' }, append: { value: true } },
        ],
        headers_to_remove: ['proxy-authorization', 'x-mcp-gate-forged'],
        response_headers_to_add: [
          {
            header: { key: 'x-mcp-gate-server', value: 'github' },
            append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            keep_empty_value: true,
          },
        ],
        query_parameters_to_set: [{ key: 'a', value: 'b' }],
        query_parameters_to_remove: ['token'],
      },
      dynamic_metadata: dynamicMetadata,
    });
    expect(envoyDecodeResponse(wire)).toEqual({
      status: { code: 0 },
      ok_response: {
        headers: [
          { header: { key: 'x-mcp-gate-decision-id', value: 'abc' }, append: { value: false } },
          { header: { key: 'x-trace', value: '1' }, append: { value: true } },
        ],
        headers_to_remove: ['proxy-authorization', 'x-mcp-gate-forged'],
        response_headers_to_add: [
          {
            header: { key: 'x-mcp-gate-server', value: 'github' },
            append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            keep_empty_value: true,
          },
        ],
        query_parameters_to_set: [{ key: 'a', value: 'b' }],
        query_parameters_to_remove: ['token'],
      },
      http_response: 'ok_response',
      dynamic_metadata: dynamicMetadataDecoded,
    });
  });

  test('ok without http_response', () => {
    const wire = ourSerialize({ status: { code: 0 } });
    expect(envoyDecodeResponse(wire)).toEqual({ status: { code: 0 } });
  });

  test('error_response (field 5) is unknown to the grpc-js-xds snapshot of Envoy', () => {
    // Envoy added error_response in 1.37; @grpc/grpc-js-xds 1.14.1 ships older protos. An Envoy
    // built from them skips field 5 like any unknown field, so the response reads as a plain
    // denial (non-zero status, no http_response) and Envoy answers 403
    // (docs/wire/envoy-ext-authz.md, error_response).
    const response: CheckResponse = {
      status: { code: 14, message: 'internal_error' },
      error_response: {
        status: { code: 503 },
        headers: [
          {
            header: { key: 'x-mcp-gate-reason', value: 'internal_error' },
            append: { value: false },
          },
        ],
        body: 'authorizer failed',
      },
    };
    const wire = ourSerialize(response);
    expect(fieldNumbers(wire)).toEqual([1, 5]);
    expect(envoyCheckResponseType.fields['error_response']).toBeUndefined();
    const decoded = envoyDecodeResponse(wire);
    expect(decoded).toEqual({ status: { code: 14, message: 'internal_error' } });
    expect(decoded).not.toHaveProperty('http_response');
    // Our own definitions (Envoy 1.37+ numbering) read it back intact.
    expect(ourResponseDecode(wire)).toEqual({
      status: { code: 14, message: 'internal_error' },
      error_response: {
        status: { code: 'ServiceUnavailable' },
        headers: [
          {
            header: { key: 'x-mcp-gate-reason', value: 'internal_error' },
            append: { value: false },
          },
        ],
        body: 'authorizer failed',
      },
      http_response: 'error_response',
    });
  });

  test('snake_case Struct value names are silently dropped (check-types.ts forbids them)', () => {
    // protobufjs's bundled struct.proto names Value's members in camelCase, keepCase or not.
    const loose = {
      status: { code: 0 },
      dynamic_metadata: { fields: { a: { string_value: 'x' } } },
    };
    const wire = ourSerialize(loose as unknown as CheckResponse);
    expect(envoyDecodeResponse(wire)).toEqual({
      status: { code: 0 },
      dynamic_metadata: { fields: { a: {} } },
    });
  });

  test('field numbers of the response parts match Envoy', () => {
    // Decoding our bytes with Envoy's definitions already proves this; this names the numbers.
    const ok = ourSerialize({ status: { code: 0 }, ok_response: {}, dynamic_metadata: {} });
    expect(fieldNumbers(ok)).toEqual([1, 3, 4]);
    const denied = ourSerialize({ status: { code: 7 }, denied_response: {} });
    expect(fieldNumbers(denied)).toEqual([1, 2]);
  });
});

// ---------------------------------------------------------------------------------------------
// The real responses: requests Envoy encodes go through our decoder, facts, pipeline and
// toCheckResponse; the bytes of our responseSerialize are read back with Envoy's definitions and
// must say, field by field, what we meant.

describe('CheckResponse from toCheckResponse: Envoy reads what we meant', () => {
  const NOW = Date.parse('2026-11-21T12:00:00Z');
  const DECISION_ID = 'bcdfghjkmnpqrstvwxyz';
  const allowlist = (mode: Mode): string =>
    githubAllowlist({
      mode,
      allow: ['get_*', 'list_*'],
      deny: ['*delete*'],
      expiresOn: '2027-04-18',
    });
  const policyOf = (mode: Mode) => {
    const parsed = parseAllowlist(allowlist(mode), { fileName: 'a.yaml', now: new Date(NOW) });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return parsed.policy;
  };
  const known = parseKnownHosts('hosts: [mcp.notion.com]\n', 'k.yaml');
  if (!known.ok) throw new Error(JSON.stringify(known.errors));
  const knownHosts = known.knownHosts;
  const SESSION = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
    'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
  };
  const GH = { authority: 'api.githubcopilot.com', path: '/mcp/' };
  const call = (tool: string, id: number | string = 7): string =>
    rpc('tools/call', { name: tool, arguments: { q: 'x' } }, id);
  const header = (key: string, value: string) => ({
    header: { key, value },
    append: { value: false },
  });
  const str = (value: string) => ({ stringValue: value, kind: 'stringValue' });
  const bool = (value: boolean) => ({ boolValue: value, kind: 'boolValue' });

  /** Envoy → our decoder → facts → pipeline → toCheckResponse. */
  function realResponse(options: EnvoyCheckRequestOptions, mode: Mode = 'enforce'): CheckResponse {
    const facts = toRequestFacts(ourDecode(encodeWithEnvoyProtos(envoyCheckRequest(options))));
    const policy = policyOf(mode);
    const { decision, inspection } = authorize(
      {
        policy,
        knownHosts,
        limits: { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 },
        charsets: ICONV_CHARSETS,
      },
      facts,
      NOW,
      DECISION_ID,
    );
    return toCheckResponse(decision, facts, inspection, policy);
  }

  test('denied tool on Streamable HTTP: HTTP 200 (OK) with the JSON-RPC tool result', () => {
    const response = realResponse({ ...GH, headers: SESSION, body: call('delete_repo', 'r-"1"') });
    const text = `Tool delete_repo on MCP server github-official is not approved. Request it: ${REVIEW_URL}?host=api.githubcopilot.com&tool=delete_repo&entry=github-official&decision=${DECISION_ID}`;
    const body = `{"jsonrpc":"2.0","id":"r-\\"1\\"","result":${JSON.stringify({
      content: [{ type: 'text', text }],
      isError: true,
      resultType: 'complete',
    })}}`;
    const wire = ourSerialize(response);
    expect(envoyDecodeResponse(wire)).toEqual({
      status: { code: 7, message: 'tool_not_allowed' },
      denied_response: {
        status: { code: 'OK' },
        headers: [
          header('content-type', 'application/json'),
          header('x-mcp-gate-reason', 'tool_not_allowed'),
          header('x-mcp-gate-decision-id', DECISION_ID),
        ],
        body,
      },
      http_response: 'denied_response',
      dynamic_metadata: {
        fields: {
          decision_id: str(DECISION_ID),
          verdict: str('deny'),
          reason: str('tool_not_allowed'),
          dry_run: bool(false),
          allowlist_version: str('2026.11'),
          server: str('github-official'),
          entry: str('github-official'),
          tool: str('delete_repo'),
        },
      },
    });
    expect(envoyDecodeResponse(wire, { enums: Number })).toMatchObject({
      denied_response: { status: { code: 200 } },
    });
  });

  test('unapproved host: HTTP 403 (Forbidden) text', () => {
    const response = realResponse({
      authority: 'mcp.shadow.example',
      headers: SESSION,
      body: rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {} }, 0),
    });
    const wire = ourSerialize(response);
    expect(envoyDecodeResponse(wire)).toEqual({
      status: { code: 7, message: 'unapproved' },
      denied_response: {
        status: { code: 'Forbidden' },
        headers: [
          header('content-type', 'text/plain; charset=utf-8'),
          header('x-mcp-gate-reason', 'unapproved'),
          header('x-mcp-gate-decision-id', DECISION_ID),
        ],
        body: `MCP server mcp.shadow.example is not approved for use here. Request a security review: ${REVIEW_URL}?host=mcp.shadow.example&decision=${DECISION_ID}`,
      },
      http_response: 'denied_response',
      dynamic_metadata: {
        fields: {
          decision_id: str(DECISION_ID),
          verdict: str('deny'),
          reason: str('unapproved'),
          dry_run: bool(false),
          allowlist_version: str('2026.11'),
          server: str('mcp.shadow.example'),
        },
      },
    });
    expect(envoyDecodeResponse(wire, { enums: Number })).toMatchObject({
      denied_response: { status: { code: 403 } },
    });
  });

  test('allow with forged x-mcp-gate-* headers: ours set with append false, the rest removed', () => {
    const response = realResponse({
      ...GH,
      headers: { ...SESSION, 'x-mcp-gate-server': 'forged', 'x-mcp-gate-trusted': 'yes' },
      body: call('get_issue'),
      packAsBytes: true,
      encodeRawHeaders: true,
    });
    expect(envoyDecodeResponse(ourSerialize(response))).toEqual({
      status: { code: 0 },
      ok_response: {
        headers: [
          header('x-mcp-gate-decision-id', DECISION_ID),
          header('x-mcp-gate-server', 'github-official'),
        ],
        headers_to_remove: ['x-mcp-gate-trusted'],
      },
      http_response: 'ok_response',
      dynamic_metadata: {
        fields: {
          decision_id: str(DECISION_ID),
          verdict: str('allow'),
          reason: str('approved'),
          dry_run: bool(false),
          allowlist_version: str('2026.11'),
          server: str('github-official'),
          entry: str('github-official'),
          tool: str('get_issue'),
        },
      },
    });
  });

  test('non-MCP with a forged header: only headers_to_remove', () => {
    const response = realResponse({
      method: 'GET',
      authority: 'api.github.com',
      path: '/repos/acme/payments',
      headers: { accept: 'application/json', 'x-mcp-gate-server': 'forged' },
    });
    expect(envoyDecodeResponse(ourSerialize(response))).toEqual({
      status: { code: 0 },
      ok_response: { headers_to_remove: ['x-mcp-gate-server'] },
      http_response: 'ok_response',
    });
  });

  test('dry-run: allowed, would-deny header, dry_run true in the metadata', () => {
    const response = realResponse(
      { ...GH, headers: SESSION, body: call('delete_repo') },
      'dry-run',
    );
    expect(envoyDecodeResponse(ourSerialize(response))).toEqual({
      status: { code: 0 },
      ok_response: {
        headers: [
          header('x-mcp-gate-decision-id', DECISION_ID),
          header('x-mcp-gate-server', 'github-official'),
          header('x-mcp-gate-would-deny', 'tool_not_allowed'),
        ],
      },
      http_response: 'ok_response',
      dynamic_metadata: {
        fields: {
          decision_id: str(DECISION_ID),
          verdict: str('allow'),
          reason: str('tool_not_allowed'),
          dry_run: bool(true),
          allowlist_version: str('2026.11'),
          server: str('github-official'),
          entry: str('github-official'),
          tool: str('delete_repo'),
        },
      },
    });
  });

  test('internal_error (policy in dry-run): HTTP 503 (ServiceUnavailable) deny', () => {
    const { response } = serviceFaultResponse('internal_error', DECISION_ID, policyOf('dry-run'));
    const wire = ourSerialize(response);
    expect(envoyDecodeResponse(wire)).toEqual({
      status: { code: 7, message: 'internal_error' },
      denied_response: {
        status: { code: 'ServiceUnavailable' },
        headers: [
          header('content-type', 'text/plain; charset=utf-8'),
          header('x-mcp-gate-reason', 'internal_error'),
          header('x-mcp-gate-decision-id', DECISION_ID),
        ],
        body: 'mcp-gate hit an internal error and blocked this MCP request. Please retry; if it keeps happening, contact your security team.',
      },
      http_response: 'denied_response',
      dynamic_metadata: {
        fields: {
          decision_id: str(DECISION_ID),
          verdict: str('deny'),
          reason: str('internal_error'),
          dry_run: bool(false),
          allowlist_version: str('2026.11'),
          server: str(''),
        },
      },
    });
    expect(envoyDecodeResponse(wire, { enums: Number })).toMatchObject({
      denied_response: { status: { code: 503 } },
    });
  });

  test('no response carries fields Envoy does not know or query mutations', () => {
    const responses = [
      realResponse({ ...GH, headers: SESSION, body: call('delete_repo') }),
      realResponse({ ...GH, headers: SESSION, body: call('get_issue') }),
      realResponse({ method: 'CONNECT', authority: 'mcp.notion.com:443' }),
      realResponse({ method: 'CONNECT', authority: 'api.githubcopilot.com:443' }),
      serviceFaultResponse('internal_error', DECISION_ID, undefined).response,
    ];
    for (const response of responses) {
      const wire = ourSerialize(response);
      // 1 status, 2 denied_response, 3 ok_response, 4 dynamic_metadata: no 5 (error_response).
      expect(fieldNumbers(wire).every((n) => n >= 1 && n <= 4)).toBe(true);
      const decoded = envoyDecodeResponse(wire);
      const ok = decoded['ok_response'] as Record<string, unknown> | undefined;
      expect(ok?.['query_parameters_to_set']).toBeUndefined();
      expect(ok?.['query_parameters_to_remove']).toBeUndefined();
      // Re-encoding Envoy's reading gives our bytes back: nothing was lost or misread.
      const again = envoyCheckResponseType.encode(envoyCheckResponseType.decode(wire)).finish();
      expect(Buffer.from(again).equals(wire)).toBe(true);
    }
  });
});
