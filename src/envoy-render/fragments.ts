/**
 * The pieces of Envoy configuration that the rendered listeners share with the bootstraps in
 * envoy/: the ext_authz filter, the access log, the timeouts. They are plain proto3-JSON-shaped
 * objects (snake_case field names, as the bootstraps spell them); envoy-config.test.ts checks that
 * envoy/*.yaml carries exactly these, so the intercepted and the plain paths never drift apart.
 */
import type { IdentityConfig } from '../core/policy/identity.js';
import { MCP_GATE_CLUSTER } from './layout.js';

/** A JSON-shaped Envoy config object. */
export interface EnvoyObject {
  readonly [key: string]: EnvoyValue;
}
export type EnvoyValue = string | number | boolean | EnvoyObject | readonly EnvoyValue[];

/**
 * Bytes of a request body sent to mcp-gate: 4 MiB, the TypeScript SDK's body limit and
 * mcp-gate's own --max-body-bytes default (SECURITY.md, "Deploying without a bypass").
 */
export const MAX_REQUEST_BYTES = 4194304;
/** Above MAX_REQUEST_BYTES, with room for the read that crosses it (Envoy answers 413 past it). */
export const CONNECTION_BUFFER_BYTES = 5242880;

/** `@type` of a typed_config. */
export function typeUrl(fullName: string): string {
  return `type.googleapis.com/${fullName}`;
}

/**
 * Identity headers an authenticating proxy in front of mcp-gate commonly sets (oauth2-proxy's
 * names, and the ones docs/scoping.md uses). A client must never be able to send them itself.
 */
export const IDENTITY_HEADERS = [
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
] as const;

/**
 * Removes client-sent identity headers before any other filter runs, so the `identity:` section
 * of the allowlist reads only what a filter placed after this one (jwt_authn's
 * claim_to_headers, an oauth2 or ext_authz sign-in) sets. First in every HTTP chain.
 */
export function identityHeaderStripFilter(extra: readonly string[] = []): EnvoyObject {
  const names = [...new Set([...IDENTITY_HEADERS, ...extra.map((name) => name.toLowerCase())])];
  return {
    name: 'envoy.filters.http.header_mutation',
    typed_config: {
      '@type': typeUrl('envoy.extensions.filters.http.header_mutation.v3.HeaderMutation'),
      mutations: { request_mutations: names.map((name) => ({ remove: name })) },
    },
  };
}

/** The headers an allowlist's `identity:` section reads users and groups from. */
export function identityHeaderNames(identity: IdentityConfig | undefined): string[] {
  const names: string[] = [];
  for (const source of [identity?.user, identity?.groups]) {
    if (source?.from === 'header') names.push(source.name);
  }
  return names;
}

/** The strip filter of the bootstraps in envoy/, for the default identity headers. */
export const IDENTITY_HEADER_STRIP_FILTER: EnvoyObject = identityHeaderStripFilter();

/** Dynamic metadata of Envoy's JWT filter: what `identity: { jwt: ... }` reads. */
export const JWT_AUTHN_NAMESPACE = 'envoy.filters.http.jwt_authn';

/**
 * The HTTP ext_authz filter, with the request body, failing closed. It passes on the payload
 * a jwt_authn filter placed before it verified (`payload_in_metadata`); without one there is
 * nothing to pass and the namespace costs nothing.
 */
export const EXT_AUTHZ_HTTP_FILTER: EnvoyObject = {
  name: 'envoy.filters.http.ext_authz',
  typed_config: {
    '@type': typeUrl('envoy.extensions.filters.http.ext_authz.v3.ExtAuthz'),
    transport_api_version: 'V3',
    stat_prefix: 'mcp_gate',
    grpc_service: { envoy_grpc: { cluster_name: MCP_GATE_CLUSTER }, timeout: '1s' },
    failure_mode_allow: false,
    status_on_error: { code: 'ServiceUnavailable' },
    with_request_body: {
      max_request_bytes: MAX_REQUEST_BYTES,
      allow_partial_message: true,
      pack_as_bytes: true,
    },
    metadata_context_namespaces: [JWT_AUTHN_NAMESPACE],
  },
};

/** `typed_per_filter_config` that turns ext_authz off on one route. */
export const EXT_AUTHZ_DISABLED: EnvoyObject = {
  'envoy.filters.http.ext_authz': {
    '@type': typeUrl('envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute'),
    disabled: true,
  },
};

/** The network ext_authz filter: one check per connection, on its SNI (transparent mode). */
export const EXT_AUTHZ_NETWORK_FILTER: EnvoyObject = {
  name: 'envoy.filters.network.ext_authz',
  typed_config: {
    '@type': typeUrl('envoy.extensions.filters.network.ext_authz.v3.ExtAuthz'),
    transport_api_version: 'V3',
    stat_prefix: 'mcp_gate_sni',
    grpc_service: { envoy_grpc: { cluster_name: MCP_GATE_CLUSTER }, timeout: '1s' },
    failure_mode_allow: false,
  },
};

/** `envoy.filters.http.router`, last in every HTTP chain. */
export const ROUTER_FILTER: EnvoyObject = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': typeUrl('envoy.extensions.filters.http.router.v3.Router') },
};

/**
 * The HTTP connection manager settings every listener shares: one normal form for paths
 * (mcp-gate denies MCP requests whose raw path servers could route differently), escaped slashes
 * kept for non-MCP APIs, and timeouts for MCP's long-lived SSE streams (idle for at most an
 * hour, never cut while data flows; headers within 10 s, against slow clients).
 */
export const HCM_COMMON: EnvoyObject = {
  normalize_path: true,
  merge_slashes: true,
  path_with_escaped_slashes_action: 'KEEP_UNCHANGED',
  stream_idle_timeout: '3600s',
  request_headers_timeout: '10s',
};

/** An access log writing one JSON object per line on stdout. */
function stdoutJsonLog(fields: EnvoyObject, formatters: readonly EnvoyObject[] = []): EnvoyObject {
  return {
    name: 'envoy.access_loggers.stdout',
    typed_config: {
      '@type': typeUrl('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog'),
      log_format:
        formatters.length === 0 ? { json_format: fields } : { json_format: fields, formatters },
    },
  };
}

/**
 * One JSON line per request, with mcp-gate's decision id, verdict and reason as the ext_authz
 * filter stored them (src/envoy/to-response.ts), so an Envoy line and mcp-gate's audit line join
 * on the decision id. The path is logged without its query, which may carry tokens.
 */
export const HTTP_ACCESS_LOG: EnvoyObject = stdoutJsonLog(
  {
    time: '%START_TIME%',
    listener: '%DOWNSTREAM_LOCAL_ADDRESS%',
    method: '%REQ(:METHOD)%',
    authority: '%REQ(:AUTHORITY)%',
    path: '%REQ_WITHOUT_QUERY(:PATH)%',
    status: '%RESPONSE_CODE%',
    flags: '%RESPONSE_FLAGS%',
    duration_ms: '%DURATION%',
    upstream: '%UPSTREAM_HOST%',
    request_id: '%REQ(X-REQUEST-ID)%',
    mcp_gate_decision_id: '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:decision_id)%',
    mcp_gate_verdict: '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:verdict)%',
    mcp_gate_reason: '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:reason)%',
  },
  [
    {
      name: 'envoy.formatter.req_without_query',
      typed_config: {
        '@type': typeUrl('envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery'),
      },
    },
  ],
);

/** The same for connections forwarded on their SNI, with the network filter's decision. */
export const TCP_ACCESS_LOG: EnvoyObject = stdoutJsonLog({
  time: '%START_TIME%',
  sni: '%REQUESTED_SERVER_NAME%',
  flags: '%RESPONSE_FLAGS%',
  duration_ms: '%DURATION%',
  upstream: '%UPSTREAM_HOST%',
  bytes_sent: '%BYTES_SENT%',
  bytes_received: '%BYTES_RECEIVED%',
  mcp_gate_decision_id: '%DYNAMIC_METADATA(envoy.filters.network.ext_authz:decision_id)%',
  mcp_gate_reason: '%DYNAMIC_METADATA(envoy.filters.network.ext_authz:reason)%',
});

/** tls_inspector: reads the SNI from the ClientHello, so filter chains can match on it. */
export const TLS_INSPECTOR: EnvoyObject = {
  name: 'envoy.filters.listener.tls_inspector',
  typed_config: {
    '@type': typeUrl('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector'),
  },
};

/** A DNS cache for a dynamic forward proxy; filter and cluster must name identical ones. */
export function dnsCache(name: string): EnvoyObject {
  return { name, dns_lookup_family: 'V4_PREFERRED' };
}

/** The DNS cache of the re-encrypting forward proxy for wildcard patterns. */
export const INTERCEPT_DNS_CACHE: EnvoyObject = dnsCache('mcp_gate_intercept_dns');
/** The DNS cache of transparent mode's forwarding by SNI. */
export const SNI_DNS_CACHE: EnvoyObject = dnsCache('mcp_gate_sni_dns');
