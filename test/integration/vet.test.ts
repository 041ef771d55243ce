/**
 * `mcp-gate vet` through runCli, in-process, against local servers on 127.0.0.1 with
 * certificates made for this run (test/helpers/vet-servers.ts): a good server, an expired, an
 * about-to-expire and a self-signed certificate, no or a short HSTS header, a mismatched
 * mcp-protocol-version header, TLS 1.1, plain HTTP answering MCP, and servers that never answer
 * (every step bounded by --timeout: those tests assert the run ends quickly). The --draft entry
 * is checked with the built CLI's `validate` (node dist/main.js, built by npm test's pretest).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';

import { runCli } from '../../src/cli.js';
import {
  createVetPki,
  startMcpHttp,
  startMcpHttps,
  startLegacyMcpHttps,
  startRedirect,
  startResetting,
  startSilent,
  TEST_TOOLS,
} from '../helpers/vet-servers.js';
import type { McpHttpsOptions, RunningServer, VetPki } from '../helpers/vet-servers.js';
import { MAIN, ROOT } from '../helpers/serve-process.js';
import { stamped } from '../helpers/stamped.js';
import { runCommand } from '../helpers/run-command.js';

const GOOD_HSTS = 'max-age=63072000; includeSubDomains';
const TOKEN = 'Bearer vet-secret-token-5f1c9a';

let pki: VetPki;
let dir: string;
let caFile: string;
/** Resets every connection: the plaintext check's "refused" for most tests. */
let refusing: RunningServer;
const servers: RunningServer[] = [];

beforeAll(async () => {
  pki = await createVetPki();
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-vet-'));
  caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, pki.ca.certPem);
  refusing = await startResetting();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await refusing.close();
  await rm(dir, { recursive: true, force: true });
});

async function track(server: Promise<RunningServer>): Promise<RunningServer> {
  const running = await server;
  servers.push(running);
  return running;
}

interface VetRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

async function vet(args: readonly string[]): Promise<VetRun> {
  const started = performance.now();
  const run = await runCommand(runCli, ['vet', ...args], { now: new Date(), env: {} });
  return { ...run, ms: performance.now() - started };
}

/** Vets the server with --ca and the resetting plaintext port, plus `extra` flags. */
function vetServer(server: RunningServer, extra: readonly string[] = []): Promise<VetRun> {
  return vet([
    `https://127.0.0.1:${server.port}/mcp`,
    '--ca',
    caFile,
    '--plain-port',
    String(refusing.port),
    '--timeout',
    '5000',
    ...extra,
  ]);
}

interface JsonFinding {
  code: string;
  severity: string;
  message: string;
}

/** The --json report, as far as these tests read it. */
interface VetJson {
  readonly passed: boolean;
  readonly findings: JsonFinding[];
  readonly tls: {
    readonly protocol: string | null;
    readonly cipher: string | null;
    readonly authorized: boolean;
    readonly authorization_error: string | null;
    readonly days_to_expiry: number | null;
    readonly chain: unknown[];
    readonly error: { readonly kind: string } | null;
  };
  readonly hsts: Record<string, unknown>;
  readonly plaintext: Record<string, unknown>;
  readonly mcp: {
    readonly result: string;
    readonly offered: string[];
    readonly tools: { name: string; annotations: Record<string, boolean> }[];
    readonly protocol_headers: { request: string; value: string | null }[];
    readonly sdk_messages: string[];
  };
}

async function vetJson(
  server: RunningServer,
  extra: readonly string[] = [],
): Promise<{ code: number; report: VetJson; codes: string[] }> {
  const run = await vetServer(server, ['--json', ...extra]);
  const report = JSON.parse(run.stdout) as VetJson;
  return { code: run.code, report, codes: report.findings.map((finding) => finding.code) };
}

/** The entry of a --draft output. */
function draftEntry(draft: string): Record<string, unknown> {
  return (parse(draft) as { approved: Record<string, unknown>[] }).approved[0]!;
}

const mcpServer = (options: Partial<McpHttpsOptions> = {}): Promise<RunningServer> =>
  track(startMcpHttps({ cert: pki.good, hsts: GOOD_HSTS, ...options }));

describe('vet – a server that passes', () => {
  test('the text report shows TLS, HSTS, plaintext, the handshake and the tools; exit 0', async () => {
    const server = await mcpServer();
    const run = await vetServer(server);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^ {2}TLS {8}TLSv1\.3, TLS_AES_\w+; chain trusted; leaf expires \d{4}-\d\d-\d\d \((89|90) days\)$/m,
    );
    expect(run.stdout).toContain('chain: CN=127.0.0.1 <- CN=vet test CA');
    expect(run.stdout).toContain(`HSTS       ${GOOD_HSTS}`);
    expect(run.stdout).toMatch(/plaintext {2}http:\/\/127\.0\.0\.1:\d+\/mcp: refused/);
    expect(run.stdout).toContain(
      '2026-07-28 negotiated, modern era (offered 2026-07-28, 2025-11-25',
    );
    expect(run.stdout).toContain('server: acme-issues 3.1.0');
    expect(run.stdout).toMatch(/get_issue\s+readOnlyHint=true$/m);
    expect(run.stdout).toMatch(/delete_repo\s+destructiveHint=true$/m);
    expect(run.stdout).toMatch(/SDK: \[mcp-sdk\] excluding tool 'bad_header_tool'/);
    expect(run.stdout).toMatch(/findings\n {2}none\nresult: PASS\n$/);
  });

  test('--json: the same, as data', async () => {
    const server = await mcpServer();
    const { code, report, codes } = await vetJson(server);
    expect(code).toBe(0);
    expect(codes).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.tls).toMatchObject({
      protocol: 'TLSv1.3',
      authorized: true,
      authorization_error: null,
    });
    expect(report.tls.chain).toHaveLength(2);
    expect(report.hsts).toMatchObject({
      result: 'present',
      max_age: 63072000,
      include_subdomains: true,
    });
    expect(report.plaintext).toMatchObject({ result: 'refused' });
    expect(report.mcp).toMatchObject({
      result: 'ok',
      negotiated: '2026-07-28',
      era: 'modern',
      server: { name: 'acme-issues', version: '3.1.0' },
    });
    expect(report.mcp.offered).toEqual(
      expect.arrayContaining(['2026-07-28', '2025-11-25', '2024-11-05']),
    );
    const tools = report.mcp.tools as { name: string; annotations: Record<string, boolean> }[];
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      [...TEST_TOOLS.readOnly, ...TEST_TOOLS.others, TEST_TOOLS.glob].sort(),
    );
    expect(tools.find((tool) => tool.name === 'search_issues')?.annotations).toEqual({
      readOnlyHint: true,
      openWorldHint: false,
    });
    // The SDK drops a tool with an invalid x-mcp-header; the report says so instead of the console.
    expect(report.mcp.sdk_messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`excluding tool '${TEST_TOOLS.dropped}'.*x-mcp-header`)),
      ]),
    );
    expect(tools.map((tool) => tool.name)).not.toContain(TEST_TOOLS.dropped);
  });

  test('a header that matches the negotiated revision is no finding', async () => {
    const server = await mcpServer({ protocolHeader: '2026-07-28' });
    const { code, report } = await vetJson(server);
    expect(code).toBe(0);
    expect(report.mcp.protocol_headers.length).toBeGreaterThan(0);
    for (const seen of report.mcp.protocol_headers) expect(seen.value).toBe('2026-07-28');
  });

  test('a 2025-era server: the client falls back to initialize and reads its tools', async () => {
    const server = await track(startLegacyMcpHttps({ cert: pki.good, hsts: GOOD_HSTS, tools: 3 }));
    const { code, report } = await vetJson(server);
    expect(code).toBe(0);
    expect(report.mcp).toMatchObject({
      result: 'ok',
      negotiated: '2025-11-25',
      era: 'legacy',
      server: { name: 'legacy-notes', version: '0.9.0' },
    });
    expect(report.mcp.protocol_headers.map((seen) => seen.request)).toEqual(
      expect.arrayContaining(['server/discover', 'initialize', 'tools/list']),
    );
    expect(report.mcp.tools.map((tool) => tool.name)).toEqual(['read_0', 'read_1', 'read_2']);
  });

  test('plaintext redirected to https:// is no finding', async () => {
    const server = await mcpServer();
    const redirect = await track(
      startRedirect((req) => `https://127.0.0.1:${server.port}${req.url ?? '/'}`),
    );
    const run = await vet([
      `https://127.0.0.1:${server.port}/mcp`,
      '--ca',
      caFile,
      '--plain-port',
      String(redirect.port),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /plaintext {2}http:\/\/127\.0\.0\.1:\d+\/mcp: HTTP 301 redirect to https:/,
    );
  });
});

describe('vet – certificates', () => {
  test('expired: cert_expired, and nothing is sent over it', async () => {
    const server = await mcpServer({ cert: pki.expired });
    const { code, report, codes } = await vetJson(server);
    expect(code).toBe(1);
    expect(codes).toEqual(['cert_expired']);
    expect(report.tls.authorization_error).toBe('CERT_HAS_EXPIRED');
    expect(report.tls.days_to_expiry).toBeLessThan(-60);
    expect(report.mcp).toMatchObject({ result: 'skipped' });
    expect(server.requests).toEqual([]);
  });

  test('about to expire: cert_expiring under the default 30 days, not under --min-cert-days 3', async () => {
    const server = await mcpServer({ cert: pki.expiring });
    const strict = await vetJson(server);
    expect(strict.code).toBe(1);
    expect(strict.codes).toEqual(['cert_expiring']);
    expect(strict.report.findings[0]?.message).toMatch(/in [45] days \(under 30\)/);
    const relaxed = await vetJson(server, ['--min-cert-days', '3']);
    expect(relaxed.code).toBe(0);
  });

  test('self-signed: tls_untrusted; the report still shows TLS; no request reaches the server', async () => {
    const server = await mcpServer({ cert: pki.selfSigned });
    const run = await vetServer(server, ['--header', `authorization:${TOKEN}`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('NOT trusted (DEPTH_ZERO_SELF_SIGNED_CERT)');
    expect(run.stdout).toContain('MCP        not checked: the certificate is not trusted');
    expect(run.stdout).toContain('FAIL tls_untrusted');
    expect(server.requests).toEqual([]);
  });

  test('--insecure connects anyway, and the untrusted certificate still fails', async () => {
    const server = await mcpServer({ cert: pki.selfSigned });
    const { code, report, codes } = await vetJson(server, ['--insecure']);
    expect(code).toBe(1);
    expect(codes).toEqual(['tls_untrusted']);
    expect(report.mcp).toMatchObject({ result: 'ok', server: { name: 'acme-issues' } });
    expect(server.requests.length).toBeGreaterThan(0);
  });

  test("without --ca the test CA is not trusted: Node's roots are the default", async () => {
    const server = await mcpServer();
    const run = await vet([
      `https://127.0.0.1:${server.port}/mcp`,
      '--plain-port',
      String(refusing.port),
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).findings.map((f: JsonFinding) => f.code)).toEqual([
      'tls_untrusted',
    ]);
    expect(server.requests).toEqual([]);
  });

  test('TLS 1.1 with a CBC cipher: tls_old_protocol and tls_weak_cipher', async () => {
    const server = await mcpServer({
      tls: { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' },
    });
    const { code, report, codes } = await vetJson(server);
    expect(code).toBe(1);
    expect(report.tls.protocol).toBe('TLSv1.1');
    expect(codes).toEqual(expect.arrayContaining(['tls_old_protocol', 'tls_weak_cipher']));
  });

  test('TLS 1.2 with a non-AEAD cipher: tls_weak_cipher only', async () => {
    const server = await mcpServer({
      tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' },
    });
    const { codes, report } = await vetJson(server);
    expect(report.tls.cipher).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA');
    expect(codes).toContain('tls_weak_cipher');
    expect(codes).not.toContain('tls_old_protocol');
  });
});

describe('vet – HSTS, plaintext, protocol header', () => {
  test('no HSTS header: hsts_missing', async () => {
    const server = await mcpServer({ hsts: null });
    const { code, codes } = await vetJson(server);
    expect(code).toBe(1);
    expect(codes).toEqual(['hsts_missing']);
  });

  test('a one-day max-age: hsts_short, unless --min-hsts-max-age allows it', async () => {
    const server = await mcpServer({ hsts: 'max-age=86400' });
    expect((await vetJson(server)).codes).toEqual(['hsts_short']);
    expect((await vetJson(server, ['--min-hsts-max-age', '86400'])).code).toBe(0);
  });

  test('an HSTS value browsers ignore (max-age twice) counts as missing', async () => {
    const server = await mcpServer({ hsts: 'max-age=63072000; max-age=1' });
    const { codes, report } = await vetJson(server);
    expect(codes).toEqual(['hsts_missing']);
    expect(report.hsts).toMatchObject({ result: 'invalid' });
  });

  test('plain HTTP that answers the MCP initialize: plaintext_accepted', async () => {
    const server = await mcpServer();
    const plain = await track(startMcpHttp());
    const run = await vet([
      `https://127.0.0.1:${server.port}/mcp`,
      '--ca',
      caFile,
      '--plain-port',
      String(plain.port),
      '--header',
      `authorization:${TOKEN}`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /FAIL plaintext_accepted: http:\/\/127\.0\.0\.1:\d+\/mcp answered the MCP initialize over plain HTTP/,
    );
    // The probe carried nothing of the caller's: no credential over plaintext.
    expect(plain.requests).toHaveLength(1);
    expect(plain.requests[0]?.method).toBe('POST');
    expect(plain.requests[0]?.headers.authorization).toBeUndefined();
  });

  test('plain HTTP that answers but redirects elsewhere: plaintext_not_redirected, a warning', async () => {
    const server = await mcpServer();
    const redirect = await track(startRedirect(() => 'http://elsewhere.example/'));
    const run = await vet([
      `https://127.0.0.1:${server.port}/mcp`,
      '--ca',
      caFile,
      '--plain-port',
      String(redirect.port),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('WARN plaintext_not_redirected');
  });

  test('a response header naming another revision: protocol_header_mismatch', async () => {
    const server = await mcpServer({ protocolHeader: '2025-03-26' });
    const { code, codes, report } = await vetJson(server);
    expect(code).toBe(1);
    expect(codes).toEqual(['protocol_header_mismatch']);
    expect(report.findings[0]?.message).toMatch(
      /^negotiated 2026-07-28, but responses carry mcp-protocol-version .*"2025-03-26"/,
    );
  });
});

describe('vet – timeouts', () => {
  test('a port that accepts and never answers: timeout, within the bound', async () => {
    const silent = await track(startSilent());
    const run = await vet([
      `https://127.0.0.1:${silent.port}/mcp`,
      '--plain-port',
      String(silent.port),
      '--timeout',
      '300',
      '--json',
    ]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.findings.map((f: JsonFinding) => f.code)).toEqual(['timeout']);
    expect(report.tls.error.kind).toBe('timeout');
    expect(report.plaintext.result).toBe('no_answer');
    // TLS and the plaintext probe run side by side, each bounded by 300 ms.
    expect(run.ms).toBeLessThan(2000);
  });

  test('the handshake completes, then tools/list never answers: timeout, within the bound', async () => {
    const server = await track(
      startLegacyMcpHttps({ cert: pki.good, hsts: GOOD_HSTS, tools: 1, stallToolsList: true }),
    );
    const run = await vetServer(server, ['--timeout', '400', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as VetJson;
    expect(report.findings.map((f) => f.code)).toEqual(['timeout']);
    expect(report.findings[0]?.message).toMatch(/^MCP tools\/list: /);
    expect(report.mcp).toMatchObject({ negotiated: '2025-11-25' });
    expect(run.ms).toBeLessThan(3000);
  });

  test('TLS completes, then HTTP never answers: the HSTS GET and the handshake time out', async () => {
    const server = await mcpServer({ silent: true });
    const run = await vetServer(server, ['--timeout', '300', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    const findings = report.findings as JsonFinding[];
    expect(findings.map((f) => f.code)).toEqual(['timeout', 'timeout']);
    expect(findings[0]?.message).toMatch(/Strict-Transport-Security/);
    expect(findings[1]?.message).toMatch(/^MCP handshake: /);
    // TLS probe, then the GET (300 ms), then the handshake (300 ms).
    expect(run.ms).toBeLessThan(3000);
  });
});

describe('vet – tools/list bounds', () => {
  test('more tools than vet keeps: tools_truncated, a warning', async () => {
    const server = await track(
      startLegacyMcpHttps({ cert: pki.good, hsts: GOOD_HSTS, tools: 1001 }),
    );
    const { code, codes, report } = await vetJson(server);
    expect(code).toBe(0);
    expect(codes).toEqual(['tools_truncated']);
    expect(report.mcp.tools).toHaveLength(1000);
  });

  test('a cursor that never ends: tools/list stops after 20 pages and fails', async () => {
    const server = await track(
      startLegacyMcpHttps({ cert: pki.good, hsts: GOOD_HSTS, tools: 1, endlessPages: true }),
    );
    const { code, codes, report } = await vetJson(server);
    expect(code).toBe(1);
    expect(codes).toEqual(['mcp_handshake_failed']);
    expect(report.findings[0]?.message).toMatch(/^MCP tools\/list: .*listMaxPages \(20\)/);
    const lists = server.requests.filter((req) => req.method === 'POST').length;
    // server/discover, initialize, notifications/initialized, then the 20 pages.
    expect(lists).toBeLessThanOrEqual(23);
  });
});

describe('vet – --header', () => {
  test('the credential is sent with the MCP handshake only, and never printed', async () => {
    const server = await mcpServer({ requireAuthorization: TOKEN });
    const text = await vetServer(server, ['--header', `Authorization: ${TOKEN}`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('headers    authorization: [redacted]');
    const json = await vetServer(server, ['--header', `Authorization: ${TOKEN}`, '--json']);
    expect(json.code).toBe(0);
    for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      expect(output).not.toContain('vet-secret-token');
    }
    const mcp = server.requests.filter((req) => req.method === 'POST');
    expect(mcp.length).toBeGreaterThan(0);
    for (const req of mcp) expect(req.headers.authorization).toBe(TOKEN);
    // The HSTS GET goes without it.
    const gets = server.requests.filter((req) => req.method === 'GET');
    expect(gets.length).toBeGreaterThan(0);
    for (const req of gets) expect(req.headers.authorization).toBeUndefined();
  });

  test('a server that echoes the credential back (into a header vet prints): redacted', async () => {
    const server = await mcpServer({ protocolHeader: (req) => req.headers.authorization });
    const text = await vetServer(server, ['--header', `authorization: ${TOKEN}`]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/FAIL protocol_header_mismatch: .*\[redacted\]/);
    const json = await vetServer(server, ['--header', `authorization: ${TOKEN}`, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.findings[0]?.message).toContain('[redacted]');
    expect(report.mcp.protocol_headers.map((seen: { value: string }) => seen.value)).toContain(
      '[redacted]',
    );
    for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) {
      expect(output).not.toContain('vet-secret-token');
    }
    expect(server.requests.some((req) => req.headers.authorization === TOKEN)).toBe(true);
  });
});

describe('vet – --draft', () => {
  const validateCli = (file: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [MAIN, 'validate', file],
        { cwd: ROOT },
        (error, stdout, stderr) => {
          if (error === null) resolve({ code: 0, stdout, stderr });
          else if (typeof error.code === 'number') resolve({ code: error.code, stdout, stderr });
          else reject(new Error(`validate did not run: ${error.message}`));
        },
      );
    });

  test('an entry validate refuses until reviewed and stamped; read-only tools allowed, the rest listed', async () => {
    const server = await mcpServer();
    const run = await vetServer(server, ['--draft']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('result: PASS');
    const draft = run.stdout;
    const entry = draftEntry(draft);
    expect(entry).toMatchObject({
      host: '127.0.0.1',
      transport: 'http',
      url: `https://127.0.0.1:${server.port}/mcp`,
      tools: { allow: [...TEST_TOOLS.readOnly] },
    });
    // "*" is read-only, but as a rule it would approve every tool.
    expect(draft).toMatch(/# Never allowed by name[^\n]*\n#\s+\*\n/);
    for (const name of TEST_TOOLS.others)
      expect(draft).toMatch(new RegExp(`^#\\s+${name}\\b`, 'm'));

    const header = 'version: vet-test\nreview_url: https://mcp-review.corp.example/request\n';
    const drafted = path.join(dir, 'drafted.yaml');
    await writeFile(drafted, header + draft);
    const refused = await validateCli(drafted);
    expect(refused.code).toBe(1);
    for (const key of ['review_ticket', 'reviewed_by', 'reviewed_on', 'expires_on']) {
      expect(refused.stderr).toMatch(
        new RegExp(`approved\\[0\\]\\.${key}: "TODO-[^"]+" is a placeholder`),
      );
    }

    const reviewed = path.join(dir, 'reviewed.yaml');
    const filled = draft
      .replace('TODO-ticket', 'SEC-5200')
      .replace('TODO-reviewer', 'security-platform')
      .replace('TODO-YYYY-MM-DD', '2026-12-01')
      .replace('TODO-YYYY-MM-DD', '2027-06-01');
    await writeFile(reviewed, header + filled);
    const unstamped = await validateCli(reviewed);
    expect(unstamped.code).toBe(1);
    expect(unstamped.stderr).toContain('missing required key "review_sha256"');
    await writeFile(reviewed, stamped(header + filled));
    const accepted = await validateCli(reviewed);
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
  });

  test('when nothing could be read, the draft approves no tool', async () => {
    const server = await mcpServer({ cert: pki.selfSigned });
    const run = await vetServer(server, ['--draft']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('# vet: FAILED (tls_untrusted)');
    expect(run.stdout).toContain('# The tool list could not be read');
    expect(draftEntry(run.stdout)['tools']).toEqual({ allow: [] });
  });
});

describe('vet – usage', () => {
  test.each([
    { name: 'no URL', args: [], message: /give exactly one URL/ },
    {
      name: 'two URLs',
      args: ['https://a.example/', 'https://b.example/'],
      message: /give exactly one URL/,
    },
    { name: 'plain http', args: ['http://mcp.example.com/mcp'], message: /must be https:\/\// },
    { name: 'user info', args: ['https://u:p@mcp.example.com/mcp'], message: /user info/ },
    {
      name: 'bad timeout',
      args: ['https://mcp.example.com/', '--timeout', '0'],
      message: /--timeout/,
    },
    {
      name: 'bad days',
      args: ['https://mcp.example.com/', '--min-cert-days', '-1'],
      message: /--min-cert-days/,
    },
    {
      name: 'port',
      args: ['https://mcp.example.com/', '--plain-port', '70000'],
      message: /--plain-port/,
    },
    {
      name: 'header shape',
      args: ['https://mcp.example.com/', '--header', 'secretvalue'],
      message: /NAME:VALUE/,
    },
    {
      name: 'transport header',
      args: ['https://mcp.example.com/', '--header', 'mcp-session-id: x'],
      message: /set by the MCP transport/,
    },
    {
      name: 'missing CA',
      args: ['https://mcp.example.com/', '--ca', '/nonexistent/ca.pem'],
      message: /--ca \/nonexistent\/ca.pem/,
    },
    { name: 'unknown flag', args: ['https://mcp.example.com/', '--bogus'], message: /bogus/ },
  ])('$name: exit 2', async ({ args, message }) => {
    const run = await vet(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('secretvalue');
  });

  test('--help prints the usage; mcp-gate --help lists vet', async () => {
    const run = await vet(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: mcp-gate vet URL/);
    let top = '';
    await runCli(['--help'], {
      stdout: (t) => (top += t),
      stderr: () => undefined,
      now: new Date(),
      env: {},
    });
    expect(top).toMatch(/^ {2}vet {7}URL/m);
    expect(top).toContain('usage: mcp-gate vet URL');
  });
});
