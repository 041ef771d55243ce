import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateAllowlist } from '../../../bench/allowlist-gen.js';
import { githubAllowlist } from '../../helpers/github-allowlist.js';
import { loadAllowlistFile, parseAllowlist } from '../../../src/config/load-allowlist.js';
import type { Issue } from '../../../src/config/config-issues.js';
import type { ParseAllowlistResult } from '../../../src/config/load-allowlist.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/allowlists');
const NOW = new Date('2026-11-21T12:00:00Z');
const X257 = 'x'.repeat(257);
const WHY =
  'MCP clients read "404", "405", "Unauthorized" and "Not Found" in an error as protocol signals ' +
  '(restart the session, fall back to SSE, start an OAuth sign-in) and would hide the denial';

async function fixture(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), 'utf8');
}

async function parseFixture(name: string, now = NOW): Promise<ParseAllowlistResult> {
  return parseAllowlist(await fixture(name), { fileName: name, now });
}

function lines(issues: readonly Issue[]): string[] {
  return issues.map((issue) => `${String(issue.line)}:${String(issue.col)} ${issue.message}`);
}

describe('valid allowlists', () => {
  test.each([
    { file: 'valid-minimal.yaml', version: '2026.11', entries: 1 },
    { file: 'valid-full.yaml', version: '2026.12', entries: 2 },
    { file: 'valid-empty-approved.yaml', version: '1', entries: 0 },
    { file: 'valid-version-2026-10.yaml', version: '2026.10', entries: 1 },
    { file: 'valid-version-quoted.yaml', version: '2026.10', entries: 1 },
    { file: 'valid-version-string.yaml', version: 'release-7 (winter)', entries: 1 },
  ])('$file → version "$version" (taken as written)', async ({ file, version, entries }) => {
    const result = await parseFixture(file);
    expect(result.ok ? [] : lines(result.errors)).toEqual([]);
    expect(result.warnings).toEqual([]);
    if (!result.ok) return;
    expect(result.policy.version).toBe(version);
    expect(result.policy.entries).toHaveLength(entries);
  });

  test('defaults: deny, enforce, auto; the full file overrides every one', async () => {
    const minimal = await parseFixture('valid-minimal.yaml');
    const full = await parseFixture('valid-full.yaml');
    if (!minimal.ok || !full.ok) throw new Error('fixtures must be valid');
    expect(minimal.policy).toMatchObject({
      defaultAction: 'deny',
      mode: 'enforce',
      denyStyle: 'auto',
    });
    expect(full.policy).toMatchObject({
      defaultAction: 'allow',
      mode: 'dry-run',
      denyStyle: 'jsonrpc_error',
      reviewUrl: 'https://mcp-review.corp.example/request?team=security',
    });
    expect(full.policy.denyTexts.uninspectable).toBe(
      'Blocked ({reason}) request to {host}: {review_url}',
    );
    const [github, postgres] = full.policy.entries;
    expect(github).toMatchObject({
      id: 'github-official',
      pathPrefix: '/mcp',
      mode: 'enforce',
      stampMismatch: false,
    });
    expect(postgres).toMatchObject({
      id: 'postgres-readonly',
      transport: 'stdio',
      host: { kind: 'exact', host: 'localhost' },
    });
  });

  test('sha256 is the SHA-256 of the file bytes', async () => {
    const text = await fixture('valid-minimal.yaml');
    const result = parseAllowlist(text, { fileName: 'x', now: NOW });
    if (!result.ok) throw new Error('fixture must be valid');
    const bytes = await readFile(join(FIXTURES, 'valid-minimal.yaml'));
    expect(result.policy.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  test('the bundled deploy/allowlist.yaml is valid and stamped on 2026-11-21, one warning', async () => {
    const path = join(import.meta.dirname, '../../../deploy/allowlist.yaml');
    const result = await loadAllowlistFile(path, new Date('2026-11-21T00:00:00Z'));
    expect(result.ok ? [] : lines(result.errors)).toEqual([]);
    // Kept on purpose: the example shows what validate says about a wildcard with tool rules.
    expect(lines(result.warnings)).toEqual([
      '107:11 approved[5].host: *.mcp.cloudflare.com matches hosts at any depth, but the interception certificate for it covers one label only (x.mcp.cloudflare.com, not x.y.mcp.cloudflare.com), so clients refuse inspected TLS to deeper hosts; approve those as their own patterns ("*.y.mcp.cloudflare.com") or exact hosts',
    ]);
    if (!result.ok) return;
    expect(result.policy.entries.every((entry) => !entry.stampMismatch)).toBe(true);
    expect(await readFile(path, 'utf8')).toMatch(/review_sha256: [0-9a-f]{64}/);
    const ids = result.policy.entries.map((entry) => entry.id);
    expect(ids).toContain('github-official');
    expect(
      result.policy.matchRequest('api.githubcopilot.com', undefined, '/mcp/insiders')?.id,
    ).toBe('github-official');
    expect(
      result.policy.matchRequest('api.githubcopilot.com', undefined, '/copilot_internal'),
    ).toBeUndefined();
    expect(result.policy.matchRequest('docs.mcp.cloudflare.com', undefined, '/mcp')?.id).toBe(
      'cloudflare-docs',
    );
    expect(result.policy.matchRequest('builds.mcp.cloudflare.com', undefined, '/mcp')?.id).toBe(
      'cloudflare-readonly',
    );
    expect(
      result.policy.matchRequest('mcp.internal.corp.example', 8443, '/knowledge/mcp')?.id,
    ).toBe('corp-knowledge');
    expect(
      result.policy.matchRequest('mcp.internal.corp.example', undefined, '/knowledge/mcp'),
    ).toBeUndefined();
  });
});

/** One file per rule; each asserts the complete list of `line:col message`, in order. */
const INVALID: { file: string; errors: string[] }[] = [
  {
    file: 'invalid-dates.yaml',
    errors: [
      '9:18 approved[0].reviewed_on: "2026-02-30" is not a real calendar date in the form YYYY-MM-DD',
      '10:17 approved[0].expires_on: "2027-4-1" is not a real calendar date in the form YYYY-MM-DD',
      '16:18 approved[1].reviewed_on: expected a string, got 20261018',
      '17:17 approved[1].expires_on: "2027-13-01" is not a real calendar date in the form YYYY-MM-DD',
      '24:17 approved[2].expires_on: "2027-04-01T00:00:00Z" is not a real calendar date in the form YYYY-MM-DD',
    ],
  },
  {
    file: 'invalid-discover-placeholders.yaml',
    errors: [
      '9:20 approved[0].review_ticket: "TODO-ticket" is a placeholder left by "mcp-gate discover"; the reviewer must replace it with the real value',
      '10:18 approved[0].reviewed_by: "TODO-reviewer" is a placeholder left by "mcp-gate discover"; the reviewer must replace it with the real value',
      '11:18 approved[0].reviewed_on: "TODO-YYYY-MM-DD" is a placeholder left by "mcp-gate discover"; the reviewer must replace it with the real value',
      '12:17 approved[0].expires_on: "TODO-YYYY-MM-DD" is a placeholder left by "mcp-gate discover"; the reviewer must replace it with the real value',
    ],
  },
  {
    file: 'invalid-deny-reasons-keys.yaml',
    errors: [
      '13:3 deny_reasons: unknown key "not_approved" (did you mean "unapproved"?)',
      '15:3 deny_reasons: unknown key "tool_denied"',
    ],
  },
  {
    file: 'invalid-duplicate-ids.yaml',
    errors: [
      '12:9 approved[1].id: duplicate id "linear" (also approved[0])',
      '28:9 approved[3].id: duplicate id "linear" (also approved[0])',
    ],
  },
  {
    file: 'invalid-duplicate-location.yaml',
    errors: [
      '13:11 approved[1].host: same host, port and path prefix as approved[0] (linear-a); merge the two entries or narrow one with url',
      '32:10 approved[3].url: same host, port and path prefix as approved[2] (github-a); merge the two entries or narrow one with url',
      '50:10 approved[5].url: same host, port and path prefix as approved[0] (linear-a); merge the two entries or narrow one with url',
    ],
  },
  {
    file: 'invalid-duplicate-yaml-keys.yaml',
    errors: [
      '3:1 duplicate key "mode" (first at line 2)',
      '9:5 duplicate key "host" (first at line 7)',
    ],
  },
  {
    file: 'invalid-empty.yaml',
    errors: ['1:1 the file is empty; an allowlist needs at least version, review_url and approved'],
  },
  {
    file: 'invalid-enums.yaml',
    errors: [
      '2:17 default_action: must be one of deny, allow; got "block"',
      '3:7 mode: must be one of enforce, dry-run; got "dryrun"',
      '4:13 deny_style: must be one of auto, text, jsonrpc_error; got "html"',
      '9:16 approved[0].transport: must be one of http, stdio; got "https"',
      '10:11 approved[0].mode: must be one of enforce, dry-run; got "audit"',
    ],
  },
  {
    file: 'invalid-expiry-before-review.yaml',
    errors: ['10:17 approved[0].expires_on: 2026-10-17 is before reviewed_on 2026-10-18'],
  },
  {
    file: 'invalid-forbidden-words.yaml',
    errors: [
      `2:13 review_url: contains "not-found", and it is shown in deny texts: ${WHY}`,
      `13:15 deny_reasons.unapproved: contains "404": ${WHY}`,
      `14:12 deny_reasons.expired: contains "Unauthorized": ${WHY}`,
      `15:13 deny_reasons.rotation: contains "Method not allowed": ${WHY}`,
      `16:15 deny_reasons.overloaded: contains "not found": ${WHY}`,
    ],
  },
  {
    file: 'invalid-globs.yaml',
    errors: [
      '8:15 approved[0].tools.allow[0]: "": a glob must not be empty',
      '8:19 approved[0].tools.allow[1]: "get tool": a glob may only contain printable ASCII characters without spaces (U+0021–U+007E)',
      '8:31 approved[0].tools.allow[2]: "wörd": a glob may only contain printable ASCII characters without spaces (U+0021–U+007E)',
      '9:14 approved[0].tools.deny[0]: "tab\\there": a glob may only contain printable ASCII characters without spaces (U+0021–U+007E)',
      `9:27 approved[0].tools.deny[1]: "${X257}": a glob must be at most 256 characters`,
    ],
  },
  {
    file: 'invalid-hosts.yaml',
    errors: [
      '5:11 approved[0].host: "API.Example.com" must be lower-case (write "api.example.com")',
      '12:11 approved[1].host: "https://mcp.example.com" must be a host name without a scheme (write "mcp.example.com")',
      '19:11 approved[2].host: "mcp.example.com:8443" must be a host name without a port (restrict the port with url)',
      '26:11 approved[3].host: "*.com" would match every host under a top-level domain; name at least two labels after "*." (as in "*.example.com")',
      '33:11 approved[4].host: "a.*.example.com": "*" is only allowed as the whole first label, as in "*.example.com"',
      '40:11 approved[5].host: "mcp.example.com." must not end with a dot (write "mcp.example.com")',
      '47:11 approved[6].host: "mcp_1.example.com": "mcp_1" is not a valid DNS label (a-z, 0-9 and "-", not starting or ending with "-", 1 to 63 characters)',
      '54:11 approved[7].host: "*example.com": "*" is only allowed as the whole first label, as in "*.example.com"',
      '61:11 approved[8].host: "[::1]": IPv6 addresses are not supported in host patterns',
      '68:11 approved[9].host: "mcp.example.com/mcp" must be a host name without a path (restrict paths with url)',
      '75:11 approved[10].host: "10.0.0.300" is not a valid IPv4 address',
      '82:11 approved[11].host: a host must not be empty',
    ],
  },
  {
    file: 'invalid-http-with-command.yaml',
    errors: [
      '7:5 approved[0].command: only allowed with transport: stdio',
      '8:5 approved[0].allowed_args: only allowed with transport: stdio',
    ],
  },
  {
    file: 'invalid-http-without-host.yaml',
    errors: ['4:5 approved[0]: missing required key "host" (every http entry needs one)'],
  },
  {
    file: 'invalid-ids.yaml',
    errors: [
      '4:9 approved[0].id: "GitHub" is not a valid id: use 1 to 64 lower-case letters, digits, ".", "_" and "-", starting with a letter or digit',
      '11:9 approved[1].id: "-linear" is not a valid id: use 1 to 64 lower-case letters, digits, ".", "_" and "-", starting with a letter or digit',
      '18:9 approved[2].id: "a b" is not a valid id: use 1 to 64 lower-case letters, digits, ".", "_" and "-", starting with a letter or digit',
    ],
  },
  {
    file: 'invalid-missing-keys.yaml',
    errors: [
      '1:1 missing required key "review_url"',
      '3:5 approved[0]: missing required key "expires_on"',
      '3:5 approved[0]: missing required key "id"',
      '3:5 approved[0]: missing required key "review_ticket"',
      '3:5 approved[0]: missing required key "reviewed_by"',
      '9:5 approved[1].review_ticket: expected a string, got an empty value',
      '10:18 approved[1].reviewed_by: must not be empty',
    ],
  },
  {
    file: 'invalid-placeholders.yaml',
    errors: [
      '13:15 deny_reasons.unapproved: unknown placeholder {hostname}; known: {server} {host} {tool} {review_url} {reason} {condition}',
      '14:12 deny_reasons.expired: unknown placeholders { server }, {url}; known: {server} {host} {tool} {review_url} {reason} {condition}',
    ],
  },
  {
    file: 'invalid-review-stamp-format.yaml',
    errors: [
      '7:20 approved[0].review_sha256: must be 64 lower-case hex digits, as written by "mcp-gate stamp"',
    ],
  },
  {
    file: 'invalid-review-url-scheme.yaml',
    errors: ['2:13 review_url: must be an http or https URL'],
  },
  {
    file: 'invalid-review-url-userinfo.yaml',
    errors: ['2:13 review_url: must not contain user info ("user:password@")'],
  },
  {
    file: 'invalid-review-url.yaml',
    errors: ['2:13 review_url: "mcp-review.corp.example/request" is not an absolute URL'],
  },
  {
    file: 'invalid-stdio-with-url.yaml',
    errors: ['8:5 approved[0].url: only allowed with transport: http (a stdio server has no URL)'],
  },
  {
    file: 'invalid-stdio-with-inspection.yaml',
    errors: [
      '7:5 approved[0].inspection: only allowed with transport: http (nothing to intercept)',
    ],
  },
  {
    file: 'invalid-stdio-without-command.yaml',
    errors: ['4:5 approved[0]: missing required key "command" (every stdio entry needs one)'],
  },
  {
    file: 'invalid-top-level-list.yaml',
    errors: ['1:1 the top level must be a mapping (key: value lines), got a list'],
  },
  {
    file: 'invalid-types.yaml',
    errors: [
      '1:10 version: expected a string, got true',
      '6:14 approved[0].command: expected a string, got a list',
      '7:13 approved[0].scopes: expected a list, got "issues.read"',
      '8:12 approved[0].tools: expected a mapping, got a list',
      '9:25 approved[0].allowed_args[1]: expected a string, got 7',
      '10:20 approved[0].review_ticket: expected a string, got 4902',
    ],
  },
  {
    file: 'invalid-unknown-keys.yaml',
    errors: [
      '7:5 approved[0]: unknown key "scope" (did you mean "scopes"?)',
      '9:7 approved[0].tools: unknown key "alow" (did you mean "allow"?)',
      '10:7 approved[0].tools: unknown key "colour"',
      '15:1 unknown key "deny_reason" (did you mean "deny_reasons"?)',
    ],
  },
  {
    file: 'invalid-url-host-mismatch.yaml',
    errors: [
      "7:10 approved[0].url: its host other.example.com does not match the entry's host api.example.com",
      "16:10 approved[1].url: its host mcp.example.org does not match the entry's host *.example.com",
      "25:10 approved[2].url: its host *.example.net does not match the entry's host mcp.example.net",
      "34:10 approved[3].url: its host example.io does not match the entry's host *.example.io",
    ],
  },
  {
    file: 'invalid-url-parts.yaml',
    errors: [
      '7:10 approved[0].url: a url must not contain user info ("user:password@"); credentials do not belong here',
      '15:10 approved[1].url: a url must not contain a fragment ("#…")',
      '23:10 approved[2].url: the scheme must be http or https, not "ftp"',
      '31:10 approved[3].url: "/mcp" is not an absolute URL like "https://mcp.example.com/mcp"',
      '39:10 approved[4].url: port 443 is a default port that requests rarely spell out, so this entry would not match them; leave the port out (an entry without a port matches any port)',
      '47:10 approved[5].url: "99999" is not a port number (1–65535)',
      '55:10 approved[6].url: "" is not a port number (1–65535)',
    ],
  },
  {
    file: 'invalid-version.yaml',
    errors: ['1:1 version: expected a string, got an empty value'],
  },
  {
    file: 'invalid-wrong-kind-approved.yaml',
    errors: ['4:3 approved: expected a list, got a mapping'],
  },
  {
    file: 'invalid-yaml-alias.yaml',
    errors: [
      '5:11 YAML aliases (*name) are not allowed: write each value out in full. To write a wildcard host, quote it: "*.example.com"',
    ],
  },
  {
    file: 'invalid-yaml-anchors.yaml',
    errors: [
      '7:19 YAML anchors (&read) are not allowed: write each value out in full',
      '15:13 YAML aliases (*name) are not allowed: write each value out in full. To write a wildcard host, quote it: "*.example.com"',
    ],
  },
  {
    file: 'invalid-yaml-multiple-docs.yaml',
    errors: ['11:1 the file must hold a single YAML document (found a second "---")'],
  },
  {
    file: 'invalid-yaml-syntax.yaml',
    errors: [
      '7:5 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  },
  {
    file: 'invalid-yaml-tag.yaml',
    errors: [
      "1:10 YAML tags other than the core schema's are not allowed (Unresolved tag: !semver)",
    ],
  },
];

describe('invalid allowlists: every problem, with line and column', () => {
  test.each(INVALID)('$file', async ({ file, errors }) => {
    const result = await parseFixture(file);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : lines(result.errors)).toEqual(errors);
  });

  test('every invalid fixture is covered by the table', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(FIXTURES)).filter((name) => name.startsWith('invalid-')).sort();
    expect(INVALID.map((row) => row.file).sort()).toEqual(files);
  });
});

describe('warnings', () => {
  test('expired and expiring within 30 days (valid through the end of expires_on, UTC)', async () => {
    const result = await parseFixture('warn-expiry.yaml');
    expect(result.ok).toBe(true);
    expect(lines(result.warnings)).toEqual([
      '10:17 approved[0].expires_on: approval "expired" expired after 2026-11-20 (UTC); matching requests are denied with reason "expired" until it is renewed',
      '18:17 approved[1].expires_on: approval "last-day" expires after 2026-11-21 (UTC), in 1 day; renew the review before then',
      '26:17 approved[2].expires_on: approval "soon" expires after 2026-12-01 (UTC), in 11 days; renew the review before then',
      '42:17 approved[4].expires_on: approval "in-30-days" expires after 2026-12-20 (UTC), in 30 days; renew the review before then',
    ]);
  });

  test('the last millisecond of expires_on is still valid', async () => {
    const text = await fixture('warn-expiry.yaml');
    const before = parseAllowlist(text, {
      fileName: 'x',
      now: new Date('2026-11-21T23:59:59.999Z'),
    });
    const after = parseAllowlist(text, {
      fileName: 'x',
      now: new Date('2026-11-22T00:00:00.000Z'),
    });
    expect(lines(before.warnings)[1]).toContain('"last-day" expires after 2026-11-21');
    expect(lines(after.warnings)[1]).toContain('"last-day" expired after 2026-11-21');
  });

  test('url details that matching ignores', async () => {
    const result = await parseFixture('warn-url.yaml');
    expect(result.ok).toBe(true);
    expect(lines(result.warnings)).toEqual([
      '7:10 approved[0].url: the query is ignored when matching; only host, port and path count',
      '14:11 approved[1].host: *.mcp.cloudflare.com matches hosts at any depth, but the interception certificate for it covers one label only (x.mcp.cloudflare.com, not x.y.mcp.cloudflare.com), so clients refuse inspected TLS to deeper hosts; approve those as their own patterns ("*.y.mcp.cloudflare.com") or exact hosts',
      "16:10 approved[1].url: host docs.mcp.cloudflare.com is narrower than the entry's host *.mcp.cloudflare.com, but the entry matches every host under *.mcp.cloudflare.com; narrow host, or write *.mcp.cloudflare.com in the url",
    ]);
  });

  test('warnings are reported for invalid files too', async () => {
    const result = await parseFixture('invalid-expiry-before-review.yaml');
    expect(result.ok).toBe(false);
    expect(result.warnings).toHaveLength(2);
  });
});

describe('YAML 1.2 scalars and layout', () => {
  const BASE = githubAllowlist({ expiresOn: '2027-04-18' });
  const SEC = '    reviewed_by: security-platform';

  test.each([
    { name: 'yes stays a string', text: BASE.replace(SEC, '    reviewed_by: yes'), errors: [] },
    {
      name: 'true is a boolean',
      text: BASE.replace(SEC, '    reviewed_by: true'),
      errors: ['11:18 approved[0].reviewed_by: expected a string, got true'],
    },
    {
      name: '0x10 is a number',
      text: BASE.replace(SEC, '    reviewed_by: 0x10'),
      errors: ['11:18 approved[0].reviewed_by: expected a string, got 16'],
    },
    {
      name: 'null is an empty value',
      text: BASE.replace(SEC, '    reviewed_by: null'),
      errors: ['11:18 approved[0].reviewed_by: expected a string, got an empty value'],
    },
    {
      name: 'a block list',
      text: BASE.replace('[repo.read]', '\n      - repo.read\n      - "x"'),
      errors: [],
    },
    { name: 'comments after values', text: BASE.replace(/\n/g, '  # c\n'), errors: [] },
  ])('$name', ({ text, errors }) => {
    const result = parseAllowlist(text, { fileName: 'x', now: NOW });
    expect(result.ok ? [] : lines(result.errors)).toEqual(errors);
  });

  test('CRLF line ends: warnings are placed on the same lines as with LF', () => {
    const expired = BASE.replace('2027-04-18', '2026-11-01');
    const lf = parseAllowlist(expired, { fileName: 'x', now: NOW });
    const crlf = parseAllowlist(expired.replace(/\n/g, '\r\n'), { fileName: 'x', now: NOW });
    expect(lines(crlf.warnings)).toEqual([
      '13:17 approved[0].expires_on: approval "github-official" expired after 2026-11-01 (UTC); matching requests are denied with reason "expired" until it is renewed',
    ]);
    expect(crlf.warnings).toEqual(lf.warnings);
  });
});

describe('generated allowlists of 1,000 entries (bench/allowlist-gen.ts)', () => {
  const TODAY = new Date('2026-11-21T00:00:00Z');
  const DAY_MS = 86_400_000;
  const notInterception = (issues: readonly Issue[]): Issue[] =>
    issues.filter((w) => !w.message.includes('the interception certificate'));

  test.each([1, 2, 3])('seed %i: valid, and every entry warned of as its expiry nears', (seed) => {
    const text = generateAllowlist(1000, TODAY, seed);
    const today = parseAllowlist(text, { fileName: 'x', now: TODAY });
    expect(today.ok).toBe(true);
    if (today.ok) expect(today.policy.entries).toHaveLength(1000);
    // Only the notes about wildcard hosts with tool rules (interception certificates) today.
    expect(notInterception(today.warnings)).toEqual([]);
    const soon = parseAllowlist(text, {
      fileName: 'x',
      now: new Date(TODAY.getTime() + 170 * DAY_MS),
    });
    const soonWarnings = notInterception(soon.warnings);
    expect(soonWarnings).toHaveLength(1000);
    expect(soonWarnings.every((w) => w.message.includes('expires after'))).toBe(true);
    const later = parseAllowlist(text, {
      fileName: 'x',
      now: new Date(TODAY.getTime() + 400 * DAY_MS),
    });
    const laterWarnings = notInterception(later.warnings);
    expect(laterWarnings).toHaveLength(1000);
    expect(laterWarnings.every((w) => w.message.includes('expired after'))).toBe(true);
  });

  test('stale stamps: one warning each, on its own line', () => {
    let stale = 0;
    // Every tenth stamp goes stale.
    const text = generateAllowlist(1000, TODAY, 4).replace(
      /review_sha256: ([0-9a-f]{64})/g,
      (line, stamp: string) => {
        if (stale++ % 10 !== 0) return line;
        return `review_sha256: ${stamp.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`;
      },
    );
    const result = parseAllowlist(text, { fileName: 'x', now: TODAY });
    expect(result.ok).toBe(true);
    const warnings = notInterception(result.warnings);
    expect(warnings).toHaveLength(100);
    const textLines = text.split('\n');
    for (const w of warnings) {
      expect(w.message).toContain('.review_sha256: does not match');
      expect(textLines[w.line - 1]).toMatch(/^ +review_sha256: /);
    }
  });

  test('url queries: a note each, on its own line, and the stamp no longer matches', () => {
    let queries = 0;
    // Every seventh entry's url gains a query, which matching ignores; the url is a stamped field.
    const text = generateAllowlist(1000, TODAY, 4).replace(
      /(\n {4}url: https:\/\/\S+)\n/g,
      (line, url: string) => (queries++ % 7 === 0 ? `${url}?team=a\n` : line),
    );
    const changed = Math.ceil(queries / 7);
    const result = parseAllowlist(text, { fileName: 'x', now: TODAY });
    expect(result.ok).toBe(true);
    const warnings = notInterception(result.warnings);
    const urls = warnings.filter((w) => w.message.includes('the query is ignored'));
    const stamps = warnings.filter((w) => w.message.includes('.review_sha256: does not match'));
    expect(urls).toHaveLength(changed);
    expect(stamps).toHaveLength(changed);
    expect(warnings).toHaveLength(2 * changed);
    const textLines = text.split('\n');
    for (const w of urls) expect(textLines[w.line - 1]).toMatch(/^ +url: .*\?team=a$/);
  });

  test('an invalid entry among 1,000 is reported where it is', () => {
    const text = generateAllowlist(1000, TODAY, 5).replace(
      /(\n {4}host: )mcp\.vendor00500\.example\n/,
      '$1MCP.vendor00500.example\n',
    );
    const result = parseAllowlist(text, { fileName: 'x', now: TODAY });
    expect(result.ok).toBe(false);
    const line = text.split('\n').findIndex((l) => l.includes('MCP.vendor00500.example')) + 1;
    expect(line).toBeGreaterThan(0);
    expect(result.ok ? [] : result.errors.map((e) => e.line)).toEqual([line]);
  });
});

describe('parseAllowlist never throws', () => {
  test.each([
    { name: 'binary garbage', text: '\u0000\u0001\uFFFD: [' },
    { name: 'a bare scalar', text: 'hello' },
    { name: 'deep flow nesting', text: `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}` },
    { name: 'deep block nesting', text: `${'- '.repeat(100_000)}x\n` },
    { name: '__proto__ keys', text: '__proto__: {polluted: true}\nversion: 1\n' },
    { name: 'non-string keys', text: '? [a, b]\n: c\n' },
    { name: 'a BOM', text: '\uFEFF# bom\n' },
  ])('$name', ({ text }) => {
    const result = parseAllowlist(text, { fileName: 'x', now: NOW });
    expect(result.ok).toBe(false);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

test('nesting is bounded before the recursive part of YAML parsing runs', () => {
  const result = parseAllowlist(`approved: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`, {
    fileName: 'x',
    now: NOW,
  });
  expect(result.ok ? [] : lines(result.errors)).toEqual(['1:42 nested more than 32 levels deep']);
});

describe('loadAllowlistFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gate-allowlist-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a missing file is an error at 1:1', async () => {
    const result = await loadAllowlistFile(join(dir, 'nope.yaml'), NOW);
    expect(result.ok ? [] : lines(result.errors)).toEqual([
      '1:1 cannot read file: no such file (ENOENT)',
    ]);
  });

  test('a directory is an error at 1:1', async () => {
    const result = await loadAllowlistFile(dir, NOW);
    expect(result.ok ? [] : lines(result.errors)).toEqual([
      '1:1 cannot read file: is a directory, not a file (EISDIR)',
    ]);
  });

  test('invalid UTF-8 is an error, not silently replaced', async () => {
    const path = join(dir, 'latin1.yaml');
    await writeFile(
      path,
      Buffer.concat([Buffer.from(await fixture('valid-minimal.yaml')), Buffer.from([0xe9, 0x0a])]),
    );
    const result = await loadAllowlistFile(path, NOW);
    expect(result.ok ? [] : lines(result.errors)).toEqual([
      '1:1 cannot read file: it is not valid UTF-8',
    ]);
  });

  test('a BOM is kept, so sha256 still equals the file bytes', async () => {
    const path = join(dir, 'bom.yaml');
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(await fixture('valid-minimal.yaml')),
    ]);
    await writeFile(path, bytes);
    const result = await loadAllowlistFile(path, NOW);
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.policy.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
