/**
 * cert-manager `Certificate` resources for the inspection set: one per host pattern, from the
 * corporate CA's Issuer or ClusterIssuer, into the Secret that Envoy mounts at
 * `<certs-dir>/<name>/` (tls.crt, tls.key). Pure.
 *
 * Short-lived leaves (30 days, renewed 10 days before expiry) with a fresh ECDSA P-256 key at
 * every renewal (rotationPolicy Always), so a leaked key is useful for weeks, not years.
 */
import { stringify } from 'yaml';
import type { InspectedHost } from '../core/policy/inspection-set.js';
import { certificateSecretName } from './layout.js';

/** The issuer that signs interception certificates. */
export interface CertManagerIssuer {
  readonly name: string;
  readonly kind: 'Issuer' | 'ClusterIssuer';
}

/**
 * The issuer named by `--cert-manager-issuer` and `--cert-manager-issuer-kind` (default Issuer);
 * undefined without one; a string is the problem to report.
 */
export function parseIssuer(
  name: string | undefined,
  kind: string | undefined,
): CertManagerIssuer | undefined | string {
  if (name === undefined) {
    return kind === undefined
      ? undefined
      : '--cert-manager-issuer-kind needs --cert-manager-issuer';
  }
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
    return `--cert-manager-issuer must be a Kubernetes object name, got ${JSON.stringify(name)}`;
  }
  const issuerKind = kind ?? 'Issuer';
  if (issuerKind !== 'Issuer' && issuerKind !== 'ClusterIssuer') {
    return `--cert-manager-issuer-kind must be Issuer or ClusterIssuer, got ${JSON.stringify(issuerKind)}`;
  }
  return { name, kind: issuerKind };
}

export const CERTIFICATE_DURATION = '720h';
export const CERTIFICATE_RENEW_BEFORE = '240h';

/** The multi-document YAML of every host's Certificate, sorted as the inspection set is. */
export function certificates(hosts: readonly InspectedHost[], issuer: CertManagerIssuer): string {
  const header =
    '# Rendered by `mcp-gate render-envoy --cert-manager-issuer`: one cert-manager Certificate per\n' +
    '# intercepted host; do not edit.\n';
  if (hosts.length === 0) return `${header}# The inspection set is empty: no certificates.\n`;
  return (
    header +
    hosts
      .map((host) =>
        stringify(
          {
            apiVersion: 'cert-manager.io/v1',
            kind: 'Certificate',
            metadata: {
              name: certificateSecretName(host.name),
              labels: { 'app.kubernetes.io/part-of': 'mcp-gate' },
            },
            spec: {
              secretName: certificateSecretName(host.name),
              dnsNames: [host.host],
              duration: CERTIFICATE_DURATION,
              renewBefore: CERTIFICATE_RENEW_BEFORE,
              privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
              usages: ['digital signature', 'server auth'],
              issuerRef: { name: issuer.name, kind: issuer.kind, group: 'cert-manager.io' },
            },
          },
          { lineWidth: 0, aliasDuplicateObjects: false },
        ),
      )
      .join('---\n')
  );
}
