/**
 * Canonical forms of the request authority and path, so that allowlist entries are compared
 * against one spelling of each host and path, whatever spelling the client chose.
 *
 * Invariants: every function here is pure and total (never throws, whatever the input). Each
 * fails closed: input we cannot put in canonical form becomes a value that matches no allowlist
 * entry (host `""`), never a guess.
 *
 * Authority: RFC 9110 section 4.2.3 / RFC 3986 section 3.2 (`host [":" port]`, no userinfo),
 * host names through IDNA (UTS #46, the WHATWG URL host parser via node:url `domainToASCII`).
 * Path: RFC 3986 section 6.2.2 (case and percent-encoding normalisation) and section 5.2.4
 * (removal of dot segments), plus the duplicate-slash and backslash rules documented on
 * {@link normalisePath}.
 */
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

/** A normalised authority. `host` is `""` when the authority is absent or not acceptable. */
export interface NormalisedAuthority {
  /**
   * Lower-case ASCII host name (IDN in `xn--` form, no trailing dot), dotted-quad IPv4, or an
   * IPv6 literal in compressed lower-case form *with* its brackets (`[::1]`). Brackets are kept
   * so an IPv6 host can never be mistaken for a name, and because that is how authorities and
   * allowlist entries write it. `""` means "matches nothing".
   */
  readonly host: string;
  /** 1..65535 when the authority carried a port; undefined when it did not (or was rejected). */
  readonly port: number | undefined;
}

const REJECTED: NormalisedAuthority = Object.freeze({ host: '', port: undefined });

/** Characters allowed in a host name after IDNA conversion. */
const ASCII_HOST = /^[a-z0-9.-]+$/;
/** Characters allowed before IDNA conversion: ASCII LDH plus any non-ASCII code point. */
const RAW_HOST = /^[a-z0-9.\-\u0080-\u{10FFFF}]+$/u;
/** The last label is all digits or 0x-hex: WHATWG treats the whole host as an IPv4 address. */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/;
/** The only IPv4 spelling we accept: four decimal octets without leading zeros. */
const DOTTED_QUAD =
  /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/**
 * A port: decimal digits, leading zeros allowed (Envoy's authority parser and the WHATWG URL
 * parser both read `0443` as 443); the range is checked separately. A sign, spaces or an empty
 * port are refused: Envoy accepts `+443`, URL parsers do not, so the readers disagree.
 */
const PORT = /^\d{1,16}$/;

/**
 * Whether `host` is an IPv4 address in the only spelling we accept (DOTTED_QUAD). Allowlist host
 * patterns (policy/host-pattern.ts) hold addresses to the same spelling, so a pattern can only
 * name an address a request host can be normalised to.
 */
export function isDottedQuad(host: string): boolean {
  return DOTTED_QUAD.test(host);
}

/**
 * Splits and normalises an HTTP authority (`:authority` / `Host`): lower-cases it, splits off the
 * port, strips one trailing dot, converts an IDN to ASCII, and validates the result.
 *
 * Rejected (host `""`, port undefined): empty input; userinfo (`user@host`); an empty,
 * non-numeric, signed, zero or out-of-range port (leading zeros are read as Envoy reads them:
 * `0443` is 443); bare IPv6 without brackets; IPv6 zone ids;
 * any ASCII character other than letters, digits, `.` and `-` (so `%`, `/`, `_`, spaces, ...);
 * empty labels (`a..b`, `.a`); labels over 63 or names over 253 characters; invalid punycode;
 * and numeric IPv4 spellings other than a plain dotted quad (`127.1`, `0x7f.0.0.1`,
 * `2130706433`). The last rule exists because resolvers disagree on those spellings; refusing
 * them avoids matching a host the upstream might reach differently.
 *
 * @example normaliseAuthority('Bücher.Example.:8443') // { host: 'xn--bcher-kva.example', port: 8443 }
 * @example normaliseAuthority('[::1]:8443')            // { host: '[::1]', port: 8443 }
 */
export function normaliseAuthority(authority: string): NormalisedAuthority {
  if (authority.length === 0) return REJECTED;
  const lower = authority.toLowerCase();

  let hostPart: string;
  let portPart: string | undefined;
  if (lower.charCodeAt(0) === 0x5b /* [ */) {
    const close = lower.indexOf(']');
    if (close < 0) return REJECTED;
    hostPart = lower.slice(0, close + 1);
    const rest = lower.slice(close + 1);
    if (rest.length > 0) {
      if (rest.charCodeAt(0) !== 0x3a /* : */) return REJECTED;
      portPart = rest.slice(1);
    }
  } else {
    const colon = lower.indexOf(':');
    if (colon >= 0) {
      // More than one colon without brackets is a bare IPv6 address or junk: either way,
      // ambiguous about where the port starts.
      if (lower.includes(':', colon + 1)) return REJECTED;
      hostPart = lower.slice(0, colon);
      portPart = lower.slice(colon + 1);
    } else {
      hostPart = lower;
    }
  }

  let port: number | undefined;
  if (portPart !== undefined) {
    if (!PORT.test(portPart)) return REJECTED;
    port = Number(portPart);
    if (port === 0 || port > 65535) return REJECTED;
  }

  const host =
    hostPart.charCodeAt(0) === 0x5b ? normaliseIpv6Literal(hostPart) : normaliseHostName(hostPart);
  return host === '' ? REJECTED : { host, port };
}

/** `[v6]` → compressed lower-case `[v6]`, or `""`. Zone ids (`%25eth0`) are rejected. */
function normaliseIpv6Literal(bracketed: string): string {
  const inner = bracketed.slice(1, -1);
  if (!/^[0-9a-f:.]+$/.test(inner) || !isIPv6(inner)) return '';
  // The WHATWG host parser serialises IPv6 in its canonical compressed form (RFC 5952 style), so
  // `[0:0::1]` and `[::1]` compare equal.
  return domainToASCII(bracketed);
}

/** Host name or IPv4 → lower-case ASCII without trailing dot, or `""`. */
function normaliseHostName(raw: string): string {
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  // Checked *before* domainToASCII because the WHATWG parser behind it percent-decodes
  // (`a%2eb` → `a.b`) and cuts at `/`, `?` and `#`: we must not let it repair an authority.
  if (name.length === 0 || !RAW_HOST.test(name)) return '';
  if (NUMERIC_LAST_LABEL.test(name)) return DOTTED_QUAD.test(name) ? name : '';
  // Lower-case LDH without an `xn--` label is already what domainToASCII would return (numeric
  // hosts were handled above), so the common case skips the IDNA call.
  const ascii =
    ASCII_HOST.test(name) && !name.includes('xn--')
      ? name
      : // "" for invalid IDNs (bad punycode, disallowed code points).
        domainToASCII(name);
  if (ascii.length === 0 || ascii.length > 253 || !ASCII_HOST.test(ascii)) return '';
  // Non-ASCII that maps to an IP address (full-width digits): an address must be written
  // plainly, as above.
  if (NUMERIC_LAST_LABEL.test(ascii)) return '';
  let start = 0;
  for (;;) {
    const dot = ascii.indexOf('.', start);
    const end = dot < 0 ? ascii.length : dot;
    const labelLength = end - start;
    if (labelLength === 0 || labelLength > 63) return '';
    if (dot < 0) return ascii;
    start = dot + 1;
  }
}

/** Characters RFC 3986 calls unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Absolute-form request target: `scheme://authority...` (RFC 9112 section 3.2.2). */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;
/**
 * A path that is already canonical: starts with `/`, no `%`, `?`, `#` or `\`, no `//`, and no
 * `.` / `..` segment. Most real request paths take this fast path and are returned unchanged.
 */
const NEEDS_WORK = /[%?#\\]|\/\/|\/\.\.?(?:[/;]|$)/;

/**
 * Normalises a request path for prefix matching. Steps, in order:
 *
 * 1. Absolute-form (`http://host/x?q`) keeps only what follows the authority.
 * 2. Query (`?`) and fragment (`#`) are dropped.
 * 3. `\` becomes `/`. Envoy's own path normalisation and the WHATWG URL parser treat a backslash
 *    as a separator for http(s), so an upstream may do the same; treating it as a separator here
 *    means `/mcp/..\..\x` cannot pass a `/mcp` prefix check and then escape it upstream.
 * 4. Percent-encoded unreserved characters are decoded (`%7E` → `~`, `%2e` → `.`); every other
 *    escape stays encoded with upper-case hex (`%2f` → `%2F`, which is therefore *not* a
 *    separator). A `%` not followed by two hex digits is kept as it is. Decoding happens once:
 *    `%252e` stays `%252E`.
 * 5. Runs of `/` collapse to one. Upstreams differ (some treat `//` as an empty segment, some
 *    merge), and segment-wise prefix matching is only meaningful if empty segments cannot hide a
 *    boundary. Collapsing *before* dot-segment removal is also the conservative order: each `..`
 *    then removes a real segment, so `/mcp//../x` becomes `/x`, not `/mcp/x`.
 * 6. Dot segments are removed per RFC 3986 section 5.2.4 (`/a/./b/../c` → `/a/c`; `..` never
 *    climbs above `/`; a final `.` or `..` leaves a trailing `/`). A segment that is `.` or `..`
 *    followed by a `;` path parameter (`..;x`) counts as a dot segment too, because servlet
 *    containers strip the parameter and then resolve it (the classic `/ok/..;/admin` bypass).
 *
 * The result always starts with `/` (`""` → `/`, `*` → `/*`). Pure and total.
 */
export function normalisePath(rawPath: string): string {
  if (typeof rawPath !== 'string') return '/';
  if (rawPath.charCodeAt(0) === 0x2f && !NEEDS_WORK.test(rawPath)) return rawPath;

  const p = pathPart(rawPath);

  // Steps 3 and 4 in one pass.
  let decoded = '';
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      decoded += '/';
    } else if (c === 0x25 /* % */ && i + 2 < p.length) {
      const hi = hexValue(p.charCodeAt(i + 1));
      const lo = hexValue(p.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) {
        decoded += '%';
        continue;
      }
      const byte = hi * 16 + lo;
      decoded += isUnreserved(byte)
        ? String.fromCharCode(byte)
        : '%' + p.charAt(i + 1).toUpperCase() + p.charAt(i + 2).toUpperCase();
      i += 2;
    } else {
      decoded += p.charAt(i);
    }
  }

  // Steps 5 and 6: walk the segments; empty ones (from `//`) are dropped.
  const segments = decoded.split('/');
  const out: string[] = [];
  let trailingSlash = false;
  for (const seg of segments) {
    const dots = dotSegment(seg);
    if (seg === '' || dots === 1) {
      trailingSlash = true;
    } else if (dots === 2) {
      out.pop();
      trailingSlash = true;
    } else {
      out.push(seg);
      trailingSlash = false;
    }
  }
  if (out.length === 0) return '/';
  return '/' + out.join('/') + (trailingSlash ? '/' : '');
}

/** Steps 1 and 2 of {@link normalisePath}: the path of a request target, without query or fragment. */
function pathPart(target: string): string {
  let p = target;
  const absolute = ABSOLUTE_FORM.exec(p);
  if (absolute !== null) p = p.slice(authorityEnd(p, absolute[0].length));
  const cut = p.search(/[?#]/);
  return cut >= 0 ? p.slice(0, cut) : p;
}

/**
 * The scheme (lower-cased) and raw authority of an absolute-form target
 * (`HTTPS://Host:8443/x?q` → `https`, `Host:8443`), read as {@link normalisePath} reads it: the
 * authority ends at the first `/`, `?` or `#`. Undefined for any other form. The authority is
 * returned as written, for {@link normaliseAuthority}.
 */
export function absoluteFormParts(
  target: string,
): { scheme: string; authority: string } | undefined {
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute === null) return undefined;
  const start = absolute[0].length;
  return {
    scheme: target.slice(0, start - 3).toLowerCase(),
    authority: target.slice(start, authorityEnd(target, start)),
  };
}

/** Where the authority that starts at `start` ends: at the first `/`, `?` or `#`. */
function authorityEnd(target: string, start: number): number {
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
    end++;
  }
  return end;
}

/**
 * A backslash, a percent-encoded `.`, `/` or `\`, a `.`/`..` segment (also `..;x`), or an empty
 * segment (`//`).
 */
const AMBIGUOUS_PATH = /\\|\/\/|%(?:2e|2f|5c)|(?:^|\/)\.\.?(?:[/;]|$)/i;

/**
 * True when servers may route the raw path differently from {@link normalisePath}: it holds dot
 * segments, empty segments, backslashes, or percent-encoded dots, slashes or backslashes. Express
 * and plain Node servers route the raw bytes (`/mcp/x/../open/` and `/mcp//open` are served
 * under `/mcp`, where we would read `/mcp/open`), servlet containers and proxies resolve or
 * decode them, so no single normal form is what every server reads. Envoy's own path normalisation (`normalize_path`, `merge_slashes`,
 * `path_with_escaped_slashes_action`) removes all of these before ext_authz, so clients going
 * through a correctly configured Envoy never send one to us. Only the path counts, not the query.
 */
export function isAmbiguousPath(rawPath: string): boolean {
  return AMBIGUOUS_PATH.test(pathPart(rawPath));
}

/** 1 for a `.` segment, 2 for `..`, also with a `;` parameter after it; otherwise 0. */
function dotSegment(seg: string): 0 | 1 | 2 {
  if (seg.charCodeAt(0) !== 0x2e) return 0;
  if (seg.length === 1 || seg.charCodeAt(1) === 0x3b /* ; */) return 1;
  if (seg.charCodeAt(1) === 0x2e && (seg.length === 2 || seg.charCodeAt(2) === 0x3b)) return 2;
  return 0;
}

/**
 * True when `path` lies under `prefix`, comparing whole segments: `/mcp` matches `/mcp`, `/mcp/`
 * and `/mcp/x` but never `/mcpx`. Both arguments are expected in normalisePath form. A trailing
 * `/` on the prefix is ignored (`/mcp/` behaves like `/mcp`), and `/` matches every path.
 * Fails closed: a path or prefix that does not start with `/` (a CONNECT's `""`, a malformed
 * prefix) matches nothing.
 */
export function pathHasPrefix(path: string, prefix: string): boolean {
  if (path.charCodeAt(0) !== 0x2f || prefix.charCodeAt(0) !== 0x2f) return false;
  let end = prefix.length;
  while (end > 1 && prefix.charCodeAt(end - 1) === 0x2f) end--;
  if (end === 1) return true;
  if (!path.startsWith(end === prefix.length ? prefix : prefix.slice(0, end))) return false;
  return path.length === end || path.charCodeAt(end) === 0x2f;
}

/**
 * An authority with its userinfo (`alice:secret@`) replaced by `[userinfo]@`: userinfo is a
 * credential, and the authority is echoed into the audit log, Envoy's dynamic metadata and deny
 * texts. The rest is kept as sent, so the log still shows what was asked for.
 */
export function withoutUserinfo(authority: string): string {
  const at = authority.lastIndexOf('@');
  return at < 0 ? authority : `[userinfo]@${authority.slice(at + 1)}`;
}

/** A request target with the userinfo of an absolute-form authority replaced likewise. */
export function targetWithoutUserinfo(target: string): string {
  // Origin-form, the common case, has no authority.
  if (target.charCodeAt(0) === 0x2f) return target;
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute === null) return target;
  const start = absolute[0].length;
  const end = authorityEnd(target, start);
  const authority = target.slice(start, end);
  return authority.includes('@')
    ? `${target.slice(0, start)}${withoutUserinfo(authority)}${target.slice(end)}`
    : target;
}
