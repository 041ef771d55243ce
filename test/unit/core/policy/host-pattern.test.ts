import { describe, expect, test } from 'vitest';
import { parseHostPattern } from '../../../../src/core/policy/host-pattern.js';

describe('parseHostPattern', () => {
  test.each([
    { text: 'api.example.com', want: { kind: 'exact', host: 'api.example.com' } },
    { text: '*.example.com', want: { kind: 'wildcard', suffix: '.example.com' } },
    { text: '10.0.0.5', want: { kind: 'exact', host: '10.0.0.5' } },
    { text: 'localhost', want: { kind: 'exact', host: 'localhost' } },
    { text: 'xn--bcher-kva.example', want: { kind: 'exact', host: 'xn--bcher-kva.example' } },
  ])('$text is valid', ({ text, want }) => {
    expect(parseHostPattern(text)).toEqual({ ok: true, value: want });
  });

  test.each([
    {
      text: 'Api.example.com',
      want: '"Api.example.com" must be lower-case (write "api.example.com")',
    },
    {
      text: 'bücher.example',
      want: '"bücher.example" must be ASCII: write internationalised names in their "xn--" form, without spaces',
    },
    {
      text: '*.com',
      want: '"*.com" would match every host under a top-level domain; name at least two labels after "*." (as in "*.example.com")',
    },
    { text: '*', want: '"*": "*" is only allowed as the whole first label, as in "*.example.com"' },
    { text: '*.10.0.0', want: '"*.10.0.0": wildcards apply to names, not to IP addresses' },
    {
      text: '-a.example.com',
      want: '"-a.example.com": "-a" is not a valid DNS label (a-z, 0-9 and "-", not starting or ending with "-", 1 to 63 characters)',
    },
    {
      text: 'a..example.com',
      want: '"a..example.com": "" is not a valid DNS label (a-z, 0-9 and "-", not starting or ending with "-", 1 to 63 characters)',
    },
  ])('$text is rejected', ({ text, want }) => {
    expect(parseHostPattern(text)).toEqual({ ok: false, message: want });
  });
});
