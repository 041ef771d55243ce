import {
  brotliCompressSync,
  constants as zlibConstants,
  deflateRawSync,
  deflateSync,
  gzipSync,
} from 'node:zlib';

import { describe, expect, test } from 'vitest';

import {
  ZSTD_SUPPORTED,
  charsetsNamed,
  decodeBody,
  decodeBodyPrefix,
} from '../../../../src/core/mcp/decode-body.js';
import type {
  CharsetDecoder,
  DecodeBodyFailureDetail,
} from '../../../../src/core/mcp/decode-body.js';
import { ICONV_CHARSETS } from '../../../../src/text/iconv-charsets.js';

const MiB = 1024 * 1024;
const CAP = 4 * MiB;

const JSON_TEXT = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"søk"}}';
const JSON_BYTES = utf8(JSON_TEXT);

// Compressible, so its compressed forms are far smaller than the text (for cap rows).
const LONG_TEXT = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"q":"${'ab'.repeat(500)}"}}`;
const LONG_BYTES = utf8(LONG_TEXT);

const gz = (b: Uint8Array): Uint8Array => gzipSync(b);
const zl = (b: Uint8Array): Uint8Array => deflateSync(b);
const br = (b: Uint8Array): Uint8Array => brotliCompressSync(b);

interface Input {
  readonly body: Uint8Array;
  readonly encoding?: string;
  readonly type?: string;
  readonly maxBytes?: number;
}

type Want =
  | { readonly ok: true; readonly text: string; readonly utf8Reading?: string }
  | { readonly ok: false; readonly detail: DecodeBodyFailureDetail };

interface Row {
  readonly name: string;
  readonly input: Input;
  readonly want: Want;
  readonly rationale: string;
}

const OK: Want = { ok: true, text: JSON_TEXT };
const UNDECODABLE: Want = { ok: false, detail: 'undecodable' };
const TOO_LARGE: Want = { ok: false, detail: 'too_large' };

const ROWS: readonly Row[] = [
  // --- content-encoding ---------------------------------------------------------------------
  {
    name: 'no content-encoding',
    input: { body: JSON_BYTES },
    want: OK,
    rationale: 'the common case: UTF-8 JSON as is',
  },
  {
    name: 'identity',
    input: { body: JSON_BYTES, encoding: 'identity' },
    want: OK,
    rationale: 'identity means no coding',
  },
  {
    name: 'empty content-encoding',
    input: { body: JSON_BYTES, encoding: '' },
    want: OK,
    rationale: 'an empty list names no coding',
  },
  {
    name: 'gzip',
    input: { body: gz(JSON_BYTES), encoding: 'gzip' },
    want: OK,
    rationale: 'gzip bodies are inspected after inflating',
  },
  {
    name: 'x-gzip, odd case and whitespace',
    input: { body: gz(JSON_BYTES), encoding: ' X-GZip\t' },
    want: OK,
    rationale: 'RFC 9110: x-gzip is gzip; codings are case-insensitive; OWS is trimmed',
  },
  {
    name: 'deflate (zlib format)',
    input: { body: zl(JSON_BYTES), encoding: 'deflate' },
    want: OK,
    rationale: 'HTTP deflate is the zlib format (RFC 9110 §8.4.1.2)',
  },
  {
    name: 'raw deflate is refused',
    input: { body: deflateRawSync(JSON_BYTES), encoding: 'deflate' },
    want: UNDECODABLE,
    rationale: 'we do not widen "deflate" to raw DEFLATE; common servers reject it too',
  },
  {
    name: 'br',
    input: { body: br(JSON_BYTES), encoding: 'br' },
    want: OK,
    rationale: 'brotli bodies are inspected after decompressing',
  },
  {
    name: 'gzip then br, undone in reverse',
    input: { body: br(gz(JSON_BYTES)), encoding: 'gzip, br' },
    want: OK,
    rationale: 'the list is in application order: br was applied last, so it is undone first',
  },
  {
    name: 'gzip then br, declared in the wrong order',
    input: { body: br(gz(JSON_BYTES)), encoding: 'br, gzip' },
    want: UNDECODABLE,
    rationale: 'the order matters; a wrong order is a wrong declaration',
  },
  {
    name: 'identity elements and empty elements are no-ops',
    input: { body: gz(JSON_BYTES), encoding: 'identity, ,gzip,' },
    want: OK,
    rationale: 'RFC 9110 §5.6.1 empty list elements; identity changes nothing',
  },
  {
    name: 'two layers via repeated header',
    input: { body: zl(gz(JSON_BYTES)), encoding: 'gzip,deflate' },
    want: OK,
    rationale: 'Envoy joins repeated headers with ","; two layers are within the limit',
  },
  {
    name: 'three layers',
    input: { body: gz(gz(gz(JSON_BYTES))), encoding: 'gzip, gzip, gzip' },
    want: UNDECODABLE,
    rationale: 'more than two layers is never legitimate and multiplies inflate work',
  },
  {
    name: 'compress',
    input: { body: JSON_BYTES, encoding: 'compress' },
    want: UNDECODABLE,
    rationale: 'LZW is not supported',
  },
  {
    name: 'zstd',
    input: { body: JSON_BYTES, encoding: 'zstd' },
    want: UNDECODABLE,
    rationale: 'not supported by Node 20 zlib; we cannot read it, so we cannot allow it',
  },
  {
    name: 'junk coding',
    input: { body: JSON_BYTES, encoding: 'gzip;q=1' },
    want: UNDECODABLE,
    rationale: 'parameters are not part of content-encoding; an unknown token is refused',
  },
  {
    name: 'unknown coding next to a known one',
    input: { body: gz(JSON_BYTES), encoding: 'gzip, frobnicate' },
    want: UNDECODABLE,
    rationale: 'one unknown layer makes the whole body unreadable',
  },
  {
    name: 'says gzip, is plain JSON',
    input: { body: JSON_BYTES, encoding: 'gzip' },
    want: UNDECODABLE,
    rationale: 'never fall back to the raw bytes: the upstream may read them differently',
  },
  {
    name: 'says deflate, is plain JSON',
    input: { body: JSON_BYTES, encoding: 'deflate' },
    want: UNDECODABLE,
    rationale: 'same rule for deflate',
  },
  {
    name: 'says br, is plain JSON',
    input: { body: JSON_BYTES, encoding: 'br' },
    want: UNDECODABLE,
    rationale: 'same rule for brotli',
  },
  {
    name: 'says br, is gzip',
    input: { body: gz(JSON_BYTES), encoding: 'br' },
    want: UNDECODABLE,
    rationale: 'a wrong coding name is not guessed around',
  },
  {
    name: 'says nothing, is gzip',
    input: { body: gz(JSON_BYTES) },
    want: UNDECODABLE,
    rationale: 'gzip magic bytes are not UTF-8; the upstream would not inflate either',
  },
  {
    name: 'empty body declared gzip',
    input: { body: new Uint8Array(0), encoding: 'gzip' },
    want: UNDECODABLE,
    rationale: 'zero bytes are not a gzip stream',
  },
  {
    name: 'empty body without coding',
    input: { body: new Uint8Array(0) },
    want: { ok: true, text: '' },
    rationale: 'nothing to decode; the caller decides what an empty body means',
  },
  {
    name: 'truncated gzip',
    input: { body: gz(JSON_BYTES).subarray(0, 20), encoding: 'gzip' },
    want: UNDECODABLE,
    rationale: 'a cut stream (e.g. Envoy partial body) is never inspected as if whole',
  },
  {
    name: 'gzip missing only its trailer',
    input: { body: gz(JSON_BYTES).subarray(0, gz(JSON_BYTES).length - 4), encoding: 'gzip' },
    want: UNDECODABLE,
    rationale: 'all content inflated but the length check is missing: still truncated',
  },
  {
    name: 'truncated deflate',
    input: { body: zl(JSON_BYTES).subarray(0, 10), encoding: 'deflate' },
    want: UNDECODABLE,
    rationale: 'same for deflate',
  },
  {
    name: 'truncated br',
    input: { body: br(JSON_BYTES).subarray(0, 10), encoding: 'br' },
    want: UNDECODABLE,
    rationale: 'same for brotli',
  },
  {
    name: 'trailing bytes after deflate',
    input: { body: concat(zl(JSON_BYTES), utf8('{"x":1}')), encoding: 'deflate' },
    want: UNDECODABLE,
    rationale: 'zlib stops at the stream end and ignores the rest; we refuse unread bytes',
  },
  {
    name: 'trailing bytes after br',
    input: { body: concat(br(JSON_BYTES), utf8('junk')), encoding: 'br' },
    want: UNDECODABLE,
    rationale: 'same for brotli',
  },
  {
    name: 'trailing zeros after gzip',
    input: { body: concat(gz(JSON_BYTES), new Uint8Array(8)), encoding: 'gzip' },
    want: UNDECODABLE,
    rationale: 'Node skips zero padding after a gzip member; other decoders may not',
  },
  {
    name: 'trailing junk after gzip',
    input: { body: concat(gz(JSON_BYTES), utf8('junk')), encoding: 'gzip' },
    want: UNDECODABLE,
    rationale: 'not a second member, not valid',
  },
  {
    name: 'two gzip members',
    input: { body: concat(gz(utf8('{"a":')), gz(utf8('1}'))), encoding: 'gzip' },
    want: { ok: true, text: '{"a":1}' },
    rationale: 'RFC 1952 allows several members; every gzip reader concatenates them',
  },
  // --- size ---------------------------------------------------------------------------------
  {
    name: 'plain body at the cap',
    input: { body: JSON_BYTES, maxBytes: JSON_BYTES.length },
    want: OK,
    rationale: 'the cap is inclusive',
  },
  {
    name: 'plain body over the cap',
    input: { body: JSON_BYTES, maxBytes: JSON_BYTES.length - 1 },
    want: TOO_LARGE,
    rationale: 'one byte over is too large',
  },
  {
    name: 'compressed input over the cap',
    input: { body: gz(JSON_BYTES), encoding: 'gzip', maxBytes: 10 },
    want: TOO_LARGE,
    rationale: 'the raw input is capped too',
  },
  {
    name: 'gzip output at the cap',
    input: { body: gz(LONG_BYTES), encoding: 'gzip', maxBytes: LONG_BYTES.length },
    want: { ok: true, text: LONG_TEXT },
    rationale: 'decoded size exactly at the cap is fine',
  },
  {
    name: 'gzip output one over the cap',
    input: { body: gz(LONG_BYTES), encoding: 'gzip', maxBytes: LONG_BYTES.length - 1 },
    want: TOO_LARGE,
    rationale: 'the cap applies to the decoded size',
  },
  {
    name: 'deflate output one over the cap',
    input: { body: zl(LONG_BYTES), encoding: 'deflate', maxBytes: LONG_BYTES.length - 1 },
    want: TOO_LARGE,
    rationale: 'same for deflate',
  },
  {
    name: 'br output one over the cap',
    input: { body: br(LONG_BYTES), encoding: 'br', maxBytes: LONG_BYTES.length - 1 },
    want: TOO_LARGE,
    rationale: 'same for brotli',
  },
  {
    name: 'intermediate layer over the cap',
    input: { body: br(new Uint8Array(64 * 1024)), encoding: 'gzip, br', maxBytes: 1000 },
    want: TOO_LARGE,
    rationale: 'every layer is capped, not just the last, so memory stays bounded',
  },
  {
    name: 'cap 0',
    input: { body: JSON_BYTES, maxBytes: 0 },
    want: TOO_LARGE,
    rationale: 'a zero cap admits only empty bodies',
  },
  {
    name: 'NaN cap fails closed',
    input: { body: JSON_BYTES, maxBytes: Number.NaN },
    want: TOO_LARGE,
    rationale: 'a broken limit is never "unlimited"',
  },
  // --- charset ------------------------------------------------------------------------------
  {
    name: 'application/json without charset',
    input: { body: JSON_BYTES, type: 'application/json' },
    want: OK,
    rationale: 'JSON is UTF-8 (RFC 8259 §8.1)',
  },
  {
    name: 'charset=UTF-8',
    input: { body: JSON_BYTES, type: 'application/json; charset=UTF-8' },
    want: OK,
    rationale: 'charset names are case-insensitive',
  },
  {
    name: 'quoted charset utf8',
    input: { body: JSON_BYTES, type: 'application/json;charset="utf8" ; foo=bar' },
    want: OK,
    rationale: 'utf8 is a common alias; values may be quoted strings',
  },
  {
    name: 'charset=latin1',
    input: { body: JSON_BYTES, type: 'application/json; charset=latin1' },
    want: { ok: true, text: Buffer.from(JSON_BYTES).toString('latin1'), utf8Reading: JSON_TEXT },
    rationale: 'read as body-parser reads it; a server ignoring the charset reads the UTF-8 text',
  },
  {
    name: 'charset=latin1 on ASCII',
    input: { body: LONG_BYTES, type: 'application/json; charset=ISO-8859-1' },
    want: { ok: true, text: LONG_TEXT },
    rationale: 'both readings agree, so there is only one',
  },
  {
    name: 'charset=utf-16 on UTF-16LE bytes with a BOM',
    input: {
      body: concat(bytes(0xff, 0xfe), utf16le(JSON_TEXT)),
      type: 'application/json; charset=utf-16',
    },
    want: {
      ok: true,
      text: JSON_TEXT,
      utf8Reading: new TextDecoder().decode(concat(bytes(0xff, 0xfe), utf16le(JSON_TEXT))),
    },
    rationale: 'iconv-lite reads the BOM, then the text; a charset-ignoring server sees NULs',
  },
  {
    name: 'charset=utf-7 with a shifted brace',
    input: {
      body: utf8(`+AHs-${JSON_TEXT.slice(1).replace('ø', 'o')}`),
      type: 'application/json; charset=utf-7',
    },
    want: {
      ok: true,
      text: JSON_TEXT.replace('ø', 'o'),
      utf8Reading: `+AHs-${JSON_TEXT.slice(1).replace('ø', 'o')}`,
    },
    rationale: 'body-parser accepts utf-* charsets and iconv-lite decodes UTF-7',
  },
  {
    name: 'charset unknown to iconv-lite',
    input: { body: JSON_BYTES, type: 'application/json; charset=x-mcp-gate-none' },
    want: UNDECODABLE,
    rationale: 'no Node server decodes it, and guessing could disagree',
  },
  {
    name: 'conflicting charsets',
    input: { body: JSON_BYTES, type: 'application/json; charset=utf-8; charset=iso-8859-1' },
    want: UNDECODABLE,
    rationale: 'servers differ in which repeat wins',
  },
  {
    name: 'repeated content-type joined by Envoy',
    input: { body: JSON_BYTES, type: 'application/json, application/json; charset=utf-7' },
    want: UNDECODABLE,
    rationale: 'Node keeps the first content-type, other stacks the last: ambiguous',
  },
  {
    name: 'repeated content-type, charset in the first',
    input: { body: JSON_BYTES, type: 'application/json; charset=utf-8, text/plain' },
    want: UNDECODABLE,
    rationale: 'a comma outside quotes separates two values',
  },
  {
    name: 'comma inside a quoted parameter',
    input: { body: JSON_BYTES, type: 'application/json; note="a,b"' },
    want: OK,
    rationale: 'quoted commas are part of the value, not a second header',
  },
  {
    name: 'charset text inside another quoted parameter',
    input: { body: JSON_BYTES, type: 'application/json; note="a;charset=latin1"' },
    want: OK,
    rationale: 'quoted strings are parsed, so this is not a charset parameter',
  },
  {
    name: 'unterminated quoted parameter',
    input: { body: JSON_BYTES, type: 'application/json; charset="utf-8' },
    want: UNDECODABLE,
    rationale: 'a malformed content-type is not guessed around',
  },
  {
    name: 'empty charset',
    input: { body: JSON_BYTES, type: 'application/json; charset=' },
    want: UNDECODABLE,
    rationale: 'an empty charset names no encoding we know',
  },
  // --- byte-order marks and UTF-8 validity ---------------------------------------------------
  {
    name: 'UTF-8 BOM stripped',
    input: { body: concat(bytes(0xef, 0xbb, 0xbf), JSON_BYTES) },
    want: OK,
    rationale: 'Fetch Request.json() and body-parser strip one BOM, so we read what they read',
  },
  {
    name: 'UTF-8 BOM inside gzip stripped',
    input: { body: gz(concat(bytes(0xef, 0xbb, 0xbf), JSON_BYTES)), encoding: 'gzip' },
    want: OK,
    rationale: 'the BOM is looked for after all codings are undone',
  },
  {
    name: 'two UTF-8 BOMs keep the second',
    input: { body: concat(bytes(0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf), JSON_BYTES) },
    want: { ok: true, text: `\ufeff${JSON_TEXT}` },
    rationale: 'only one is stripped; JSON.parse rejects the remaining U+FEFF',
  },
  {
    name: 'UTF-16 BE BOM',
    input: { body: concat(bytes(0xfe, 0xff), utf16be(JSON_TEXT)) },
    want: UNDECODABLE,
    rationale: 'UTF-16 JSON is not UTF-8',
  },
  {
    name: 'UTF-16 LE BOM',
    input: { body: concat(bytes(0xff, 0xfe), utf16le(JSON_TEXT)) },
    want: UNDECODABLE,
    rationale: 'UTF-16 JSON is not UTF-8',
  },
  {
    name: 'invalid UTF-8 continuation',
    input: { body: bytes(0x22, 0xc3, 0x28, 0x22) },
    want: UNDECODABLE,
    rationale: 'fatal decoding: no U+FFFD substitution the upstream might not make',
  },
  {
    name: 'overlong UTF-8',
    input: { body: bytes(0x22, 0xc0, 0xaf, 0x22) },
    want: UNDECODABLE,
    rationale: 'overlong forms are the classic filter bypass',
  },
  {
    name: 'UTF-8 encoded surrogate',
    input: { body: bytes(0x22, 0xed, 0xa0, 0x80, 0x22) },
    want: UNDECODABLE,
    rationale: 'CESU-style surrogates are not valid UTF-8',
  },
  {
    name: 'UTF-8 sequence cut at the end',
    input: { body: bytes(0x22, 0x61, 0xe2, 0x82) },
    want: UNDECODABLE,
    rationale: 'a truncated plain body can end mid-character',
  },
  {
    name: 'four-byte UTF-8',
    input: { body: utf8('"😀"') },
    want: { ok: true, text: '"😀"' },
    rationale: 'valid supplementary characters decode',
  },
];

describe('decodeBody', () => {
  test('row names are unique', () => {
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  test.each(ROWS)('$name', ({ input, want }) => {
    const got = decodeBody(
      input.body,
      input.encoding,
      input.type,
      input.maxBytes ?? CAP,
      ICONV_CHARSETS,
    );
    if (want.ok) expect(got).toEqual(want);
    else expect(got).toMatchObject(want);
  });
});

describe('decodeBody – zstd', () => {
  // `{"a":1}` compressed by node:zlib's zstdCompressSync on Node 24 (Node 20 cannot make one).
  const frame = Buffer.from('28b52ffd20073900007b2261223a317d', 'hex');

  test(
    ZSTD_SUPPORTED ? 'inflated where node:zlib has zstd' : 'undecodable and opaque on Node 20',
    () => {
      const got = decodeBody(frame, 'zstd', 'application/json', CAP, ICONV_CHARSETS);
      if (ZSTD_SUPPORTED) expect(got).toEqual({ ok: true, text: '{"a":1}' });
      else expect(got).toMatchObject({ ok: false, detail: 'undecodable', opaque: true });
    },
  );

  test('a coding we do not know is opaque, a corrupt stream is not', () => {
    expect(decodeBody(JSON_BYTES, 'compress', undefined, CAP, ICONV_CHARSETS)).toMatchObject({
      opaque: true,
    });
    expect(decodeBody(JSON_BYTES, 'gzip', undefined, CAP, ICONV_CHARSETS)).not.toHaveProperty(
      'opaque',
    );
  });
});

describe('decodeBody – the injected charset decoder', () => {
  const body = new Uint8Array([0x7b, 0x7d]);
  const knowsOnly = (name: string, text: string): CharsetDecoder => ({
    knows: (charset) => charset === name,
    decode: () => text,
  });

  test('a charset the decoder does not know is undecodable, even one iconv-lite knows', () => {
    const got = decodeBody(body, undefined, 'application/json; charset=latin1', CAP, {
      knows: () => false,
      decode: () => 'never read',
    });
    expect(got).toMatchObject({ ok: false, detail: 'undecodable' });
  });

  test('a charset it knows reads as it decodes it, with the UTF-8 reading beside', () => {
    const got = decodeBody(
      body,
      undefined,
      'application/json; charset=x-test',
      CAP,
      knowsOnly('x-test', '{"a":1}'),
    );
    expect(got).toEqual({ ok: true, text: '{"a":1}', utf8Reading: '{}' });
    expect(charsetsNamed('text/plain; charset=x-test', knowsOnly('x-test', ''))).toEqual([
      'x-test',
    ]);
  });
});

describe('charsetsNamed', () => {
  test.each([
    [undefined, []],
    ['application/json', []],
    ['application/json; charset=UTF-7', ['utf-7']],
    ['application/json; charset=utf-7, text/plain; charset="latin1"', ['utf-7', 'latin1']],
    ['application/json; charset=x-none; charset=utf-16le', ['utf-16le']],
  ])('%s: %j', (contentType, want) => {
    expect(charsetsNamed(contentType, ICONV_CHARSETS)).toEqual(want);
  });
});

describe('decodeBody – decompression bombs', () => {
  // One 16 MiB-of-zeros gzip member (~16 KiB) repeated 64 times is a 1 GiB bomb in about 1 MiB:
  // cheap to build, and fatal if anything inflated it in full.
  const member = gzipSync(new Uint8Array(16 * MiB), { level: 9 });
  const gzipBomb = concat(...Array.from({ length: 64 }, () => member));
  const brBomb = brotliCompressSync(new Uint8Array(256 * MiB), {
    params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 },
  });

  test.each([
    { name: 'gzip, 1 GiB', body: gzipBomb, encoding: 'gzip' },
    { name: 'deflate, 16 MiB', body: deflateSync(new Uint8Array(16 * MiB)), encoding: 'deflate' },
    { name: 'br, 256 MiB', body: brBomb, encoding: 'br' },
    { name: 'br over gzip', body: brotliCompressSync(gzipBomb), encoding: 'gzip, br' },
  ])('$name bomb is too_large without inflating it', ({ body, encoding }) => {
    expect(body.length).toBeLessThan(CAP);
    const peakBefore = process.resourceUsage().maxRSS; // KiB
    const got = decodeBody(body, encoding, 'application/json', CAP, ICONV_CHARSETS);
    const peakGrowth = (process.resourceUsage().maxRSS - peakBefore) * 1024;
    expect(got).toMatchObject({ ok: false, detail: 'too_large' });
    // Inflating in full would need 16 MiB–1 GiB; the cap keeps the peak near 4 MiB.
    expect(peakGrowth).toBeLessThan(64 * MiB);
  });
});

describe('decodeBodyPrefix', () => {
  const text = (b: Uint8Array | undefined): string | undefined =>
    b === undefined ? undefined : Buffer.from(b).toString('utf8');

  test('no coding: the body itself, cut at the cap', () => {
    expect(text(decodeBodyPrefix(LONG_BYTES, undefined, 10))).toBe(LONG_TEXT.slice(0, 10));
  });

  test.each([
    { name: 'gzip', body: gz(LONG_BYTES), encoding: 'gzip' },
    { name: 'deflate', body: zl(LONG_BYTES), encoding: 'deflate' },
    { name: 'gzip then br', body: br(gz(LONG_BYTES)), encoding: 'gzip, br' },
  ])('$name: the whole text when it fits', ({ body, encoding }) => {
    expect(text(decodeBodyPrefix(body, encoding, CAP))).toBe(LONG_TEXT);
  });

  test('a stream cut short yields what precedes the cut', () => {
    const cut = gz(LONG_BYTES).subarray(0, 60);
    const got = text(decodeBodyPrefix(cut, 'gzip', CAP)) ?? '';
    expect(got.length).toBeGreaterThan(0);
    expect(LONG_TEXT.startsWith(got)).toBe(true);
  });

  test('a bomb yields a prefix within the cap', () => {
    const body = gzipSync(utf8(`{"jsonrpc":"2.0","pad":"${'A'.repeat(8 * MiB)}"}`));
    const got = decodeBodyPrefix(body, 'gzip', 64 * 1024);
    expect(got?.length).toBeGreaterThan(0);
    expect(got?.length).toBeLessThanOrEqual(64 * 1024);
    expect(text(got)?.startsWith('{"jsonrpc":"2.0","pad":"AAA')).toBe(true);
  });

  test.each([
    { name: 'unknown coding', body: JSON_BYTES, encoding: 'compress' },
    { name: 'three layers', body: gz(gz(gz(JSON_BYTES))), encoding: 'gzip, gzip, gzip' },
    { name: 'not a gzip stream', body: JSON_BYTES, encoding: 'gzip' },
  ])('$name: undefined', ({ body, encoding }) => {
    expect(decodeBodyPrefix(body, encoding, CAP)).toBeUndefined();
  });
});

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function utf16le(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf16le'));
}

function utf16be(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf16le').swap16());
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
