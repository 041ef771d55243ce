/**
 * Decodes the value of a 2026-07-28 MCP request header (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`,
 * SEP-2243 "HTTP header standardization"). Values that are not plain visible ASCII, or that have
 * surrounding whitespace, or that would look like the sentinel, are sent by clients as
 * `=?base64?{standard Base64 of the UTF-8 bytes}?=`; the lower-case markers are case-sensitive.
 * Servers and intermediaries that inspect these headers must decode them before comparing.
 *
 * Contract (pure: no I/O, no clock; never throws, whatever the input):
 * - Surrounding optional whitespace (SP / HTAB) is trimmed first, as HTTP field parsing does.
 * - Sentinel values: Base64 with the standard alphabet; padding may be present (`QQ==`) or absent
 *   (`QQ`) but, when present, must be complete; no whitespace, no URL-safe `-`/`_`, no `=` inside,
 *   no non-zero pad bits (RFC 4648 §3.5: an encoder never produces them, and rejecting them makes
 *   the encoding one-to-one). The bytes must be valid UTF-8 (fatal decoding; a leading U+FEFF is
 *   kept, not swallowed). Any violation, or a missing `?=`, is `{ ok: false }`.
 * - Fail closed on look-alikes: a value starting with `=?base64?` in any other letter case is
 *   rejected rather than taken literally, since a server might decode it case-insensitively.
 * - Plain values: returned as is when every character is visible ASCII or space (0x20–0x7E). A raw
 *   control character, DEL or non-ASCII character means the client skipped the mandatory
 *   encoding, and servers would read such bytes in differing charsets: `{ ok: false }`.
 *
 * Not handled here: Envoy joins a header sent several times into one value separated by ",", so
 * `Mcp-Name: a` + `Mcp-Name: b` arrives as `a,b`, which looks exactly like one plain value `a,b`.
 * Callers that care must detect repeats before the join (or treat a "," as suspect).
 */
import { Buffer } from 'node:buffer';
import { trimOws } from './ows.js';

/** A successfully decoded header value. */
export interface McpHeaderValueOk {
  readonly ok: true;
  /** The value the client meant: the decoded text for sentinel values, else the trimmed value. */
  readonly value: string;
}

/** A value that breaks the encoding rules; `message` is for logs and `explain` only. */
export interface McpHeaderValueInvalid {
  readonly ok: false;
  readonly message: string;
}

/** Result of {@link decodeMcpHeaderValue}. */
export type McpHeaderValueResult = McpHeaderValueOk | McpHeaderValueInvalid;

/** Opening marker of the Base64 sentinel form (lower-case, case-sensitive). */
export const MCP_HEADER_SENTINEL_PREFIX = '=?base64?';

/** Closing marker of the Base64 sentinel form. */
export const MCP_HEADER_SENTINEL_SUFFIX = '?=';

const EQUALS = 0x3d;

/**
 * Decodes one MCP header value as received (after Envoy's joining of repeats). Never throws.
 *
 * @param raw - the header value
 * @returns the decoded value, or `{ ok: false }` when the value breaks the encoding rules
 */
export function decodeMcpHeaderValue(raw: string): McpHeaderValueResult {
  const value = trimOws(raw);
  if (startsWithSentinelInAnyCase(value)) {
    if (!value.startsWith(MCP_HEADER_SENTINEL_PREFIX)) {
      return invalid('sentinel markers must be lower-case');
    }
    // The length check keeps `=?base64?=` from reusing the prefix's last `?` as the suffix.
    const minLength = MCP_HEADER_SENTINEL_PREFIX.length + MCP_HEADER_SENTINEL_SUFFIX.length;
    if (value.length < minLength || !value.endsWith(MCP_HEADER_SENTINEL_SUFFIX)) {
      return invalid('sentinel value lacks the closing "?="');
    }
    const payload = value.slice(
      MCP_HEADER_SENTINEL_PREFIX.length,
      value.length - MCP_HEADER_SENTINEL_SUFFIX.length,
    );
    return decodeBase64Utf8(payload);
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      return invalid(`plain value contains U+${c.toString(16).toUpperCase().padStart(4, '0')}`);
    }
  }
  return { ok: true, value };
}

/** True when `value` starts with `=?base64?` in any letter case. */
function startsWithSentinelInAnyCase(value: string): boolean {
  // Checking the "=" first spares plain values, the common case, a lower-cased copy.
  return (
    value.charCodeAt(0) === EQUALS &&
    value.slice(0, MCP_HEADER_SENTINEL_PREFIX.length).toLowerCase() === MCP_HEADER_SENTINEL_PREFIX
  );
}

/**
 * Standard-alphabet Base64, padded or unpadded. Whole quanta, then an optional final quantum of
 * 2 characters (+ optional `==`) or 3 characters (+ optional `=`). Linear: no nested quantifiers.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// ignoreBOM: true so a leading U+FEFF in the payload is returned, not silently dropped.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeBase64Utf8(payload: string): McpHeaderValueResult {
  if (!BASE64.test(payload)) return invalid('sentinel payload is not standard Base64');
  const data = payload.endsWith('==')
    ? payload.slice(0, -2)
    : payload.endsWith('=')
      ? payload.slice(0, -1)
      : payload;
  // The last character of a partial quantum carries unused low bits (4 after 2 characters, 2
  // after 3); they must be zero, or several payloads would decode to the same bytes.
  const rest = data.length % 4;
  if (rest !== 0) {
    const last = BASE64_ALPHABET.indexOf(data.charAt(data.length - 1));
    const unusedBits = rest === 2 ? 0b1111 : 0b11;
    if ((last & unusedBits) !== 0) return invalid('sentinel payload has non-zero Base64 pad bits');
  }
  try {
    return { ok: true, value: UTF8.decode(Buffer.from(data, 'base64')) };
  } catch {
    return invalid('sentinel payload is not valid UTF-8');
  }
}

function invalid(message: string): McpHeaderValueInvalid {
  return { ok: false, message };
}
