import { describe, expect, test } from 'vitest';

import { FINDING_CODES, findingsOf, isWeakCipher, passes } from '../../../src/vet/findings.js';
import type { VetResult } from '../../../src/vet/result.js';
import { GOOD_TLS, mcpResult, vetResult } from './results.js';

const THRESHOLDS = { minCertDays: 30, minHstsMaxAge: 31536000 };
const codesOf = (result: VetResult): string[] =>
  findingsOf(result, THRESHOLDS).map((finding) => finding.code);

const expiredLeaf = { ...GOOD_TLS.chain[0]!, validTo: '2026-11-30T00:00:00.000Z' };

const ROWS: readonly { name: string; result: VetResult; want: string[]; rationale: string }[] = [
  { name: 'all good', result: vetResult(), want: [], rationale: 'the baseline passes' },
  {
    name: 'expired leaf',
    result: vetResult({
      tls: {
        ...GOOD_TLS,
        authorized: false,
        authorizationError: 'CERT_HAS_EXPIRED',
        chain: [expiredLeaf],
        daysToExpiry: -4,
      },
    }),
    want: ['cert_expired'],
    rationale: 'the expiry is the whole reason OpenSSL gives; tls_untrusted would say it twice',
  },
  {
    name: 'expired and from an unknown CA',
    result: vetResult({
      tls: {
        ...GOOD_TLS,
        authorized: false,
        authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        chain: [expiredLeaf],
        daysToExpiry: -4,
      },
    }),
    want: ['tls_untrusted', 'cert_expired'],
    rationale: 'two separate problems, in catalogue order',
  },
  {
    name: 'expiring at the threshold',
    result: vetResult({ tls: { ...GOOD_TLS, daysToExpiry: 30 } }),
    want: [],
    rationale: 'fewer days than the threshold fail; exactly the threshold passes',
  },
  {
    name: 'expiring below the threshold',
    result: vetResult({ tls: { ...GOOD_TLS, daysToExpiry: 29 } }),
    want: ['cert_expiring'],
    rationale: '--min-cert-days',
  },
  {
    name: 'host name not covered',
    result: vetResult({
      tls: { ...GOOD_TLS, authorized: false, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    }),
    want: ['tls_untrusted'],
    rationale: 'a certificate for another name is as bad as an untrusted one',
  },
  {
    name: 'TLS timeout',
    result: vetResult({
      tls: { authorized: false, chain: [], error: { kind: 'timeout', message: 'x' } },
      hsts: { skipped: 'no TLS' },
      mcp: { skipped: 'no TLS' },
    }),
    want: ['timeout'],
    rationale: 'skipped steps add nothing; the timeout fails',
  },
  {
    name: 'connection refused',
    result: vetResult({
      tls: { authorized: false, chain: [], error: { kind: 'connect', message: 'x' } },
      hsts: { skipped: 'no TLS' },
      mcp: { skipped: 'no TLS' },
    }),
    want: ['connect_failed'],
    rationale: 'nothing listens',
  },
  {
    name: 'HSTS missing',
    result: vetResult({ hsts: { kind: 'missing', status: 405 } }),
    want: ['hsts_missing'],
    rationale: 'required',
  },
  {
    name: 'HSTS GET timed out',
    result: vetResult({ hsts: { kind: 'error', timeout: true, message: 'x' } }),
    want: ['timeout'],
    rationale: 'an unanswered check fails, as a timeout',
  },
  {
    name: 'HSTS GET failed',
    result: vetResult({ hsts: { kind: 'error', timeout: false, message: 'socket hang up' } }),
    want: ['hsts_missing'],
    rationale: 'a check that could not be made fails closed',
  },
  {
    name: 'plaintext MCP',
    result: vetResult({ plaintext: { kind: 'mcp_answer', status: 200 } }),
    want: ['plaintext_accepted'],
    rationale: 'MCP over plaintext',
  },
  {
    name: 'plaintext silent',
    result: vetResult({ plaintext: { kind: 'no_answer', message: 'x' } }),
    want: [],
    rationale: 'a firewall that drops port 80 refuses plaintext too',
  },
  {
    name: 'handshake failed',
    result: vetResult({
      mcp: mcpResult({ error: { kind: 'failed', step: 'handshake', message: 'x' } }),
    }),
    want: ['mcp_handshake_failed'],
    rationale: 'no MCP, no intake',
  },
  {
    name: 'tools/list timed out',
    result: vetResult({
      mcp: mcpResult({ error: { kind: 'timeout', step: 'tools/list', message: 'x' } }),
    }),
    want: ['timeout'],
    rationale: 'tools/list is bounded too',
  },
  {
    name: 'header drift',
    result: vetResult({
      mcp: mcpResult({
        protocolHeaders: [
          { request: 'initialize', status: 200, value: '2025-11-25' },
          { request: 'tools/list', status: 200, value: '2025-06-18' },
        ],
      }),
    }),
    want: ['protocol_header_mismatch'],
    rationale: 'any response naming another revision than negotiated',
  },
  {
    name: 'header absent',
    result: vetResult({
      mcp: mcpResult({ protocolHeaders: [{ request: 'initialize', status: 200, value: null }] }),
    }),
    want: [],
    rationale: 'servers need not send it; only a differing value is drift',
  },
  {
    name: 'many findings, in catalogue order',
    result: vetResult({
      plaintext: { kind: 'mcp_answer', status: 200 },
      hsts: { kind: 'missing', status: 200 },
      tls: {
        ...GOOD_TLS,
        protocol: 'TLSv1.1',
        cipher: { name: 'x', standardName: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA' },
      },
      mcp: mcpResult({ toolsTruncated: true }),
    }),
    want: [
      'tls_old_protocol',
      'tls_weak_cipher',
      'hsts_missing',
      'plaintext_accepted',
      'tools_truncated',
    ],
    rationale: 'the order of FINDING_CODES, whatever the order they were found in',
  },
];

describe('findingsOf', () => {
  test.each(ROWS)('$name', ({ result, want }) => {
    expect(codesOf(result)).toEqual(want);
  });

  test('passes: only fail findings fail', () => {
    expect(
      passes(
        findingsOf(vetResult({ plaintext: { kind: 'http_answer', status: 404 } }), THRESHOLDS),
      ),
    ).toBe(true);
    expect(
      passes(findingsOf(vetResult({ hsts: { kind: 'missing', status: 200 } }), THRESHOLDS)),
    ).toBe(false);
  });

  test('every code has a severity', () => {
    for (const severity of Object.values(FINDING_CODES))
      expect(['fail', 'warn']).toContain(severity);
  });
});

describe('isWeakCipher', () => {
  test.each([
    { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', weak: false },
    { protocol: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', weak: false },
    { protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', weak: false },
    { protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', weak: false },
    { protocol: 'TLSv1.2', cipher: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', weak: false },
    { protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', weak: true },
    { protocol: 'TLSv1.2', cipher: 'TLS_RSA_WITH_AES_128_GCM_SHA256', weak: true },
    { protocol: 'TLSv1.2', cipher: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', weak: true },
  ])('$protocol $cipher', ({ protocol, cipher, weak }) => {
    expect(isWeakCipher(protocol, cipher)).toBe(weak);
  });
});
