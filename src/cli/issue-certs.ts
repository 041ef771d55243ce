/**
 * `mcp-gate issue-certs`: interception certificates for the allowlist's inspection set, outside
 * Kubernetes (where cert-manager does this, see render-envoy --cert-manager-issuer) and in tests.
 * src/certs/issue-set.ts holds the layout and the rotation rules; this file reads the flags and
 * the CA, refuses an unsafe CA, and prints one line per host. Nothing printed holds key material.
 *
 * `--create-ca DIR` makes a throwaway CA for trying mcp-gate out. In production the CA is the
 * corporate one that managed devices already trust.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { issueForInspectionSet, staleNames } from '../certs/issue-set.js';
import type { HostOutcome } from '../certs/issue-set.js';
import {
  CertificateError,
  MAX_CA_DAYS,
  MAX_LEAF_DAYS,
  createCertificateAuthority,
  loadCertificateAuthority,
} from '../certs/x509.js';
import type { CertificateAndKey } from '../certs/x509.js';
import { loadPolicyForCommand } from '../config/load-policy.js';
import { inspectionSet } from '../core/policy/inspection-set.js';
import { replaceFiles } from '../fs/atomic-file.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';

export const ISSUE_CERTS_USAGE = `usage: mcp-gate issue-certs --allowlist FILE --ca-cert FILE --ca-key FILE --out DIR
                           [--known-hosts FILE] [--days 90] [--renew-before-days 30] [--now ISO-DATE]
       mcp-gate issue-certs --create-ca DIR [--days 365] [--now ISO-DATE]

Issues an interception certificate for every host in the allowlist's inspection set, signed by
the CA, as DIR/<name>/tls.crt (the leaf, then the CA's chain unless the CA is a root) and
DIR/<name>/tls.key (mode 0600, directories 0700): the files render-envoy's SDS config reads.
A pair is kept while this CA issued it for exactly the host, its key matches and only its owner
can read it, and more than --renew-before-days are left; otherwise it is issued anew.
The CA key must be readable by its owner only. Run as the user Envoy reads the files as.
--create-ca DIR writes a new trial CA (DIR/ca.crt, DIR/ca.key) for trying mcp-gate out; in
production use the corporate CA that managed devices already trust.
--known-hosts defaults to the list bundled with mcp-gate, as serve does; "none" uses no list.
Exit status: 0 done, 1 invalid allowlist, unusable CA or write failure, 2 usage error.`;

const DEFAULT_LEAF_DAYS = 90;
const DEFAULT_RENEW_BEFORE_DAYS = 30;
const DEFAULT_CA_DAYS = 365;

/** Runs issue-certs; resolves with the exit code. */
export async function runIssueCerts(args: string[], io: CliIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        allowlist: { type: 'string' },
        'known-hosts': { type: 'string' },
        'ca-cert': { type: 'string' },
        'ca-key': { type: 'string' },
        out: { type: 'string' },
        days: { type: 'string' },
        'renew-before-days': { type: 'string' },
        now: { type: 'string' },
        'create-ca': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    },
    ISSUE_CERTS_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values } = flags;
  const now = values.now === undefined ? io.now : new Date(values.now);
  if (Number.isNaN(now.getTime()))
    return usageError(io, `--now: not an ISO date: ${values.now ?? ''}`);

  if (values['create-ca'] !== undefined) {
    const others = ['allowlist', 'known-hosts', 'ca-cert', 'ca-key', 'out', 'renew-before-days'];
    const extra = others.filter((flag) => values[flag as keyof typeof values] !== undefined);
    if (extra.length > 0) {
      return usageError(io, `--create-ca takes only --days and --now, not --${extra.join(', --')}`);
    }
    const days = wholeDays(values.days, DEFAULT_CA_DAYS, 1, MAX_CA_DAYS, '--days');
    if (typeof days === 'string') return usageError(io, days);
    return createTrialCa(values['create-ca'], days, now, io);
  }

  const { allowlist, out } = values;
  const caCertPath = values['ca-cert'];
  const caKeyPath = values['ca-key'];
  if (
    allowlist === undefined ||
    out === undefined ||
    caCertPath === undefined ||
    caKeyPath === undefined
  ) {
    return usageError(io, '--allowlist, --ca-cert, --ca-key and --out are required');
  }
  const days = wholeDays(values.days, DEFAULT_LEAF_DAYS, 1, MAX_LEAF_DAYS, '--days');
  if (typeof days === 'string') return usageError(io, days);
  const renewBefore = wholeDays(
    values['renew-before-days'],
    DEFAULT_RENEW_BEFORE_DAYS,
    0,
    days - 1,
    '--renew-before-days',
  );
  if (typeof renewBefore === 'string') {
    return usageError(io, `${renewBefore} (it must be less than --days, ${String(days)})`);
  }

  const ca = await readCertificateAuthority(caCertPath, caKeyPath, now);
  if (typeof ca === 'string') {
    io.stderr(`issue-certs: ${ca}\n`);
    return 1;
  }
  const loaded = await loadPolicyForCommand(allowlist, values['known-hosts'], now);
  if (!loaded.ok) {
    for (const line of loaded.errors) io.stderr(`${line}\n`);
    io.stderr('issue-certs: nothing issued: the allowlist is invalid\n');
    return 1;
  }
  const hosts = inspectionSet(loaded.policy);
  const caExpiry = ca.notAfter;
  if (caExpiry.getTime() - now.getTime() <= (renewBefore + 1) * 86_400_000) {
    io.stderr(
      `issue-certs: warning: the CA expires ${caExpiry.toISOString()}; no certificate can outlive ` +
        'it, so every run re-issues until the CA is replaced\n',
    );
  }
  // Each host's line is printed as soon as it is done, so a failure part-way shows what was.
  const outcomes: HostOutcome[] = [];
  let stale: string[];
  try {
    await issueForInspectionSet({
      hosts,
      ca: ca.files,
      outDir: out,
      validityDays: days,
      renewBeforeDays: renewBefore,
      now,
      onOutcome: (o) => {
        outcomes.push(o);
        io.stdout(
          `${path.join(out, o.name)} (${o.host}): ${o.action}, ${o.reason}; expires ${o.notAfter.toISOString()}\n`,
        );
      },
    });
    stale = await staleNames(out, hosts);
  } catch (err: unknown) {
    io.stderr(`issue-certs: ${describeFailure(err, out)}\n`);
    return 1;
  }
  for (const name of stale) {
    io.stdout(
      `${path.join(out, name)}: stale, not in the inspection set; remove it once Envoy no longer uses it\n`,
    );
  }
  const count = (action: HostOutcome['action']): number =>
    outcomes.filter((o) => o.action === action).length;
  io.stdout(
    hosts.length === 0
      ? `${out}: the inspection set is empty; no certificates\n`
      : `${out}: ${String(hosts.length)} host(s): ${String(count('issued'))} issued, ` +
          `${String(count('renewed'))} renewed, ${String(count('kept'))} kept\n`,
  );
  return 0;
}

interface ReadAuthority {
  readonly files: CertificateAndKey;
  readonly notAfter: Date;
}

/** Reads and checks the CA; a string is the refusal to print. */
async function readCertificateAuthority(
  certPath: string,
  keyPath: string,
  now: Date,
): Promise<ReadAuthority | string> {
  let mode: number;
  try {
    mode = (await stat(keyPath)).mode & 0o777;
  } catch (err: unknown) {
    return `--ca-key ${keyPath}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
  if ((mode & 0o077) !== 0) {
    return (
      `--ca-key ${keyPath} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); ` +
      `refusing to sign with a key others may have copied. Run chmod 600 ${keyPath} if it is still secret`
    );
  }
  let files: CertificateAndKey;
  try {
    files = {
      certPem: await readFile(certPath, 'utf8'),
      keyPem: await readFile(keyPath, 'utf8'),
    };
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return `cannot read the CA: ${(err as NodeJS.ErrnoException).path ?? certPath}: ${code}`;
  }
  try {
    const loaded = await loadCertificateAuthority(files, now);
    return { files, notAfter: loaded.cert.notAfter };
  } catch (err: unknown) {
    if (err instanceof CertificateError) return `${certPath}: ${err.message}`;
    throw err;
  }
}

async function createTrialCa(dir: string, days: number, now: Date, io: CliIo): Promise<number> {
  const commonName = `mcp-gate trial CA ${randomBytes(3).toString('hex')} (not for production)`;
  const certPath = path.join(dir, 'ca.crt');
  const keyPath = path.join(dir, 'ca.key');
  let expires: string;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const file of [certPath, keyPath]) {
      // A CA that devices may already trust must never be replaced by accident.
      if (await exists(file)) {
        io.stderr(`issue-certs: ${file} exists; not replacing a CA\n`);
        return 1;
      }
    }
    const ca = await createCertificateAuthority({ commonName, validityDays: days, now });
    await replaceFiles([
      { target: keyPath, content: ca.keyPem, mode: 0o600 },
      { target: certPath, content: ca.certPem, mode: 0o644 },
    ]);
    expires = new Date(new X509Certificate(ca.certPem).validTo).toISOString();
  } catch (err: unknown) {
    io.stderr(`issue-certs: ${describeFailure(err, dir)}\n`);
    return 1;
  }
  io.stdout(
    `${certPath}: trial CA "${commonName}", expires ${expires}; key in ${keyPath} (mode 0600)\n` +
      `Trust ${certPath} only on machines you try mcp-gate on. In production use the corporate CA\n` +
      `that managed devices already trust: --ca-cert and --ca-key of issue-certs, or a cert-manager Issuer.\n`,
  );
  return 0;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Parses a whole number of days in [min, max]; a string is the problem. */
function wholeDays(
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
  flag: string,
): number | string {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    return `${flag} must be a whole number from ${String(min)} to ${String(max)}, got ${JSON.stringify(text)}`;
  }
  return n;
}

function describeFailure(err: unknown, where: string): string {
  if (err instanceof CertificateError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e.code === undefined) return `failed under ${where}: ${e.message}`;
  return `cannot write under ${where}: ${e.code} ${e.path ?? ''}`.trim();
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`${message}\n${ISSUE_CERTS_USAGE}\n`);
  return 2;
}
