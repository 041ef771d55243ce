import { describe, expect, test } from 'vitest';

import {
  absoluteFormParts,
  isAmbiguousPath,
  normaliseAuthority,
  normalisePath,
  pathHasPrefix,
  targetWithoutUserinfo,
  withoutUserinfo,
} from '../../../src/core/normalise.js';

interface AuthorityRow {
  readonly name: string;
  readonly input: string;
  readonly want: { readonly host: string; readonly port: number | undefined };
  readonly rationale: string;
}

const REJECT = { host: '', port: undefined } as const;

const AUTHORITY_ROWS: readonly AuthorityRow[] = [
  {
    name: 'plain host',
    input: 'mcp.example.com',
    want: { host: 'mcp.example.com', port: undefined },
    rationale: 'the common case passes through unchanged',
  },
  {
    name: 'upper case',
    input: 'MCP.Example.COM',
    want: { host: 'mcp.example.com', port: undefined },
    rationale: 'host names are case-insensitive (RFC 4343); compare one spelling',
  },
  {
    name: 'port split off',
    input: 'mcp.example.com:8443',
    want: { host: 'mcp.example.com', port: 8443 },
    rationale: 'the port is a separate fact so entries can pin it',
  },
  {
    name: 'trailing dot',
    input: 'mcp.example.com.',
    want: { host: 'mcp.example.com', port: undefined },
    rationale: 'the fully qualified spelling names the same host; it must not dodge an exact entry',
  },
  {
    name: 'trailing dot and port',
    input: 'mcp.example.com.:443',
    want: { host: 'mcp.example.com', port: 443 },
    rationale: 'the dot is stripped after the port is split off',
  },
  {
    name: 'two trailing dots',
    input: 'mcp.example.com..',
    want: REJECT,
    rationale: 'only one dot is the root label; the rest is an empty label',
  },
  {
    name: 'IPv4',
    input: '10.0.0.1:8080',
    want: { host: '10.0.0.1', port: 8080 },
    rationale: 'dotted-quad addresses are accepted as written',
  },
  {
    name: 'short IPv4',
    input: '127.1',
    want: REJECT,
    rationale: 'WHATWG and inet_aton read 127.1 as 127.0.0.1, DNS does not: refuse the ambiguity',
  },
  {
    name: 'hex IPv4',
    input: '0x7f.0.0.1',
    want: REJECT,
    rationale: 'same: only the plain dotted quad spelling of an address is accepted',
  },
  {
    name: 'decimal IPv4',
    input: '2130706433',
    want: REJECT,
    rationale: 'a single number is an address to some parsers and a name to others',
  },
  {
    name: 'IPv4 octet out of range',
    input: '10.0.0.256',
    want: REJECT,
    rationale: 'not an address and not a name',
  },
  {
    name: 'IPv4 leading zero',
    input: '010.0.0.1',
    want: REJECT,
    rationale: 'leading zeros mean octal to inet_aton',
  },
  {
    name: 'IPv6 loopback with port',
    input: '[::1]:8443',
    want: { host: '[::1]', port: 8443 },
    rationale: 'IPv6 literals keep their brackets so they cannot be confused with names',
  },
  {
    name: 'IPv6 long form',
    input: '[0:0:0:0:0:0:0:1]',
    want: { host: '[::1]', port: undefined },
    rationale: 'one canonical (compressed) spelling per address',
  },
  {
    name: 'IPv6 upper case',
    input: '[2001:DB8::1]:443',
    want: { host: '[2001:db8::1]', port: 443 },
    rationale: 'hex digits compare case-insensitively',
  },
  {
    name: 'IPv6 zone id',
    input: '[fe80::1%25eth0]',
    want: REJECT,
    rationale: 'a zone id is local to one machine; never a valid egress destination',
  },
  {
    name: 'IPv6 unclosed',
    input: '[::1',
    want: REJECT,
    rationale: 'junk',
  },
  {
    name: 'IPv6 junk after bracket',
    input: '[::1]x',
    want: REJECT,
    rationale: 'only ":port" may follow the literal',
  },
  {
    name: 'bare IPv6',
    input: '::1',
    want: REJECT,
    rationale: 'without brackets the port cannot be told apart',
  },
  {
    name: 'IDN',
    input: 'bücher.example',
    want: { host: 'xn--bcher-kva.example', port: undefined },
    rationale: 'IDNs compare in their ASCII (punycode) form, as DNS sees them',
  },
  {
    name: 'IDN upper case with port',
    input: 'BÜCHER.example:443',
    want: { host: 'xn--bcher-kva.example', port: 443 },
    rationale: 'case folding applies to non-ASCII letters too',
  },
  {
    name: 'punycode already',
    input: 'xn--bcher-kva.example',
    want: { host: 'xn--bcher-kva.example', port: undefined },
    rationale: 'the ASCII form is its own canonical form',
  },
  {
    name: 'invalid punycode',
    input: 'xn--zz.example',
    want: REJECT,
    rationale: 'not a decodable IDN label',
  },
  {
    name: 'Cyrillic confusable',
    input: 'аpi.example.com',
    want: { host: 'xn--pi-6kc.example.com', port: undefined },
    rationale: 'a look-alike (Cyrillic а) is a different host and must not equal api.example.com',
  },
  {
    name: 'full-width letters',
    input: 'ａｐｉ.example.com',
    want: { host: 'api.example.com', port: undefined },
    rationale: 'UTS #46 maps full-width forms to ASCII, as every IDNA-aware resolver does',
  },
  {
    name: 'full-width digits forming an address',
    input: '１２７.０.０.１',
    want: REJECT,
    rationale: 'an address must be written plainly; mapping it would be a guess',
  },
  {
    name: 'zero-width joiner',
    input: 'a\u200db.example',
    want: REJECT,
    rationale: 'IDNA forbids it in this context',
  },
  {
    name: 'percent-encoded dot',
    input: 'api%2eexample.com',
    want: REJECT,
    rationale: 'the WHATWG host parser would decode it; an authority must not be repaired',
  },
  {
    name: 'slash in host',
    input: 'api.example.com/evil',
    want: REJECT,
    rationale: 'the WHATWG host parser would cut at "/" and return api.example.com',
  },
  {
    name: 'userinfo',
    input: 'user@api.example.com',
    want: REJECT,
    rationale: 'HTTP authorities carry no userinfo; "@" tricks hide the real host',
  },
  {
    name: 'underscore',
    input: 'a_b.example.com',
    want: REJECT,
    rationale: 'outside [a-z0-9.-]',
  },
  {
    name: 'space',
    input: 'exa mple.com',
    want: REJECT,
    rationale: 'junk',
  },
  {
    name: 'empty label',
    input: 'a..example.com',
    want: REJECT,
    rationale: 'not a host name',
  },
  {
    name: 'leading dot',
    input: '.example.com',
    want: REJECT,
    rationale: 'not a host name',
  },
  {
    name: 'label too long',
    input: `${'a'.repeat(64)}.example.com`,
    want: REJECT,
    rationale: 'DNS labels are at most 63 octets',
  },
  {
    name: 'empty',
    input: '',
    want: REJECT,
    rationale: 'no authority: nothing can match',
  },
  {
    name: 'empty port',
    input: 'api.example.com:',
    want: REJECT,
    rationale: 'fail closed instead of guessing a default port',
  },
  {
    name: 'port zero',
    input: 'api.example.com:0',
    want: REJECT,
    rationale: 'not a usable port',
  },
  {
    name: 'port too large',
    input: 'api.example.com:65536',
    want: REJECT,
    rationale: 'out of range',
  },
  {
    name: 'port max',
    input: 'api.example.com:65535',
    want: { host: 'api.example.com', port: 65535 },
    rationale: 'in range',
  },
  {
    name: 'port with leading zero',
    input: 'api.example.com:0443',
    want: { host: 'api.example.com', port: 443 },
    rationale: "Envoy's authority parser and the WHATWG URL parser both read it as 443",
  },
  {
    name: 'port not digits',
    input: 'api.example.com:https',
    want: REJECT,
    rationale: 'named ports are not part of an HTTP authority',
  },
  {
    name: 'two colons',
    input: 'api.example.com:443:80',
    want: REJECT,
    rationale: 'ambiguous',
  },
];

describe('normaliseAuthority', () => {
  test.each(AUTHORITY_ROWS)('$name', ({ input, want }) => {
    expect(normaliseAuthority(input)).toEqual(want);
  });
});

interface PathRow {
  readonly name: string;
  readonly input: string;
  readonly want: string;
  readonly rationale: string;
}

const PATH_ROWS: readonly PathRow[] = [
  { name: 'plain', input: '/mcp', want: '/mcp', rationale: 'fast path, unchanged' },
  { name: 'root', input: '/', want: '/', rationale: 'unchanged' },
  { name: 'empty', input: '', want: '/', rationale: 'the result always starts with "/"' },
  { name: 'no leading slash', input: 'mcp', want: '/mcp', rationale: 'always rooted' },
  {
    name: 'asterisk form',
    input: '*',
    want: '/*',
    rationale: 'OPTIONS * still yields a rooted path',
  },
  {
    name: 'query dropped',
    input: '/mcp?x=1',
    want: '/mcp',
    rationale: 'policy matches paths only',
  },
  {
    name: 'fragment dropped',
    input: '/mcp#frag',
    want: '/mcp',
    rationale: 'never part of the path',
  },
  {
    name: 'query containing slash-dot',
    input: '/mcp?next=/../admin',
    want: '/mcp',
    rationale: 'dot segments in the query are not path segments',
  },
  {
    name: 'dot segments',
    input: '/a/./b/../c',
    want: '/a/c',
    rationale: 'RFC 3986 5.2.4',
  },
  {
    name: 'RFC 3986 example',
    input: '/a/b/c/./../../g',
    want: '/a/g',
    rationale: 'the example of section 5.2.4',
  },
  {
    name: 'dot-dot above root',
    input: '/../../mcp',
    want: '/mcp',
    rationale: 'cannot climb above "/"',
  },
  {
    name: 'final dot-dot',
    input: '/mcp/x/..',
    want: '/mcp/',
    rationale: 'a final dot segment leaves a trailing slash (RFC 3986)',
  },
  {
    name: 'escape the prefix',
    input: '/mcp/../admin',
    want: '/admin',
    rationale: 'the classic prefix bypass; must not stay under /mcp',
  },
  {
    name: 'encoded dot-dot',
    input: '/mcp/%2e%2E/admin',
    want: '/admin',
    rationale: 'percent-encoded unreserved characters are decoded before dot removal',
  },
  {
    name: 'half-encoded dot-dot',
    input: '/mcp/.%2e/admin',
    want: '/admin',
    rationale: 'any mix of encoded and plain dots',
  },
  {
    name: 'double-encoded dot',
    input: '/mcp/%252e%252e/admin',
    want: '/mcp/%252e%252e/admin',
    rationale: 'decode once only: %25 is not unreserved, and the "2e" after it is plain text',
  },
  {
    name: 'encoded slash kept',
    input: '/mcp%2fadmin',
    want: '/mcp%2Fadmin',
    rationale: '%2F is data, not a separator; hex upper-cased (RFC 3986 6.2.2.1)',
  },
  {
    name: 'encoded unreserved decoded',
    input: '/%7Euser/%41%62c',
    want: '/~user/Abc',
    rationale: 'unreserved characters have one canonical (decoded) form',
  },
  {
    name: 'other escapes upper-cased',
    input: '/a%3ab%c3%a9',
    want: '/a%3Ab%C3%A9',
    rationale: 'reserved and non-ASCII stay encoded, hex in upper case',
  },
  {
    name: 'stray percent',
    input: '/a%zz/%4',
    want: '/a%zz/%4',
    rationale: 'a % without two hex digits is kept as is',
  },
  {
    name: 'duplicate slashes collapsed',
    input: '//mcp///x',
    want: '/mcp/x',
    rationale: 'empty segments must not hide a segment boundary from prefix matching',
  },
  {
    name: 'collapse before dot removal',
    input: '/mcp//../x',
    want: '/x',
    rationale: 'the conservative reading: ".." removes a real segment',
  },
  {
    name: 'backslash is a separator',
    input: '/mcp/..\\..\\admin',
    want: '/admin',
    rationale: 'Envoy and WHATWG treat "\\" as "/"; an upstream may too',
  },
  {
    name: 'dot-dot with path parameter',
    input: '/mcp/..;x/admin',
    want: '/admin',
    rationale: 'servlet containers strip ";x" and then resolve "..": the /ok/..;/admin bypass',
  },
  {
    name: 'dot-like names are kept',
    input: '/a/.well-known/...x/..b',
    want: '/a/.well-known/...x/..b',
    rationale: 'only "." and ".." are dot segments',
  },
  {
    name: 'trailing slash kept',
    input: '/mcp/',
    want: '/mcp/',
    rationale: 'a trailing slash is significant to upstreams; prefix matching handles it',
  },
  {
    name: 'absolute form',
    input: 'http://api.example.com/mcp/../x?q=1',
    want: '/x',
    rationale: 'with allow_absolute_url off, :path holds the whole URL; use its path',
  },
  {
    name: 'absolute form without path',
    input: 'HTTPS://api.example.com?q',
    want: '/',
    rationale: 'an empty path is "/"',
  },
];

describe('normalisePath', () => {
  test.each(PATH_ROWS)('$name', ({ input, want }) => {
    expect(normalisePath(input)).toBe(want);
  });

  test('is idempotent on every row', () => {
    for (const { want } of PATH_ROWS) expect(normalisePath(want)).toBe(want);
  });
});

interface PrefixRow {
  readonly name: string;
  readonly path: string;
  readonly prefix: string;
  readonly want: boolean;
  readonly rationale: string;
}

const PREFIX_ROWS: readonly PrefixRow[] = [
  { name: 'exact', path: '/mcp', prefix: '/mcp', want: true, rationale: 'same path' },
  { name: 'trailing slash', path: '/mcp/', prefix: '/mcp', want: true, rationale: 'same segment' },
  { name: 'below', path: '/mcp/x', prefix: '/mcp', want: true, rationale: 'a sub-path' },
  {
    name: 'segment boundary',
    path: '/mcpx',
    prefix: '/mcp',
    want: false,
    rationale: 'string prefix but a different segment',
  },
  {
    name: 'prefix with trailing slash',
    path: '/mcp',
    prefix: '/mcp/',
    want: true,
    rationale: '"/mcp/" and "/mcp" name the same prefix',
  },
  { name: 'root prefix', path: '/anything', prefix: '/', want: true, rationale: '"/" matches all' },
  { name: 'shorter path', path: '/', prefix: '/mcp', want: false, rationale: 'not under it' },
  {
    name: 'deeper prefix',
    path: '/v1/mcp/tools',
    prefix: '/v1/mcp',
    want: true,
    rationale: 'multi-segment prefixes',
  },
  {
    name: 'encoded slash is not a boundary',
    path: '/mcp%2Fx',
    prefix: '/mcp',
    want: false,
    rationale: '%2F is part of the segment',
  },
  {
    name: 'CONNECT has no path',
    path: '',
    prefix: '/',
    want: false,
    rationale: 'fail closed: no path, no path match',
  },
  {
    name: 'malformed prefix',
    path: '/mcp',
    prefix: 'mcp',
    want: false,
    rationale: 'fail closed',
  },
];

describe('pathHasPrefix', () => {
  test.each(PREFIX_ROWS)('$name', ({ path, prefix, want }) => {
    expect(pathHasPrefix(path, prefix)).toBe(want);
  });
});

describe('isAmbiguousPath', () => {
  test.each([
    ['/mcp', false],
    ['/mcp/', false],
    ['/mcp/open', false],
    ['/mcp/.well', false],
    ['/mcp/..x', false],
    ['/mcp?next=../x&y=%2F', false],
    ['http://host/mcp', false],
    ['/mcp/x/../open/', true],
    ['/mcp/./open', true],
    ['/mcp/..', true],
    ['/mcp/..;x/', true],
    ['/mcp//open', true],
    ['//mcp', true],
    ['/mcp\\open', true],
    ['/mcp/%2e%2e/x', true],
    ['/mcp/%2E/x', true],
    ['/mcp%2Fopen', true],
    ['/mcp%5copen', true],
    ['http://host/mcp/../x', true],
  ] as const)('%s: %s', (path, want) => {
    expect(isAmbiguousPath(path)).toBe(want);
  });
});

describe('userinfo is replaced wherever the authority is echoed', () => {
  test.each([
    ['mcp.example:443', 'mcp.example:443'],
    ['alice@mcp.example', '[userinfo]@mcp.example'],
    ['alice:s3cret@mcp.example:443', '[userinfo]@mcp.example:443'],
    ['a@b@mcp.example', '[userinfo]@mcp.example'],
  ])('authority %s', (authority, want) => {
    expect(withoutUserinfo(authority)).toBe(want);
  });

  test.each([
    ['/mcp?u=a@b', '/mcp?u=a@b'],
    ['http://mcp.example/mcp', 'http://mcp.example/mcp'],
    ['http://alice:s3cret@mcp.example/mcp?x=@', 'http://[userinfo]@mcp.example/mcp?x=@'],
    ['https://alice@mcp.example', 'https://[userinfo]@mcp.example'],
  ])('target %s', (target, want) => {
    expect(targetWithoutUserinfo(target)).toBe(want);
  });
});

describe('absoluteFormParts: scheme and authority of an absolute-form target', () => {
  test.each([
    ['HTTPS://Mcp.Example:8443/mcp?q', { scheme: 'https', authority: 'Mcp.Example:8443' }],
    ['http://h.example', { scheme: 'http', authority: 'h.example' }],
    ['http://h.example?x=/y', { scheme: 'http', authority: 'h.example' }],
    ['http://a@h.example/p', { scheme: 'http', authority: 'a@h.example' }],
    ['wss://h.example/ws', { scheme: 'wss', authority: 'h.example' }],
    ['/mcp', undefined],
    ['h.example/mcp', undefined],
    ['${input:url}', undefined],
  ] as const)('%s', (target, want) => {
    expect(absoluteFormParts(target)).toEqual(want);
  });
});
