/**
 * gRPC over mTLS in-process (src/service.ts with --grpc-tls-*), certificates in a volume laid out
 * as kubelet lays out a Secret: rotation by swapping `..data`, new handshakes see the new
 * certificate while open connections keep working, a broken rotation keeps the last good
 * certificate (logged without key material, counted), and the next good one is taken up. With
 * plain files: a certificate copied before its key is read again rather than rejected, and the
 * periodic re-read alone (watch off) finds a change. Every wait is for a log line.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { TLS_LOADED, TLS_RELOAD_REJECTED, TLS_RELOADED } from '../../src/grpc/tls-reloader.js';
import { createAuthzClient } from '../helpers/authz-client.js';
import type { AuthzClient } from '../helpers/authz-client.js';
import { githubAllowlist, githubToolCall } from '../helpers/github-allowlist.js';
import {
  createGrpcTlsPki,
  describeCertificate,
  issueServerCertificate,
  peerCertificate,
  peerCertificateAsEnvoy,
  TLS_CHANNEL_OPTIONS,
} from '../helpers/grpc-tls-pki.js';
import type { GrpcTlsPki, PeerCertificate } from '../helpers/grpc-tls-pki.js';
import { swapKubeletVolume, writeKubeletVolume } from '../helpers/kubelet-volume.js';
import { startTestService } from '../helpers/service.js';
import type { TestService } from '../helpers/service.js';

let pki: GrpcTlsPki;
let svc: TestService;
let tlsDir: string;
const clients: AuthzClient[] = [];

beforeAll(async () => {
  pki = await createGrpcTlsPki();
});

/** A grpc-js client as Envoy is configured: trusts the server CA, presents its certificate. */
function envoyClient(): AuthzClient {
  const c = createAuthzClient(
    svc.grpcAddress,
    grpc.credentials.createSsl(
      Buffer.from(pki.serverCa.certPem),
      Buffer.from(pki.client.keyPem),
      Buffer.from(pki.client.certPem),
    ),
    TLS_CHANNEL_OPTIONS,
  );
  clients.push(c);
  return c;
}

function servedCertificate(): Promise<PeerCertificate> {
  return peerCertificateAsEnvoy(svc.service.grpcPort, pki);
}

function logged(message: string, after: number): Promise<Record<string, unknown>> {
  return svc.waitForLog((l) => l['msg'] === message && svc.logs.indexOf(l) >= after);
}

async function metric(name: string): Promise<string | undefined> {
  const text = await svc.registry.metrics();
  return text
    .split('\n')
    .find((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    ?.split(' ')
    .pop();
}

async function tlsErrors(): Promise<number> {
  const text = await svc.registry.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('mcp_gate_errors_total{code="ERR_TLS_INVALID"}'));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** No log line may carry any line of a key's base64 body. */
function expectNoKeyMaterial(...keys: string[]): void {
  const text = JSON.stringify(svc.logs);
  for (const key of keys) {
    for (const line of key.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))) {
      expect(text).not.toContain(line);
    }
  }
}

describe('gRPC mTLS reload (kubelet Secret volume)', () => {
  beforeEach(async () => {
    tlsDir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-tls-secret-'));
    await writeKubeletVolume(tlsDir, {
      'tls.crt': pki.server.certPem,
      'tls.key': pki.server.keyPem,
      'ca.crt': pki.clientCa.certPem,
    });
    svc = await startTestService({
      allowlist: githubAllowlist({ allow: ['get_*'] }),
      flags: {
        'grpc-tls-cert': path.join(tlsDir, 'tls.crt'),
        'grpc-tls-key': path.join(tlsDir, 'tls.key'),
        'grpc-tls-client-ca': path.join(tlsDir, 'ca.crt'),
      },
    });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await svc.stop();
    await rm(tlsDir, { recursive: true, force: true });
  });

  test('a ..data swap: new handshakes get the new certificate, open connections keep working', async () => {
    const first = describeCertificate(pki.server.certPem);
    const loaded = await svc.waitForLog((l) => l['msg'] === TLS_LOADED);
    expect(loaded['serial']).toBe(first.serialNumber);
    expect(loaded['client_certificates']).toBe('required');
    expect(await servedCertificate()).toEqual(first);

    const open = envoyClient();
    const before = await open.check(githubToolCall('get_me'));
    expect(before.status?.code ?? 0).toBe(0);
    expect(await open.health('')).toBe('SERVING');

    const renewed = await issueServerCertificate(pki.serverCa);
    const next = describeCertificate(renewed.certPem);
    const mark = svc.logs.length;
    await swapKubeletVolume(tlsDir, {
      'tls.crt': renewed.certPem,
      'tls.key': renewed.keyPem,
      'ca.crt': pki.clientCa.certPem,
    });
    const reloaded = await logged(TLS_RELOADED, mark);
    expect(reloaded).toMatchObject({
      trigger: 'watch',
      serial: next.serialNumber,
      previous_serial: first.serialNumber,
    });

    expect(await servedCertificate()).toEqual(next);
    // The connection made before the swap still answers, and a new client connects.
    const after = await open.check(githubToolCall('delete_repo'));
    expect(after.status?.code).toBe(7);
    expect((await envoyClient().check(githubToolCall('get_me'))).status?.code ?? 0).toBe(0);

    const notAfter = Date.parse(new X509Certificate(renewed.certPem).validTo);
    expect(Number(await metric('mcp_gate_grpc_tls_certificate_expiry_timestamp_seconds'))).toBe(
      notAfter / 1000,
    );
    expect(await tlsErrors()).toBe(0);
    expectNoKeyMaterial(pki.server.keyPem, renewed.keyPem);
  });

  test('a broken rotation keeps the last good certificate, is logged once and counted; a good one recovers', async () => {
    const first = describeCertificate(pki.server.certPem);
    const renewed = await issueServerCertificate(pki.serverCa);
    let mark = svc.logs.length;
    // The new certificate with the old key: what a rotation caught halfway looks like.
    await swapKubeletVolume(tlsDir, {
      'tls.crt': renewed.certPem,
      'tls.key': pki.server.keyPem,
      'ca.crt': pki.clientCa.certPem,
    });
    const rejected = await logged(TLS_RELOAD_REJECTED, mark);
    expect(rejected['level']).toBe('error');
    expect(rejected['attempts']).toBe(3);
    expect(rejected['serving_serial']).toBe(first.serialNumber);
    expect(String(rejected['error'])).toContain(`--grpc-tls-key ${path.join(tlsDir, 'tls.key')}`);
    expect(await tlsErrors()).toBe(1);
    expect(await servedCertificate()).toEqual(first);
    expect((await envoyClient().check(githubToolCall('get_me'))).status?.code ?? 0).toBe(0);

    // The same broken content read again (SIGHUP) is not reported again.
    await svc.service.tls?.reload('SIGHUP');
    expect(svc.logs.filter((l) => l['msg'] === TLS_RELOAD_REJECTED)).toHaveLength(1);
    expect(await tlsErrors()).toBe(1);

    mark = svc.logs.length;
    await swapKubeletVolume(tlsDir, {
      'tls.crt': renewed.certPem,
      'tls.key': renewed.keyPem,
      'ca.crt': pki.clientCa.certPem,
    });
    await logged(TLS_RELOADED, mark);
    expect(await servedCertificate()).toEqual(describeCertificate(renewed.certPem));
    expectNoKeyMaterial(pki.server.keyPem, renewed.keyPem);
  });

  test('an unchanged volume (poll, SIGHUP) changes nothing', async () => {
    const mark = svc.logs.length;
    await svc.service.tls?.reload('poll');
    await svc.service.tls?.reload('SIGHUP');
    expect(svc.logs.slice(mark).filter((l) => String(l['msg']).startsWith('gRPC TLS'))).toEqual([]);
  });
});

describe('gRPC TLS reload (plain files)', () => {
  let plain: TestService;
  let dir: string;

  afterEach(async () => {
    await plain.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function startPlain(flags: Readonly<Record<string, string>>): Promise<void> {
    dir = await mkdtemp(path.join(tmpdir(), 'mcp-gate-tls-plain-'));
    await writeFile(path.join(dir, 'tls.crt'), pki.server.certPem);
    await writeFile(path.join(dir, 'tls.key'), pki.server.keyPem);
    plain = await startTestService({
      allowlist: githubAllowlist(),
      flags: {
        'grpc-tls-cert': path.join(dir, 'tls.crt'),
        'grpc-tls-key': path.join(dir, 'tls.key'),
        ...flags,
      },
    });
  }

  test('files copied one after the other: the certificate alone is read again, not rejected', async () => {
    await startPlain({});
    const renewed = await issueServerCertificate(pki.serverCa);
    const mark = plain.logs.length;
    const since = (msg: string) => (l: Record<string, unknown>) =>
      l['msg'] === msg && plain.logs.indexOf(l) >= mark;
    await writeFile(path.join(dir, 'tls.crt'), renewed.certPem);
    // The reloader has seen the new certificate beside the old key and waits for the rest.
    await plain.waitForLog(
      since('gRPC TLS files not usable yet; reading them again after a pause'),
    );
    await writeFile(path.join(dir, 'tls.key'), renewed.keyPem);
    const reloaded = await plain.waitForLog(since(TLS_RELOADED));
    expect(reloaded['serial']).toBe(describeCertificate(renewed.certPem).serialNumber);
    expect(plain.logs.filter(since(TLS_RELOAD_REJECTED))).toEqual([]);
  });

  test('watch off: the periodic re-read alone takes the new certificate up', async () => {
    await startPlain({ 'reload-watch': 'off', 'reload-poll-ms': '100' });
    const renewed = await issueServerCertificate(pki.serverCa);
    const mark = plain.logs.length;
    // Written to temp names and renamed, as an atomic writer does: no half-written read.
    await writeFile(path.join(dir, 'tls.key.new'), renewed.keyPem);
    await writeFile(path.join(dir, 'tls.crt.new'), renewed.certPem);
    await rename(path.join(dir, 'tls.key.new'), path.join(dir, 'tls.key'));
    await rename(path.join(dir, 'tls.crt.new'), path.join(dir, 'tls.crt'));
    const reloaded = await plain.waitForLog(
      (l) => l['msg'] === TLS_RELOADED && plain.logs.indexOf(l) >= mark,
    );
    expect(reloaded['trigger']).toBe('poll');
    expect(await peerCertificate(plain.service.grpcPort, { ca: pki.serverCa.certPem })).toEqual(
      describeCertificate(renewed.certPem),
    );
  });
});
