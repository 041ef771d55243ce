/**
 * The Envoy resources that intercept the inspection set (src/core/policy/inspection-set.ts), as
 * proto3-JSON-shaped objects. Pure: no I/O; the same hosts and options give the same objects.
 *
 * - One internal listener per intercepted port (`mcp_gate_intercept_<port>`). Its filter chains
 *   match the SNI of one host pattern each, terminate TLS with that host's certificate (SDS from
 *   a file), and run an HTTP connection manager with ext_authz and the request body. A request
 *   whose authority is not that host is refused (421) inside the chain, so a client cannot
 *   present one name in the SNI and have mcp-gate judge another.
 * - Upstream (clusters.ts), exact hosts go to a cluster of their own that re-encrypts to the
 *   real host on that port and verifies its certificate (public CA bundle, SNI and DNS SAN both
 *   the host). Wildcard patterns go to a dynamic forward proxy that sends the request's
 *   authority as SNI and checks the SAN against it (auto_sni, auto_san_validation), so the
 *   host mcp-gate judges is the host the request goes to.
 * - The explicit-proxy route table: a CONNECT to an intercepted host:port goes to that port's
 *   internal listener with ext_authz off (the decrypted requests are checked instead, and
 *   mcp-gate denies an outer check to such a host as `tunnel_not_inspected`); every other CONNECT
 *   is checked on its authority alone, and plain http:// is checked with its body.
 * - The transparent listener: the port-443 chains, plus a default chain that checks the SNI alone
 *   (network ext_authz) and forwards the bytes to it.
 */
import type { InspectedHost } from '../core/policy/inspection-set.js';
import {
  CONNECTION_BUFFER_BYTES,
  EXT_AUTHZ_DISABLED,
  EXT_AUTHZ_HTTP_FILTER,
  identityHeaderStripFilter,
  EXT_AUTHZ_NETWORK_FILTER,
  HCM_COMMON,
  HTTP_ACCESS_LOG,
  INTERCEPT_DNS_CACHE,
  ROUTER_FILTER,
  SNI_DNS_CACHE,
  TCP_ACCESS_LOG,
  TLS_INSPECTOR,
  typeUrl,
} from './fragments.js';
import type { EnvoyObject } from './fragments.js';
import {
  EGRESS_FORWARD_CLUSTER,
  EGRESS_ROUTE_CONFIG,
  INTERCEPT_DYNAMIC_CLUSTER,
  interceptedPorts,
  interceptListenerName,
  isWildcardPattern,
  MCP_GATE_CA_SECRET,
  MCP_GATE_CLIENT_SECRET,
  MCP_GATE_SERVER_NAME,
  SNI_FORWARD_CLUSTER,
  TRANSPARENT_LISTENER,
  upstreamClusterName,
} from './layout.js';
import type { ResourcePaths } from './layout.js';

const HTTPS_PORT = 443;

/** A file-based config source, reloaded when anything is moved into the watched directory. */
export function fileConfigSource(file: string, watchedDirectory: string): EnvoyObject {
  return {
    path_config_source: { path: file, watched_directory: { path: watchedDirectory } },
    resource_api_version: 'V3',
  };
}

/** The SDS file of one host's certificate. */
export function sdsFile(paths: ResourcePaths, name: string): string {
  return `${paths.dynamicDir}/sds/${name}.yaml`;
}

/** The SDS Secret for one host: its certificate files, re-read when cert-manager rotates them. */
export function tlsSecret(paths: ResourcePaths, name: string): EnvoyObject {
  const dir = `${paths.certsDir}/${name}`;
  return {
    '@type': typeUrl('envoy.extensions.transport_sockets.tls.v3.Secret'),
    name,
    tls_certificate: {
      certificate_chain: { filename: `${dir}/tls.crt` },
      private_key: { filename: `${dir}/tls.key` },
      // A Kubernetes Secret volume swaps a `..data` symlink in this directory.
      watched_directory: { path: dir },
    },
  };
}

/**
 * The secrets of the mutual-TLS channel to mcp-gate that egress-proxy.yaml's mcp_gate cluster
 * reads: Envoy's client certificate, and the CA and name mcp-gate's certificate must have.
 */
export function mcpGateChannelSecrets(paths: ResourcePaths): [string, EnvoyObject][] {
  const dir = paths.mcpGateClientDir;
  return [
    [
      MCP_GATE_CLIENT_SECRET,
      {
        '@type': typeUrl('envoy.extensions.transport_sockets.tls.v3.Secret'),
        name: MCP_GATE_CLIENT_SECRET,
        tls_certificate: {
          certificate_chain: { filename: `${dir}/tls.crt` },
          private_key: { filename: `${dir}/tls.key` },
          watched_directory: { path: dir },
        },
      },
    ],
    [
      MCP_GATE_CA_SECRET,
      {
        '@type': typeUrl('envoy.extensions.transport_sockets.tls.v3.Secret'),
        name: MCP_GATE_CA_SECRET,
        validation_context: {
          trusted_ca: { filename: `${dir}/ca.crt` },
          match_typed_subject_alt_names: [
            { san_type: 'DNS', matcher: { exact: MCP_GATE_SERVER_NAME } },
          ],
          watched_directory: { path: dir },
        },
      },
    ],
  ];
}

/** The authorities a request on the intercepted connection may name. */
function domains(host: InspectedHost, port: number): string[] {
  return port === HTTPS_PORT
    ? [host.host, `${host.host}:${String(port)}`]
    : [`${host.host}:${String(port)}`];
}

/** One TLS-terminating filter chain for `host` on `port`. */
function interceptChain(
  host: InspectedHost,
  port: number,
  paths: ResourcePaths,
  identityHeaders: readonly string[],
): EnvoyObject {
  const cluster = isWildcardPattern(host)
    ? INTERCEPT_DYNAMIC_CLUSTER
    : upstreamClusterName(host.name, port);
  const strip = identityHeaderStripFilter(identityHeaders);
  const httpFilters = isWildcardPattern(host)
    ? [
        strip,
        EXT_AUTHZ_HTTP_FILTER,
        {
          name: 'envoy.filters.http.dynamic_forward_proxy',
          typed_config: {
            '@type': typeUrl('envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig'),
            dns_cache_config: INTERCEPT_DNS_CACHE,
          },
        },
        ROUTER_FILTER,
      ]
    : [strip, EXT_AUTHZ_HTTP_FILTER, ROUTER_FILTER];
  return {
    name: `${host.name}_${String(port)}`,
    filter_chain_match: { server_names: [host.host] },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': typeUrl('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext'),
        common_tls_context: {
          alpn_protocols: ['h2', 'http/1.1'],
          tls_certificate_sds_secret_configs: [
            {
              name: host.name,
              sds_config: fileConfigSource(sdsFile(paths, host.name), paths.dynamicDir),
            },
          ],
        },
      },
    },
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': typeUrl(
            'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          ),
          stat_prefix: 'mcp_gate_intercept',
          codec_type: 'AUTO',
          ...HCM_COMMON,
          // MCP's WebSocket openings are checked like any request; their frames are not.
          upgrade_configs: [{ upgrade_type: 'websocket' }],
          access_log: [HTTP_ACCESS_LOG],
          route_config: {
            name: `mcp_gate_intercept_${host.name}_${String(port)}`,
            virtual_hosts: [
              {
                name: host.name,
                domains: domains(host, port),
                routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '0s' } }],
              },
              {
                // The chain (certificate, upstream) was chosen by the SNI: an authority outside
                // its pattern would be judged as a host the request does not go to.
                name: 'misdirected',
                domains: ['*'],
                routes: [
                  {
                    match: { prefix: '/' },
                    direct_response: {
                      status: 421,
                      body: { inline_string: `this connection serves ${host.host} only\n` },
                    },
                    typed_per_filter_config: EXT_AUTHZ_DISABLED,
                  },
                ],
              },
            ],
          },
          http_filters: httpFilters,
        },
      },
    ],
  };
}

function listenerBase(name: string): EnvoyObject {
  return {
    '@type': typeUrl('envoy.config.listener.v3.Listener'),
    name,
    internal_listener: {},
    per_connection_buffer_limit_bytes: CONNECTION_BUFFER_BYTES,
    listener_filters: [TLS_INSPECTOR],
  };
}

/** The interception listeners, one per port. */
export function interceptListeners(
  hosts: readonly InspectedHost[],
  paths: ResourcePaths,
  identityHeaders: readonly string[] = [],
): EnvoyObject[] {
  return interceptedPorts(hosts).map((port) => ({
    ...listenerBase(interceptListenerName(port)),
    filter_chains: hosts
      .filter((h) => h.ports.includes(port))
      .map((h) => interceptChain(h, port, paths, identityHeaders)),
  }));
}

/** The listener transparent.yaml hands every redirected TLS connection to. */
export function transparentListener(
  hosts: readonly InspectedHost[],
  paths: ResourcePaths,
  identityHeaders: readonly string[] = [],
): EnvoyObject {
  return {
    ...listenerBase(TRANSPARENT_LISTENER),
    filter_chains: hosts
      .filter((h) => h.ports.includes(HTTPS_PORT))
      .map((h) => interceptChain(h, HTTPS_PORT, paths, identityHeaders)),
    // Not intercepted: mcp-gate decides on the SNI alone, as on a CONNECT's authority.
    default_filter_chain: {
      name: 'host_only',
      filters: [
        EXT_AUTHZ_NETWORK_FILTER,
        {
          name: 'envoy.filters.network.sni_dynamic_forward_proxy',
          typed_config: {
            '@type': typeUrl(
              'envoy.extensions.filters.network.sni_dynamic_forward_proxy.v3.FilterConfig',
            ),
            dns_cache_config: SNI_DNS_CACHE,
            port_value: HTTPS_PORT,
          },
        },
        {
          name: 'envoy.filters.network.tcp_proxy',
          typed_config: {
            '@type': typeUrl('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'),
            stat_prefix: 'mcp_gate_sni',
            cluster: SNI_FORWARD_CLUSTER,
            idle_timeout: '3600s',
            access_log: [TCP_ACCESS_LOG],
          },
        },
      ],
    },
  };
}

/** The plain-HTTP route, checked with its body; SSE responses may last for hours. */
const PLAIN_HTTP_ROUTE: EnvoyObject = {
  match: { prefix: '/' },
  route: { cluster: EGRESS_FORWARD_CLUSTER, timeout: '0s' },
};

/** The explicit proxy's route table (egress-proxy.yaml and sidecar.yaml load it by RDS). */
export function egressRoutes(hosts: readonly InspectedHost[]): EnvoyObject {
  const intercepted = hosts.flatMap((host) =>
    host.ports.map((port) => ({
      name: `intercept_${host.name}_${String(port)}`,
      domains: [`${host.host}:${String(port)}`],
      routes: [
        {
          match: { connect_matcher: {} },
          route: {
            cluster: interceptListenerName(port),
            upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }],
          },
          typed_per_filter_config: EXT_AUTHZ_DISABLED,
        },
        PLAIN_HTTP_ROUTE,
      ],
    })),
  );
  return {
    '@type': typeUrl('envoy.config.route.v3.RouteConfiguration'),
    name: EGRESS_ROUTE_CONFIG,
    virtual_hosts: [
      ...intercepted,
      {
        name: 'any',
        domains: ['*'],
        routes: [
          {
            // Decided on the authority alone; buffering would wait for tunnel bytes that never end.
            match: { connect_matcher: {} },
            route: {
              cluster: EGRESS_FORWARD_CLUSTER,
              upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }],
            },
            typed_per_filter_config: {
              'envoy.filters.http.ext_authz': {
                '@type': typeUrl('envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute'),
                check_settings: { disable_request_body_buffering: true },
              },
            },
          },
          PLAIN_HTTP_ROUTE,
        ],
      },
    ],
  };
}
