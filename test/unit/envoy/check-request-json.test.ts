import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, test } from 'vitest';

import type { CheckRequest } from '../../../src/envoy/check-types.js';
import { decodeCheckRequest } from '../../../src/envoy/check-request-codec.js';
import { checkRequestJsonToBytes } from '../../../src/envoy/check-request-json.js';
import type { CheckRequestJsonOptions } from '../../../src/envoy/check-request-json.js';
import { authorizationService } from '../../../src/envoy/proto.js';
import { toRequestFacts } from '../../../src/envoy/to-facts.js';
import { AppError } from '../../../src/errors.js';
import { envoyCheckRequest } from '../../helpers/envoy-check-request.js';

/**
 * The mapping read back with proto-loader's generic decode, the oracle that sees every field
 * (the server's lean decoder reads only those the facts need).
 */
function checkRequestFromJson(json: unknown, options?: CheckRequestJsonOptions): CheckRequest {
  return authorizationService.Check.requestDeserialize(checkRequestJsonToBytes(json, options));
}

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/check-requests');

const BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');

/** A CheckRequest as protojson / an OPA-Envoy decision log prints it (lowerCamelCase). */
const CAMEL = {
  attributes: {
    source: { address: { socketAddress: { address: '10.1.2.3', portValue: 54321 } } },
    destination: { address: { socketAddress: { address: '10.0.0.10', portValue: 15001 } } },
    request: {
      time: '2026-01-01T00:00:00.250Z',
      http: {
        id: '14364395182449484694',
        method: 'POST',
        headers: {
          ':authority': 'mcp.example.com',
          ':path': '/mcp',
          ':method': 'POST',
          ':scheme': 'http',
          'content-type': 'application/json',
          'x-forwarded-proto': 'http',
          'x-request-id': 'rid',
          'x-envoy-auth-partial-body': 'false',
          // Header names are data: never renamed (converting would give xSnakeHeader).
          x_snake_header: 'kept',
        },
        path: '/mcp',
        host: 'mcp.example.com',
        scheme: 'http',
        size: String(BODY.length),
        protocol: 'HTTP/1.1',
        rawBody: b64(BODY),
      },
    },
    contextExtensions: { route_name: 'mcp', someKey: 'v' },
    metadataContext: {
      filterMetadata: {
        'envoy.filters.http.mcp': {
          method: 'tools/list',
          id: 1,
          ok: true,
          none: null,
          list: [1, 'a'],
        },
      },
    },
    routeMetadataContext: {},
    tlsSession: { sni: 'mcp.example.com' },
  },
};

/** The same request with proto field names, as some tools print it. */
const SNAKE = {
  attributes: {
    source: { address: { socket_address: { address: '10.1.2.3', port_value: 54321 } } },
    destination: { address: { socket_address: { address: '10.0.0.10', port_value: 15001 } } },
    request: {
      time: '2026-01-01T01:00:00.250+01:00',
      http: {
        ...CAMEL.attributes.request.http,
        rawBody: undefined,
        raw_body: b64(BODY),
        size: BODY.length,
      },
    },
    context_extensions: { route_name: 'mcp', someKey: 'v' },
    metadata_context: {
      filter_metadata: {
        'envoy.filters.http.mcp': {
          method: 'tools/list',
          id: 1,
          ok: true,
          none: null,
          list: [1, 'a'],
        },
      },
    },
    route_metadata_context: {},
    tls_session: { sni: 'mcp.example.com' },
  },
};

// JSON.stringify drops the undefined key, as reading a file would.
const snakeJson = JSON.parse(JSON.stringify(SNAKE)) as unknown;

describe('explain reads a request as serve does', () => {
  const fixtures = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));

  test('the fixtures are there', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
  });

  test.each([...fixtures, 'CAMEL'])(
    '%s: the lean decoder gives the facts of the generic one',
    (name) => {
      const json: unknown =
        name === 'CAMEL' ? CAMEL : JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
      const bytes = checkRequestJsonToBytes(json);
      const lean = toRequestFacts(decodeCheckRequest(bytes));
      expect(lean).toEqual(toRequestFacts(authorizationService.Check.requestDeserialize(bytes)));
    },
  );
});

describe('checkRequestJsonToBytes', () => {
  test('camelCase and snake_case give the same request', () => {
    expect(checkRequestFromJson(CAMEL)).toEqual(checkRequestFromJson(snakeJson));
  });

  test('the result has the shape the server decodes', () => {
    const req = checkRequestFromJson(CAMEL);
    const http = req.attributes?.request?.http;
    expect(Buffer.isBuffer(http?.raw_body)).toBe(true);
    expect(http?.raw_body?.toString()).toBe(BODY);
    expect(http?.size).toBe(String(BODY.length));
    expect(http?.id).toBe('14364395182449484694');
    expect(req.attributes?.request?.time).toEqual({ seconds: '1767225600', nanos: 250_000_000 });
    expect(req.attributes?.source?.address).toEqual({
      socket_address: { address: '10.1.2.3', port_value: 54321, port_specifier: 'port_value' },
      address: 'socket_address',
    });
    expect(req.attributes?.context_extensions).toEqual({ route_name: 'mcp', someKey: 'v' });
    expect(http?.headers?.['x_snake_header']).toBe('kept');
    expect(req.attributes?.metadata_context?.filter_metadata?.['envoy.filters.http.mcp']).toEqual({
      fields: {
        method: { stringValue: 'tools/list', kind: 'stringValue' },
        id: { numberValue: 1, kind: 'numberValue' },
        ok: { boolValue: true, kind: 'boolValue' },
        none: { nullValue: 'NULL_VALUE', kind: 'nullValue' },
        list: {
          listValue: {
            values: [
              { numberValue: 1, kind: 'numberValue' },
              { stringValue: 'a', kind: 'stringValue' },
            ],
          },
          kind: 'listValue',
        },
      },
    });
    expect(req.attributes?.route_metadata_context).toEqual({});
  });

  test('equals what the builder makes for the same request', () => {
    const built = envoyCheckRequest({
      body: BODY,
      packAsBytes: true,
      requestId: 'rid',
      streamId: '14364395182449484694',
      headers: { 'content-type': 'application/json', x_snake_header: 'kept' },
      contextExtensions: { route_name: 'mcp', someKey: 'v' },
      metadataContext: {
        'envoy.filters.http.mcp': {
          method: 'tools/list',
          id: 1,
          ok: true,
          none: null,
          list: [1, 'a'],
        },
      },
      tlsSni: 'mcp.example.com',
    });
    expect(checkRequestFromJson(CAMEL)).toEqual(built);
    expect(toRequestFacts(checkRequestFromJson(CAMEL))).toEqual(toRequestFacts(built));
  });

  test('bytes: standard and URL-safe base64, with or without padding', () => {
    const bytes = Uint8Array.of(0xfb, 0xff, 0xfe, 0x00);
    for (const text of ['+//+AA==', '-__-AA', '+//+AA']) {
      const req = checkRequestFromJson({ attributes: { request: { http: { rawBody: text } } } });
      expect([...(req.attributes?.request?.http?.raw_body ?? [])]).toEqual([...bytes]);
    }
  });

  test('header_map raw_value is base64', () => {
    const req = checkRequestFromJson({
      attributes: {
        request: {
          http: {
            headerMap: {
              headers: [
                { key: ':authority', rawValue: b64('mcp.example.com') },
                { key: 'x-bin', raw_value: b64(Uint8Array.of(0x61, 0xff)) },
              ],
            },
          },
        },
      },
    });
    const headers = req.attributes?.request?.http?.header_map?.headers ?? [];
    expect(headers[0]?.raw_value?.toString()).toBe('mcp.example.com');
    expect([...(headers[1]?.raw_value ?? [])]).toEqual([0x61, 0xff]);
    expect(toRequestFacts(req).host).toBe('mcp.example.com');
  });

  test('int64 as number or string; null means unset', () => {
    const a = checkRequestFromJson({ attributes: { request: { http: { size: 19, body: null } } } });
    const b = checkRequestFromJson({ attributes: { request: { http: { size: '19' } } } });
    expect(a).toEqual(b);
    expect(a.attributes?.request?.http?.size).toBe('19');
  });

  test('OPA-Envoy input extras at the top level are ignored', () => {
    const opa = {
      ...CAMEL,
      parsed_path: ['mcp'],
      parsed_query: {},
      parsed_body: { jsonrpc: '2.0' },
      truncated_body: false,
      version: { encoding: 'protojson', ext_authz: 'v3' },
    };
    expect(checkRequestFromJson(opa)).toEqual(checkRequestFromJson(CAMEL));
  });

  test('ignoreUnknownFields skips unknown fields anywhere', () => {
    const req = checkRequestFromJson(
      { attributes: { request: { http: { method: 'GET', futureField: 1 } } } },
      { ignoreUnknownFields: true },
    );
    expect(req.attributes?.request?.http?.method).toBe('GET');
  });

  interface InvalidRow {
    readonly name: string;
    readonly input: unknown;
    readonly message: RegExp;
  }

  const INVALID_ROWS: readonly InvalidRow[] = [
    { name: 'not an object', input: [], message: /^\$: expected a JSON object/ },
    { name: 'null', input: null, message: /^\$: expected a JSON object/ },
    {
      name: 'unknown field',
      input: { attributes: { request: { http: { methd: 'GET' } } } },
      message: /^\$\.attributes\.request\.http: unknown field "methd"/,
    },
    {
      name: 'both spellings',
      input: { attributes: { contextExtensions: {}, context_extensions: {} } },
      message: /given twice/,
    },
    {
      name: 'wrong scalar type',
      input: { attributes: { request: { http: { method: 5 } } } },
      message: /\.method: expected string, got number 5/,
    },
    {
      name: 'invalid base64',
      input: { attributes: { request: { http: { rawBody: 'not base64!' } } } },
      message: /\.rawBody: expected base64 bytes/,
    },
    {
      name: 'int64 not an integer',
      input: { attributes: { request: { http: { size: '1.5' } } } },
      message: /\.size: expected int64/,
    },
    {
      name: 'uint32 out of range',
      input: {
        attributes: { source: { address: { socketAddress: { portValue: 4294967296 } } } },
      },
      message: /out of range for uint32/,
    },
    {
      name: 'two oneof members',
      input: { attributes: { source: { address: { socketAddress: {}, pipe: {} } } } },
      message: /oneof address has both socket_address and pipe/,
    },
    {
      name: 'unknown enum name',
      input: { attributes: { source: { address: { socketAddress: { protocol: 'SCTP' } } } } },
      message: /expected a Protocol name or number/,
    },
    {
      name: 'bad timestamp',
      input: { attributes: { request: { time: '2026-02-30T00:00:00Z' } } },
      message: /not a valid date and time/,
    },
    {
      name: 'map given as array',
      input: { attributes: { contextExtensions: [] } },
      message: /expected an object \(a map\)/,
    },
    {
      name: 'Any of a type we do not know',
      input: {
        attributes: {
          metadataContext: {
            typedFilterMetadata: { ns: { '@type': 'type.googleapis.com/acme.Foo', a: 1 } },
          },
        },
      },
      message: /Any of type acme\.Foo/,
    },
  ];

  test.each(INVALID_ROWS)('rejects: $name', ({ input, message }) => {
    let caught: unknown;
    try {
      checkRequestFromJson(input);
    } catch (err: unknown) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('ERR_REQUEST_INVALID');
    expect((caught as AppError).message).toMatch(message);
  });

  test('Any of a known type is packed', () => {
    const req = checkRequestFromJson({
      attributes: {
        metadataContext: {
          typedFilterMetadata: {
            ns: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { a: 1 } },
          },
        },
      },
    });
    const any = req.attributes?.metadata_context?.typed_filter_metadata?.['ns'];
    expect(any?.type_url).toBe('type.googleapis.com/google.protobuf.Struct');
    expect(any?.value?.length).toBeGreaterThan(0);
  });
});
