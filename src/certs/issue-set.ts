/**
 * Interception certificates for the inspection set, on disk in the layout of a cert-manager
 * Secret, which is what Envoy's SDS files point at: `<out>/<name>/tls.crt` (the leaf, then the
 * CA's chain unless the CA is a root) and `<out>/<name>/tls.key` (PKCS#8, mode 0600), with each
 * `<name>` directory mode 0700.
 *
 * Rotation: an existing pair is kept only while it is one this CA would issue now (signed by it,
 * exactly the wanted SANs, the key belongs to the certificate and nobody else can read it, the
 * same chain) and more than `renewBeforeDays` of it are left. Anything else is issued anew with
 * a fresh key; keys are never reused.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';

import type { InspectedHost } from '../core/policy/inspection-set.js';
import { readFileIfExists, replaceFiles } from '../fs/atomic-file.js';
import {
  CertificateError,
  issueLeafCertificate,
  keyMatchesCertificate,
  readPrivateKey,
  splitCertificates,
} from './x509.js';
import type { CertificateAndKey } from './x509.js';

export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;
const DIR_MODE = 0o700;
const DAY_MS = 86_400_000;

export interface IssueOptions {
  readonly hosts: readonly InspectedHost[];
  readonly ca: CertificateAndKey;
  readonly outDir: string;
  readonly validityDays: number;
  readonly renewBeforeDays: number;
  readonly now: Date;
  /** Called after each host, in order, before the next is started. */
  readonly onOutcome?: (outcome: HostOutcome) => void;
}

/** What happened to one host's pair; `reason` never contains key material. */
export interface HostOutcome {
  readonly name: string;
  readonly host: string;
  readonly action: 'kept' | 'issued' | 'renewed';
  readonly reason: string;
  readonly notAfter: Date;
}

/** Checks, and where needed issues, every host's pair; throws on the first I/O failure. */
export async function issueForInspectionSet(options: IssueOptions): Promise<HostOutcome[]> {
  const chain = chainAfterLeaf(options.ca.certPem);
  await mkdir(options.outDir, { recursive: true, mode: DIR_MODE });
  const outcomes: HostOutcome[] = [];
  for (const host of options.hosts) {
    const outcome = await issueOne(host, chain, options);
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  }
  return outcomes;
}

/** Subdirectories of `outDir` holding a key for a host no longer in the inspection set. */
export async function staleNames(
  outDir: string,
  hosts: readonly InspectedHost[],
): Promise<string[]> {
  const wanted = new Set(hosts.map((h) => h.name));
  const stale: string[] = [];
  for (const entry of await readdir(outDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || wanted.has(entry.name)) continue;
    if ((await fileMode(path.join(outDir, entry.name, KEY_FILE))) !== undefined) {
      stale.push(entry.name);
    }
  }
  return stale.sort();
}

async function issueOne(
  host: InspectedHost,
  chain: string,
  options: IssueOptions,
): Promise<HostOutcome> {
  const dir = path.join(options.outDir, host.name);
  const certPath = path.join(dir, CERT_FILE);
  const keyPath = path.join(dir, KEY_FILE);
  const names = sanFor(host.host);
  const verdict = await judgeExisting(certPath, keyPath, names, chain, options);
  if (verdict.keep) {
    return { name: host.name, host: host.host, action: 'kept', ...verdict };
  }
  const leaf = await issueLeafCertificate({
    ca: options.ca,
    dnsNames: names.dns,
    ipAddresses: names.ip,
    validityDays: options.validityDays,
    usage: 'server',
    now: options.now,
  });
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await replaceFiles([
    { target: keyPath, content: leaf.keyPem, mode: KEY_MODE },
    { target: certPath, content: leaf.certPem + chain, mode: CERT_MODE },
  ]);
  return {
    name: host.name,
    host: host.host,
    action: verdict.reason === undefined ? 'issued' : 'renewed',
    reason: verdict.reason ?? 'no certificate yet',
    notAfter: new Date(new X509Certificate(leaf.certPem).validTo),
  };
}

type Verdict =
  | { readonly keep: true; readonly reason: string; readonly notAfter: Date }
  /** `reason` undefined: there was nothing to judge. */
  | { readonly keep: false; readonly reason: string | undefined };

async function judgeExisting(
  certPath: string,
  keyPath: string,
  names: SanNames,
  chain: string,
  options: IssueOptions,
): Promise<Verdict> {
  // One after the other, so a failure names the same file every time.
  const certText = await readFileIfExists(certPath);
  const keyText = await readFileIfExists(keyPath);
  if (certText === undefined && keyText === undefined) return { keep: false, reason: undefined };
  if (certText === undefined) return { keep: false, reason: `${CERT_FILE} is missing` };
  if (keyText === undefined) return { keep: false, reason: `${KEY_FILE} is missing` };
  const [leafPem, ...rest] = splitCertificates(certText);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(leafPem ?? '');
  } catch {
    return { keep: false, reason: `${CERT_FILE} holds no readable certificate` };
  }
  const caCert = new X509Certificate(options.ca.certPem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
    return { keep: false, reason: 'issued by another CA' };
  }
  if (rest.join('') !== chain) return { keep: false, reason: 'the CA chain in tls.crt differs' };
  const wanted = [...names.dns.map((n) => `DNS:${n}`), ...names.ip.map((n) => `IP:${n}`)];
  if (!sameNames(sanList(cert), wanted)) {
    return { keep: false, reason: `its names are not exactly ${wanted.join(', ')}` };
  }
  try {
    if (!keyMatchesCertificate(readPrivateKey(keyText, KEY_FILE), certText)) {
      return { keep: false, reason: `${KEY_FILE} does not belong to ${CERT_FILE}` };
    }
  } catch (err: unknown) {
    if (!(err instanceof CertificateError)) throw err;
    return { keep: false, reason: `${KEY_FILE} is unreadable` };
  }
  const mode = (await fileMode(keyPath)) ?? 0;
  if ((mode & 0o077) !== 0) {
    // Anyone on the machine may have copied it: a new key, not a chmod, closes that.
    return { keep: false, reason: `${KEY_FILE} was readable by group or others` };
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (options.now < notBefore) return { keep: false, reason: 'not valid yet' };
  const daysLeft = Math.floor((notAfter.getTime() - options.now.getTime()) / DAY_MS);
  if (daysLeft <= options.renewBeforeDays) {
    return {
      keep: false,
      reason:
        daysLeft < 0
          ? 'expired'
          : `${plural(daysLeft, 'day')} left, renewing ${plural(options.renewBeforeDays, 'day')} before expiry`,
    };
  }
  return { keep: true, reason: `${plural(daysLeft, 'day')} left`, notAfter };
}

interface SanNames {
  readonly dns: string[];
  readonly ip: string[];
}

/** The SAN of an allowlist host pattern: an IPv4 literal is an IP SAN, anything else a DNS name. */
function sanFor(host: string): SanNames {
  return isIP(host) === 0 ? { dns: [host], ip: [] } : { dns: [], ip: [host] };
}

/** The SANs as node reports them (`DNS:a, IP Address:1.2.3.4`), IP spelt `IP:`. */
function sanList(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s !== '')
    .map((s) => s.replace(/^IP Address:/, 'IP:'));
}

/** Exact set equality; allowlist hosts are lower case, IPv4 only, as node prints SANs. */
function sameNames(actual: readonly string[], wanted: readonly string[]): boolean {
  const canonical = (list: readonly string[]): string => [...list].sort().join('\n');
  return canonical(actual) === canonical(wanted);
}

/**
 * What follows the leaf in tls.crt: the CA file's certificates, unless the CA is a root. Clients
 * hold the root already; an intermediate they need to be sent.
 */
function chainAfterLeaf(caPem: string): string {
  const certs = splitCertificates(caPem);
  const first = certs[0];
  if (first === undefined) throw new CertificateError('the CA file holds no certificate');
  const issuer = new X509Certificate(first);
  const selfSigned = issuer.checkIssued(issuer) && issuer.verify(issuer.publicKey);
  return selfSigned ? '' : certs.join('');
}

async function fileMode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode & 0o777;
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}
