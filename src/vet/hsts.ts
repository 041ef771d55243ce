/**
 * Reads a `Strict-Transport-Security` header value (RFC 6797 6.1): directives separated by
 * `;`, names case-insensitive, values plain or quoted, `max-age` required, no directive twice.
 * A value that breaks these rules is invalid, and a browser ignores it (RFC 6797 8.1), so the
 * report treats it like a missing header. Pure.
 */

export interface Hsts {
  readonly maxAge: number;
  readonly includeSubDomains: boolean;
  readonly preload: boolean;
}

/** The policy, or why the value is not one. */
export function parseHsts(
  value: string,
): { ok: true; hsts: Hsts } | { ok: false; problem: string } {
  const seen = new Set<string>();
  let maxAge: number | undefined;
  for (const part of value.split(';')) {
    const directive = part.trim();
    if (directive === '') continue;
    const eq = directive.indexOf('=');
    const name = (eq === -1 ? directive : directive.slice(0, eq)).trim().toLowerCase();
    let raw = eq === -1 ? undefined : directive.slice(eq + 1).trim();
    if (raw !== undefined && raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
      raw = raw.slice(1, -1);
    }
    if (seen.has(name)) return { ok: false, problem: `directive ${name} appears twice` };
    seen.add(name);
    if (name === 'max-age') {
      if (raw === undefined || !/^\d{1,15}$/.test(raw)) {
        return {
          ok: false,
          problem: `max-age must be a number of seconds, got ${JSON.stringify(raw ?? '')}`,
        };
      }
      maxAge = Number(raw);
    }
  }
  if (maxAge === undefined) return { ok: false, problem: 'no max-age directive' };
  return {
    ok: true,
    hsts: {
      maxAge,
      includeSubDomains: seen.has('includesubdomains'),
      preload: seen.has('preload'),
    },
  };
}
