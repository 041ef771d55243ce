/**
 * Entry URLs, the meaning of an allowlist entry's `url` key: the port and path prefix it
 * restricts the entry to. Validation and compilation share this parser, so what
 * `mcp-gate validate` accepts is exactly what is compiled.
 *
 * Invariants: pure; never throws; a parsed URL is frozen; the path prefix is normalised the way
 * request paths are (src/core/normalise.ts), so the two compare segment by segment.
 */
import { normalisePath } from '../normalise.js';
import type { Parsed } from '../parsed.js';
import { parseHostPattern } from './host-pattern.js';

/** The parts of an entry's `url` that matching uses. */
export interface EntryUrl {
  /** Lower-cased host as written in the URL (may itself be a `*.` pattern). */
  readonly host: string;
  readonly port: number | undefined;
  /** Normalised path prefix: starts with "/", no trailing slash except for the root "/". */
  readonly pathPrefix: string;
  /** The URL carried a query, which matching ignores (validation warns about it). */
  readonly hasQuery: boolean;
}

// Parsed by hand rather than with WHATWG URL: the URL class drops default ports, resolves dot
// segments its own way and accepts odd hosts. We need the port exactly as written and one path
// normalisation shared with the request path (normalise.ts).
const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s;
const DEFAULT_PORTS: ReadonlySet<number> = new Set([80, 443]);
const DIGITS = /^[0-9]+$/;

/**
 * Parses an entry's `url`: `http(s)://host[:port][/path][?query]`. The scheme is checked but
 * ignored when matching; the query is ignored; user info, fragments and default ports are
 * rejected (a request rarely names port 80 or 443, so an entry restricted to one would silently
 * never match).
 */
export function parseEntryUrl(url: string): Parsed<EntryUrl> {
  const fail = (message: string): Parsed<EntryUrl> => ({ ok: false, message });
  const shape = URL_SHAPE.exec(url);
  if (shape === null) {
    return fail(`${JSON.stringify(url)} is not an absolute URL like "https://mcp.example.com/mcp"`);
  }
  const [, scheme = '', authority = '', rawPath = '', query, fragment] = shape;
  if (!/^https?$/i.test(scheme)) return fail(`the scheme must be http or https, not "${scheme}"`);
  if (fragment !== undefined) return fail('a url must not contain a fragment ("#…")');
  if (authority.includes('@')) {
    return fail(
      'a url must not contain user info ("user:password@"); credentials do not belong here',
    );
  }
  const portAt = authority.lastIndexOf(':');
  const hostText = portAt === -1 ? authority : authority.slice(0, portAt);
  let port: number | undefined;
  if (portAt !== -1) {
    const portText = authority.slice(portAt + 1);
    port = DIGITS.test(portText) ? Number(portText) : Number.NaN;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      return fail(`${JSON.stringify(portText)} is not a port number (1–65535)`);
    }
    if (DEFAULT_PORTS.has(port)) {
      return fail(
        `port ${port} is a default port that requests rarely spell out, so this entry would not ` +
          'match them; leave the port out (an entry without a port matches any port)',
      );
    }
  }
  const host = hostText.toLowerCase();
  const hostCheck = parseHostPattern(host);
  if (!hostCheck.ok) return fail(`the url's host: ${hostCheck.message}`);
  return {
    ok: true,
    value: Object.freeze({
      host,
      port,
      pathPrefix: toPathPrefix(rawPath),
      hasQuery: query !== undefined,
    }),
  };
}

function toPathPrefix(rawPath: string): string {
  const normalised = normalisePath(rawPath === '' ? '/' : rawPath);
  // "/mcp/" and "/mcp" name the same prefix: pathHasPrefix matches whole segments either way.
  const trimmed = normalised.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}
