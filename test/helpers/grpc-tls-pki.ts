/**
 * Certificates for the gRPC TLS tests, issued with src/certs/x509.ts: a CA for mcp-gate's
 * serving certificate, a CA for Envoy's client certificates, and a second, unrelated CA whose
 * client certificate must be refused.
 */
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { createCertificateAuthority, issueLeafCertificate } from '../../src/certs/x509.js';
import type { CertificateAndKey } from '../../src/certs/x509.js';

export interface GrpcTlsPki {
  /** Issues mcp-gate's serving certificates; the client trusts it. */
  readonly serverCa: CertificateAndKey;
  /** Issues Envoy's client certificates; given to `--grpc-tls-client-ca`. */
  readonly clientCa: CertificateAndKey;
  readonly server: CertificateAndKey;
  readonly client: CertificateAndKey;
  /** A client certificate from a CA mcp-gate does not trust. */
  readonly strangerClient: CertificateAndKey;
}

/** The names the serving certificate covers; tests dial 127.0.0.1. */
export const SERVER_NAMES = {
  dnsNames: ['mcp-gate.test', 'localhost'],
  ipAddresses: ['127.0.0.1'],
};

/** grpc-js verifies (and sends as SNI) this name, as Envoy's UpstreamTlsContext `sni` does. */
export const TLS_CHANNEL_OPTIONS = { 'grpc.ssl_target_name_override': 'mcp-gate.test' };

/** A new serving certificate from `serverCa`, as a rotation brings. */
export function issueServerCertificate(serverCa: CertificateAndKey): Promise<CertificateAndKey> {
  return issueLeafCertificate({ ca: serverCa, ...SERVER_NAMES, validityDays: 30, usage: 'server' });
}

export async function createGrpcTlsPki(): Promise<GrpcTlsPki> {
  const [serverCa, clientCa, strangerCa] = await Promise.all([
    createCertificateAuthority({ commonName: 'mcp-gate test server CA', validityDays: 30 }),
    createCertificateAuthority({ commonName: 'mcp-gate test client CA', validityDays: 30 }),
    createCertificateAuthority({ commonName: 'a CA nobody trusts', validityDays: 30 }),
  ]);
  const client = (ca: CertificateAndKey): Promise<CertificateAndKey> =>
    issueLeafCertificate({ ca, dnsNames: ['envoy.test'], validityDays: 30, usage: 'client' });
  const [server, envoy, stranger] = await Promise.all([
    issueServerCertificate(serverCa),
    client(clientCa),
    client(strangerCa),
  ]);
  return { serverCa, clientCa, server, client: envoy, strangerClient: stranger };
}

/** What a new TLS connection to mcp-gate is shown. */
export interface PeerCertificate {
  readonly fingerprint256: string;
  readonly serialNumber: string;
}

/**
 * Opens a new TLS connection (ALPN h2, as gRPC clients offer) and returns the certificate the
 * server presented; a new handshake, so it shows what a new Envoy connection would get.
 */
export function peerCertificate(
  port: number,
  options: { readonly ca: string; readonly cert?: string; readonly key?: string },
): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        ca: options.ca,
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
        servername: 'mcp-gate.test',
        ALPNProtocols: ['h2'],
      },
      () => {
        const peer = socket.getPeerCertificate();
        socket.destroy();
        resolve({ fingerprint256: peer.fingerprint256, serialNumber: peer.serialNumber });
      },
    );
    socket.once('error', reject);
  });
}

/** peerCertificate as Envoy connects: trusting the server CA, presenting its client certificate. */
export function peerCertificateAsEnvoy(port: number, pki: GrpcTlsPki): Promise<PeerCertificate> {
  return peerCertificate(port, {
    ca: pki.serverCa.certPem,
    cert: pki.client.certPem,
    key: pki.client.keyPem,
  });
}

/** Node's notation of a certificate's fingerprint and serial, to compare with PeerCertificate. */
export function describeCertificate(certPem: string): PeerCertificate {
  const cert = new X509Certificate(certPem);
  return { fingerprint256: cert.fingerprint256, serialNumber: cert.serialNumber };
}
