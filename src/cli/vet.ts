/**
 * `mcp-gate vet URL`: the intake check of a candidate MCP server, before a review starts
 * (src/vet/ does the work: run.ts runs the checks, findings.ts judges them, report.ts prints
 * them, draft.ts writes the --draft entry). This file reads the flags and the --ca file, and
 * makes sure no --header value is ever printed: every string written to stdout or stderr passes
 * through redact(), whatever the server echoed back into an error text.
 */
import { readFile } from 'node:fs/promises';

import { splitCertificates } from '../certs/x509.js';
import { findingsOf, passes } from '../vet/findings.js';
import { toVetDraft } from '../vet/draft.js';
import { REDACTED, toJsonReport, toTextReport } from '../vet/report.js';
import type { ReportContext } from '../vet/report.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';
import { packageVersion } from './version.js';

export const VET_USAGE = `usage: mcp-gate vet URL [--json] [--draft] [--min-cert-days 30] [--min-hsts-max-age 31536000]
                   [--timeout 10000] [--ca FILE] [--header NAME:VALUE]... [--insecure] [--plain-port 80]

Checks a candidate MCP server (an https:// URL) before it is reviewed: TLS version and cipher,
certificate chain trusted for the host and days to expiry, Strict-Transport-Security with a long
max-age, plain http:// refused (the MCP initialize sent to port 80 must not be answered), then
a real MCP handshake with the MCP SDK client (revisions offered and negotiated, server name and
version, capabilities, the tools with their annotations) and the mcp-protocol-version response
header compared with the negotiated revision. Prints a report (--json: as JSON).
  --draft             also print an allowlist entry to start the review from (stdout; the text
                      report then goes to stderr): read-only tools in tools.allow, TODO- values
                      that mcp-gate validate refuses until a reviewer fills them in
  --min-cert-days N   fewer days to the certificate's expiry fail (default 30)
  --min-hsts-max-age S  a shorter HSTS max-age fails (default 31536000, one year)
  --timeout MS        bound of every network step: connect, TLS, each HTTP request, the MCP
                      handshake, tools/list (default 10000)
  --ca FILE           extra trusted CA certificates (PEM), beside Node's roots
  --header NAME:VALUE a request header for the MCP handshake (e.g. authorization); its value is
                      never printed, and never sent over plain HTTP or an untrusted certificate
  --insecure          connect even when the certificate is not trusted (it still fails the check)
  --plain-port N      the port of the plaintext check (default 80)
Exit status: 0 passed, 1 a check failed, 2 usage error.`;

const DEFAULTS = {
  minCertDays: 30,
  // One year; the README's "Intake: mcp-gate vet" says why.
  minHstsMaxAge: 31_536_000,
  timeoutMs: 10_000,
  plainPort: 80,
} as const;

/** Headers the MCP transport sets itself; --header may not replace them. */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'content-length',
  'content-type',
  'host',
  'mcp-protocol-version',
  'mcp-session-id',
  'transfer-encoding',
  'connection',
]);
/** An HTTP field name (RFC 9110 5.1: a token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Parts of a header value this long are redacted on their own too ("Bearer <token>"). */
const SECRET_PART_LENGTH = 8;

/** Runs vet; resolves with the exit code. */
export async function runVet(args: string[], io: CliIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        json: { type: 'boolean' },
        draft: { type: 'boolean' },
        'min-cert-days': { type: 'string' },
        'min-hsts-max-age': { type: 'string' },
        timeout: { type: 'string' },
        ca: { type: 'string' },
        header: { type: 'string', multiple: true },
        insecure: { type: 'boolean' },
        'plain-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    },
    VET_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values, positionals } = flags;
  const usage = (message: string): number => {
    io.stderr(`vet: ${message}\n${VET_USAGE}\n`);
    return 2;
  };

  const [target, ...extra] = positionals;
  if (target === undefined || extra.length > 0) return usage('give exactly one URL');
  const url = parseTarget(target);
  if (typeof url === 'string') return usage(url);
  const headers: Record<string, string> = {};
  for (const header of values.header ?? []) {
    const parsed = parseHeader(header);
    if (typeof parsed === 'string') return usage(parsed);
    headers[parsed.name] = parsed.value;
  }
  const minCertDays = count(values['min-cert-days'], DEFAULTS.minCertDays, 0);
  const minHstsMaxAge = count(values['min-hsts-max-age'], DEFAULTS.minHstsMaxAge, 0);
  const timeoutMs = count(values.timeout, DEFAULTS.timeoutMs, 1);
  const plainPort = count(values['plain-port'], DEFAULTS.plainPort, 1);
  if (minCertDays === undefined) return usage('--min-cert-days must be a whole number of days');
  if (minHstsMaxAge === undefined)
    return usage('--min-hsts-max-age must be a whole number of seconds');
  if (timeoutMs === undefined)
    return usage('--timeout must be a positive whole number of milliseconds');
  if (plainPort === undefined) return usage('--plain-port must be a port number (1-65535)');
  if (plainPort > 65_535) return usage('--plain-port must be a port number (1-65535)');

  let ca: string | undefined;
  if (values.ca !== undefined) {
    try {
      ca = await readFile(values.ca, 'utf8');
    } catch (err: unknown) {
      return usage(`--ca ${values.ca}: ${(err as Error).message}`);
    }
    if (splitCertificates(ca).length === 0) {
      return usage(`--ca ${values.ca}: no PEM certificate in the file`);
    }
  }

  // From here on, nothing reaches the output without passing redact().
  const secrets = secretsOf(headers, url);
  const out = (text: string): void => {
    io.stdout(redact(text, secrets));
  };
  const err = (text: string): void => {
    io.stderr(redact(text, secrets));
  };

  // Loaded here, not at the top: the MCP SDK client it brings costs about half a second and
  // 25 MB to load, which no other command (serve least of all) should pay.
  const { vetServer } = await import('../vet/run.js');
  const result = await vetServer({
    url,
    ca,
    insecure: values.insecure === true,
    timeoutMs,
    headers,
    plainPort,
    now: io.now,
    clientVersion: packageVersion(),
  });
  const findings = findingsOf(result, { minCertDays, minHstsMaxAge });
  const context: ReportContext = {
    result,
    findings,
    headerNames: Object.keys(headers),
    minCertDays,
    minHstsMaxAge,
  };
  const draft = values.draft === true ? toVetDraft(result, findings) : undefined;
  if (values.json === true) {
    const report = toJsonReport(context);
    out(`${JSON.stringify(draft === undefined ? report : { ...report, draft }, null, 2)}\n`);
  } else if (draft !== undefined) {
    err(toTextReport(context));
    out(draft);
  } else {
    out(toTextReport(context));
  }
  return passes(findings) ? 0 : 1;
}

/** The URL to vet, or why it cannot be. */
function parseTarget(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not an absolute URL`;
  }
  if (url.protocol !== 'https:') {
    return `the URL must be https:// (vet checks the TLS of the server; got ${url.protocol})`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'the URL must not contain user info; give credentials with --header';
  }
  if (url.hash !== '') return 'the URL must not contain a fragment';
  return url;
}

/** NAME:VALUE, or why not. */
function parseHeader(text: string): { name: string; value: string } | string {
  const colon = text.indexOf(':');
  // The value is not quoted back: it is the secret this flag exists for.
  if (colon <= 0) return '--header must be NAME:VALUE';
  const name = text.slice(0, colon).trim().toLowerCase();
  const value = text.slice(colon + 1).trim();
  if (!TOKEN.test(name)) return `--header: ${JSON.stringify(name)} is not a header name`;
  if (TRANSPORT_HEADERS.has(name)) {
    return `--header: ${name} is set by the MCP transport and cannot be given`;
  }
  if (value === '' || /[\0\r\n]/.test(value)) {
    return `--header ${name}: the value must be non-empty and on one line`;
  }
  return { name, value };
}

/** A whole number >= min, the default when absent, undefined when malformed. */
function count(text: string | undefined, fallback: number, min: number): number | undefined {
  if (text === undefined) return fallback;
  if (!/^\d{1,12}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min ? value : undefined;
}

/**
 * The strings no output may contain: every --header value, its parts of SECRET_PART_LENGTH or
 * more characters (the token of "Bearer <token>"), and the URL's query (it may carry a key).
 */
function secretsOf(headers: Readonly<Record<string, string>>, url: URL): string[] {
  const secrets = new Set<string>();
  for (const value of Object.values(headers)) {
    secrets.add(value);
    for (const part of value.split(/[\s,;=]+/)) {
      if (part.length >= SECRET_PART_LENGTH) secrets.add(part);
    }
  }
  if (url.search.length > 1) {
    secrets.add(url.search.slice(1));
    for (const [, value] of url.searchParams) {
      if (value.length >= SECRET_PART_LENGTH) secrets.add(value);
    }
  }
  return [...secrets];
}

/**
 * The text with every secret, raw or JSON-escaped, replaced by [redacted]. Longest first, so a
 * part never leaves the rest of a longer secret behind.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret === '') continue;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      redacted = redacted.split(form).join(REDACTED);
    }
  }
  return redacted;
}
