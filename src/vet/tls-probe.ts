/**
 * The TLS part of `mcp-gate vet`: one TLS handshake with the server, to report what it offers.
 *
 * The probe accepts what a verifying client would refuse (an untrusted or expired certificate,
 * TLS 1.0 and 1.1, OpenSSL's security level 0 ciphers) so the report can say what is wrong
 * instead of only that the handshake failed; whether the chain is trusted is still worked out,
 * with Node's roots plus `--ca`, and the host name checked (Node's checkServerIdentity). Nothing
 * but the TLS handshake is sent: the probe closes the connection once it completes.
 * Bounded: connect and handshake within `timeoutMs`. Never throws.
 */
import { connect } from 'node:tls';
import type { DetailedPeerCertificate } from 'node:tls';

import { trustOptions } from './http-client.js';

/** One certificate of the chain the server presented, leaf first. */
export interface ChainCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint256: string;
}

export interface TlsReport {
  readonly protocol?: string;
  readonly cipher?: { readonly name: string; readonly standardName: string };
  /** The chain verified against the trusted roots and covers the host name. */
  readonly authorized: boolean;
  /** OpenSSL's or Node's code for why not (e.g. CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID). */
  readonly authorizationError?: string;
  readonly chain: readonly ChainCertificate[];
  /** Whole days from now until the leaf's notAfter; negative once expired. */
  readonly daysToExpiry?: number;
  readonly error?: { readonly kind: 'timeout' | 'connect' | 'tls'; readonly message: string };
}

export interface TlsProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly ca?: string | undefined;
  readonly timeoutMs: number;
  readonly now: Date;
}

const DAY_MS = 86_400_000;
/** Longest chain walked: real chains have 2 to 4 certificates. */
const MAX_CHAIN = 10;

/** Runs the handshake; resolves with what it showed. */
export function probeTls(options: TlsProbeOptions): Promise<TlsReport> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (report: TlsReport): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      resolve(report);
    };
    const socket = connect({
      host: options.host,
      port: options.port,
      ...trustOptions(options.host, { ca: options.ca, insecure: true }),
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    const deadline = setTimeout(() => {
      finish({
        authorized: false,
        chain: [],
        error: {
          kind: 'timeout',
          message: `no TLS handshake within ${options.timeoutMs} ms`,
        },
      });
    }, options.timeoutMs);
    socket.once('secureConnect', () => {
      const cipher = socket.getCipher();
      const chain = chainOf(socket.getPeerCertificate(true));
      const leafTo = chain[0] === undefined ? Number.NaN : Date.parse(chain[0].validTo);
      const protocol = socket.getProtocol();
      const reason = socket.authorizationError as Error | string | null | undefined;
      finish({
        ...(protocol === null ? {} : { protocol }),
        cipher: { name: cipher.name, standardName: cipher.standardName },
        authorized: socket.authorized,
        ...(socket.authorized || reason === null || reason === undefined
          ? {}
          : { authorizationError: reason instanceof Error ? reason.message : reason }),
        chain,
        ...(Number.isNaN(leafTo)
          ? {}
          : { daysToExpiry: Math.floor((leafTo - options.now.getTime()) / DAY_MS) }),
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const connectCodes = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'];
      finish({
        authorized: false,
        chain: [],
        error: {
          kind: err.code !== undefined && connectCodes.includes(err.code) ? 'connect' : 'tls',
          message: err.message,
        },
      });
    });
  });
}

/** The presented chain, leaf first, as OpenSSL built it (it ends at a self-issued root). */
function chainOf(leaf: DetailedPeerCertificate): ChainCertificate[] {
  const chain: ChainCertificate[] = [];
  const seen = new Set<string>();
  for (
    let cert: DetailedPeerCertificate | undefined = leaf;
    cert !== undefined && Object.keys(cert).length > 0 && chain.length < MAX_CHAIN;
    // Undefined at runtime when the server did not send the issuer (an incomplete chain).
    cert = cert.issuerCertificate as DetailedPeerCertificate | undefined
  ) {
    if (seen.has(cert.fingerprint256)) break;
    seen.add(cert.fingerprint256);
    chain.push({
      subject: distinguishedName(cert.subject),
      issuer: distinguishedName(cert.issuer),
      validFrom: isoDate(cert.valid_from),
      validTo: isoDate(cert.valid_to),
      fingerprint256: cert.fingerprint256,
    });
  }
  return chain;
}

/** OpenSSL's date text (`Dec 13 18:25:34 2026 GMT`) as ISO 8601, or as given if unreadable. */
function isoDate(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

/** `CN=a, O=b`, from Node's parsed name (values may repeat, as arrays). */
function distinguishedName(
  name: Readonly<Record<string, string | string[] | undefined>> | undefined,
): string {
  if (name === undefined) return '';
  return Object.entries(name)
    .flatMap(([key, value]) =>
      (value === undefined ? [] : [value].flat()).map((v) => `${key}=${v}`),
    )
    .join(', ');
}
