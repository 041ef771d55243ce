/** The gRPC TLS flags of `serve` (src/config/service-config.ts): which combinations stand. */
import { describe, expect, test } from 'vitest';
import { resolveServeConfig } from '../../../src/config/service-config.js';

const BASE = { allowlist: 'allowlist.yaml' };

function problemsOf(flags: Record<string, string>, env: Record<string, string> = {}): string {
  try {
    resolveServeConfig({ ...BASE, ...flags }, env);
  } catch (err: unknown) {
    return (err as Error).message;
  }
  return '';
}

describe('gRPC TLS flags', () => {
  test('none: cleartext', () => {
    expect(resolveServeConfig(BASE, {}).grpcTls).toBeUndefined();
  });

  test('cert and key: TLS; with a client CA: mTLS; env vars work as flags do', () => {
    expect(
      resolveServeConfig({ ...BASE, 'grpc-tls-cert': 'c.pem', 'grpc-tls-key': 'k.pem' }, {})
        .grpcTls,
    ).toEqual({ certPath: 'c.pem', keyPath: 'k.pem', clientCaPath: undefined });
    expect(
      resolveServeConfig(BASE, {
        MCP_GATE_GRPC_TLS_CERT: '/tls/tls.crt',
        MCP_GATE_GRPC_TLS_KEY: '/tls/tls.key',
        MCP_GATE_GRPC_TLS_CLIENT_CA: '/tls/ca.crt',
      }).grpcTls,
    ).toEqual({ certPath: '/tls/tls.crt', keyPath: '/tls/tls.key', clientCaPath: '/tls/ca.crt' });
  });

  const REFUSED: { name: string; flags: Record<string, string>; want: string }[] = [
    {
      name: 'a certificate without its key',
      flags: { 'grpc-tls-cert': 'c.pem' },
      want: '--grpc-tls-cert / MCP_GATE_GRPC_TLS_CERT needs --grpc-tls-key',
    },
    {
      name: 'a key without its certificate',
      flags: { 'grpc-tls-key': 'k.pem' },
      want: '--grpc-tls-key / MCP_GATE_GRPC_TLS_KEY needs --grpc-tls-cert',
    },
    {
      name: 'a client CA on a cleartext listener (it would verify nobody)',
      flags: { 'grpc-tls-client-ca': 'ca.pem' },
      want: '--grpc-tls-client-ca / MCP_GATE_GRPC_TLS_CLIENT_CA needs --grpc-tls-cert and --grpc-tls-key',
    },
    {
      name: 'TLS on a unix socket',
      flags: {
        'grpc-listen': 'unix:/run/mcp-gate/authz.sock',
        'grpc-tls-cert': 'c.pem',
        'grpc-tls-key': 'k.pem',
      },
      want: 'guarded by --grpc-socket-mode and --grpc-socket-group instead',
    },
  ];

  test.each(REFUSED)('refused: $name', ({ flags, want }) => {
    const message = problemsOf(flags);
    expect(message).toContain('invalid serve configuration');
    expect(message).toContain(want);
  });
});
