/**
 * What `mcp-gate vet` concludes from what it saw: a list of findings, each an explicit code
 * with a severity and a sentence. A server passes intake when no finding is `fail`. Pure.
 *
 * The order of FINDING_CODES is the order findings are reported in (transport first, then
 * MCP), so two runs against the same server print the same list.
 */
import { isSkipped } from './result.js';
import type { VetResult } from './result.js';

/** `fail` blocks intake (exit 1); `warn` is for the reviewer to weigh. */
export type Severity = 'fail' | 'warn';

/** Every finding vet reports, with its severity. */
export const FINDING_CODES = {
  /** The TCP connection to the server's port was refused or the host was not found. */
  connect_failed: 'fail',
  /** A step got no answer within --timeout (the message names the step). */
  timeout: 'fail',
  /** The TLS handshake failed (no common protocol or cipher, a broken server). */
  tls_failed: 'fail',
  /** The certificate chain does not verify against the trusted roots, or does not cover the host. */
  tls_untrusted: 'fail',
  /** The server's certificate has expired. */
  cert_expired: 'fail',
  /** The server's certificate expires within --min-cert-days. */
  cert_expiring: 'fail',
  /** TLS below 1.2 was negotiated. */
  tls_old_protocol: 'fail',
  /** A TLS 1.2 (or older) cipher without forward secrecy or without AEAD was negotiated. */
  tls_weak_cipher: 'fail',
  /** No valid Strict-Transport-Security header (absent, or one browsers ignore). */
  hsts_missing: 'fail',
  /** Strict-Transport-Security with a max-age below --min-hsts-max-age. */
  hsts_short: 'fail',
  /** The server answered the MCP initialize over plain http://. */
  plaintext_accepted: 'fail',
  /** Plain http:// answers with something other than a redirect to https://. */
  plaintext_not_redirected: 'warn',
  /** The MCP handshake or tools/list failed. */
  mcp_handshake_failed: 'fail',
  /** An `mcp-protocol-version` response header names another revision than was negotiated. */
  protocol_header_mismatch: 'fail',
  /** The server listed more tools than vet keeps; the rest are not in the report or the draft. */
  tools_truncated: 'warn',
} as const satisfies Record<string, Severity>;

export type FindingCode = keyof typeof FINDING_CODES;

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly message: string;
}

export interface Thresholds {
  /** Fewer days than this to the leaf's expiry is `cert_expiring`. */
  readonly minCertDays: number;
  /** An HSTS max-age below this many seconds is `hsts_short`. */
  readonly minHstsMaxAge: number;
}

/** Protocols below TLS 1.2 (RFC 8996 deprecates TLS 1.0 and 1.1). */
const OLD_PROTOCOLS: ReadonlySet<string> = new Set(['SSLv3', 'TLSv1', 'TLSv1.1']);

/**
 * Whether a TLS 1.2-or-older cipher suite (IANA name) lacks forward secrecy or AEAD. TLS 1.3
 * suites have both by construction.
 */
export function isWeakCipher(protocol: string | undefined, standardName: string): boolean {
  if (protocol === 'TLSv1.3') return false;
  const forwardSecret = /^TLS_(ECDHE|DHE)_/.test(standardName);
  const aead = /_(GCM|CCM|CHACHA20_POLY1305)(_|$)/.test(standardName);
  return !forwardSecret || !aead;
}

/** The findings, in FINDING_CODES order. */
export function findingsOf(result: VetResult, thresholds: Thresholds): Finding[] {
  const found: Finding[] = [];
  const add = (code: FindingCode, message: string): void => {
    found.push({ code, severity: FINDING_CODES[code], message });
  };
  tlsFindings(result, thresholds, add);
  hstsFindings(result, thresholds, add);
  plaintextFindings(result, add);
  mcpFindings(result, add);
  const order = Object.keys(FINDING_CODES);
  return found.sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code));
}

/** True when no finding fails intake. */
export function passes(findings: readonly Finding[]): boolean {
  return findings.every((finding) => finding.severity !== 'fail');
}

type Add = (code: FindingCode, message: string) => void;

function tlsFindings(result: VetResult, thresholds: Thresholds, add: Add): void {
  const { tls } = result;
  if (tls.error !== undefined) {
    const code = { timeout: 'timeout', connect: 'connect_failed', tls: 'tls_failed' } as const;
    add(code[tls.error.kind], `TLS to ${result.url.host}: ${tls.error.message}`);
    return;
  }
  if (tls.protocol !== undefined && OLD_PROTOCOLS.has(tls.protocol)) {
    add('tls_old_protocol', `the server negotiated ${tls.protocol}; TLS 1.2 or 1.3 is required`);
  }
  if (tls.cipher !== undefined && isWeakCipher(tls.protocol, tls.cipher.standardName)) {
    add(
      'tls_weak_cipher',
      `the server chose ${tls.cipher.standardName}, without forward secrecy or AEAD`,
    );
  }
  const leaf = tls.chain[0];
  const expired = leaf !== undefined && Date.parse(leaf.validTo) <= result.checkedAt.getTime();
  if (leaf !== undefined && expired) {
    add('cert_expired', `the certificate expired on ${leaf.validTo}`);
  } else if (
    leaf !== undefined &&
    tls.daysToExpiry !== undefined &&
    tls.daysToExpiry < thresholds.minCertDays
  ) {
    add(
      'cert_expiring',
      `the certificate expires on ${leaf.validTo}, in ${tls.daysToExpiry} days (under ${thresholds.minCertDays})`,
    );
  }
  // An expired leaf is the whole reason OpenSSL gives; cert_expired already says it.
  if (!tls.authorized && !(expired && tls.authorizationError === 'CERT_HAS_EXPIRED')) {
    add(
      'tls_untrusted',
      `the certificate is not trusted for ${result.url.hostname}: ${tls.authorizationError ?? 'unknown reason'}` +
        (result.insecure ? ' (--insecure: connected anyway)' : ''),
    );
  }
}

function hstsFindings(result: VetResult, thresholds: Thresholds, add: Add): void {
  const { hsts } = result;
  if (isSkipped(hsts)) return;
  switch (hsts.kind) {
    case 'present':
      if (hsts.hsts.maxAge < thresholds.minHstsMaxAge) {
        add(
          'hsts_short',
          `Strict-Transport-Security max-age=${hsts.hsts.maxAge} is below ${thresholds.minHstsMaxAge} seconds`,
        );
      }
      return;
    case 'invalid':
      add(
        'hsts_missing',
        `Strict-Transport-Security is invalid (${hsts.problem}); browsers ignore it`,
      );
      return;
    case 'missing':
      add('hsts_missing', `no Strict-Transport-Security header (GET answered HTTP ${hsts.status})`);
      return;
    case 'error':
      add(
        hsts.timeout ? 'timeout' : 'hsts_missing',
        `GET ${result.url.pathname} for Strict-Transport-Security: ${hsts.message}`,
      );
      return;
  }
}

function plaintextFindings(result: VetResult, add: Add): void {
  const { plaintext, plainUrl } = result;
  switch (plaintext.kind) {
    case 'mcp_answer':
      add(
        'plaintext_accepted',
        `${plainUrl.href} answered the MCP initialize over plain HTTP (HTTP ${plaintext.status})`,
      );
      return;
    case 'http_answer':
      add(
        'plaintext_not_redirected',
        `${plainUrl.href} answers HTTP ${plaintext.status}` +
          (plaintext.location === undefined ? '' : ` to ${plaintext.location}`) +
          ' instead of refusing or redirecting to https://',
      );
      return;
    case 'refused':
    case 'no_answer':
    case 'redirect_https':
      return;
  }
}

function mcpFindings(result: VetResult, add: Add): void {
  const { mcp } = result;
  if (isSkipped(mcp)) return;
  if (mcp.error !== undefined) {
    add(
      mcp.error.kind === 'timeout' ? 'timeout' : 'mcp_handshake_failed',
      `MCP ${mcp.error.step}: ${mcp.error.message}`,
    );
  }
  if (mcp.negotiated !== undefined) {
    const drift = mcp.protocolHeaders.filter(
      (seen) => seen.value !== null && seen.value !== mcp.negotiated,
    );
    if (drift.length > 0) {
      const listed = drift.map((seen) => `${seen.request}: ${JSON.stringify(seen.value)}`);
      add(
        'protocol_header_mismatch',
        `negotiated ${mcp.negotiated}, but responses carry mcp-protocol-version ${[...new Set(listed)].join(', ')}`,
      );
    }
  }
  if (mcp.toolsTruncated) {
    add(
      'tools_truncated',
      `the server lists more than ${mcp.tools?.length ?? 0} tools; only those are shown`,
    );
  }
}
