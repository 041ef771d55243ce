/**
 * `mcp-gate render-envoy`: the Envoy side of the inspection set as files. Pure; the same
 * inspection set and options give byte-identical files (sorted, no timestamps), so a re-render
 * that changes nothing rewrites nothing.
 *
 * The files (paths relative to the output directory; docs/interception.md tells the whole flow):
 *
 * - `lds.yaml`, `cds.yaml`, `rds.yaml`: each one xDS `DiscoveryResponse` as Envoy's filesystem
 *   subscriptions read it: `version_info` (a hash of the resources) and `resources`, a list of
 *   proto3-JSON objects with `@type`, field names in snake_case.
 *   - lds.yaml: `envoy.config.listener.v3.Listener`s, all internal listeners:
 *     `mcp_gate_intercept_<port>` for each intercepted port, whose `filter_chains` each have
 *     `filter_chain_match.server_names: [<host pattern>]`, a DownstreamTlsContext naming the SDS
 *     secret `<name>` (the file `sds/<name>.yaml`), and an HTTP connection manager with ext_authz;
 *     and `mcp_gate_transparent` (the port-443 chains plus a host-only default chain).
 *   - cds.yaml: `envoy.config.cluster.v3.Cluster`s: one per internal listener (same name, an
 *     `envoy_internal_address`), `mcp_gate_upstream_<name>_<port>` per exact host and port (TLS to
 *     the real host), `mcp_gate_upstream_dynamic` when a wildcard pattern is intercepted, and
 *     `mcp_gate_sni_forward`.
 *   - rds.yaml: the `envoy.config.route.v3.RouteConfiguration` `mcp_gate_egress` of the explicit
 *     proxy: a virtual host `<host>:<port>` per intercepted host and port whose CONNECT route goes
 *     to `mcp_gate_intercept_<port>` with ext_authz disabled, then the catch-all.
 * - `sds/<name>.yaml`: a DiscoveryResponse with one
 *   `envoy.extensions.transport_sockets.tls.v3.Secret` named `<name>`, pointing at
 *   `<certs-dir>/<name>/tls.crt` and `tls.key`. Always also `sds/mcp_gate_client.yaml` and
 *   `sds/mcp_gate_ca.yaml`, the certificates of the channel to mcp-gate in the gateway layout
 *   (egress-proxy.yaml), from `<mcp-gate-client-dir>`.
 * - `certificates.yaml` (only with an issuer): a cert-manager `Certificate` per host, secret
 *   `mcp-gate-tls-<name>`, to be mounted at `<certs-dir>/<name>/`.
 *
 * `<name>` is the inspection set's file-safe name (`wildcard.example.com` for `*.example.com`).
 * An empty inspection set renders no interception listener, no secret, and routes that check
 * every CONNECT on its authority: valid files that intercept nothing.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { InspectedHost } from '../core/policy/inspection-set.js';
import { certificates } from './certificates.js';
import type { CertManagerIssuer } from './certificates.js';
import type { EnvoyObject } from './fragments.js';
import {
  egressRoutes,
  interceptListeners,
  mcpGateChannelSecrets,
  tlsSecret,
  transparentListener,
} from './resources.js';
import { renderedClusters } from './clusters.js';
import type { ResourcePaths } from './layout.js';

export interface RenderOptions extends ResourcePaths {
  /** When set, certificates.yaml requests each host's certificate from this issuer. */
  readonly issuer?: CertManagerIssuer | undefined;
  /**
   * Headers the allowlist reads identities from (identityHeaderNames); the rendered chains strip
   * client-sent copies of them, and of the usual ones, first.
   */
  readonly identityHeaders?: readonly string[] | undefined;
}

/** Relative path → file content. Iterates in a fixed order: sds/, cds, lds, rds, certificates. */
export type RenderedFiles = ReadonlyMap<string, string>;

const HEADER =
  "# Rendered by `mcp-gate render-envoy` from the allowlist's inspection set; do not edit.\n" +
  '# Envoy reads it through a filesystem subscription (docs/interception.md).\n';

/**
 * The files for `hosts`. The order of the map is the order to write them in so that Envoy never
 * sees a reference to something missing: secrets, then clusters, then listeners, then routes.
 */
export function renderEnvoy(
  hosts: readonly InspectedHost[],
  options: RenderOptions,
): RenderedFiles {
  const files = new Map<string, string>();
  for (const host of hosts) {
    files.set(`sds/${host.name}.yaml`, discoveryFile([tlsSecret(options, host.name)]));
  }
  for (const [name, secret] of mcpGateChannelSecrets(options)) {
    files.set(`sds/${name}.yaml`, discoveryFile([secret]));
  }
  files.set('cds.yaml', discoveryFile(renderedClusters(hosts, options)));
  files.set(
    'lds.yaml',
    discoveryFile([
      ...interceptListeners(hosts, options, options.identityHeaders),
      transparentListener(hosts, options, options.identityHeaders),
    ]),
  );
  files.set('rds.yaml', discoveryFile([egressRoutes(hosts)]));
  if (options.issuer !== undefined) {
    files.set('certificates.yaml', certificates(hosts, options.issuer));
  }
  return files;
}

function discoveryFile(resources: readonly EnvoyObject[]): string {
  const body = stringify({ resources }, { lineWidth: 0, aliasDuplicateObjects: false });
  const version = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return `${HEADER}version_info: ${version}\n${body}`;
}
