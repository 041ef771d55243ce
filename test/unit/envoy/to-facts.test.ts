import { describe, expect, test } from 'vitest';

import type { CheckRequest } from '../../../src/envoy/check-types.js';
import { toRequestFacts } from '../../../src/envoy/to-facts.js';
import { envoyCheckRequest } from '../../helpers/envoy-check-request.js';

/** A CheckRequest with only `request.http` set, for hand-made shapes Envoy would not send. */
function withHttp(http: Record<string, unknown>): CheckRequest {
  return { attributes: { request: { http } } };
}

const MCP_BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';

describe('toRequestFacts: what Envoy sends', () => {
  test('a plain MCP POST', () => {
    const facts = toRequestFacts(
      envoyCheckRequest({
        authority: 'API.Example.com:443',
        path: '/mcp/./v1?x=1',
        scheme: 'https',
        protocol: 'HTTP/2',
        headers: { 'Content-Type': 'application/json', 'x-request-id': 'rid-1' },
        body: MCP_BODY,
      }),
    );
    expect(facts).toMatchObject({
      method: 'POST',
      authority: 'API.Example.com:443',
      host: 'api.example.com',
      port: 443,
      rawPath: '/mcp/./v1?x=1',
      path: '/mcp/v1',
      isConnect: false,
      scheme: 'https',
      protocol: 'HTTP/2',
      bodyTruncated: false,
      requestId: 'rid-1',
      sni: undefined,
    });
    expect(Buffer.from(facts.body ?? []).toString()).toBe(MCP_BODY);
    expect(facts.headers.get('content-type')).toBe('application/json');
    expect(facts.headers.get(':method')).toBe('POST');
  });

  test('headers map and header_map give the same facts', () => {
    const common = {
      headers: [
        ['x-foo', 'a'],
        ['X-Foo', 'b'],
        ['accept', 'application/json, text/event-stream'],
      ] as const,
      body: MCP_BODY,
      requestId: 'same',
    };
    const mapped = toRequestFacts(envoyCheckRequest({ ...common, streamId: '1' }));
    const raw = toRequestFacts(
      envoyCheckRequest({ ...common, streamId: '1', encodeRawHeaders: true }),
    );
    expect(raw).toEqual(mapped);
    expect(raw.headers.get('x-foo')).toBe('a,b');
  });

  test('header_map prefers raw_value bytes and falls back to value', () => {
    const facts = toRequestFacts(
      withHttp({
        headers: {},
        header_map: {
          headers: [
            { key: ':authority', raw_value: Buffer.from('mcp.example.com') },
            { key: 'X-Text', value: 'plain' },
            { key: 'x-both', value: 'ignored', raw_value: Buffer.from('bytes') },
            { key: 'x-bad-utf8', raw_value: Buffer.from([0x61, 0xc3]) },
          ],
        },
      }),
    );
    expect(facts.host).toBe('mcp.example.com');
    expect(facts.headers.get('x-text')).toBe('plain');
    expect(facts.headers.get('x-both')).toBe('bytes');
    expect(facts.headers.get('x-bad-utf8')).toBe('a\ufffd');
  });

  test('raw_body is used as is; body string becomes UTF-8 bytes', () => {
    const bytes = toRequestFacts(
      envoyCheckRequest({ body: Uint8Array.of(1, 2, 255), packAsBytes: true }),
    );
    expect([...(bytes.body ?? [])]).toEqual([1, 2, 255]);
    const text = toRequestFacts(envoyCheckRequest({ body: 'é' }));
    expect([...(text.body ?? [])]).toEqual([0xc3, 0xa9]);
  });

  test('raw_body wins over body when both are present', () => {
    const facts = toRequestFacts(withHttp({ raw_body: Buffer.from('raw'), body: 'text' }));
    expect(Buffer.from(facts.body ?? []).toString()).toBe('raw');
  });

  test('truncated body: partial flag from Envoy', () => {
    const facts = toRequestFacts(envoyCheckRequest({ body: MCP_BODY, maxRequestBytes: 10 }));
    expect(facts.bodyTruncated).toBe(true);
    expect(facts.body?.length).toBe(10);
  });

  test('no body: undefined body, no partial flag', () => {
    const facts = toRequestFacts(envoyCheckRequest({ method: 'GET' }));
    expect(facts.body).toBeUndefined();
    expect(facts.bodyTruncated).toBe(false);
    expect(facts.headers.has('x-envoy-auth-partial-body')).toBe(false);
  });

  test('a buffered empty body is an empty body, not a missing one', () => {
    const facts = toRequestFacts(
      withHttp({ headers: { ':authority': 'a.example', 'x-envoy-auth-partial-body': 'false' } }),
    );
    expect(facts.body).toEqual(new Uint8Array(0));
  });

  test('a client-sent partial-body header never reaches the facts', () => {
    const facts = toRequestFacts(
      envoyCheckRequest({ headers: { 'x-envoy-auth-partial-body': 'true' }, body: MCP_BODY }),
    );
    expect(facts.bodyTruncated).toBe(false);
  });

  test('CONNECT: authority only, no path', () => {
    const facts = toRequestFacts(
      envoyCheckRequest({ method: 'CONNECT', authority: 'api.example.com:443' }),
    );
    expect(facts).toMatchObject({
      method: 'CONNECT',
      isConnect: true,
      host: 'api.example.com',
      port: 443,
      rawPath: '',
      path: '',
    });
  });

  test('extended CONNECT (:protocol) is not a tunnel', () => {
    const facts = toRequestFacts(
      withHttp({
        method: 'CONNECT',
        path: '/chat',
        host: 'ws.example.com',
        headers: { ':protocol': 'websocket', ':path': '/chat' },
      }),
    );
    expect(facts.isConnect).toBe(false);
    expect(facts.path).toBe('/chat');
  });

  test('host field wins over :authority', () => {
    const facts = toRequestFacts(
      withHttp({ host: 'real.example.com', headers: { ':authority': 'other.example.com' } }),
    );
    expect(facts.host).toBe('real.example.com');
  });

  test(':authority, :method, :path are used when the fields are empty', () => {
    const facts = toRequestFacts(
      withHttp({
        headers: { ':authority': 'Auth.Example.com', ':method': 'post', ':path': '/mcp?x' },
      }),
    );
    expect(facts).toMatchObject({
      authority: 'Auth.Example.com',
      host: 'auth.example.com',
      method: 'POST',
      rawPath: '/mcp?x',
      path: '/mcp',
    });
  });

  test('spoofed host and x-forwarded-host headers are ignored', () => {
    const facts = toRequestFacts(
      withHttp({
        headers: { host: 'allowed.example.com', 'x-forwarded-host': 'allowed.example.com' },
      }),
    );
    expect(facts.host).toBe('');
    expect(facts.authority).toBe('');
    const withAuthority = toRequestFacts(
      withHttp({
        headers: { ':authority': 'evil.example', host: 'allowed.example.com' },
      }),
    );
    expect(withAuthority.host).toBe('evil.example');
  });

  test('TLS SNI from tls_session', () => {
    expect(toRequestFacts(envoyCheckRequest({ tlsSni: 'sni.example' })).sni).toBe('sni.example');
    expect(toRequestFacts(envoyCheckRequest({ tlsSni: '' })).sni).toBeUndefined();
  });

  test('an invalid authority fails closed', () => {
    const facts = toRequestFacts(envoyCheckRequest({ authority: 'user@evil.example' }));
    expect(facts.host).toBe('');
    expect(facts.port).toBeUndefined();
    expect(facts.authority).toBe('[userinfo]@evil.example');
  });

  test('userinfo never reaches the facts: it is a credential', () => {
    const facts = toRequestFacts(
      envoyCheckRequest({
        authority: 'alice:s3cret@mcp.example:443',
        path: 'http://alice:s3cret@mcp.example/mcp?x=1',
      }),
    );
    expect(facts.authority).toBe('[userinfo]@mcp.example:443');
    expect(facts.rawPath).toBe('http://[userinfo]@mcp.example/mcp?x=1');
    expect(JSON.stringify({ ...facts, headers: undefined })).not.toContain('s3cret');
  });
});

interface GarbageRow {
  readonly name: string;
  readonly input: unknown;
}

const GARBAGE_ROWS: readonly GarbageRow[] = [
  { name: 'undefined', input: undefined },
  { name: 'null', input: null },
  { name: 'number', input: 42 },
  { name: 'string', input: 'CheckRequest' },
  { name: 'array', input: [] },
  { name: 'empty object', input: {} },
  { name: 'attributes null', input: { attributes: null } },
  { name: 'attributes array', input: { attributes: [1, 2] } },
  { name: 'request a string', input: { attributes: { request: 'x' } } },
  { name: 'http null', input: { attributes: { request: { http: null } } } },
  {
    name: 'wrong field types',
    input: {
      attributes: {
        request: {
          http: {
            method: 7,
            host: ['a'],
            path: {},
            headers: 'x',
            header_map: { headers: 'nope' },
            raw_body: 'not bytes',
            body: 5,
          },
        },
        tls_session: { sni: 1 },
      },
    },
  },
  {
    name: 'header values of the wrong type',
    input: {
      attributes: {
        request: { http: { headers: { a: 1, b: null, c: { x: 1 }, ':authority': 'ok.example' } } },
      },
    },
  },
  {
    name: 'header_map entries of the wrong type',
    input: {
      attributes: {
        request: {
          http: {
            header_map: { headers: [null, 1, 'x', { key: 5 }, { key: 'k', raw_value: 'str' }] },
          },
        },
      },
    },
  },
  {
    name: 'throwing getter',
    input: {
      get attributes(): never {
        throw new Error('boom');
      },
    },
  },
  {
    name: 'proxy that throws on everything',
    input: new Proxy(
      {},
      {
        get(): never {
          throw new Error('boom');
        },
        has(): never {
          throw new Error('boom');
        },
      },
    ),
  },
];

describe('toRequestFacts: never throws', () => {
  test.each(GARBAGE_ROWS)('$name', ({ input }) => {
    const facts = toRequestFacts(input as CheckRequest);
    expect(facts.host === '' || facts.host === 'ok.example').toBe(true);
    expect(facts.headers).toBeInstanceOf(Map);
  });

  test('missing attributes give empty facts', () => {
    expect(toRequestFacts({})).toMatchObject({
      method: '',
      host: '',
      path: '',
      isConnect: false,
      body: undefined,
      bodyTruncated: false,
    });
  });
});

describe('toRequestFacts: network filter (TLS SNI only)', () => {
  test('SNI from tls_session is a host-only check', () => {
    const facts = toRequestFacts({
      attributes: {
        source: { address: { socket_address: { address: '10.1.2.3', port_value: 50000 } } },
        destination: {
          service: 'mcp.notion.com',
          address: { socket_address: { address: '10.0.0.1', port_value: 443 } },
        },
        tls_session: { sni: 'MCP.Notion.com.' },
      },
    });
    expect(facts).toMatchObject({ host: 'mcp.notion.com', isConnect: true, method: '', path: '' });
    expect(facts.body).toBeUndefined();
  });

  test('destination.service carries the SNI when include_tls_session is off', () => {
    const facts = toRequestFacts({ attributes: { destination: { service: 'mcp.linear.app' } } });
    expect(facts).toMatchObject({ host: 'mcp.linear.app', isConnect: true });
  });

  test('no SNI at all – empty facts, which match no entry', () => {
    const facts = toRequestFacts({ attributes: { destination: {} } });
    expect(facts).toMatchObject({ host: '', isConnect: false });
  });
});
