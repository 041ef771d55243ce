import { describe, expect, it } from 'vitest';

import { resolveServeConfig } from '../../../src/config/service-config.js';

const BASE = { allowlist: 'allowlist.yaml' };

describe('serve config – --envoy-render-dir and its render options', () => {
  it('is off unless a directory is given', () => {
    expect(resolveServeConfig(BASE, {}).envoyRender).toBeUndefined();
  });

  it('takes the directory and options from flags, then MCP_GATE_* variables, then defaults', () => {
    const config = resolveServeConfig(
      { ...BASE, 'envoy-render-dir': '/run/envoy', 'envoy-certs-dir': '/srv/certs' },
      { MCP_GATE_CERT_MANAGER_ISSUER: 'corp-ca', MCP_GATE_ENVOY_CERTS_DIR: '/ignored' },
    );
    expect(config.envoyRender).toEqual({
      outDir: '/run/envoy',
      options: {
        dynamicDir: '/etc/envoy/dynamic',
        certsDir: '/srv/certs',
        caBundle: '/etc/ssl/certs/ca-certificates.crt',
        mcpGateClientDir: '/etc/envoy/mcp-gate-client',
        issuer: { name: 'corp-ca', kind: 'Issuer' },
      },
    });
    expect(Object.isFrozen(config.envoyRender?.options)).toBe(true);
  });

  it.each([
    {
      name: 'an issuer without a directory to render into',
      flags: { 'cert-manager-issuer': 'corp-ca' },
      want: '--cert-manager-issuer needs --envoy-render-dir',
    },
    {
      name: 'an issuer kind cert-manager does not have',
      flags: {
        'envoy-render-dir': '/run/envoy',
        'cert-manager-issuer': 'corp-ca',
        'cert-manager-issuer-kind': 'VaultIssuer',
      },
      want: '--cert-manager-issuer-kind must be Issuer or ClusterIssuer, got "VaultIssuer"',
    },
    {
      name: 'an issuer name that is no Kubernetes name',
      flags: { 'envoy-render-dir': '/run/envoy', 'cert-manager-issuer': 'Corp CA' },
      want: '--cert-manager-issuer must be a Kubernetes object name, got "Corp CA"',
    },
  ])('refuses $name', ({ flags, want }) => {
    expect(() => resolveServeConfig({ ...BASE, ...flags }, {})).toThrow(want);
  });
});
