/**
 * Host patterns, the meaning of an allowlist entry's `host` key: the parser that validation and
 * compilation share (so what `mcp-gate validate` accepts is exactly what is compiled), how a
 * pattern is written back, and which concrete hosts it matches.
 *
 * Invariants: pure; never throws; a parsed pattern is frozen. Hosts given to
 * hostPatternMatches must already be normalised (lower-case, no port, no trailing dot), as
 * RequestFacts guarantees (src/core/normalise.ts).
 */
import { isDottedQuad } from '../normalise.js';
import type { Parsed } from '../parsed.js';

/** A host pattern: an exact name, or `*.suffix` for any depth of subdomain (never the apex). */
export type HostPattern =
  | { readonly kind: 'exact'; readonly host: string }
  | { readonly kind: 'wildcard'; readonly suffix: string /* ".example.com" */ };

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DIGITS = /^[0-9]+$/;

/**
 * Parses an allowlist host pattern: an exact lower-case DNS name (or IPv4 address), or `*.` plus
 * a name of at least two labels, meaning every host under that name at any depth but never the
 * name itself. Upper case, ports, schemes, paths, trailing dots, IPv6 literals and any other use
 * of `*` are rejected rather than normalised: a security file should say exactly what it means.
 */
export function parseHostPattern(text: string): Parsed<HostPattern> {
  const fail = (message: string): Parsed<HostPattern> => ({ ok: false, message });
  const shown = JSON.stringify(text);
  if (text.length === 0) return fail('a host must not be empty');
  if (text.includes('://')) {
    const host = text.slice(text.indexOf('://') + 3).split(/[/?#:]/)[0] ?? '';
    return fail(`${shown} must be a host name without a scheme (write ${JSON.stringify(host)})`);
  }
  if (text.includes('/')) {
    return fail(`${shown} must be a host name without a path (restrict paths with url)`);
  }
  if (text.includes('@')) return fail(`${shown} must be a host name without user info`);
  if (text.includes('[') || text.split(':').length > 2) {
    return fail(`${shown}: IPv6 addresses are not supported in host patterns`);
  }
  if (text.includes(':')) {
    return fail(`${shown} must be a host name without a port (restrict the port with url)`);
  }
  // The WHATWG host rules would fold case silently; we refuse instead, so the file shows the
  // exact name that is compared.
  if (/[A-Z]/.test(text)) {
    return fail(`${shown} must be lower-case (write ${JSON.stringify(text.toLowerCase())})`);
  }
  if (/[^\x21-\x7e]/.test(text)) {
    return fail(
      `${shown} must be ASCII: write internationalised names in their "xn--" form, without spaces`,
    );
  }
  if (text.endsWith('.')) {
    return fail(`${shown} must not end with a dot (write ${JSON.stringify(text.slice(0, -1))})`);
  }
  if (text.length > 253) return fail(`${shown} is longer than 253 characters`);

  const wildcard = text.startsWith('*.');
  const name = wildcard ? text.slice(2) : text;
  if (name.includes('*')) {
    return fail(`${shown}: "*" is only allowed as the whole first label, as in "*.example.com"`);
  }
  const labels = name.split('.');
  for (const label of labels) {
    if (!DNS_LABEL.test(label)) {
      return fail(
        `${shown}: ${JSON.stringify(label)} is not a valid DNS label (a-z, 0-9 and "-", ` +
          'not starting or ending with "-", 1 to 63 characters)',
      );
    }
  }
  const numeric = labels.every((label) => DIGITS.test(label));
  if (numeric && wildcard) {
    return fail(`${shown}: wildcards apply to names, not to IP addresses`);
  }
  // The same spelling normaliseAuthority accepts, so an address pattern can match a request.
  if (numeric && !isDottedQuad(name)) return fail(`${shown} is not a valid IPv4 address`);
  if (wildcard) {
    if (labels.length < 2) {
      return fail(
        `${shown} would match every host under a top-level domain; ` +
          'name at least two labels after "*." (as in "*.example.com")',
      );
    }
    return { ok: true, value: Object.freeze({ kind: 'wildcard', suffix: `.${name}` }) };
  }
  return { ok: true, value: Object.freeze({ kind: 'exact', host: name }) };
}

/** The pattern as written in the allowlist (`api.example.com`, `*.example.com`). */
export function hostPatternToString(pattern: HostPattern): string {
  return pattern.kind === 'exact' ? pattern.host : `*${pattern.suffix}`;
}

/** Whether a concrete, normalised host matches the pattern (`*.a.b` never matches `a.b`). */
export function hostPatternMatches(pattern: HostPattern, host: string): boolean {
  if (pattern.kind === 'exact') return host === pattern.host;
  return host.length > pattern.suffix.length && host.endsWith(pattern.suffix);
}
