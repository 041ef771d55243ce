/**
 * `mcp-gate vet` end to end: the TLS probe, then (over a trusted connection only) the HSTS GET
 * and the MCP handshake, and beside them the plaintext probe. Each step is bounded by
 * `timeoutMs`; the result holds what each step saw, for findings.ts to judge.
 *
 * Fail closed: when the TLS probe does not show a trusted certificate for the host, nothing is
 * sent to the server over TLS (no HTTP request, no credential) unless `insecure` is set; the
 * report still shows the TLS details and the plaintext probe. The connections made for HTTP
 * verify the certificate themselves too (http-client.ts), so a server that presents another
 * certificate to them than to the probe is refused there as well.
 */
import { createHttpClient } from './http-client.js';
import { probeHsts, probePlaintext } from './http-probes.js';
import type { HstsResult, PlaintextResult } from './http-probes.js';
import { runHandshake } from './mcp-handshake.js';
import type { HandshakeResult } from './mcp-handshake.js';
import { probeTls } from './tls-probe.js';
import type { TlsReport } from './tls-probe.js';

export interface VetOptions {
  /** The server's https:// URL. */
  readonly url: URL;
  readonly ca?: string | undefined;
  readonly insecure: boolean;
  readonly timeoutMs: number;
  /** Request headers for the MCP handshake only (`--header`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The port the plaintext probe tries (80 by default). */
  readonly plainPort: number;
  readonly now: Date;
  readonly clientVersion: string;
}

/** A step that was not run, and why. */
export interface Skipped {
  readonly skipped: string;
}

export interface VetResult {
  readonly url: URL;
  readonly plainUrl: URL;
  readonly checkedAt: Date;
  readonly insecure: boolean;
  readonly tls: TlsReport;
  readonly hsts: HstsResult | Skipped;
  readonly plaintext: PlaintextResult;
  readonly mcp: HandshakeResult | Skipped;
}

/** Body bytes the HSTS and plaintext probes accept; they read headers and one message. */
const PROBE_BODY_BYTES = 64 * 1024;

export function isSkipped(step: object): step is Skipped {
  return 'skipped' in step;
}

/** Runs every check against one server. */
export async function vetServer(options: VetOptions): Promise<VetResult> {
  const { url } = options;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const plainUrl = new URL(url.href);
  plainUrl.protocol = 'http:';
  plainUrl.port = options.plainPort === 80 ? '' : String(options.plainPort);

  const http = createHttpClient({
    ca: options.ca,
    insecure: options.insecure,
    timeoutMs: options.timeoutMs,
    maxBodyBytes: PROBE_BODY_BYTES,
  });
  try {
    const [tls, plaintext] = await Promise.all([
      probeTls({
        host,
        port: url.port === '' ? 443 : Number(url.port),
        ca: options.ca,
        timeoutMs: options.timeoutMs,
        now: options.now,
      }),
      probePlaintext(http.fetch, plainUrl, options.timeoutMs, options.clientVersion),
    ]);
    const base = {
      url,
      plainUrl,
      checkedAt: options.now,
      insecure: options.insecure,
      tls,
      plaintext,
    };
    if (tls.error !== undefined) {
      const skipped = { skipped: 'no TLS connection' };
      return { ...base, hsts: skipped, mcp: skipped };
    }
    if (!tls.authorized && !options.insecure) {
      const skipped = {
        skipped:
          'the certificate is not trusted; nothing is sent over it (--insecure sends anyway)',
      };
      return { ...base, hsts: skipped, mcp: skipped };
    }
    const hsts = await probeHsts(http.fetch, url);
    const mcp = await runHandshake({
      url,
      ca: options.ca,
      insecure: options.insecure,
      timeoutMs: options.timeoutMs,
      headers: options.headers,
      clientVersion: options.clientVersion,
    });
    return { ...base, hsts, mcp };
  } finally {
    http.close();
  }
}
