import {
  X509Certificate,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  webcrypto,
} from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { connect, createServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CLOCK_SKEW_MS,
  CertificateError,
  createCertificateAuthority,
  issueLeafCertificate,
} from '../../../src/certs/x509.js';
import type { CertificateAndKey, LeafCertificateOptions } from '../../../src/certs/x509.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const DAY_MS = 86_400_000;

let ca: CertificateAndKey;
let otherCa: CertificateAndKey;

beforeAll(async () => {
  ca = await createCertificateAuthority({ commonName: 'mcp-gate test CA', validityDays: 30 });
  otherCa = await createCertificateAuthority({ commonName: 'another CA', validityDays: 30 });
});

describe('createCertificateAuthority', () => {
  test('a self-signed P-256 CA with pathLen 0, backdated for clock skew', async () => {
    const made = await createCertificateAuthority({
      commonName: 'Trial, CA',
      validityDays: 10,
      now: NOW,
    });
    const cert = new X509Certificate(made.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.subject).toBe('CN=Trial\\, CA');
    expect(new Date(cert.validFrom).getTime()).toBe(NOW.getTime() - CLOCK_SKEW_MS);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() + 10 * DAY_MS);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(made.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    // node names the extended key usage keyUsage; a CA carries none.
    expect(cert.keyUsage).toBeUndefined();
    expect(cert.toString()).toBe(made.certPem);
  });

  test('serials are positive, 16 bytes, and differ', async () => {
    const serials = await Promise.all(
      [1, 2, 3].map(async () => {
        const made = await createCertificateAuthority({ commonName: 'x', validityDays: 1 });
        return new X509Certificate(made.certPem).serialNumber;
      }),
    );
    for (const serial of serials) expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/);
    expect(new Set(serials).size).toBe(3);
  });

  test('refuses an empty name or a validity out of range', async () => {
    await expect(createCertificateAuthority({ commonName: ' ', validityDays: 1 })).rejects.toThrow(
      CertificateError,
    );
    await expect(createCertificateAuthority({ commonName: 'x', validityDays: 0 })).rejects.toThrow(
      /whole number of days from 1 to 3650, got 0/,
    );
  });
});

describe('issueLeafCertificate', () => {
  test('signed by the CA, with the SANs, usages and validity asked for', async () => {
    const datedCa = await createCertificateAuthority({
      commonName: 'dated',
      validityDays: 30,
      now: NOW,
    });
    const leaf = await issueLeafCertificate({
      ca: datedCa,
      dnsNames: ['api.githubcopilot.com', '*.example.com'],
      ipAddresses: ['127.0.0.1', '::1'],
      validityDays: 7,
      usage: 'server',
      now: NOW,
    });
    const cert = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(datedCa.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(otherCa.certPem).publicKey)).toBe(false);
    expect(cert.subjectAltName).toBe(
      'DNS:api.githubcopilot.com, DNS:*.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(cert.subject).toBe('CN=api.githubcopilot.com');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(cert.validFrom).getTime()).toBe(NOW.getTime() - CLOCK_SKEW_MS);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() + 7 * DAY_MS);
    expect(cert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(datedCa.keyPem))).toBe(false);
    // OpenSSL matches the leaf's authority key identifier against the CA's subject key identifier.
    const parsed = new x509.X509Certificate(leaf.certPem);
    const caKeyId = new x509.X509Certificate(datedCa.certPem).getExtension(
      x509.SubjectKeyIdentifierExtension,
    )?.keyId;
    expect(caKeyId).toMatch(/^[0-9a-f]{40}$/);
    expect(parsed.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caKeyId);
    expect(parsed.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).not.toBe(caKeyId);
  });

  test('client and server+client usages', async () => {
    const client = await leafOf(ca, { dnsNames: ['envoy'], usage: 'client' });
    expect(new X509Certificate(client.certPem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const both = await leafOf(ca, { dnsNames: ['mcp-gate'], usage: 'server+client' });
    expect(new X509Certificate(both.certPem).keyUsage).toEqual([
      '1.3.6.1.5.5.7.3.1',
      '1.3.6.1.5.5.7.3.2',
    ]);
  });

  test('never outlives the CA', async () => {
    const leaf = await issueLeafCertificate({
      ca,
      dnsNames: ['a.example'],
      validityDays: 90,
      usage: 'server',
    });
    expect(new X509Certificate(leaf.certPem).validTo).toBe(new X509Certificate(ca.certPem).validTo);
  });

  test.each([
    [
      'an RSA CA (PKCS#1 key file)',
      'rsa',
      { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } },
    ],
    ['a P-384 CA (SEC1 key file)', 'p384', { name: 'ECDSA', hash: { name: 'SHA-384' } }],
  ] as const)('%s signs P-256 leaves', async (_title, kind, signature) => {
    const corporate = await corporateCa(kind);
    const leaf = await leafOf(corporate);
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.verify(new X509Certificate(corporate.certPem).publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new x509.X509Certificate(leaf.certPem).signatureAlgorithm).toEqual(signature);
  });

  test.each([
    ['no names', { dnsNames: [] }, /at least one DNS name or IP address/],
    [
      'a bad DNS name',
      { dnsNames: ['bad_name.example'] },
      /"bad_name.example" cannot be a DNS name: .*"bad_name" is not a valid DNS label/,
    ],
    ['a wildcard not leading', { dnsNames: ['a.*.example'] }, /"\*" is only allowed as the whole/],
    [
      'an IP as a DNS name',
      { dnsNames: ['10.0.0.1'] },
      /"10.0.0.1" is an IP address: give it as one/,
    ],
    ['a bad IP', { dnsNames: [], ipAddresses: ['1.2.3'] }, /"1.2.3" is not an IP address/],
    ['too long', { dnsNames: ['a.example'], validityDays: 398 }, /from 1 to 397, got 398/],
  ])('refuses %s', async (_title, overrides, message) => {
    await expect(leafOf(ca, overrides)).rejects.toThrow(message);
  });

  test('refuses a CA certificate that is not a CA', async () => {
    const leaf = await leafOf(ca);
    await expect(leafOf(leaf, { dnsNames: ['b.example'] })).rejects.toThrow(
      /is not a CA: its basicConstraints do not say CA:TRUE/,
    );
  });

  test('refuses a CA key that does not belong to the CA certificate', async () => {
    const mixed = { certPem: ca.certPem, keyPem: otherCa.keyPem };
    const error = await leafOf(mixed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CertificateError);
    expect((error as CertificateError).code).toBe('ERR_CERT_INVALID');
    expect((error as Error).message).toMatch(/the CA key does not belong to the CA certificate/);
    expect((error as Error).message).not.toMatch(/PRIVATE KEY/);
  });

  test('refuses an expired CA and an unreadable key, without quoting the key', async () => {
    await expect(leafOf(ca, { now: new Date(Date.now() + 31 * DAY_MS) })).rejects.toThrow(
      /is not valid now/,
    );
    const garbled = {
      certPem: ca.certPem,
      keyPem: `${ca.keyPem.slice(0, 60)}\n-----END PRIVATE KEY-----\n`,
    };
    const error = await leafOf(garbled).catch((e: unknown) => e);
    expect((error as Error).message).toBe('the CA key is not a PEM private key node can read');
  });
});

describe('TLS handshakes with issued certificates', () => {
  let server: ReturnType<typeof createServer>;
  let clientCa: CertificateAndKey;
  let port: number;
  const peers: unknown[] = [];

  beforeAll(async () => {
    clientCa = await createCertificateAuthority({ commonName: 'client CA', validityDays: 1 });
    const leaf = await leafOf(ca, { dnsNames: ['api.githubcopilot.com', '*.example.com'] });
    server = createServer({
      cert: leaf.certPem,
      key: leaf.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
      ca: clientCa.certPem,
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      peers.push(socket.authorized ? socket.getPeerCertificate().subject.CN : undefined);
      socket.end('hello');
    });
    server.on('tlsClientError', () => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  async function handshake(options: {
    servername: string;
    trust: string;
    client?: CertificateAndKey;
  }): Promise<string> {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: options.servername,
      ca: options.trust,
      ...(options.client === undefined
        ? {}
        : { cert: options.client.certPem, key: options.client.keyPem }),
    });
    try {
      const [data] = (await once(socket, 'data')) as [Buffer];
      return data.toString();
    } finally {
      socket.destroy();
    }
  }

  test('a client trusting only the CA accepts the host and a one-label wildcard match', async () => {
    expect(await handshake({ servername: 'api.githubcopilot.com', trust: ca.certPem })).toBe(
      'hello',
    );
    expect(await handshake({ servername: 'mcp.example.com', trust: ca.certPem })).toBe('hello');
  });

  test('a wrong name, a two-label wildcard match or another CA fails', async () => {
    await expect(handshake({ servername: 'api.github.com', trust: ca.certPem })).rejects.toThrow(
      /does not match certificate's altnames/,
    );
    await expect(handshake({ servername: 'a.b.example.com', trust: ca.certPem })).rejects.toThrow(
      /does not match certificate's altnames/,
    );
    await expect(
      handshake({ servername: 'api.githubcopilot.com', trust: otherCa.certPem }),
    ).rejects.toThrow(/unable to verify the first certificate|self-signed|local issuer/);
  });

  test('a client certificate is verified by a server that requests one', async () => {
    peers.length = 0;
    const usages = ['client', 'server+client', 'server'] as const;
    for (const usage of usages) {
      const client = await issueLeafCertificate({
        ca: clientCa,
        dnsNames: [`envoy-${usage.replace('+', '-')}`],
        validityDays: 1,
        usage,
      });
      await handshake({ servername: 'api.githubcopilot.com', trust: ca.certPem, client });
    }
    const stranger = await leafOf(otherCa, { dnsNames: ['stranger'], usage: 'client' });
    await handshake({ servername: 'api.githubcopilot.com', trust: ca.certPem, client: stranger });
    // A serverAuth-only certificate is refused as a client; one from another CA is too.
    expect(peers).toEqual(['envoy-client', 'envoy-server-client', undefined, undefined]);
  });
});

/** A one-day server leaf for a.example, unless overridden. */
function leafOf(
  authority: CertificateAndKey,
  overrides: Partial<LeafCertificateOptions> = {},
): Promise<CertificateAndKey> {
  return issueLeafCertificate({
    ca: authority,
    dnsNames: ['a.example'],
    validityDays: 1,
    usage: 'server',
    ...overrides,
  });
}

async function corporateCa(kind: 'rsa' | 'p384'): Promise<CertificateAndKey> {
  // Built by hand: createCertificateAuthority makes only P-256 CAs, and corporate CAs are often
  // RSA or P-384, with keys in the older PKCS#1 and SEC1 files.
  const { privateKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  const params =
    kind === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' };
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, params, true, ['sign']);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const publicKey = await webcrypto.subtle.importKey('spki', spki, params, true, ['verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${kind} corporate CA`,
    keys: { privateKey: signingKey, publicKey },
    signingAlgorithm: params,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  return {
    certPem: cert.toString('pem'),
    keyPem: privateKey
      .export({ type: kind === 'rsa' ? 'pkcs1' : 'sec1', format: 'pem' })
      .toString(),
  };
}
