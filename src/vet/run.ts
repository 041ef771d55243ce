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
import { runHandshake } from './mcp-handshake.js';
import type { VetOptions, VetResult } from './result.js';
import { probeTls } from './tls-probe.js';

/** Body bytes the HSTS and plaintext probes accept; they read headers and one message. */
const PROBE_BODY_BYTES = 64 * 1024;

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
