/**
 * The clusters the rendered listeners and routes name (cds.yaml), as proto3-JSON-shaped
 * objects. Pure.
 *
 * - One per internal listener, whose endpoint is that listener (`envoy_internal_address`).
 * - Exact hosts: one per host and port, resolving the host and re-encrypting to it, with the SNI
 *   and the DNS SAN checked both that host, against the public CA bundle.
 * - Wildcard patterns: one dynamic forward proxy that sends the request's authority as SNI and
 *   checks the certificate's SAN against it (auto_sni, auto_san_validation).
 * - Transparent mode's plain forwarding by SNI.
 */
import type { InspectedHost } from '../core/policy/inspection-set.js';
import { INTERCEPT_DNS_CACHE, SNI_DNS_CACHE, typeUrl } from './fragments.js';
import type { EnvoyObject } from './fragments.js';
import {
  INTERCEPT_DYNAMIC_CLUSTER,
  interceptedPorts,
  interceptListenerName,
  isWildcardPattern,
  SNI_FORWARD_CLUSTER,
  TRANSPARENT_LISTENER,
  upstreamClusterName,
} from './layout.js';
import type { ResourcePaths } from './layout.js';

/** A cluster whose one endpoint is an internal listener of this Envoy. */
function internalCluster(listener: string): EnvoyObject {
  return {
    '@type': typeUrl('envoy.config.cluster.v3.Cluster'),
    name: listener,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: listener,
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: { address: { envoy_internal_address: { server_listener_name: listener } } },
            },
          ],
        },
      ],
    },
  };
}

/** HTTP/2 or HTTP/1.1 upstream, as the server's ALPN answer says; upgrades carried over h2. */
function upstreamHttpOptions(extra: EnvoyObject): EnvoyObject {
  return {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': typeUrl('envoy.extensions.upstreams.http.v3.HttpProtocolOptions'),
      ...extra,
      auto_config: { http_protocol_options: {}, http2_protocol_options: { allow_connect: true } },
    },
  };
}

function upstreamTls(paths: ResourcePaths, exactHost: string | undefined): EnvoyObject {
  const validation: EnvoyObject =
    exactHost === undefined
      ? { trusted_ca: { filename: paths.caBundle } }
      : {
          trusted_ca: { filename: paths.caBundle },
          match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: exactHost } }],
        };
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': typeUrl('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext'),
      ...(exactHost === undefined ? {} : { sni: exactHost }),
      common_tls_context: { alpn_protocols: ['h2', 'http/1.1'], validation_context: validation },
    },
  };
}

function exactUpstream(host: InspectedHost, port: number, paths: ResourcePaths): EnvoyObject {
  const name = upstreamClusterName(host.name, port);
  return {
    '@type': typeUrl('envoy.config.cluster.v3.Cluster'),
    name,
    type: 'LOGICAL_DNS',
    dns_lookup_family: 'V4_PREFERRED',
    connect_timeout: '5s',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: host.host, port_value: port } } } },
          ],
        },
      ],
    },
    typed_extension_protocol_options: upstreamHttpOptions({}),
    transport_socket: upstreamTls(paths, host.host),
  };
}

function dynamicForwardCluster(
  name: string,
  cache: EnvoyObject,
  tls: EnvoyObject | undefined,
): EnvoyObject {
  return {
    '@type': typeUrl('envoy.config.cluster.v3.Cluster'),
    name,
    lb_policy: 'CLUSTER_PROVIDED',
    connect_timeout: '5s',
    cluster_type: {
      name: 'envoy.clusters.dynamic_forward_proxy',
      typed_config: {
        '@type': typeUrl('envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig'),
        dns_cache_config: cache,
      },
    },
    ...(tls === undefined
      ? {}
      : {
          typed_extension_protocol_options: upstreamHttpOptions({
            upstream_http_protocol_options: { auto_sni: true, auto_san_validation: true },
          }),
          transport_socket: tls,
        }),
  };
}

/** Every cluster the rendered listeners and routes name, sorted by name. */
export function renderedClusters(
  hosts: readonly InspectedHost[],
  paths: ResourcePaths,
): EnvoyObject[] {
  const clusters: EnvoyObject[] = [
    ...interceptedPorts(hosts).map((port) => internalCluster(interceptListenerName(port))),
    internalCluster(TRANSPARENT_LISTENER),
    dynamicForwardCluster(SNI_FORWARD_CLUSTER, SNI_DNS_CACHE, undefined),
  ];
  for (const host of hosts) {
    if (isWildcardPattern(host)) continue;
    for (const port of host.ports) clusters.push(exactUpstream(host, port, paths));
  }
  if (hosts.some(isWildcardPattern)) {
    clusters.push(
      dynamicForwardCluster(
        INTERCEPT_DYNAMIC_CLUSTER,
        INTERCEPT_DNS_CACHE,
        upstreamTls(paths, undefined),
      ),
    );
  }
  return clusters.sort((a, b) => compare(nameOf(a), nameOf(b)));
}

function nameOf(resource: EnvoyObject): string {
  const name = resource['name'];
  return typeof name === 'string' ? name : '';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
