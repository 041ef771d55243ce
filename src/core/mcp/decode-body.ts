/**
 * Turns the request body bytes Envoy buffered into the text the upstream MCP server will parse:
 * undo `Content-Encoding` (RFC 9110 §8.4), then decode UTF-8 (RFC 8259 §8.1).
 *
 * Contract (pure: no I/O, no clock; never throws, whatever the input). The guiding rule is that we
 * must read exactly what the upstream reads, or nothing: whenever we could disagree with it, the
 * answer is `undecodable` and the caller denies.
 * - Codings: none/`identity`, `gzip` (`x-gzip`), `deflate`, `br`, and `zstd` where node:zlib
 *   has it (Node 22.15 and later, not Node 20); case-insensitive, optional
 *   whitespace around list elements, empty list elements ignored (RFC 9110 §5.6.1). A list names
 *   the codings in the order they were applied, so they are undone from the last to the first. At
 *   most {@link MAX_CODING_LAYERS} real codings (`identity` elements are no-ops); more, or any other
 *   coding (`compress`, junk), is `undecodable` and `opaque`.
 * - `deflate` means the zlib format (RFC 9110 §8.4.1.2, RFC 1950). Raw DEFLATE, which browsers
 *   tolerate in responses, is `undecodable`: MCP clients compress request bodies with zlib
 *   libraries, and common servers (body-parser, Fetch `DecompressionStream('deflate')`) accept only
 *   the zlib format, so tolerating raw streams would only widen what we parse.
 * - Every layer must be one complete, well-formed stream that consumes all of its input: a wrong
 *   declared coding (says gzip, is plain JSON), a truncated stream (including a body Envoy cut
 *   short) and trailing bytes after the stream are all `undecodable`. We never fall back to the raw
 *   bytes, since an attacker could send bytes the upstream decodes differently from us.
 * - Size: the input and each layer's output are capped at `maxBytes`, enforced by zlib while it
 *   inflates (`maxOutputLength`), so a decompression bomb never allocates much more than
 *   `maxBytes` before it is reported as `too_large`.
 * - Charset: without a `charset` parameter, or with `utf-8`/`utf8` (any case, optionally quoted),
 *   the body is UTF-8 and decoding is fatal on any invalid sequence. Any other charset is decoded
 *   by the injected {@link CharsetDecoder}: the service passes iconv-lite, the decoder body-parser
 *   and raw-body use in front of Node MCP servers (src/text/iconv-charsets.ts), so `utf-7`,
 *   `utf-16`, `latin1` read as those servers read them; the core itself imports no package. The
 *   result also carries the text a server that ignores the charset reads (lenient UTF-8), when it
 *   differs: the caller must weigh both. A charset the decoder does not know, conflicting
 *   `charset` parameters, and a
 *   `Content-Type` that holds several values (Envoy joins repeated headers with `,`, and servers
 *   read either the first or the last) are `undecodable`.
 * - Byte-order marks: one leading UTF-8 BOM (EF BB BF) is stripped. JSON senders must not add one
 *   (RFC 8259 §8.1) and real SDKs never do, but the upstreams we protect accept it: Fetch's
 *   `Request.json()` (MCP TypeScript SDK v2, Hono) and body-parser/raw-body (iconv-lite) strip it
 *   before parsing, so stripping yields exactly the text they parse, and a server that rejects a
 *   BOM rejects the request anyway, so stripping can never turn into an allow. A second BOM stays
 *   in the text as U+FEFF, which JSON.parse rejects. UTF-16/32 BOMs (FE FF, FF FE) are
 *   `undecodable` (never valid UTF-8 in any case).
 */
import * as zlib from 'node:zlib';
import {
  brotliDecompressSync,
  constants as zlibConstants,
  gunzipSync,
  inflateSync,
} from 'node:zlib';
import { trimOws } from './ows.js';

/**
 * Text in a charset other than UTF-8, read as the upstream's body reader reads it. Injected from
 * outside the core (src/text/iconv-charsets.ts), because the reader we must agree with is a
 * package (iconv-lite) and the core imports none. Both functions are pure and never throw.
 */
export interface CharsetDecoder {
  /** True when `charset` (lower-case, as `Content-Type` names it) is one the decoder reads. */
  readonly knows: (charset: string) => boolean;
  /** `bytes` in a charset it knows, without a leading byte-order mark of that charset. */
  readonly decode: (bytes: Uint8Array, charset: string) => string;
}

/** Most content codings we undo for one body; more is `undecodable` (no legitimate client stacks). */
export const MAX_CODING_LAYERS = 2;

/** Why a body could not be turned into text. */
export type DecodeBodyFailureDetail =
  /** Unknown or too many codings, a corrupt/truncated/lying stream, a non-UTF-8 charset or bytes. */
  | 'undecodable'
  /** The body, or what a coding layer inflates to, exceeds `maxBytes`. */
  | 'too_large';

/** The decoded body text (without a leading UTF-8 BOM). */
export interface DecodeBodySuccess {
  readonly ok: true;
  readonly text: string;
  /**
   * Set only for a charset other than UTF-8, when it reads differently: the text a server that
   * ignores the charset parameter parses (the bytes as lenient UTF-8, as Fetch's `text()`).
   */
  readonly utf8Reading?: string;
}

/** Why the body is not usable; `message` is for logs and `explain`, never for the client. */
export interface DecodeBodyFailure {
  readonly ok: false;
  readonly detail: DecodeBodyFailureDetail;
  readonly message: string;
  /** True when a content coding we cannot undo hides the whole body: nothing of it is visible. */
  readonly opaque?: boolean;
}

/** Result of {@link decodeBody}. */
export type DecodeBodyResult = DecodeBodySuccess | DecodeBodyFailure;

/**
 * Undoes the content codings of a request body and decodes it as UTF-8. Never throws.
 *
 * Envoy's partial-body flag is the caller's business: a body cut short inside a compressed stream
 * is reported here as `undecodable` (a cut plain body decodes, or fails on a split UTF-8 sequence).
 *
 * @param body - the request body exactly as buffered
 * @param contentEncoding - the `content-encoding` header value (repeats joined with ","), if any
 * @param contentType - the `content-type` header value, if any (only `charset` is read)
 * @param maxBytes - cap on the body and on every decoded layer, in bytes
 * @param charsets - reads a charset other than UTF-8
 * @returns the text, or `undecodable` / `too_large` with a message
 */
export function decodeBody(
  body: Uint8Array,
  contentEncoding: string | undefined,
  contentType: string | undefined,
  maxBytes: number,
  charsets: CharsetDecoder,
): DecodeBodyResult {
  // `>= 0` is false for NaN: a broken cap admits only empty bodies (fail closed).
  const cap = maxBytes >= 0 ? Math.floor(maxBytes) : 0;
  if (body.length > cap) {
    return tooLarge(`body of ${body.length} bytes exceeds the ${cap}-byte limit`);
  }

  const charset = readCharset(contentType);
  if (typeof charset === 'object') return undecodable(charset.problem);

  const codings = parseCodings(contentEncoding);
  if ('problem' in codings) return { ...undecodable(codings.problem), opaque: true };

  let bytes = body;
  // Codings are listed in the order applied; undo the last one first.
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i];
    if (coding === undefined) continue;
    const layer = inflate(coding, bytes, cap);
    if (!layer.ok) return layer;
    bytes = layer.bytes;
  }

  if (charset === undefined) return toText(bytes);
  return toTextIn(bytes, charset, charsets);
}

/**
 * Every charset `Content-Type` names, in any of its values, for recognising MCP in a body we
 * will not decode: a server may pick any of them (the legacy SSE transport of the MCP SDK reads
 * the first value's charset and ignores Content-Encoding).
 */
export function charsetsNamed(
  contentType: string | undefined,
  charsets: CharsetDecoder,
): readonly string[] {
  if (contentType === undefined || !/charset/i.test(contentType)) return [];
  const names = new Set<string>();
  for (const match of contentType.matchAll(/charset\s*=\s*"?([^";,\s]+)/gi)) {
    const name = match[1]?.toLowerCase();
    if (name !== undefined && charsets.knows(name)) names.add(name);
  }
  return [...names];
}

/** A body in a charset other than UTF-8, read as the charset-honouring servers read it. */
function toTextIn(bytes: Uint8Array, charset: string, charsets: CharsetDecoder): DecodeBodyResult {
  if (!charsets.knows(charset)) {
    return undecodable(`unsupported charset ${quoteForLog(charset)}`);
  }
  // The decoder drops a leading BOM of the charset, as raw-body and body-parser let it.
  const text = charsets.decode(bytes, charset);
  const utf8Reading = LENIENT_UTF8.decode(bytes);
  return utf8Reading === text ? { ok: true, text } : { ok: true, text, utf8Reading };
}

/**
 * Best effort at the first bytes of the decoded body, for recognising MCP in a body that
 * {@link decodeBody} cannot or will not decode (cut short by Envoy, or inflating beyond `maxBytes`).
 * Never throws; the result is never parsed, only searched (json-rpc-signal.ts).
 *
 * Each layer is inflated with a sync flush, so a stream cut short yields what precedes the cut.
 * When a layer inflates beyond `maxBytes`, the first half of its input is tried instead, a bounded
 * number of times, so a bomb costs at most a few inflations of `maxBytes` each.
 *
 * @returns up to `maxBytes` decoded bytes, or undefined for codings we do not know, more than
 *   {@link MAX_CODING_LAYERS} layers, or a corrupt stream
 */
export function decodeBodyPrefix(
  body: Uint8Array,
  contentEncoding: string | undefined,
  maxBytes: number,
): Uint8Array | undefined {
  const cap = maxBytes >= 0 ? Math.floor(maxBytes) : 0;
  const codings = parseCodings(contentEncoding);
  if ('problem' in codings) return undefined;
  let bytes = body.length > cap ? body.subarray(0, cap) : body;
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i];
    if (coding === undefined) continue;
    const layer = inflatePrefix(coding, bytes, cap);
    if (layer === undefined) return undefined;
    bytes = layer;
  }
  return bytes;
}

/** How often {@link inflatePrefix} halves its input before giving up. */
const MAX_PREFIX_ATTEMPTS = 8;

function inflatePrefix(coding: Coding, input: Uint8Array, cap: number): Uint8Array | undefined {
  const maxOutputLength = Math.max(1, Math.min(cap, MAX_ZLIB_OUTPUT));
  let length = input.length;
  for (let attempt = 0; attempt < MAX_PREFIX_ATTEMPTS && length > 0; attempt++) {
    const part = input.subarray(0, length);
    try {
      switch (coding) {
        case 'gzip':
          return gunzipSync(part, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength });
        case 'deflate':
          return inflateSync(part, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength });
        case 'br':
          return brotliDecompressSync(part, {
            finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH,
            maxOutputLength,
          });
        case 'zstd':
          // No flush mode yields the prefix of a cut zstd stream: only a whole one shows anything.
          return asBytes(zstdDecompressSync?.(part, { maxOutputLength }));
      }
    } catch (err: unknown) {
      if (!(err instanceof RangeError && errorCode(err) === 'ERR_BUFFER_TOO_LARGE')) {
        return undefined;
      }
      length = Math.floor(length / 2);
    }
  }
  return undefined;
}

/** The codings we can undo, by the inflater that undoes them. */
type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

type SyncInflater = (input: Uint8Array, options: object) => unknown;

/**
 * node:zlib's zstd decoder (Node 22.15 and later; Node 20 has none). body-parser 2.2 and later
 * inflates zstd request bodies wherever node:zlib has it, so where it exists we must too; where
 * it does not, a zstd body is `undecodable` and nothing of it can be seen.
 */
const zstdDecompressSync: SyncInflater | undefined = (() => {
  const candidate: unknown = (zlib as Record<string, unknown>)['zstdDecompressSync'];
  return typeof candidate === 'function' ? (candidate as SyncInflater) : undefined;
})();

/** True when this Node can undo `zstd` (see {@link zstdDecompressSync}). */
export const ZSTD_SUPPORTED = zstdDecompressSync !== undefined;

const CODINGS: ReadonlyMap<string, Coding> = new Map<string, Coding>([
  ['gzip', 'gzip'],
  // RFC 9110 §8.4.1.3: recipients SHOULD treat x-gzip as gzip.
  ['x-gzip', 'gzip'],
  ['deflate', 'deflate'],
  ['br', 'br'],
  ...(ZSTD_SUPPORTED ? [['zstd', 'zstd'] as const] : []),
]);

/** The codings of a body without `Content-Encoding`, the common case: shared, never changed. */
const NO_CODINGS: readonly Coding[] = [];

/** Splits `Content-Encoding` into the codings to undo, in the order they were applied. */
function parseCodings(header: string | undefined): readonly Coding[] | { problem: string } {
  if (header === undefined) return NO_CODINGS;
  const codings: Coding[] = [];
  for (const element of header.split(',')) {
    const name = trimOws(element).toLowerCase();
    // Empty elements are allowed in HTTP lists; `identity` changes nothing.
    if (name === '' || name === 'identity') continue;
    const coding = CODINGS.get(name);
    if (coding === undefined) {
      return { problem: `unsupported content-encoding ${quoteForLog(name)}` };
    }
    codings.push(coding);
    if (codings.length > MAX_CODING_LAYERS) {
      return { problem: `more than ${MAX_CODING_LAYERS} content-encoding layers` };
    }
  }
  return codings;
}

type InflateResult = { readonly ok: true; readonly bytes: Uint8Array } | DecodeBodyFailure;

/** Undoes one coding; the output may not exceed `cap` bytes and all input must be consumed. */
function inflate(coding: Coding, input: Uint8Array, cap: number): InflateResult {
  // A non-literal options object: `info` is honoured by every zlib convenience method (it returns
  // `{buffer, engine}`) although Node's typings only declare it for the zlib formats.
  // maxOutputLength must be >= 1; a cap of 0 still rejects any non-empty output below.
  const options = { info: true, maxOutputLength: Math.max(1, Math.min(cap, MAX_ZLIB_OUTPUT)) };
  let result: unknown;
  try {
    switch (coding) {
      case 'gzip':
        result = gunzipSync(input, options);
        break;
      case 'deflate':
        result = inflateSync(input, options);
        break;
      case 'br':
        result = brotliDecompressSync(input, options);
        break;
      case 'zstd':
        // Only in CODINGS when the decoder exists.
        result = zstdDecompressSync?.(input, options);
        break;
    }
  } catch (err: unknown) {
    // zlib stops inflating as soon as the output passes maxOutputLength and throws
    // ERR_BUFFER_TOO_LARGE (a RangeError): that is the bomb guard firing.
    if (err instanceof RangeError && errorCode(err) === 'ERR_BUFFER_TOO_LARGE') {
      return tooLarge(`${coding} layer inflates beyond the ${cap}-byte limit`);
    }
    return undecodable(`invalid ${coding} stream: ${errorMessage(err)}`);
  }
  if (!isInfoResult(result)) {
    // Without the consumed-input count we cannot rule out trailing bytes: fail closed.
    return undecodable(`${coding} inflater did not report how much input it consumed`);
  }
  const { buffer, engine } = result;
  if (engine.bytesWritten !== input.length) {
    // deflate and br stop at the end of the stream and ignore what follows; the upstream's decoder
    // may not, so bytes we never looked at must not ride along.
    return undecodable(
      `${input.length - engine.bytesWritten} trailing bytes after the ${coding} stream`,
    );
  }
  if (buffer.length > cap) {
    return tooLarge(`${coding} layer inflates beyond the ${cap}-byte limit`);
  }
  return { ok: true, bytes: buffer };
}

function asBytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

/** zlib refuses larger maxOutputLength values (Node 20: buffer.kMaxLength is 2^32). */
const MAX_ZLIB_OUTPUT = 2 ** 32;

interface InfoResult {
  readonly buffer: Uint8Array;
  readonly engine: { readonly bytesWritten: number };
}

function isInfoResult(value: unknown): value is InfoResult {
  if (typeof value !== 'object' || value === null) return false;
  if (!('buffer' in value) || !('engine' in value)) return false;
  const { buffer, engine } = value;
  return (
    buffer instanceof Uint8Array &&
    typeof engine === 'object' &&
    engine !== null &&
    'bytesWritten' in engine &&
    typeof engine.bytesWritten === 'number'
  );
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

// What a server that ignores the charset reads: invalid sequences become U+FFFD, one BOM is
// dropped (Fetch's `Request.text()`).
const LENIENT_UTF8 = new TextDecoder('utf-8');

// `ignoreBOM: true` keeps a BOM in the output instead of silently dropping it: we strip exactly one
// ourselves so that a second one reaches the JSON parser and is rejected there.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function toText(bytes: Uint8Array): DecodeBodyResult {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe)) {
    return undecodable('body starts with a UTF-16/UTF-32 byte-order mark');
  }
  const start = b0 === UTF8_BOM[0] && b1 === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2] ? 3 : 0;
  try {
    // No view when there is no BOM to skip: most bodies need none.
    return { ok: true, text: UTF8.decode(start === 0 ? bytes : bytes.subarray(start)) };
  } catch {
    // fatal: true throws a TypeError on the first invalid sequence; we never substitute U+FFFD,
    // because the upstream may decode the same bytes differently.
    return undecodable('body is not valid UTF-8');
  }
}

/**
 * The charset `Content-Type` names: undefined for none or UTF-8, the lower-cased name otherwise,
 * or why it cannot be told. Parameters are read with quoted-string support (RFC 9110 §5.6.6), so
 * a `;`, `,` or `charset=` inside a quoted value of another parameter is not mistaken for syntax.
 */
function readCharset(contentType: string | undefined): string | undefined | { problem: string } {
  if (contentType === undefined) return undefined;
  const s = contentType;
  let i = s.indexOf(';');
  if (i < 0) {
    return s.includes(',') ? { problem: 'content-type holds several values' } : undefined;
  }
  if (s.slice(0, i).includes(',')) return { problem: 'content-type holds several values' };
  let charset: string | undefined;
  while (i < s.length) {
    // At a ';'. Read `name[=value]` up to the next ';' outside quotes.
    i++;
    let nameEnd = i;
    while (nameEnd < s.length && s[nameEnd] !== '=' && s[nameEnd] !== ';') nameEnd++;
    const name = trimOws(s.slice(i, nameEnd)).toLowerCase();
    i = nameEnd;
    let value = '';
    let quoted = false;
    if (s[i] === '=') {
      i++;
      while (s[i] === ' ' || s[i] === '\t') i++;
      if (s[i] === '"') {
        quoted = true;
        i++;
        let closed = false;
        while (i < s.length) {
          const ch = s.charAt(i);
          if (ch === '\\') {
            value += s.charAt(i + 1);
            i += 2;
          } else if (ch === '"') {
            closed = true;
            i++;
            break;
          } else {
            value += ch;
            i++;
          }
        }
        if (!closed) return { problem: 'content-type has an unterminated quoted parameter' };
        // Only whitespace may follow a quoted value before the next ';'.
        while (s[i] === ' ' || s[i] === '\t') i++;
        if (i < s.length && s[i] !== ';') {
          return s[i] === ','
            ? { problem: 'content-type holds several values' }
            : { problem: 'content-type has a malformed parameter' };
        }
      } else {
        let end = i;
        while (end < s.length && s[end] !== ';') end++;
        value = trimOws(s.slice(i, end));
        i = end;
      }
    }
    if ((!quoted && value.includes(',')) || name.includes(',')) {
      return { problem: 'content-type holds several values' };
    }
    if (name === 'charset') {
      const lower = value.toLowerCase();
      if (charset !== undefined && charset !== lower) {
        return { problem: 'content-type names conflicting charsets' };
      }
      charset = lower;
    }
  }
  return charset === undefined || charset === 'utf-8' || charset === 'utf8' ? undefined : charset;
}

/** Client-controlled text for a log message: quoted, and cut so a huge header stays short. */
function quoteForLog(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

function errorCode(err: Error): unknown {
  return 'code' in err ? err.code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function undecodable(message: string): DecodeBodyFailure {
  return { ok: false, detail: 'undecodable', message };
}

function tooLarge(message: string): DecodeBodyFailure {
  return { ok: false, detail: 'too_large', message };
}
