import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { writeSignatureText } from '../../../src/config/sign-file.js';
import { AppError } from '../../../src/errors.js';
import { stamped } from '../../helpers/stamped.js';

const SIG = `${'A'.repeat(86)}==`;
const OTHER = `${'B'.repeat(86)}==`;

const TEXT = stamped(`version: 1
review_url: https://r.example/x
approved:
  - id: a
    host: a.example.com
    transport: http
    review_ticket: T
    reviewed_by: security platform   # a name with a space
    cosigned_by: data-platform
    reviewed_on: 2026-01-01
    expires_on: 2026-06-01
`);

describe('writeSignatureText', () => {
  test('adds a block list at the end of the entry; names that need quotes get them', () => {
    const text = writeSignatureText(TEXT, 'a', 'security platform', SIG);
    expect(text.slice(0, TEXT.length)).toBe(TEXT);
    expect(text.slice(TEXT.length)).toBe(
      `    signatures:\n      - by: "security platform"\n        sig: ${SIG}\n`,
    );
  });

  test('appends to a block list, and replaces the signature of the same signer', () => {
    const one = writeSignatureText(TEXT, 'a', 'security platform', SIG);
    const two = writeSignatureText(one, 'a', 'data-platform', SIG);
    expect(two).toBe(`${one}      - by: data-platform\n        sig: ${SIG}\n`);
    const replaced = writeSignatureText(two, 'a', 'security platform', OTHER);
    expect(
      (parse(replaced) as { approved: { signatures: unknown }[] }).approved[0]?.signatures,
    ).toEqual([
      { by: 'security platform', sig: OTHER },
      { by: 'data-platform', sig: SIG },
    ]);
    expect(replaced.split('\n')).toHaveLength(two.split('\n').length);
  });

  test('CRLF files stay CRLF', () => {
    const crlf = TEXT.replace(/\n/g, '\r\n');
    const text = writeSignatureText(crlf, 'a', 'data-platform', SIG);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
    expect(text.endsWith(`        sig: ${SIG}\r\n`)).toBe(true);
  });

  test.each([
    {
      name: 'a flow list',
      text: TEXT.replace('    cosigned_by', '    signatures: []\n    cosigned_by'),
      message: 'write signatures as a block list',
    },
    { name: 'an unknown id', text: TEXT, id: 'b', message: 'no entry with id "b"' },
  ])('refused: $name', ({ text, id, message }) => {
    expect(() => writeSignatureText(text, id ?? 'a', 'data-platform', SIG)).toThrow(AppError);
    expect(() => writeSignatureText(text, id ?? 'a', 'data-platform', SIG)).toThrow(message);
  });
});
