/**
 * X.509 issuance for TLS interception: a trial CA, and leaf certificates signed by a CA.
 *
 * node:crypto parses certificates but cannot build them, so certificates are assembled and signed
 * with @peculiar/x509 over node's WebCrypto. Keys are EC P-256, handed over as PKCS#8 PEM. The CA
 * may be any key node can read (a corporate CA is often RSA); the leaf keys are always P-256.
 */
import {
  X509Certificate as NodeCertificate,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

import * as x509 from '@peculiar/x509';

import { parseHostPattern } from '../core/policy/host-pattern.js';
import { AppError } from '../errors.js';

// The library signs through whatever provider is set; node's WebCrypto is the one we ship with.
x509.cryptoProvider.set(webcrypto);

/** A certificate and its private key, both PEM. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Which side of a TLS handshake a leaf certificate may authenticate. */
export type LeafUsage = 'server' | 'client' | 'server+client';

export interface CertificateAuthorityOptions {
  readonly commonName: string;
  readonly validityDays: number;
  readonly now?: Date;
}

export interface LeafCertificateOptions {
  readonly ca: CertificateAndKey;
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Defaults to the first DNS name (or IP address); verifiers use the SANs, never the CN. */
  readonly commonName?: string;
  readonly validityDays: number;
  readonly usage: LeafUsage;
  readonly now?: Date;
}

/** A CA or certificate request that cannot be used; the message says what is wrong. */
export class CertificateError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CERT_INVALID', message, options);
    this.name = 'CertificateError';
  }
}

const DAY_MS = 86_400_000;
/** notBefore is set this far back so a peer whose clock runs a little behind accepts a fresh cert. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Longest leaf validity: what Apple and browsers accept even from a privately trusted CA. */
export const MAX_LEAF_DAYS = 397;
export const MAX_CA_DAYS = 3650;

const EC_P256: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

/** A self-signed CA with pathLen 0: it can sign leaves, never another CA. For trials and tests. */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAndKey> {
  const { commonName, validityDays } = options;
  checkDays(validityDays, MAX_CA_DAYS, 'CA');
  if (commonName.trim() === '') throw new CertificateError('the CA common name is empty');
  const now = options.now ?? new Date();
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const name = [{ CN: [commonName] }];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + validityDays * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign |
          x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pem(cert), keyPem: await exportPkcs8(keys.privateKey) };
}

/** A leaf for the given names, signed by `ca`, never valid beyond the CA itself. */
export async function issueLeafCertificate(
  options: LeafCertificateOptions,
): Promise<CertificateAndKey> {
  const { dnsNames, validityDays, usage } = options;
  const ipAddresses = options.ipAddresses ?? [];
  checkDays(validityDays, MAX_LEAF_DAYS, 'leaf');
  if (dnsNames.length === 0 && ipAddresses.length === 0) {
    throw new CertificateError('a leaf certificate needs at least one DNS name or IP address');
  }
  for (const dns of dnsNames) checkDnsName(dns);
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new CertificateError(`${JSON.stringify(ip)} is not an IP address`);
  }
  const now = options.now ?? new Date();
  const ca = await loadCertificateAuthority(options.ca, now);
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const notAfter = Math.min(now.getTime() + validityDays * DAY_MS, ca.cert.notAfter.getTime());
  const commonName = options.commonName ?? dnsNames[0] ?? ipAddresses[0] ?? '';
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [commonName] }],
    issuer: ca.cert.subjectName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(EXTENDED_USAGES[usage]),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ca.authorityKeyIdentifier,
    ],
  });
  return { certPem: pem(cert), keyPem: await exportPkcs8(keys.privateKey) };
}

const EXTENDED_USAGES: Record<LeafUsage, x509.ExtendedKeyUsage[]> = {
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
  'server+client': [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
};

/** A CA checked for signing: what issuance needs from it. */
export interface LoadedAuthority {
  readonly cert: x509.X509Certificate;
  readonly signingKey: webcrypto.CryptoKey;
  readonly signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
  readonly authorityKeyIdentifier: x509.AuthorityKeyIdentifierExtension;
}

/**
 * Parses and checks a CA: its certificate must be a CA allowed to sign certificates, valid at
 * `now`, and `keyPem` must be its key. Every refusal names the problem; none quotes the key.
 */
export async function loadCertificateAuthority(
  ca: CertificateAndKey,
  now: Date,
): Promise<LoadedAuthority> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(firstCertificatePem(ca.certPem));
  } catch (error) {
    throw new CertificateError('the CA certificate is not a PEM X.509 certificate', {
      cause: error,
    });
  }
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (constraints?.ca !== true) {
    throw new CertificateError(
      `the CA certificate (${cert.subject}) is not a CA: its basicConstraints do not say CA:TRUE`,
    );
  }
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  if (keyUsage !== null && (keyUsage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new CertificateError(
      `the CA certificate (${cert.subject}) may not sign certificates: its keyUsage lacks keyCertSign`,
    );
  }
  if (now < cert.notBefore || now > cert.notAfter) {
    throw new CertificateError(
      `the CA certificate (${cert.subject}) is not valid now: valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}`,
    );
  }
  const privateKey = readPrivateKey(ca.keyPem, 'CA key');
  if (!keyMatchesCertificate(privateKey, ca.certPem)) {
    throw new CertificateError(
      `the CA key does not belong to the CA certificate (${cert.subject})`,
    );
  }
  const { importParams, signingAlgorithm } = webCryptoParams(privateKey);
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, importParams, false, ['sign']);
  const subjectKeyId = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  // OpenSSL refuses a chain whose authorityKeyIdentifier differs from the issuer's own
  // subjectKeyIdentifier, so copy it rather than recompute it.
  const authorityKeyIdentifier =
    subjectKeyId === null
      ? await x509.AuthorityKeyIdentifierExtension.create(cert.publicKey)
      : new x509.AuthorityKeyIdentifierExtension(subjectKeyId.keyId);
  return { cert, signingKey, signingAlgorithm, authorityKeyIdentifier };
}

/** Reads a private key PEM (PKCS#8, SEC1 or PKCS#1); the error never includes the text. */
export function readPrivateKey(keyPem: string, what: string): KeyObject {
  try {
    return createPrivateKey({ key: keyPem, format: 'pem' });
  } catch (error) {
    const encrypted = keyPem.includes('ENCRYPTED');
    throw new CertificateError(
      encrypted
        ? `the ${what} is encrypted; give an unencrypted PEM key (kept readable by its owner only)`
        : `the ${what} is not a PEM private key node can read`,
      { cause: encrypted ? undefined : scrubbed(error) },
    );
  }
}

/** Whether `key` is the private half of the (first) certificate's public key. */
export function keyMatchesCertificate(key: KeyObject, certPem: string): boolean {
  const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
  const cert = new NodeCertificate(firstCertificatePem(certPem));
  return spki(createPublicKey(key)).equals(spki(cert.publicKey));
}

/** Splits a PEM bundle into its certificates, in file order. */
export function splitCertificates(bundlePem: string): string[] {
  return [
    ...bundlePem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g),
  ].map((match) => `${match[0]}\n`);
}

function firstCertificatePem(bundlePem: string): string {
  const first = splitCertificates(bundlePem)[0];
  if (first === undefined) throw new CertificateError('no PEM certificate found');
  return first;
}

function webCryptoParams(key: KeyObject): {
  importParams: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
} {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const known = curve === undefined ? undefined : EC_CURVES[curve];
    if (known === undefined) {
      throw new CertificateError(`the CA key uses EC curve ${String(curve)}; use P-256 or P-384`);
    }
    return {
      importParams: { name: 'ECDSA', namedCurve: known.namedCurve },
      signingAlgorithm: { name: 'ECDSA', hash: known.hash },
    };
  }
  if (type === 'rsa') {
    return {
      importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
    };
  }
  throw new CertificateError(
    `the CA key is a ${String(type)} key; use an EC (P-256, P-384) or RSA key`,
  );
}

const EC_CURVES: Partial<Record<string, { namedCurve: string; hash: string }>> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
};

/** 16 random bytes with the top bits 01: positive, 126 bits of entropy, minimal DER at any value. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString('hex');
}

function checkDays(days: number, max: number, what: string): void {
  if (!Number.isInteger(days) || days < 1 || days > max) {
    throw new CertificateError(
      `${what} validity must be a whole number of days from 1 to ${max}, got ${days}`,
    );
  }
}

/** A name the allowlist accepts as a host pattern is one a certificate SAN can carry. */
function checkDnsName(name: string): void {
  const parsed = parseHostPattern(name);
  if (!parsed.ok) {
    throw new CertificateError(`${JSON.stringify(name)} cannot be a DNS name: ${parsed.message}`);
  }
  if (isIP(name) !== 0) {
    throw new CertificateError(`${JSON.stringify(name)} is an IP address: give it as one`);
  }
}

function pem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').trim()}\n`;
}

async function exportPkcs8(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** node's key-parse errors carry no key text, but keep only the message to be sure of that. */
function scrubbed(error: unknown): Error {
  return new Error(error instanceof Error ? error.message : 'unreadable key');
}
