/**
 * The report of `mcp-gate vet`, as JSON (`--json`, snake_case keys like `explain`'s output) and
 * as text. Everything the server chose (names, versions, header values, error texts) is printed
 * with control and non-ASCII characters escaped, so a hostile server cannot write terminal
 * control sequences or fake lines into the report. Pure.
 */
import { commentSafeText } from '../config/draft-entry.js';
import { passes } from './findings.js';
import type { Finding } from './findings.js';
import type { HstsResult, PlaintextResult } from './http-probes.js';
import type { HandshakeResult } from './mcp-handshake.js';
import { isSkipped } from './result.js';
import type { Skipped, VetResult } from './result.js';
import type { TlsReport } from './tls-probe.js';

/** What the report shows of the request headers given with --header: names only. */
export const REDACTED = '[redacted]';

export interface ReportContext {
  readonly result: VetResult;
  readonly findings: readonly Finding[];
  /** Names of the --header headers (their values are never shown). */
  readonly headerNames: readonly string[];
  readonly minCertDays: number;
  readonly minHstsMaxAge: number;
}

/** The report as a JSON value. */
export function toJsonReport(context: ReportContext): Record<string, unknown> {
  const { result, findings } = context;
  return {
    url: displayUrl(result.url),
    checked_at: result.checkedAt.toISOString(),
    passed: passes(findings),
    thresholds: { min_cert_days: context.minCertDays, min_hsts_max_age: context.minHstsMaxAge },
    headers_sent: context.headerNames.map((name) => `${name}: ${REDACTED}`),
    insecure: result.insecure,
    tls: tlsJson(result.tls),
    hsts: hstsJson(result.hsts),
    plaintext: { url: displayUrl(result.plainUrl), ...plaintextJson(result.plaintext) },
    mcp: mcpJson(result.mcp),
    findings: findings.map(({ code, severity, message }) => ({ code, severity, message })),
  };
}

/** The URL as reports show it: any query is hidden (it may hold a key). */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}${url.search === '' ? '' : `?${REDACTED}`}`;
}

function tlsJson(tls: TlsReport): Record<string, unknown> {
  return {
    protocol: tls.protocol ?? null,
    cipher: tls.cipher?.standardName ?? null,
    authorized: tls.authorized,
    authorization_error: tls.authorizationError ?? null,
    days_to_expiry: tls.daysToExpiry ?? null,
    chain: tls.chain.map((cert) => ({
      subject: cert.subject,
      issuer: cert.issuer,
      valid_from: cert.validFrom,
      valid_to: cert.validTo,
      fingerprint256: cert.fingerprint256,
    })),
    error: tls.error ?? null,
  };
}

function hstsJson(hsts: HstsResult | Skipped): Record<string, unknown> {
  if (isSkipped(hsts)) return { result: 'skipped', reason: hsts.skipped };
  switch (hsts.kind) {
    case 'present':
      return {
        result: 'present',
        value: hsts.value,
        max_age: hsts.hsts.maxAge,
        include_subdomains: hsts.hsts.includeSubDomains,
        preload: hsts.hsts.preload,
      };
    case 'invalid':
      return { result: 'invalid', value: hsts.value, problem: hsts.problem };
    case 'missing':
      return { result: 'missing', status: hsts.status };
    case 'error':
      return { result: 'error', message: hsts.message };
  }
}

function plaintextJson(plaintext: PlaintextResult): Record<string, unknown> {
  const { kind, ...rest } = plaintext;
  return { result: kind, ...rest };
}

function mcpJson(mcp: HandshakeResult | Skipped): Record<string, unknown> {
  if (isSkipped(mcp)) return { result: 'skipped', reason: mcp.skipped };
  return {
    result: mcp.error === undefined ? 'ok' : 'failed',
    offered: mcp.offered,
    negotiated: mcp.negotiated ?? null,
    era: mcp.era ?? null,
    server: mcp.server ?? null,
    capabilities: mcp.capabilities ?? null,
    protocol_headers: mcp.protocolHeaders,
    tools: mcp.tools ?? null,
    tools_truncated: mcp.toolsTruncated,
    sdk_messages: mcp.sdkMessages,
    error: mcp.error ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Text

const LABEL_WIDTH = 11;
const line = (label: string, text: string): string => `  ${label.padEnd(LABEL_WIDTH)}${text}`;
const more = (text: string): string => `  ${' '.repeat(LABEL_WIDTH)}${text}`;
/** Server-chosen text, printable. */
const printable = commentSafeText;

/** The report as text, one section per check, then the findings and the verdict. */
export function toTextReport(context: ReportContext): string {
  const { result, findings } = context;
  const out = [`mcp-gate vet ${displayUrl(result.url)}`];
  out.push(...tlsText(result.tls));
  out.push(...hstsText(result.hsts));
  out.push(line('plaintext', `${displayUrl(result.plainUrl)}: ${plaintextText(result.plaintext)}`));
  out.push(...mcpText(result.mcp));
  if (context.headerNames.length > 0) {
    out.push(line('headers', context.headerNames.map((name) => `${name}: ${REDACTED}`).join(', ')));
  }
  out.push('findings');
  if (findings.length === 0) out.push('  none');
  for (const finding of findings) {
    out.push(`  ${finding.severity.toUpperCase()} ${finding.code}: ${printable(finding.message)}`);
  }
  const failing = findings.filter((finding) => finding.severity === 'fail').length;
  out.push(
    failing === 0
      ? 'result: PASS'
      : `result: FAIL (${failing} failing finding${failing === 1 ? '' : 's'})`,
  );
  return `${out.join('\n')}\n`;
}

function tlsText(tls: TlsReport): string[] {
  if (tls.error !== undefined)
    return [line('TLS', `${tls.error.kind}: ${printable(tls.error.message)}`)];
  const trust = tls.authorized
    ? 'chain trusted'
    : `NOT trusted (${printable(tls.authorizationError ?? 'unknown reason')})`;
  const leaf = tls.chain[0];
  const expiry =
    leaf === undefined
      ? ''
      : `; leaf expires ${leaf.validTo.slice(0, 10)} (${tls.daysToExpiry ?? '?'} days)`;
  const lines = [
    line('TLS', `${tls.protocol ?? '?'}, ${tls.cipher?.standardName ?? '?'}; ${trust}${expiry}`),
  ];
  if (tls.chain.length > 0) {
    lines.push(more(`chain: ${tls.chain.map((cert) => printable(cert.subject)).join(' <- ')}`));
  }
  return lines;
}

function hstsText(hsts: HstsResult | Skipped): string[] {
  if (isSkipped(hsts)) return [line('HSTS', `not checked: ${hsts.skipped}`)];
  switch (hsts.kind) {
    case 'present':
      return [line('HSTS', printable(hsts.value))];
    case 'invalid':
      return [line('HSTS', `invalid: ${printable(hsts.value)} (${hsts.problem})`)];
    case 'missing':
      return [line('HSTS', `none (GET answered HTTP ${hsts.status})`)];
    case 'error':
      return [line('HSTS', `GET failed: ${printable(hsts.message)}`)];
  }
}

function plaintextText(plaintext: PlaintextResult): string {
  switch (plaintext.kind) {
    case 'refused':
      return `refused (${printable(plaintext.message)})`;
    case 'no_answer':
      return `no answer (${printable(plaintext.message)})`;
    case 'redirect_https':
      return `HTTP ${plaintext.status} redirect to ${printable(plaintext.location)}`;
    case 'http_answer':
      return `HTTP ${plaintext.status}${plaintext.location === undefined ? '' : ` to ${printable(plaintext.location)}`}, no MCP`;
    case 'mcp_answer':
      return `HTTP ${plaintext.status}, answered the MCP initialize`;
  }
}

function mcpText(mcp: HandshakeResult | Skipped): string[] {
  if (isSkipped(mcp)) return [line('MCP', `not checked: ${mcp.skipped}`)];
  const lines: string[] = [];
  const offered = `offered ${mcp.offered.join(', ')}`;
  lines.push(
    line(
      'MCP',
      mcp.negotiated === undefined
        ? `no revision negotiated (${offered})`
        : `${printable(mcp.negotiated)} negotiated, ${mcp.era ?? '?'} era (${offered})`,
    ),
  );
  if (mcp.server !== undefined) {
    lines.push(more(`server: ${printable(mcp.server.name)} ${printable(mcp.server.version)}`));
  }
  if (mcp.capabilities !== undefined) {
    lines.push(
      more(`capabilities: ${Object.keys(mcp.capabilities).map(printable).join(', ') || 'none'}`),
    );
  }
  const values = [...new Set(mcp.protocolHeaders.map((seen) => seen.value))];
  lines.push(
    more(
      `mcp-protocol-version response header: ${
        values.length === 0
          ? 'no responses'
          : values.map((v) => (v === null ? 'absent' : printable(v))).join(', ')
      }`,
    ),
  );
  for (const message of mcp.sdkMessages) lines.push(more(`SDK: ${printable(message)}`));
  if (mcp.tools !== undefined) {
    const readOnly = mcp.tools.filter((tool) => tool.annotations.readOnlyHint === true).length;
    lines.push(
      line(
        'tools',
        `${mcp.tools.length}${mcp.toolsTruncated ? '+' : ''} (${readOnly} marked read-only)`,
      ),
    );
    const width = Math.min(
      40,
      Math.max(0, ...mcp.tools.map((tool) => printable(tool.name).length)),
    );
    for (const tool of mcp.tools) {
      const hints = Object.entries(tool.annotations)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(' ');
      lines.push(
        more(`${printable(tool.name).padEnd(width)}  ${hints === '' ? 'no annotations' : hints}`),
      );
    }
  }
  return lines;
}
