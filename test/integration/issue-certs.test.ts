/**
 * `mcp-gate issue-certs` through runCli: the files and modes it writes, its rotation decisions
 * (with --now), its refusals, idempotence, the trial CA, and that a TLS server loading the files
 * is trusted by a client that trusts only the CA. No output may ever contain key material.
 */
import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, createServer } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';

import { createCertificateAuthority, issueLeafCertificate } from '../../src/certs/x509.js';
import type { CertificateAndKey } from '../../src/certs/x509.js';
import { runCli } from '../../src/cli.js';
import { stamped } from '../helpers/stamped.js';
import { runCommand } from '../helpers/run-command.js';
import type { CommandRun } from '../helpers/run-command.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const DAY_MS = 86_400_000;
/** CAs in these tests start the day before NOW, so every --now below falls inside them. */
const CA_START = new Date(NOW.getTime() - DAY_MS);

const ENTRY = (id: string, host: string, extra: string): string => `  - id: ${id}
    host: "${host}"
    transport: http
${extra}    review_ticket: SEC-1
    reviewed_by: security
    reviewed_on: 2026-10-01
    expires_on: 2027-10-01
`;
const HEADER = `version: 2026.12
review_url: https://mcp-review.corp.example/request
approved:
`;
const TOOLS = '    tools: { deny: ["*delete*"] }\n';
const ALLOWLIST = stamped(
  HEADER +
    ENTRY('copilot', 'api.githubcopilot.com', TOOLS) +
    ENTRY('wild', '*.example.com', TOOLS) +
    ENTRY('plain', 'mcp.linear.app', ''),
);

const tempDirs: string[] = [];
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Setup {
  readonly dir: string;
  readonly allowlist: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly out: string;
}

let ca: CertificateAndKey;
beforeAll(async () => {
  ca = await createCertificateAuthority({
    commonName: 'test corporate CA',
    validityDays: 3650,
    now: CA_START,
  });
});

async function setup(options: { allowlist?: string; ca?: CertificateAndKey } = {}): Promise<Setup> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-certs-'));
  tempDirs.push(dir);
  const files = {
    dir,
    allowlist: path.join(dir, 'allowlist.yaml'),
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    out: path.join(dir, 'certs'),
  };
  const authority = options.ca ?? ca;
  await writeFile(files.allowlist, options.allowlist ?? ALLOWLIST);
  await writeFile(files.caCert, authority.certPem);
  await writeFile(files.caKey, authority.keyPem, { mode: 0o600 });
  return files;
}

async function cli(args: string[]): Promise<CommandRun> {
  const run = await runCommand(runCli, args, { now: NOW, env: {} });
  // Whatever happened, nothing printed may carry a key.
  expect(run.stdout + run.stderr).not.toMatch(/PRIVATE KEY|BEGIN/);
  return run;
}

function issue(s: Setup, ...extra: string[]): Promise<CommandRun> {
  return cli([
    'issue-certs',
    '--allowlist',
    s.allowlist,
    '--known-hosts',
    'none',
    '--ca-cert',
    s.caCert,
    '--ca-key',
    s.caKey,
    '--out',
    s.out,
    '--now',
    NOW.toISOString(),
    ...extra,
  ]);
}

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

function at(days: number): string {
  return new Date(NOW.getTime() + days * DAY_MS).toISOString();
}

describe('issue-certs: files', () => {
  test('one pair per inspected host, in the Secret layout, with 0600 keys and 0700 directories', async () => {
    const s = await setup();
    const { code, stdout, stderr } = await issue(s);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect((await readdir(s.out)).sort()).toEqual([
      'api.githubcopilot.com',
      'wildcard.example.com',
    ]);
    const expires = at(90);
    expect(stdout).toBe(
      // The inspection set's order: by host pattern, and `*` sorts before letters.
      `${s.out}/wildcard.example.com (*.example.com): issued, no certificate yet; expires ${expires}\n` +
        `${s.out}/api.githubcopilot.com (api.githubcopilot.com): issued, no certificate yet; expires ${expires}\n` +
        `${s.out}: 2 host(s): 2 issued, 0 renewed, 0 kept\n`,
    );
    const caCert = new X509Certificate(ca.certPem);
    for (const [name, san] of [
      ['api.githubcopilot.com', 'DNS:api.githubcopilot.com'],
      ['wildcard.example.com', 'DNS:*.example.com'],
    ] as const) {
      const dir = path.join(s.out, name);
      expect(await mode(dir)).toBe(0o700);
      expect(await mode(path.join(dir, 'tls.key'))).toBe(0o600);
      expect(await mode(path.join(dir, 'tls.crt'))).toBe(0o644);
      const certText = await readFile(path.join(dir, 'tls.crt'), 'utf8');
      // The CA is a root: clients hold it, so tls.crt is the leaf alone.
      expect(certText.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
      const cert = new X509Certificate(certText);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      expect(cert.subjectAltName).toBe(san);
      expect(cert.ca).toBe(false);
      const key = createPrivateKey(await readFile(path.join(dir, 'tls.key'), 'utf8'));
      expect(cert.checkPrivateKey(key)).toBe(true);
      expect(await readdir(dir)).toEqual(['tls.crt', 'tls.key']);
    }
  });

  test('an intermediate CA is sent after the leaf, and a client trusting only the root verifies it', async () => {
    const { root, intermediate } = await rootAndIntermediate();
    const s = await setup({ ca: intermediate });
    expect((await issue(s)).code).toBe(0);
    const dir = path.join(s.out, 'api.githubcopilot.com');
    const certText = await readFile(path.join(dir, 'tls.crt'), 'utf8');
    expect(certText.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(certText.endsWith(intermediate.certPem)).toBe(true);
    const served = await handshake({
      cert: certText,
      key: await readFile(path.join(dir, 'tls.key'), 'utf8'),
      trust: root.certPem,
      servername: 'api.githubcopilot.com',
    });
    expect(served).toBe('hello');
    // A second run keeps the pair: the chain is the one wanted.
    expect((await issue(s)).stdout).toMatch(/api\.githubcopilot\.com\): kept, 90 days left/);
  });

  test('an IPv4 host gets an IP SAN, and a second run keeps it', async () => {
    const s = await setup({ allowlist: stamped(HEADER + ENTRY('by-ip', '10.1.2.3', TOOLS)) });
    expect((await issue(s)).stdout).toContain('/10.1.2.3 (10.1.2.3): issued');
    const cert = new X509Certificate(await readFile(path.join(s.out, '10.1.2.3', 'tls.crt')));
    expect(cert.subjectAltName).toBe('IP Address:10.1.2.3');
    expect((await issue(s)).stdout).toContain('/10.1.2.3 (10.1.2.3): kept, 90 days left');
  });

  test('the default known-host list is the bundled one, and an empty inspection set issues nothing', async () => {
    const s = await setup({ allowlist: stamped(HEADER + ENTRY('plain', 'mcp.linear.app', '')) });
    const args = ['issue-certs', '--allowlist', s.allowlist, '--ca-cert', s.caCert];
    const run = await cli([...args, '--ca-key', s.caKey, '--out', s.out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${s.out}: the inspection set is empty; no certificates\n`);
  });
});

describe('issue-certs: rotation', () => {
  test('a second run keeps every pair and touches no file', async () => {
    const s = await setup();
    await issue(s);
    const before = await snapshot(s.out);
    const { code, stdout } = await issue(s);
    expect(code).toBe(0);
    expect(stdout).toContain('(api.githubcopilot.com): kept, 90 days left; expires');
    expect(stdout).toContain(`${s.out}: 2 host(s): 0 issued, 0 renewed, 2 kept\n`);
    expect(await snapshot(s.out)).toEqual(before);
  });

  test('kept while more than --renew-before-days are left, renewed with a new key after', async () => {
    const s = await setup();
    await issue(s);
    const keyFile = path.join(s.out, 'api.githubcopilot.com', 'tls.key');
    const oldKey = await readFile(keyFile, 'utf8');
    expect((await issue(s, '--now', at(59))).stdout).toContain('kept, 31 days left');
    const late = await issue(s, '--now', at(60));
    expect(late.stdout).toContain(
      `(api.githubcopilot.com): renewed, 30 days left, renewing 30 days before expiry; expires ${at(150)}`,
    );
    expect(await readFile(keyFile, 'utf8')).not.toBe(oldKey);
    expect((await issue(s, '--now', at(60), '--renew-before-days', '10')).stdout).toContain(
      'kept, 90 days left',
    );
    expect((await issue(s, '--now', at(400))).stdout).toContain('renewed, expired;');
  });

  test.each([
    [
      'a key that is not the certificate’s',
      async (dir: string) => {
        const other = await issueLeafCertificate(leafFor(ca, 'api.githubcopilot.com'));
        await writeFile(path.join(dir, 'tls.key'), other.keyPem);
      },
      'tls.key does not belong to tls.crt',
    ],
    [
      'a key readable by others',
      (dir: string) => chmod(path.join(dir, 'tls.key'), 0o640),
      'tls.key was readable by group or others',
    ],
    [
      'a certificate from another CA',
      async (dir: string) =>
        writePair(
          dir,
          await issueLeafCertificate(leafFor(await otherCa(), 'api.githubcopilot.com')),
        ),
      'issued by another CA',
    ],
    [
      'a certificate with an extra name',
      async (dir: string) =>
        writePair(
          dir,
          await issueLeafCertificate({
            ...leafFor(ca, 'api.githubcopilot.com'),
            dnsNames: ['api.githubcopilot.com', 'evil.example'],
          }),
        ),
      'its names are not exactly DNS:api.githubcopilot.com',
    ],
    ['a missing key', (dir: string) => rm(path.join(dir, 'tls.key')), 'tls.key is missing'],
    [
      'a garbled certificate',
      (dir: string) => writeFile(path.join(dir, 'tls.crt'), 'not a certificate\n'),
      'tls.crt holds no readable certificate',
    ],
  ])('re-issues on %s', async (_title, damage, reason) => {
    const s = await setup();
    await issue(s);
    const dir = path.join(s.out, 'api.githubcopilot.com');
    await damage(dir);
    const { code, stdout } = await issue(s);
    expect(code).toBe(0);
    expect(stdout).toContain(`(api.githubcopilot.com): renewed, ${reason}; expires`);
    expect(stdout).toContain('(*.example.com): kept');
    const cert = new X509Certificate(await readFile(path.join(dir, 'tls.crt'), 'utf8'));
    expect(cert.subjectAltName).toBe('DNS:api.githubcopilot.com');
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(path.join(dir, 'tls.key'))))).toBe(
      true,
    );
    expect(await mode(path.join(dir, 'tls.key'))).toBe(0o600);
  });

  test('a host that left the inspection set is reported stale, not deleted', async () => {
    const s = await setup();
    await issue(s);
    await writeFile(
      s.allowlist,
      stamped(HEADER + ENTRY('copilot', 'api.githubcopilot.com', TOOLS)),
    );
    const { stdout } = await issue(s);
    expect(stdout).toContain(
      `${s.out}/wildcard.example.com: stale, not in the inspection set; remove it once Envoy no longer uses it\n`,
    );
    expect(await readdir(path.join(s.out, 'wildcard.example.com'))).toEqual(['tls.crt', 'tls.key']);
  });
});

describe('issue-certs: refusals', () => {
  test('a CA key readable by group or others', async () => {
    const s = await setup();
    await chmod(s.caKey, 0o640);
    const { code, stderr } = await issue(s);
    expect(code).toBe(1);
    expect(stderr).toContain(`--ca-key ${s.caKey} is readable by group or others (mode 0640)`);
    await expect(stat(s.out)).rejects.toThrow(/ENOENT/);
  });

  test('a CA certificate that is not a CA', async () => {
    const leaf = await issueLeafCertificate(leafFor(ca, 'not-a-ca.example'));
    const s = await setup({ ca: leaf });
    const { code, stderr } = await issue(s);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `issue-certs: ${s.caCert}: the CA certificate (CN=not-a-ca.example) is not a CA: its basicConstraints do not say CA:TRUE\n`,
    );
  });

  test('a CA key that does not match the CA certificate', async () => {
    const s = await setup();
    await writeFile(s.caKey, (await otherCa()).keyPem, { mode: 0o600 });
    const { code, stderr } = await issue(s);
    expect(code).toBe(1);
    expect(stderr).toContain('the CA key does not belong to the CA certificate');
  });

  test('a missing CA key, an invalid allowlist, bad day counts', async () => {
    const s = await setup();
    await rm(s.caKey);
    expect((await issue(s)).stderr).toBe(`issue-certs: --ca-key ${s.caKey}: ENOENT\n`);
    const t = await setup({ allowlist: 'version: 1\n' });
    const invalid = await issue(t);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('issue-certs: nothing issued: the allowlist is invalid');
    const u = await setup();
    const tooLate = await issue(u, '--renew-before-days', '90');
    expect(tooLate.code).toBe(2);
    expect(tooLate.stderr).toMatch(
      /^--renew-before-days must be a whole number from 0 to 89, got "90"/,
    );
    expect((await issue(u, '--days', '400')).code).toBe(2);
    expect((await issue(u, '--days', '1.5')).code).toBe(2);
    expect((await cli(['issue-certs', '--out', u.out])).code).toBe(2);
  });
});

describe('issue-certs: failures', () => {
  test('a write failure part-way exits 1 after the hosts already done were printed', async () => {
    const s = await setup();
    await mkdir(s.out);
    // A file where the second host's directory belongs.
    await writeFile(path.join(s.out, 'api.githubcopilot.com'), 'in the way\n');
    const { code, stdout, stderr } = await issue(s);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^\S+\/wildcard\.example\.com \(\*\.example\.com\): issued, no certificate yet; expires \S+\n$/,
    );
    expect(stderr).toBe(
      `issue-certs: cannot write under ${s.out}: ENOTDIR ${path.join(s.out, 'api.githubcopilot.com', 'tls.crt')}\n`,
    );
  });
});

describe('issue-certs --create-ca', () => {
  test('writes a trial CA that issue-certs then uses, and never replaces it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-ca-'));
    tempDirs.push(dir);
    const caDir = path.join(dir, 'trial');
    const made = await cli(['issue-certs', '--create-ca', caDir, '--now', NOW.toISOString()]);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(
      /trial CA "mcp-gate trial CA [0-9a-f]{6} \(not for production\)", expires 2027-12-01T12:00:00.000Z/,
    );
    expect(await mode(caDir)).toBe(0o700);
    expect(await mode(path.join(caDir, 'ca.key'))).toBe(0o600);
    const certPem = await readFile(path.join(caDir, 'ca.crt'), 'utf8');
    expect(new X509Certificate(certPem).ca).toBe(true);

    const again = await cli(['issue-certs', '--create-ca', caDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `issue-certs: ${path.join(caDir, 'ca.crt')} exists; not replacing a CA\n`,
    );
    expect(await readFile(path.join(caDir, 'ca.crt'), 'utf8')).toBe(certPem);

    const s = await setup();
    const run = await issue({
      ...s,
      caCert: path.join(caDir, 'ca.crt'),
      caKey: path.join(caDir, 'ca.key'),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 issued');
    expect((await cli(['issue-certs', '--create-ca', caDir, '--out', s.out])).code).toBe(2);
  });

  test('is listed in the top-level usage', async () => {
    const { stdout } = await cli(['--help']);
    expect(stdout).toContain('issue-certs --allowlist FILE --ca-cert FILE --ca-key FILE --out DIR');
  });
});

function leafFor(authority: CertificateAndKey, host: string) {
  return {
    ca: authority,
    dnsNames: [host],
    validityDays: 90,
    usage: 'server' as const,
    now: NOW,
  };
}

async function writePair(dir: string, pair: CertificateAndKey): Promise<void> {
  await writeFile(path.join(dir, 'tls.crt'), pair.certPem);
  await writeFile(path.join(dir, 'tls.key'), pair.keyPem);
}

let other: CertificateAndKey | undefined;
async function otherCa(): Promise<CertificateAndKey> {
  other ??= await createCertificateAuthority({
    commonName: 'other CA',
    validityDays: 3650,
    now: CA_START,
  });
  return other;
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(dir)) {
    for (const file of await readdir(path.join(dir, name))) {
      const full = path.join(dir, name, file);
      out[`${name}/${file}`] =
        `${String((await stat(full)).mtimeMs)} ${await readFile(full, 'utf8')}`;
    }
  }
  return out;
}

async function handshake(options: {
  cert: string;
  key: string;
  trust: string;
  servername: string;
}): Promise<string> {
  const server = createServer({ cert: options.cert, key: options.key }, (socket) => {
    socket.end('hello');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      servername: options.servername,
      ca: options.trust,
    });
    try {
      const [data] = (await once(socket, 'data')) as [Buffer];
      return data.toString();
    } finally {
      socket.destroy();
    }
  } finally {
    server.close();
    await once(server, 'close');
  }
}

/**
 * A root that may sign one intermediate, and that intermediate: the shape of most corporate
 * PKIs. Built here because createCertificateAuthority makes only roots with pathLen 0.
 */
async function rootAndIntermediate(): Promise<{
  root: CertificateAndKey;
  intermediate: CertificateAndKey;
}> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const gen = () => webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const [rootKeys, interKeys] = await Promise.all([gen(), gen()]);
  const notBefore = CA_START;
  const notAfter = new Date(NOW.getTime() + 3650 * DAY_MS);
  const caUsage = new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true);
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Corp Root',
    keys: rootKeys,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      caUsage,
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const interCert = await x509.X509CertificateGenerator.create({
    subject: 'CN=Corp Issuing CA',
    issuer: rootCert.subject,
    publicKey: interKeys.publicKey,
    signingKey: rootKeys.privateKey,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      caUsage,
      await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const pkcs8 = async (key: webcrypto.CryptoKey) =>
    createPrivateKey({
      key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key)),
      format: 'der',
      type: 'pkcs8',
    })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
  return {
    root: { certPem: `${rootCert.toString('pem')}\n`, keyPem: await pkcs8(rootKeys.privateKey) },
    intermediate: {
      certPem: `${interCert.toString('pem')}\n`,
      keyPem: await pkcs8(interKeys.privateKey),
    },
  };
}
