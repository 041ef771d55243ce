import { describe, expect, test } from 'vitest';

import { decodeMcpHeaderValue } from '../../../../src/core/mcp/header-value.js';

interface Row {
  readonly name: string;
  readonly input: string;
  /** The decoded value, or `false` for `{ ok: false }`. */
  readonly want: string | false;
  readonly rationale: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

const ROWS: readonly Row[] = [
  // --- plain values -------------------------------------------------------------------------
  {
    name: 'plain method',
    input: 'tools/call',
    want: 'tools/call',
    rationale: 'visible ASCII passes through unchanged',
  },
  {
    name: 'surrounding OWS trimmed',
    input: ' \tget_weather\t ',
    want: 'get_weather',
    rationale: 'HTTP field values lose surrounding SP/HTAB',
  },
  {
    name: 'inner space kept',
    input: 'my tool',
    want: 'my tool',
    rationale: '0x20 inside a value is visible-ASCII range',
  },
  {
    name: 'empty value',
    input: '',
    want: '',
    rationale: 'an empty value is plain; whether it is acceptable is the caller’s call',
  },
  {
    name: 'comma-joined repeats look plain',
    input: 'a,b',
    want: 'a,b',
    rationale: 'Envoy joins repeated headers with ","; indistinguishable here (documented)',
  },
  {
    name: 'plain value with non-ASCII',
    input: 'wetter_für_heute',
    want: false,
    rationale: 'non-ASCII must be sent encoded; raw bytes are read in differing charsets',
  },
  {
    name: 'plain value with inner tab',
    input: 'a\tb',
    want: false,
    rationale: 'HTAB is outside 0x20–0x7E and must be encoded',
  },
  {
    name: 'plain value with DEL',
    input: 'a\u007fb',
    want: false,
    rationale: 'DEL is not visible ASCII',
  },
  {
    name: 'plain value with NUL',
    input: 'a\u0000b',
    want: false,
    rationale: 'control characters must be encoded',
  },
  {
    name: 'RFC 2047 encoded-word stays plain',
    input: '=?utf-8?B?Zm9v?=',
    want: '=?utf-8?B?Zm9v?=',
    rationale: 'only the MCP base64 sentinel is special',
  },
  {
    name: 'suffix alone stays plain',
    input: 'what?=',
    want: 'what?=',
    rationale: 'a value is encoded only when it starts with the prefix',
  },
  // --- sentinel values ----------------------------------------------------------------------
  {
    name: 'unicode tool name',
    input: `=?base64?${b64('wetter_für_heute')}?=`,
    want: 'wetter_für_heute',
    rationale: 'the reason the encoding exists',
  },
  {
    name: 'CJK and emoji',
    input: `=?base64?${b64('検索🔍')}?=`,
    want: '検索🔍',
    rationale: 'multi-byte and supplementary characters decode from UTF-8',
  },
  {
    name: 'spec example: value that looks like the sentinel',
    input: '=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=',
    want: '=?base64?literal?=',
    rationale: 'example from the spec; the payload uses "/" (standard alphabet)',
  },
  {
    name: 'value with surrounding spaces',
    input: `=?base64?${b64('  padded  ')}?=`,
    want: '  padded  ',
    rationale: 'whitespace inside the payload is preserved',
  },
  {
    name: 'sentinel with surrounding OWS',
    input: ` =?base64?${b64('x')}?=\t`,
    want: 'x',
    rationale: 'OWS is trimmed before the sentinel is recognised',
  },
  {
    name: 'empty payload',
    input: '=?base64??=',
    want: '',
    rationale: 'the encoding of the empty string',
  },
  {
    name: 'padding "==" present',
    input: '=?base64?QQ==?=',
    want: 'A',
    rationale: 'padded Base64',
  },
  {
    name: 'padding "==" omitted',
    input: '=?base64?QQ?=',
    want: 'A',
    rationale: 'unpadded Base64 is accepted too',
  },
  {
    name: 'padding "=" present',
    input: '=?base64?QUI=?=',
    want: 'AB',
    rationale: 'padded Base64',
  },
  {
    name: 'padding "=" omitted',
    input: '=?base64?QUI?=',
    want: 'AB',
    rationale: 'unpadded Base64 is accepted too',
  },
  {
    name: 'partial padding',
    input: '=?base64?QQ=?=',
    want: false,
    rationale: 'padding, when present, must be complete',
  },
  {
    name: 'excess padding',
    input: '=?base64?QUI==?=',
    want: false,
    rationale: 'a 3-character quantum takes exactly one "="',
  },
  {
    name: 'padding in the middle',
    input: '=?base64?QQ==QQ==?=',
    want: false,
    rationale: '"=" only ends the payload',
  },
  {
    name: 'impossible length',
    input: '=?base64?QUJDR?=',
    want: false,
    rationale: 'a single leftover character encodes no whole byte',
  },
  {
    name: 'non-zero pad bits',
    input: '=?base64?QR==?=',
    want: false,
    rationale: 'non-canonical: "QR" and "QQ" would both decode to "A"',
  },
  {
    name: 'URL-safe alphabet',
    input: '=?base64?-_8?=',
    want: false,
    rationale: 'the spec uses the standard alphabet',
  },
  {
    name: 'whitespace inside payload',
    input: '=?base64?QU JD?=',
    want: false,
    rationale: 'no whitespace inside Base64',
  },
  {
    name: 'invalid character',
    input: '=?base64?QU*D?=',
    want: false,
    rationale: 'reject anything outside the alphabet instead of skipping it',
  },
  {
    name: 'missing suffix',
    input: `=?base64?${b64('x')}`,
    want: false,
    rationale: 'a malformed sentinel is refused, not taken literally',
  },
  {
    name: 'prefix only',
    input: '=?base64?',
    want: false,
    rationale: 'no payload and no suffix',
  },
  {
    name: 'overlapping prefix and suffix',
    input: '=?base64?=',
    want: false,
    rationale: 'the "?" of the prefix cannot double as the suffix',
  },
  {
    name: 'upper-case markers',
    input: `=?BASE64?${b64('x')}?=`,
    want: false,
    rationale: 'markers are lower-case; a look-alike might be decoded by a lenient server',
  },
  {
    name: 'mixed-case markers',
    input: `=?Base64?${b64('x')}?=`,
    want: false,
    rationale: 'same as upper case',
  },
  {
    name: 'invalid UTF-8 payload',
    input: `=?base64?${Buffer.from([0xc3, 0x28]).toString('base64')}?=`,
    want: false,
    rationale: 'fatal UTF-8 decoding, no U+FFFD',
  },
  {
    name: 'latin1 payload',
    input: `=?base64?${Buffer.from('für', 'latin1').toString('base64')}?=`,
    want: false,
    rationale: 'the payload is UTF-8 by definition',
  },
  {
    name: 'encoded BOM is kept',
    input: `=?base64?${b64('\ufefftool')}?=`,
    want: '\ufefftool',
    rationale: 'the decoded value is exact; a BOM is not silently dropped',
  },
  {
    name: 'encoded control character',
    input: `=?base64?${b64('a\nb')}?=`,
    want: 'a\nb',
    rationale: 'encoding is how such values are sent; comparing is the caller’s job',
  },
];

describe('decodeMcpHeaderValue', () => {
  test('row names are unique', () => {
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
  });

  test.each(ROWS)('$name', ({ input, want }) => {
    const got = decodeMcpHeaderValue(input);
    if (want === false) expect(got.ok).toBe(false);
    else expect(got).toEqual({ ok: true, value: want });
  });

  test('round-trips every 1–3 byte tail', () => {
    // All residues of the final quantum, padded and unpadded.
    for (const text of ['x', 'xy', 'xyz', 'wxyz', 'é', 'é!', '€']) {
      const padded = b64(text);
      const unpadded = padded.replace(/=+$/, '');
      expect(decodeMcpHeaderValue(`=?base64?${padded}?=`)).toEqual({ ok: true, value: text });
      expect(decodeMcpHeaderValue(`=?base64?${unpadded}?=`)).toEqual({ ok: true, value: text });
    }
  });
});
