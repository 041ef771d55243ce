/**
 * The lean codecs of the Check method against the generic ones they replace:
 * - decodeCheckRequest gives the same RequestFacts as proto-loader's decode, for CheckRequests
 *   encoded with Envoy's own protos: the adversarial catalogue, the property-test generators
 *   (any header, body, encoding, CONNECT) and hand-made edge cases of the wire format;
 * - encodeCheckResponse writes exactly the bytes of the generic serializer for every response
 *   to-response.ts builds from those requests, and hands anything else to the generic one.
 */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';

import { authorize } from '../../../src/core/pipeline.js';
import { decodeCheckRequest } from '../../../src/envoy/check-request-codec.js';
import { encodeCheckResponse } from '../../../src/envoy/check-response-codec.js';
import type { CheckRequest, CheckResponse } from '../../../src/envoy/check-types.js';
import { authorizationService } from '../../../src/envoy/proto.js';
import { toRequestFacts } from '../../../src/envoy/to-facts.js';
import { serviceFaultResponse, toCheckResponse } from '../../../src/envoy/to-response.js';
import { CATALOGUE } from '../../adversarial/catalogue.js';
import { encodeWithEnvoyProtos, envoyCheckRequest } from '../../helpers/envoy-check-request.js';
import { anyCaseArb } from '../../property/arbitraries.js';
import { NOW_MS, snapshotFor } from '../../property/fixtures.js';
import { checkRequestFor } from '../../property/oracle.js';

const { requestDeserialize, responseSerialize } = authorizationService.Check;
const DECISION_ID = 'abcdefghjkmnpqrstuvw';

function factsBothWays(bytes: Buffer) {
  return {
    lean: toRequestFacts(decodeCheckRequest(bytes)),
    generic: toRequestFacts(requestDeserialize(bytes)),
  };
}

/** The response our pipeline gives `request` under the property tests' base allowlist. */
function responseFor(request: CheckRequest): CheckResponse {
  const snapshot = snapshotFor('base');
  const facts = toRequestFacts(request);
  const { decision, inspection } = authorize(snapshot, facts, NOW_MS, DECISION_ID);
  return toCheckResponse(decision, facts, inspection, snapshot.policy);
}

function expectSameBytes(response: CheckResponse): void {
  expect(encodeCheckResponse(response, responseSerialize).toString('hex')).toBe(
    responseSerialize(response).toString('hex'),
  );
}

describe('decodeCheckRequest: the same facts as the generic decode', () => {
  test.each(CATALOGUE.map((c) => [c.id, c] as const))('%s', (_id, adversarial) => {
    const { lean, generic } = factsBothWays(encodeWithEnvoyProtos(adversarial.request()));
    expect(lean).toEqual(generic);
  });

  test('every generated request (property-test generators, fixed seed)', () => {
    fc.assert(
      fc.property(anyCaseArb, (fuzzCase) => {
        const bytes = encodeWithEnvoyProtos(checkRequestFor(fuzzCase));
        const { lean, generic } = factsBothWays(bytes);
        expect(lean).toEqual(generic);
      }),
      { seed: 20261121, numRuns: 400 },
    );
  });

  /** Wire-format cases Envoy never sends but a decoder must agree on. */
  const writer = (): protobuf.Writer => protobuf.Writer.create();
  const http = (build: (w: protobuf.Writer) => void): Buffer => {
    const w = writer();
    w.uint32((1 << 3) | 2).fork(); // attributes
    w.uint32((4 << 3) | 2).fork(); // request
    w.uint32((2 << 3) | 2).fork(); // http
    build(w);
    w.ldelim().ldelim().ldelim();
    return w.finish() as Buffer;
  };
  test.each([
    {
      name: 'a repeated singular field: the last value wins',
      bytes: http((w) => {
        w.uint32((5 << 3) | 2).string('first.example');
        w.uint32((5 << 3) | 2).string('mcp.example.com');
      }),
    },
    {
      name: 'a repeated map key: the last value wins',
      bytes: http((w) => {
        for (const value of ['a', 'b']) {
          w.uint32((3 << 3) | 2).fork();
          w.uint32((1 << 3) | 2).string('x-dup');
          w.uint32((2 << 3) | 2).string(value);
          w.ldelim();
        }
      }),
    },
    {
      name: 'unknown fields of every wire type are skipped',
      bytes: http((w) => {
        w.uint32((99 << 3) | 0).uint64(7);
        w.uint32((98 << 3) | 1).fixed64(7);
        w.uint32((97 << 3) | 5).fixed32(7);
        w.uint32((96 << 3) | 2).string('ignored');
        w.uint32((4 << 3) | 2).string('/mcp');
      }),
    },
    {
      name: 'a map entry without key or value',
      bytes: http((w) => {
        w.uint32((3 << 3) | 2)
          .fork()
          .ldelim();
      }),
    },
    {
      name: 'header_map with raw values only',
      bytes: http((w) => {
        w.uint32((13 << 3) | 2).fork();
        w.uint32((1 << 3) | 2).fork();
        w.uint32((1 << 3) | 2).string(':authority');
        w.uint32((3 << 3) | 2).bytes(Buffer.from('mcp.example.com'));
        w.ldelim();
        w.ldelim();
      }),
    },
    { name: 'an empty message', bytes: Buffer.alloc(0) },
  ])('$name', ({ bytes }) => {
    const { lean, generic } = factsBothWays(bytes);
    expect(lean).toEqual(generic);
  });

  // Two places where protobufjs's generated decoder departs from the protobuf encoding rules
  // (it reads a field with a wrong wire type as if it were right, and replaces a repeated
  // sub-message instead of merging it). Envoy never sends either; we follow the rules.
  test('the TLS peer and Envoy metadata (identity sources) decode alike', () => {
    const bytes = encodeWithEnvoyProtos(
      envoyCheckRequest({
        authority: 'mcp.example.com',
        path: '/mcp',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        sourcePrincipal: 'spiffe://corp.example/ns/dev/sa/agent',
        metadataContext: {
          'envoy.filters.http.jwt_authn': {
            verified: {
              email: 'ana@corp.example',
              groups: ['eng', 'data-eng'],
              realm_access: { roles: ['admin', 7, true, null] },
              exp: 1767225600,
              email_verified: true,
            },
          },
          'other.namespace': {},
        },
      }),
    );
    const { lean, generic } = factsBothWays(bytes);
    expect(lean).toEqual(generic);
    expect(lean.peerPrincipal).toBe('spiffe://corp.example/ns/dev/sa/agent');
    expect(lean.metadata.get('envoy.filters.http.jwt_authn')).toEqual({
      verified: {
        email: 'ana@corp.example',
        groups: ['eng', 'data-eng'],
        realm_access: { roles: ['admin', 7, true, null] },
        exp: 1767225600,
        email_verified: true,
      },
    });
  });

  test('a known field number with the wrong wire type is skipped', () => {
    const facts = toRequestFacts(
      decodeCheckRequest(
        http((w) => {
          w.uint32((5 << 3) | 0).uint32(42);
          w.uint32((2 << 3) | 2).string('POST');
        }),
      ),
    );
    expect(facts).toMatchObject({ host: '', method: 'POST' });
  });

  test('a sub-message split over two occurrences is merged', () => {
    const bytes = Buffer.concat([
      http((w) => w.uint32((5 << 3) | 2).string('mcp.example.com')),
      http((w) => w.uint32((2 << 3) | 2).string('CONNECT')),
    ]);
    expect(toRequestFacts(decodeCheckRequest(bytes))).toMatchObject({
      host: 'mcp.example.com',
      method: 'CONNECT',
      isConnect: true,
    });
  });

  test('malformed bytes throw (the server answers them with a deny), never loop', () => {
    const valid = encodeWithEnvoyProtos(
      envoyCheckRequest({ authority: 'mcp.example.com', body: '{"jsonrpc":"2.0"}' }),
    );
    for (const bytes of [valid.subarray(0, valid.length - 3), Buffer.from([0x0a, 0xff, 0x01])]) {
      expect(() => decodeCheckRequest(bytes)).toThrow();
      expect(() => requestDeserialize(bytes)).toThrow();
    }
  });
});

describe('encodeCheckResponse: the bytes of the generic serializer', () => {
  test.each(CATALOGUE.map((c) => [c.id, c] as const))('%s', (_id, adversarial) => {
    expectSameBytes(responseFor(adversarial.request()));
  });

  test('every generated request (fixed seed)', () => {
    fc.assert(
      fc.property(anyCaseArb, (fuzzCase) => {
        expectSameBytes(responseFor(checkRequestFor(fuzzCase)));
      }),
      { seed: 20261121, numRuns: 400 },
    );
  });

  test.each(['internal_error', 'overloaded'] as const)('%s', (reason) => {
    expectSameBytes(serviceFaultResponse(reason, DECISION_ID, snapshotFor('base').policy).response);
  });

  test.each<[string, CheckResponse]>([
    ['error_response', { status: { code: 7 }, error_response: { status: { code: 503 } } }],
    [
      'an append action',
      {
        status: { code: 0 },
        ok_response: {
          headers: [{ header: { key: 'a', value: 'b' }, append_action: 'ADD_IF_ABSENT' }],
        },
      },
    ],
    [
      'a number in the metadata',
      { status: { code: 0 }, dynamic_metadata: { fields: { n: { numberValue: 1 } } } },
    ],
  ])('%s: handed to the generic serializer', (_name, response) => {
    const generic = (r: CheckResponse): Buffer => {
      expect(r).toBe(response);
      return Buffer.from('generic');
    };
    expect(encodeCheckResponse(response, generic).toString()).toBe('generic');
  });
});
