/**
 * `mcp-gate serve` (the built dist/main.js) with gRPC over TLS, as the gateway layout runs it:
 * its own pod, Envoy connecting with a client certificate, certificates in a kubelet-style
 * Secret volume. Clients are grpc-js with `grpc.credentials.createSsl`, and raw TLS handshakes
 * where the certificate presented is the point. Every wait is for a log line or an exit.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { NO_ALPN_H2 } from '../../src/grpc/server.js';
import { TLS_LOADED, TLS_RELOAD_REJECTED, TLS_RELOADED } from '../../src/grpc/tls-reloader.js';
import { createAuthzClient } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { githubAllowlist, githubToolCall } from '../helpers/github-allowlist.js';
import {
  createGrpcTlsPki,
  describeCertificate,
  issueServerCertificate,
  peerCertificateAsEnvoy,
  TLS_CHANNEL_OPTIONS,
} from '../helpers/grpc-tls-pki.js';
import type { GrpcTlsPki, PeerCertificate } from '../helpers/grpc-tls-pki.js';
import { swapKubeletVolume, writeKubeletVolume } from '../helpers/kubelet-volume.js';
import {
  killServeProcesses,
  listening,
  startServe,
  stopWith,
  TEST_SERVE_FLAGS,
} from '../helpers/serve-process.js';
import type { LogLine, ServeProcess } from '../helpers/serve-process.js';

let pki: GrpcTlsPki;
const tempDirs: string[] = [];
const clients: AuthzClient[] = [];

beforeAll(async () => {
  pki = await createGrpcTlsPki();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killServeProcesses();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Setup {
  readonly allowlist: string;
  readonly secret: string;
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** An allowlist, and a Secret volume holding tls.crt, tls.key and ca.crt (the client CA). */
async function setup(files?: Record<string, string>): Promise<Setup> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-grpc-tls-'));
  tempDirs.push(dir);
  const allowlist = path.join(dir, 'allowlist.yaml');
  await writeFile(allowlist, githubAllowlist({ allow: ['get_*'] }));
  const secret = await mkdtemp(path.join(tmpdir(), 'mcp-gate-secret-'));
  tempDirs.push(secret);
  await writeKubeletVolume(
    secret,
    files ?? {
      'tls.crt': pki.server.certPem,
      'tls.key': pki.server.keyPem,
      'ca.crt': pki.clientCa.certPem,
    },
  );
  return {
    allowlist,
    secret,
    cert: path.join(secret, 'tls.crt'),
    key: path.join(secret, 'tls.key'),
    ca: path.join(secret, 'ca.crt'),
  };
}

function tlsFlags(s: Setup, mtls: boolean): string[] {
  return [
    '--grpc-tls-cert',
    s.cert,
    '--grpc-tls-key',
    s.key,
    ...(mtls ? ['--grpc-tls-client-ca', s.ca] : []),
  ];
}

function serve(s: Setup, extra: readonly string[]): ServeProcess {
  return startServe([
    '--allowlist',
    s.allowlist,
    '--grpc-listen',
    '127.0.0.1:0',
    ...TEST_SERVE_FLAGS,
    ...extra,
  ]);
}

/** The bound address, once the process (under --workers, the primary: all workers) is ready. */
async function grpcAddress(p: ServeProcess): Promise<{ address: string; port: number }> {
  // Workers announce themselves too; the primary's line (no worker field) comes after all.
  const line = await p.waitForLog(
    'mcp-gate listening',
    (l) => listening(l) && l['worker'] === undefined,
  );
  const address = String(line['grpc']);
  return { address, port: Number(address.split(':').pop()) };
}

function client(address: string, credentials: grpc.ChannelCredentials): AuthzClient {
  const c = createAuthzClient(address, credentials, TLS_CHANNEL_OPTIONS);
  clients.push(c);
  return c;
}

const trusting = (): grpc.ChannelCredentials =>
  grpc.credentials.createSsl(Buffer.from(pki.serverCa.certPem));
const envoyCredentials = (): grpc.ChannelCredentials =>
  grpc.credentials.createSsl(
    Buffer.from(pki.serverCa.certPem),
    Buffer.from(pki.client.keyPem),
    Buffer.from(pki.client.certPem),
  );

/** The gRPC status code a refused call fails with. */
async function refusedWith(c: AuthzClient): Promise<number | undefined> {
  try {
    await c.check(githubToolCall('get_me'), 3000);
  } catch (err: unknown) {
    return (err as grpc.ServiceError).code;
  }
  return undefined;
}

function after(p: ServeProcess, message: string, from: number, worker?: number) {
  return (l: LogLine): boolean =>
    l['msg'] === message &&
    p.logs.indexOf(l) >= from &&
    (worker === undefined || l['worker'] === worker);
}

describe('gRPC over TLS (serve)', () => {
  test('TLS: Check and health answered; a cleartext client is refused and the refusal logged', async () => {
    const s = await setup();
    const p = serve(s, [...tlsFlags(s, false), '--log-level', 'debug']);
    const { address, port } = await grpcAddress(p);
    expect(p.logs.find(listening)?.['grpc_tls']).toBe('tls');
    expect(p.logs.find((l) => l['msg'] === TLS_LOADED)?.['client_certificates']).toBe(
      'not requested',
    );

    const c = client(address, trusting());
    expect(await c.health('')).toBe('SERVING');
    expect(await c.health('envoy.service.auth.v3.Authorization')).toBe('SERVING');
    const denied = await c.check(githubToolCall('delete_repo'));
    expect(denied.status?.code).toBe(7);

    const cleartext = createAuthzClient(address);
    clients.push(cleartext);
    expect(await refusedWith(cleartext)).toBe(grpc.status.UNAVAILABLE);
    const warned = await p.waitForLog('handshake refused', (l) =>
      String(l['msg']).startsWith('gRPC TLS handshake refused'),
    );
    expect(String(warned['code'])).toMatch(/^ERR_SSL_/);

    // TLS without ALPN h2 (an Envoy cluster lacking `alpn_protocols: [h2]`): closed, and said why.
    await new Promise<void>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        ca: pki.serverCa.certPem,
        servername: 'mcp-gate.test',
      });
      socket.once('error', reject);
      socket.once('close', () => {
        resolve();
      });
      socket.resume();
    });
    await p.waitForLog('no ALPN h2', (l) => l['code'] === NO_ALPN_H2);
    expect((await stopWith(p, 'SIGTERM')).code).toBe(0);
  });

  test('mTLS: no client certificate and one from another CA are refused; Envoy’s is answered', async () => {
    const s = await setup();
    const p = serve(s, tlsFlags(s, true));
    const { address } = await grpcAddress(p);
    expect(p.logs.find(listening)?.['grpc_tls']).toBe('mtls');

    expect(await refusedWith(client(address, trusting()))).toBe(grpc.status.UNAVAILABLE);
    const stranger = grpc.credentials.createSsl(
      Buffer.from(pki.serverCa.certPem),
      Buffer.from(pki.strangerClient.keyPem),
      Buffer.from(pki.strangerClient.certPem),
    );
    expect(await refusedWith(client(address, stranger))).toBe(grpc.status.UNAVAILABLE);

    const envoy = client(address, envoyCredentials());
    expect(await envoy.health('')).toBe('SERVING');
    const allowed = await envoy.check(githubToolCall('get_me'));
    expect(allowed.status?.code ?? 0).toBe(0);
    const denied = await envoy.check(githubToolCall('delete_repo'));
    expect(denied.status?.code).toBe(7);
  });

  test('rotation by ..data swap without restart; a broken one keeps the old certificate and is logged', async () => {
    const s = await setup();
    const p = serve(s, tlsFlags(s, true));
    const { address, port } = await grpcAddress(p);
    const presented = (): Promise<PeerCertificate> => peerCertificateAsEnvoy(port, pki);
    const first = describeCertificate(pki.server.certPem);
    expect(await presented()).toEqual(first);
    const envoy = client(address, envoyCredentials());
    expect((await envoy.check(githubToolCall('get_me'))).status?.code ?? 0).toBe(0);

    const renewed = await issueServerCertificate(pki.serverCa);
    let mark = p.logs.length;
    await swapKubeletVolume(s.secret, {
      'tls.crt': renewed.certPem,
      'tls.key': renewed.keyPem,
      'ca.crt': pki.clientCa.certPem,
    });
    await p.waitForLog(TLS_RELOADED, after(p, TLS_RELOADED, mark));
    expect(await presented()).toEqual(describeCertificate(renewed.certPem));
    expect((await envoy.check(githubToolCall('get_me'))).status?.code ?? 0).toBe(0);

    // Broken: a certificate from the next renewal beside the current key.
    const third = await issueServerCertificate(pki.serverCa);
    mark = p.logs.length;
    await swapKubeletVolume(s.secret, {
      'tls.crt': third.certPem,
      'tls.key': renewed.keyPem,
      'ca.crt': pki.clientCa.certPem,
    });
    const rejected = await p.waitForLog(TLS_RELOAD_REJECTED, after(p, TLS_RELOAD_REJECTED, mark));
    expect(String(rejected['error'])).toContain(`--grpc-tls-key ${s.key} is not the key`);
    expect(await presented()).toEqual(describeCertificate(renewed.certPem));
    expect((await envoy.check(githubToolCall('get_me'))).status?.code ?? 0).toBe(0);

    const everything = JSON.stringify(p.logs) + p.stderr();
    for (const key of [pki.server.keyPem, renewed.keyPem, third.keyPem]) {
      for (const line of key.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))) {
        expect(everything).not.toContain(line);
      }
    }
    expect((await stopWith(p, 'SIGTERM')).code).toBe(0);
  });

  test('--workers 2: every worker serves TLS and takes the rotation up', async () => {
    const s = await setup();
    const p = serve(s, [...tlsFlags(s, true), '--workers', '2']);
    const { port } = await grpcAddress(p);
    const renewed = await issueServerCertificate(pki.serverCa);
    const mark = p.logs.length;
    await swapKubeletVolume(s.secret, {
      'tls.crt': renewed.certPem,
      'tls.key': renewed.keyPem,
      'ca.crt': pki.clientCa.certPem,
    });
    const reloaded = await Promise.all(
      [1, 2].map((worker) => p.waitForLog(TLS_RELOADED, after(p, TLS_RELOADED, mark, worker))),
    );
    expect(reloaded.map((l) => l['serial'])).toEqual([
      describeCertificate(renewed.certPem).serialNumber,
      describeCertificate(renewed.certPem).serialNumber,
    ]);
    // Round-robin hands successive connections to alternating workers.
    const seen = [];
    for (let i = 0; i < 4; i++) {
      seen.push(await peerCertificateAsEnvoy(port, pki));
    }
    expect(new Set(seen.map((c) => c.fingerprint256))).toEqual(
      new Set([describeCertificate(renewed.certPem).fingerprint256]),
    );
    // The primary's /metrics reports the expiry once (the earliest any worker serves).
    const http = String(p.logs.find((l) => listening(l) && l['worker'] === undefined)?.['http']);
    const metrics = await (await fetch(`http://${http}/metrics`)).text();
    const notAfter = Date.parse(new X509Certificate(renewed.certPem).validTo) / 1000;
    expect(metrics).toContain(
      `\nmcp_gate_grpc_tls_certificate_expiry_timestamp_seconds ${String(notAfter)}\n`,
    );
    expect((await stopWith(p, 'SIGTERM')).code).toBe(0);
  });
});

describe('gRPC TLS start-up errors (exit 2, the file named, never its content)', () => {
  const CASES: {
    name: string;
    flags: (s: Setup) => string[];
    files?: () => Record<string, string>;
    want: (s: Setup) => string;
  }[] = [
    {
      name: 'key of another certificate',
      files: () => ({
        'tls.crt': pki.server.certPem,
        'tls.key': pki.client.keyPem,
        'ca.crt': pki.clientCa.certPem,
      }),
      flags: (s) => tlsFlags(s, true),
      want: (s) => `gRPC TLS: --grpc-tls-key ${s.key} is not the key of the certificate`,
    },
    {
      name: 'missing key file',
      flags: (s) => ['--grpc-tls-cert', s.cert, '--grpc-tls-key', `${s.key}.absent`],
      want: (s) => `gRPC TLS: cannot read --grpc-tls-key ${s.key}.absent (ENOENT)`,
    },
    {
      name: 'certificate without key',
      flags: (s) => ['--grpc-tls-cert', s.cert],
      want: () => '--grpc-tls-cert / MCP_GATE_GRPC_TLS_CERT needs --grpc-tls-key',
    },
    {
      name: 'TLS on a unix socket',
      flags: (s) => [
        ...tlsFlags(s, false),
        '--grpc-listen',
        `unix:${path.join(s.secret, 'x.sock')}`,
      ],
      want: () => 'guarded by --grpc-socket-mode and --grpc-socket-group instead',
    },
  ];

  test.each(CASES)('$name', async ({ flags, files, want }) => {
    const s = await setup(files?.());
    const p = serve(s, flags(s));
    const exit = await p.exited;
    expect(exit.code).toBe(2);
    expect(p.stderr()).toContain(want(s));
    expect(p.logs.find(listening)).toBeUndefined();
    for (const key of [pki.server.keyPem, pki.client.keyPem]) {
      expect(p.stderr()).not.toContain(key.split('\n')[1]);
    }
  });
});
