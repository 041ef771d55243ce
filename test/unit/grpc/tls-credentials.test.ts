/**
 * The gRPC TLS files (src/grpc/tls-credentials.ts): what is accepted, what is refused and how the
 * refusal reads. Every refusal must name the file at fault and must never quote a file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GrpcTlsFiles } from '../../../src/grpc/tls-credentials.js';
import { loadTlsCredentials, TlsFilesError } from '../../../src/grpc/tls-credentials.js';
import { createGrpcTlsPki, issueServerCertificate } from '../../helpers/grpc-tls-pki.js';
import type { GrpcTlsPki } from '../../helpers/grpc-tls-pki.js';

let dir: string;
let pki: GrpcTlsPki;
let otherServer: { certPem: string; keyPem: string };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-tls-files-'));
  pki = await createGrpcTlsPki();
  otherServer = await issueServerCertificate(pki.serverCa);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Files {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

let written = 0;
/** Writes the files under fresh names and returns their paths. */
async function write(files: Files): Promise<GrpcTlsFiles> {
  written += 1;
  const certPath = path.join(dir, `${written}-tls.crt`);
  const keyPath = path.join(dir, `${written}-tls.key`);
  await writeFile(certPath, files.cert);
  await writeFile(keyPath, files.key);
  let clientCaPath: string | undefined;
  if (files.ca !== undefined) {
    clientCaPath = path.join(dir, `${written}-ca.crt`);
    await writeFile(clientCaPath, files.ca);
  }
  return { certPath, keyPath, clientCaPath };
}

/** The base64 body of a PEM block: no message may contain any of it. */
function pemBody(pem: string): string {
  return pem.split('\n').filter((line) => !line.startsWith('-----'))[1] ?? '';
}

describe('loadTlsCredentials', () => {
  test('a matching pair, with and without a client CA, is accepted and described', async () => {
    const files = await write({ cert: pki.server.certPem, key: pki.server.keyPem });
    const loaded = await loadTlsCredentials(files);
    expect(loaded.credentials.ca).toBeUndefined();
    expect(loaded.serving.subject).toContain('mcp-gate.test');
    expect(loaded.serving.notAfterMs).toBeGreaterThan(Date.now());
    expect(loaded.serving.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const mtls = await write({
      cert: pki.server.certPem + pki.serverCa.certPem,
      key: pki.server.keyPem,
      ca: pki.clientCa.certPem,
    });
    const withCa = await loadTlsCredentials(mtls);
    expect(withCa.credentials.ca?.toString()).toBe(pki.clientCa.certPem);
    // The leaf, not the CA after it, is the serving certificate.
    expect(withCa.serving.serialNumber).toBe(loaded.serving.serialNumber);
    expect(withCa.hash).not.toBe(loaded.hash);
  });

  const REFUSALS: {
    name: string;
    files: () => Files;
    /** Which file the message must name. */
    names: 'cert' | 'key' | 'ca';
    want: RegExp;
  }[] = [
    {
      name: 'the key of another certificate (a rotation half done)',
      files: () => ({ cert: pki.server.certPem, key: otherServer.keyPem }),
      names: 'key',
      want: /is not the key of the certificate in --grpc-tls-cert .*serial .*a rotation half done/,
    },
    {
      name: 'a certificate file without a certificate (the key given twice)',
      files: () => ({ cert: pki.server.keyPem, key: pki.server.keyPem }),
      names: 'cert',
      want: /^--grpc-tls-cert \S+ holds no PEM certificate$/,
    },
    {
      name: 'an empty certificate file (half written)',
      files: () => ({ cert: '', key: pki.server.keyPem }),
      names: 'cert',
      want: /holds no PEM certificate/,
    },
    {
      name: 'a certificate block that does not parse',
      files: () => ({
        cert: `${pki.server.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
        key: pki.server.keyPem,
      }),
      names: 'cert',
      want: /certificate 2 of 2 does not parse/,
    },
    {
      name: 'a key file holding a certificate',
      files: () => ({ cert: pki.server.certPem, key: pki.server.certPem }),
      names: 'key',
      want: /--grpc-tls-key \S+ is not a PEM private key/,
    },
    {
      name: 'a truncated key',
      files: () => ({ cert: pki.server.certPem, key: pki.server.keyPem.slice(0, 80) }),
      names: 'key',
      want: /is not a PEM private key/,
    },
    {
      name: 'a client CA that is a leaf (the server certificate given by mistake)',
      files: () => ({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.client.certPem }),
      names: 'ca',
      want: /--grpc-tls-client-ca \S+ holds a certificate that is not a CA/,
    },
    {
      name: 'a client CA file without a certificate',
      files: () => ({ cert: pki.server.certPem, key: pki.server.keyPem, ca: 'nothing here\n' }),
      names: 'ca',
      want: /--grpc-tls-client-ca \S+ holds no PEM certificate/,
    },
  ];

  test.each(REFUSALS)('refused: $name', async ({ files, names, want }) => {
    const given = files();
    const paths = await write(given);
    const error = await loadTlsCredentials(paths).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TlsFilesError);
    const message = (error as TlsFilesError).message;
    expect((error as TlsFilesError).code).toBe('ERR_TLS_INVALID');
    expect(message).toMatch(want);
    const named = { cert: paths.certPath, key: paths.keyPath, ca: paths.clientCaPath }[names];
    expect(message).toContain(named);
    for (const secret of [pki.server.keyPem, otherServer.keyPem, given.key, given.cert]) {
      const body = pemBody(secret);
      if (body !== '') expect(message).not.toContain(body);
    }
    expect(message).not.toContain('PRIVATE KEY');
    // Nothing of the key parser's error travels with it.
    expect((error as TlsFilesError).cause).toBeUndefined();
  });

  test('a missing file is named with its flag and errno code', async () => {
    const files: GrpcTlsFiles = {
      certPath: path.join(dir, 'absent.crt'),
      keyPath: path.join(dir, 'absent.key'),
      clientCaPath: undefined,
    };
    await expect(loadTlsCredentials(files)).rejects.toThrow(
      `cannot read --grpc-tls-cert ${files.certPath} (ENOENT)`,
    );
  });
});
