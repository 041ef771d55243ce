/**
 * Where things are inside the Envoy container, and the names of the Envoy resources that
 * render-envoy writes. The bootstraps in envoy/ use the same paths and names; the tests in
 * test/integration/envoy-config.test.ts hold the two together.
 */
import type { InspectedHost } from '../core/policy/inspection-set.js';

/** Where Envoy reads the rendered lds.yaml, cds.yaml, rds.yaml and sds/. */
export const DEFAULT_DYNAMIC_DIR = '/etc/envoy/dynamic';
/** Interception certificates, one directory per host in cert-manager's Secret layout. */
export const DEFAULT_CERTS_DIR = '/etc/envoy/certs';
/**
 * The client certificate Envoy presents to mcp-gate in the gateway layout, and the CA that
 * signed mcp-gate's own (tls.crt, tls.key, ca.crt: a cert-manager Secret).
 */
export const DEFAULT_MCP_GATE_CLIENT_DIR = '/etc/envoy/mcp-gate-client';
/** The DNS name mcp-gate's server certificate must carry: its Kubernetes Service. */
export const MCP_GATE_SERVER_NAME = 'mcp-gate';
/**
 * SDS secrets of the channel to mcp-gate (egress-proxy.yaml). Underscores never occur in an
 * inspected host's name, so these never collide with one.
 */
export const MCP_GATE_CLIENT_SECRET = 'mcp_gate_client';
export const MCP_GATE_CA_SECRET = 'mcp_gate_ca';

/** The public CAs the upstream legs verify real servers against (Debian's bundle). */
export const DEFAULT_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The gRPC cluster of mcp-gate, defined by every bootstrap. */
export const MCP_GATE_CLUSTER = 'mcp_gate';
/** The bootstraps' dynamic forward proxy for traffic that is not intercepted. */
export const EGRESS_FORWARD_CLUSTER = 'dynamic_forward_proxy';
/** The route table of the explicit-proxy listener (egress-proxy.yaml, sidecar.yaml). */
export const EGRESS_ROUTE_CONFIG = 'mcp_gate_egress';
/** The internal listener (and its cluster) that transparent.yaml hands every TLS connection to. */
export const TRANSPARENT_LISTENER = 'mcp_gate_transparent';
/** Plain-TCP forwarding by SNI for what transparent mode does not intercept. */
export const SNI_FORWARD_CLUSTER = 'mcp_gate_sni_forward';
/** Re-encrypting forward proxy for the hosts of wildcard patterns. */
export const INTERCEPT_DYNAMIC_CLUSTER = 'mcp_gate_upstream_dynamic';

/** The internal listener (and its cluster) terminating intercepted tunnels to `port`. */
export function interceptListenerName(port: number): string {
  return `mcp_gate_intercept_${String(port)}`;
}

/** The re-encrypting cluster of one exact host on one port. */
export function upstreamClusterName(name: string, port: number): string {
  return `mcp_gate_upstream_${name}_${String(port)}`;
}

/** The Kubernetes Secret (and cert-manager Certificate) holding one host's certificate. */
export function certificateSecretName(name: string): string {
  return `mcp-gate-tls-${name}`;
}

/** Where the rendered files and the certificates are, as the Envoy container sees them. */
export interface ResourcePaths {
  /** Directory of lds.yaml, cds.yaml, rds.yaml and sds/ (watched for moves). */
  readonly dynamicDir: string;
  /** Directory holding `<name>/tls.crt` and `<name>/tls.key` per intercepted host. */
  readonly certsDir: string;
  /** CA bundle the upstream legs verify the real servers against. */
  readonly caBundle: string;
  /** Envoy's client certificate for mcp-gate and the CA of mcp-gate's (gateway layout). */
  readonly mcpGateClientDir: string;
}

/** Every port some host is intercepted on, ascending. */
export function interceptedPorts(hosts: readonly InspectedHost[]): number[] {
  return [...new Set(hosts.flatMap((h) => h.ports))].sort((a, b) => a - b);
}

/** Whether the host pattern is a wildcard (`*.example.com`). */
export function isWildcardPattern(host: InspectedHost): boolean {
  return host.host.startsWith('*.');
}
