/**
 * The settings of envoy/envoy.yaml that mcp-gate's reading of requests depends on (SECURITY.md,
 * "Deploying without a bypass"), checked against the file and against Envoy's own protos, so a
 * typo or a renamed field cannot silently turn them off.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type protobuf from 'protobufjs';
import { parse } from 'yaml';
import { SERVE_OPTIONS } from '../../src/config/service-config.js';
import { loadEnvoyProtos } from '../helpers/envoy-protos.js';

type Node = Record<string, unknown>;

const config = parse(
  await readFile(new URL('../../envoy/envoy.yaml', import.meta.url), 'utf8'),
) as Node;

const protos = loadEnvoyProtos([
  'envoy/config/listener/v3/listener.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
]);

function at(node: unknown, ...keys: (string | number)[]): unknown {
  let value = node;
  for (const key of keys) value = (value as Node | undefined)?.[key];
  return value;
}

const listener = at(config, 'static_resources', 'listeners', 0) as Node;
const hcm = at(listener, 'filter_chains', 0, 'filters', 0, 'typed_config') as Node;
const extAuthz = (at(hcm, 'http_filters') as Node[]).find(
  (f) => f['name'] === 'envoy.filters.http.ext_authz',
)?.['typed_config'] as Node;

/** The proto field of `type` named `name`: present, so Envoy would not reject the key. */
function field(type: string, name: string): protobuf.Field {
  const found = protos.lookupType(type).fields[name];
  if (found === undefined) throw new Error(`${type} has no field ${name}`);
  return found;
}

describe('envoy/envoy.yaml – what mcp-gate relies on', () => {
  it('normalises paths before ext_authz, keeping escaped slashes for non-MCP APIs', () => {
    const type =
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
    expect(field(type, 'normalize_path').type).toBe('google.protobuf.BoolValue');
    expect(field(type, 'merge_slashes').type).toBe('bool');
    const action = field(type, 'path_with_escaped_slashes_action');
    expect(action.resolvedType?.toJSON()).toMatchObject({ values: { KEEP_UNCHANGED: 1 } });
    expect(hcm['normalize_path']).toBe(true);
    expect(hcm['merge_slashes']).toBe(true);
    expect(hcm['path_with_escaped_slashes_action']).toBe('KEEP_UNCHANGED');
  });

  it('sends bodies up to mcp-gate’s own cap, within the connection buffer', () => {
    const body = at(extAuthz, 'with_request_body') as Node;
    field('envoy.extensions.filters.http.ext_authz.v3.BufferSettings', 'max_request_bytes');
    field('envoy.config.listener.v3.Listener', 'per_connection_buffer_limit_bytes');
    expect(body['max_request_bytes']).toBe(Number(SERVE_OPTIONS.maxBodyBytes.default));
    expect(body['allow_partial_message']).toBe(true);
    expect(body['pack_as_bytes']).toBe(true);
    // Envoy answers 413 itself once a buffered body passes the connection's limit.
    expect(listener['per_connection_buffer_limit_bytes']).toBeGreaterThan(
      body['max_request_bytes'] as number,
    );
  });
});
