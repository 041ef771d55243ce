/**
 * RequestFacts: the transport-neutral view of one HTTP request that the rest of the core reasons
 * about. The Envoy edge (src/envoy/to-facts.ts) builds it from a CheckRequest; nothing in the core
 * knows about protobuf.
 *
 * Invariants: `host` is already normalised (lower-case, port split off, trailing dot removed,
 * IDN in ASCII form); `path` is already normalised (dot segments resolved, percent-encoded
 * unreserved characters decoded, query and fragment removed). Header names are lower-case.
 * Client-sent `x-mcp-gate-*` headers are kept in `headers` only so the response can strip them;
 * nothing in the core reads them.
 */

import type { JsonObject } from './mcp/json-rpc-body.js';

/** Lower-case header name → value (repeated headers joined with "," as Envoy does). */
export type HeaderMap = ReadonlyMap<string, string>;

export interface RequestFacts {
  /** HTTP method as sent (`POST`, `GET`, `CONNECT`…), upper-cased; `""` when absent. */
  readonly method: string;
  /** `:authority` as received, userinfo replaced by `[userinfo]` (for logs and explain). */
  readonly authority: string;
  /** Normalised host; `""` when absent or not a valid host name or IP literal. */
  readonly host: string;
  /** Port from the authority, when one was given. */
  readonly port: number | undefined;
  /**
   * `:path` as received, query included (`""` for CONNECT); userinfo of an absolute-form target
   * replaced by `[userinfo]`.
   */
  readonly rawPath: string;
  /** Normalised path without query; `""` for CONNECT. Always starts with `/` otherwise. */
  readonly path: string;
  /**
   * True when only the host is known: a plain CONNECT (the authority), or a check from Envoy's
   * network filter (the TLS SNI). Such requests are judged on the host alone.
   */
  readonly isConnect: boolean;
  /** `:scheme` as Envoy reported it (not a statement about wire security). */
  readonly scheme: string;
  /** `HTTP/1.1`, `HTTP/2`… */
  readonly protocol: string;
  readonly headers: HeaderMap;
  /** Buffered request body bytes, or undefined when Envoy sent no body. */
  readonly body: Uint8Array | undefined;
  /**
   * Envoy's `x-envoy-auth-partial-body`: `true` when the body was cut at `max_request_bytes`.
   * Only Envoy can set it (Envoy drops a client-sent copy).
   */
  readonly bodyTruncated: boolean;
  /** `x-request-id` (Envoy's request id), when present. */
  readonly requestId: string | undefined;
  /** TLS SNI, when Envoy sent `tls_session.sni`. */
  readonly sni: string | undefined;
  /**
   * The downstream peer as Envoy reports it (`source.address.socket_address`): the client's IP
   * and port, or the last proxy's. For the audit log only; nothing decides on it.
   */
  readonly source: SourceAddress | undefined;
  /**
   * The downstream TLS peer as Envoy names it (`source.principal`: the peer certificate's first
   * URI SAN, else its first DNS SAN, else its subject); `""` without a client certificate.
   */
  readonly peerPrincipal: string;
  /**
   * The peer certificate, URL-encoded PEM (`source.certificate`), sent only with ext_authz
   * `include_peer_certificate: true`; `""` otherwise.
   */
  readonly peerCertificate: string;
  /**
   * `metadata_context.filter_metadata` as plain JSON: namespace → object. Envoy copies only the
   * namespaces named in `metadata_context_namespaces` (for example what `jwt_authn` verified).
   */
  readonly metadata: ReadonlyMap<string, JsonObject>;
}

/** An IP address and port as Envoy reports them. */
export interface SourceAddress {
  readonly address: string;
  /** `0` when Envoy sent no port. */
  readonly port: number;
}
