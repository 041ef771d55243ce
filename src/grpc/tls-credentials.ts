/**
 * The gRPC listener's TLS files (`--grpc-tls-cert`, `--grpc-tls-key`, `--grpc-tls-client-ca`):
 * read, checked, and turned into what node's TLS server takes.
 *
 * A pair is usable only when every certificate in the chain file parses, the key is the private
 * half of the first (leaf) certificate, every client CA is a CA, and OpenSSL accepts the lot as a
 * secure context. Anything less is refused as a whole: half of a rotation (the new certificate
 * beside the old key) must never reach a handshake.
 *
 * Every message names the file and says what is wrong with it; none quotes a file's content, and
 * no error from the key parser is passed on (OpenSSL's text never includes the key, but its
 * `cause` chain is not ours to vouch for).
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { keyMatchesCertificate, readPrivateKey, splitCertificates } from '../certs/x509.js';
import { AppError } from '../errors.js';

/** The gRPC listener's TLS files, as the service configuration names them. */
export interface GrpcTlsFiles {
  /** PEM certificate chain, leaf first. */
  readonly certPath: string;
  /** PEM private key of the leaf. */
  readonly keyPath: string;
  /** PEM CA bundle; when set, clients must present a certificate it issued (mTLS). */
  readonly clientCaPath: string | undefined;
}

/** What node's TLS server is given: PEM bytes, exactly as read. */
export interface TlsCredentials {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The client CA bundle; present means client certificates are required and verified. */
  readonly ca: Buffer | undefined;
}

/** The serving (leaf) certificate, as logs and metrics describe it. Nothing secret. */
export interface ServingCertificateInfo {
  readonly subject: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export interface LoadedTlsCredentials {
  readonly credentials: TlsCredentials;
  readonly serving: ServingCertificateInfo;
  /** TlsFileContents.hash of the files these came from. */
  readonly hash: string;
}

/** The files as read, before any check; hashed to tell a change from a re-read. */
export interface TlsFileContents {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** SHA-256 over the three files; identifies the content without revealing it. */
  readonly hash: string;
}

/** A TLS file that cannot be used; the message names the file and the problem. */
export class TlsFilesError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TLS_INVALID', message, options);
    this.name = 'TlsFilesError';
  }
}

/** Reads the three files (the client CA only when configured). Throws TlsFilesError. */
export async function readTlsFiles(files: GrpcTlsFiles): Promise<TlsFileContents> {
  const [cert, key, ca] = await Promise.all([
    readOne('--grpc-tls-cert', files.certPath),
    readOne('--grpc-tls-key', files.keyPath),
    files.clientCaPath === undefined
      ? Promise.resolve(undefined)
      : readOne('--grpc-tls-client-ca', files.clientCaPath),
  ]);
  const hash = createHash('sha256');
  for (const part of [cert, key, ca ?? Buffer.alloc(0)]) {
    // Length-prefixed, so moving bytes from one file to the next is a different content.
    hash.update(`${part.length}:`).update(part);
  }
  return { cert, key, ca, hash: hash.digest('hex') };
}

async function readOne(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
    throw new TlsFilesError(`cannot read ${flag} ${path} (${code})`);
  }
}

/** Checks what readTlsFiles read. Throws TlsFilesError naming the file at fault. */
export function checkTlsFiles(
  files: GrpcTlsFiles,
  contents: TlsFileContents,
): LoadedTlsCredentials {
  const chain = parseCertificates('--grpc-tls-cert', files.certPath, contents.cert);
  const leaf = chain[0];
  if (leaf === undefined) throw new Error('unreachable: parseCertificates returns at least one');
  let key: KeyObject;
  try {
    key = readPrivateKey(contents.key.toString('utf8'), `--grpc-tls-key ${files.keyPath}`);
  } catch (err: unknown) {
    // readPrivateKey's message names the file and never the key; its cause is not passed on.
    throw new TlsFilesError((err as Error).message);
  }
  if (!keyMatchesCertificate(key, contents.cert.toString('utf8'))) {
    throw new TlsFilesError(
      `--grpc-tls-key ${files.keyPath} is not the key of the certificate in --grpc-tls-cert ${files.certPath} (${leaf.subject}, serial ${leaf.serialNumber}); a rotation half done?`,
    );
  }
  if (contents.ca !== undefined && files.clientCaPath !== undefined) {
    const cas = parseCertificates('--grpc-tls-client-ca', files.clientCaPath, contents.ca);
    const notCa = cas.find((cert) => !cert.ca);
    if (notCa !== undefined) {
      throw new TlsFilesError(
        `--grpc-tls-client-ca ${files.clientCaPath} holds a certificate that is not a CA (${notCa.subject}); give the CA that issues Envoy's client certificate`,
      );
    }
  }
  const credentials: TlsCredentials = { cert: contents.cert, key: contents.key, ca: contents.ca };
  try {
    createSecureContext(credentials);
  } catch {
    throw new TlsFilesError(
      `OpenSSL refuses --grpc-tls-cert ${files.certPath} with --grpc-tls-key ${files.keyPath}${files.clientCaPath === undefined ? '' : ` and --grpc-tls-client-ca ${files.clientCaPath}`}`,
    );
  }
  return {
    credentials,
    serving: {
      subject: leaf.subject,
      serialNumber: leaf.serialNumber,
      fingerprint256: leaf.fingerprint256,
      notBeforeMs: Date.parse(leaf.validFrom),
      notAfterMs: Date.parse(leaf.validTo),
    },
    hash: contents.hash,
  };
}

/** readTlsFiles then checkTlsFiles. */
export async function loadTlsCredentials(files: GrpcTlsFiles): Promise<LoadedTlsCredentials> {
  return checkTlsFiles(files, await readTlsFiles(files));
}

function parseCertificates(flag: string, path: string, bytes: Buffer): X509Certificate[] {
  const blocks = splitCertificates(bytes.toString('utf8'));
  if (blocks.length === 0) {
    throw new TlsFilesError(`${flag} ${path} holds no PEM certificate`);
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new TlsFilesError(
        `${flag} ${path}: certificate ${index + 1} of ${blocks.length} does not parse`,
      );
    }
  });
}
