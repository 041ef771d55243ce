/**
 * VetResult values for the unit tests of findings.ts and draft.ts: a result that passes, and
 * overrides for each step.
 */
import type { HandshakeResult, ToolSummary } from '../../../src/vet/mcp-handshake.js';
import type { VetResult } from '../../../src/vet/result.js';
import type { TlsReport } from '../../../src/vet/tls-probe.js';

export const NOW = new Date('2026-12-03T12:00:00Z');

export const GOOD_TLS: TlsReport = {
  protocol: 'TLSv1.3',
  cipher: { name: 'TLS_AES_128_GCM_SHA256', standardName: 'TLS_AES_128_GCM_SHA256' },
  authorized: true,
  chain: [
    {
      subject: 'CN=mcp.example.com',
      issuer: 'CN=Test CA',
      validFrom: '2026-11-01T00:00:00.000Z',
      validTo: '2027-02-01T00:00:00.000Z',
      fingerprint256: 'AA',
    },
  ],
  daysToExpiry: 59,
};

export function mcpResult(overrides: Partial<HandshakeResult> = {}): HandshakeResult {
  return {
    offered: ['2026-07-28', '2025-11-25'],
    negotiated: '2025-11-25',
    era: 'legacy',
    server: { name: 'acme', version: '1.0.0' },
    capabilities: { tools: {} },
    tools: [],
    toolsTruncated: false,
    protocolHeaders: [],
    sdkMessages: [],
    ...overrides,
  };
}

export function tool(name: string, annotations: ToolSummary['annotations'] = {}): ToolSummary {
  return { name, annotations };
}

export function vetResult(overrides: Partial<VetResult> = {}): VetResult {
  return {
    url: new URL('https://mcp.example.com/mcp'),
    plainUrl: new URL('http://mcp.example.com/mcp'),
    checkedAt: NOW,
    insecure: false,
    tls: GOOD_TLS,
    hsts: {
      kind: 'present',
      value: 'max-age=31536000',
      hsts: { maxAge: 31536000, includeSubDomains: false, preload: false },
    },
    plaintext: { kind: 'refused', message: 'connect ECONNREFUSED' },
    mcp: mcpResult(),
    ...overrides,
  };
}
