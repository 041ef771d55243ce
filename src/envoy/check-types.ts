/**
 * Hand-written TypeScript shapes for the ext_authz messages mcp-gate exchanges with Envoy, as
 * @grpc/proto-loader delivers and accepts them with the options in proto.ts (`keepCase: true`,
 * `longs: String`, `enums: String`, `defaults: false`, `oneofs: true`, bytes as Buffer).
 *
 * Contract:
 * - Incoming (decoded) shapes: every field is optional because proto3 omits zero values and
 *   `defaults: false` does not put them back. int64 values arrive as decimal strings, enums as
 *   their names, bytes as Buffers, and each set oneof adds a discriminator property naming the
 *   member that is present (`address: 'socket_address'`). `google.protobuf.Struct` arrives in
 *   its wire shape (`{fields: {k: {stringValue: 'v', kind: 'stringValue'}}}`), not as plain JSON,
 *   and with camelCase Value members despite `keepCase` (see ProtoValue).
 * - Outgoing shapes (CheckResponse and its parts) are what the serializer (protobufjs
 *   `fromObject`) accepts: enum fields take a name or a number, and the `http_response` oneof is
 *   enforced by the type so that only one member can be set.
 * - Only the fields declared in proto/ exist; their numbers are Envoy's (see
 *   proto/envoy/service/auth/v3/*.proto, and docs/wire/envoy-ext-authz.md, CheckRequest and
 *   CheckResponse).
 */

/** `google.protobuf.Timestamp` as decoded: `seconds` is an int64 decimal string. */
export interface ProtoTimestamp {
  readonly seconds?: string;
  readonly nanos?: number;
}

/** `google.protobuf.Any` in wire shape. */
export interface ProtoAny {
  readonly type_url?: string;
  readonly value?: Uint8Array;
}

/**
 * `google.protobuf.Value` in wire shape; `kind` names the member that is set.
 *
 * The member names are lowerCamelCase even though we load with `keepCase`: protobufjs resolves
 * `google/protobuf/struct.proto` to its own bundled definition, which declares the fields as
 * `nullValue`, `numberValue`, ... So `{string_value: 'x'}` would be silently dropped by the
 * serializer; `{stringValue: 'x'}` is what encodes. (Any, by contrast, keeps `type_url`.)
 */
export interface ProtoValue {
  readonly nullValue?: 'NULL_VALUE' | 0;
  readonly numberValue?: number;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly structValue?: ProtoStruct;
  readonly listValue?: ProtoListValue;
  readonly kind?:
    'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
}

/** `google.protobuf.ListValue` in wire shape. */
export interface ProtoListValue {
  readonly values?: readonly ProtoValue[];
}

/** `google.protobuf.Struct` in wire shape (not plain JSON). */
export interface ProtoStruct {
  readonly fields?: Readonly<Record<string, ProtoValue>>;
}

/** `envoy.config.core.v3.SocketAddress`. */
export interface SocketAddress {
  readonly protocol?: 'TCP' | 'UDP';
  readonly address?: string;
  readonly port_value?: number;
  readonly named_port?: string;
  readonly resolver_name?: string;
  readonly ipv4_compat?: boolean;
  readonly port_specifier?: 'port_value' | 'named_port';
}

/** `envoy.config.core.v3.Pipe` (Unix domain socket). */
export interface Pipe {
  readonly path?: string;
  readonly mode?: number;
}

/** `envoy.config.core.v3.EnvoyInternalAddress`. */
export interface EnvoyInternalAddress {
  readonly server_listener_name?: string;
  readonly endpoint_id?: string;
  readonly address_name_specifier?: 'server_listener_name';
}

/** `envoy.config.core.v3.Address`; `address` is the oneof discriminator. */
export interface Address {
  readonly socket_address?: SocketAddress;
  readonly pipe?: Pipe;
  readonly envoy_internal_address?: EnvoyInternalAddress;
  readonly address?: 'socket_address' | 'pipe' | 'envoy_internal_address';
}

/** `envoy.config.core.v3.HeaderValue` as decoded (`raw_value` only with encode_raw_headers). */
export interface HeaderValue {
  readonly key?: string;
  readonly value?: string;
  readonly raw_value?: Uint8Array;
}

/** `envoy.config.core.v3.HeaderMap`. */
export interface HeaderMapMessage {
  readonly headers?: readonly HeaderValue[];
}

/** `envoy.config.core.v3.Metadata`: filter namespace → Struct (or Any for typed metadata). */
export interface Metadata {
  readonly filter_metadata?: Readonly<Record<string, ProtoStruct>>;
  readonly typed_filter_metadata?: Readonly<Record<string, ProtoAny>>;
}

/** `AttributeContext.Peer`: one end of the downstream connection. */
export interface Peer {
  readonly address?: Address;
  readonly service?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly principal?: string;
  readonly certificate?: string;
}

/** `AttributeContext.HttpRequest`. Field numbers 1–13, see attribute_context.proto. */
export interface HttpRequest {
  readonly id?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly header_map?: HeaderMapMessage;
  readonly path?: string;
  readonly host?: string;
  readonly scheme?: string;
  readonly query?: string;
  readonly fragment?: string;
  /** int64 as a decimal string (`longs: String`). */
  readonly size?: string;
  readonly protocol?: string;
  readonly body?: string;
  readonly raw_body?: Uint8Array;
}

/** `AttributeContext.Request`. */
export interface AttributeRequest {
  readonly time?: ProtoTimestamp;
  readonly http?: HttpRequest;
}

/** `AttributeContext.TLSSession`. */
export interface TlsSession {
  readonly sni?: string;
}

/** `envoy.service.auth.v3.AttributeContext`. */
export interface AttributeContext {
  readonly source?: Peer;
  readonly destination?: Peer;
  readonly request?: AttributeRequest;
  readonly context_extensions?: Readonly<Record<string, string>>;
  readonly metadata_context?: Metadata;
  readonly tls_session?: TlsSession;
  readonly route_metadata_context?: Metadata;
}

/** `envoy.service.auth.v3.CheckRequest` as proto-loader decodes it (and the lean decoder too). */
export interface CheckRequest {
  readonly attributes?: AttributeContext;
}

/** `envoy.config.core.v3.HeaderValueOption.HeaderAppendAction` names. */
export type HeaderAppendAction =
  | 'APPEND_IF_EXISTS_OR_ADD'
  | 'ADD_IF_ABSENT'
  | 'OVERWRITE_IF_EXISTS_OR_ADD'
  | 'OVERWRITE_IF_EXISTS';

/** `envoy.config.core.v3.HeaderValueOption` as we send it. */
export interface HeaderValueOption {
  readonly header: { readonly key: string; readonly value: string };
  /**
   * `google.protobuf.BoolValue`. Always set it: when it is unset, Envoy versions disagree on
   * whether `append_action`'s default appends or overwrites (docs/wire/envoy-ext-authz.md,
   * ok_response).
   */
  readonly append?: { readonly value: boolean };
  readonly append_action?: HeaderAppendAction;
  readonly keep_empty_value?: boolean;
}

/** `envoy.type.v3.HttpStatus`; the code is the HTTP status number (a StatusCode enum value). */
export interface HttpStatus {
  readonly code: number;
}

/** `envoy.service.auth.v3.DeniedHttpResponse` (also the shape of `error_response`). */
export interface DeniedHttpResponse {
  readonly status?: HttpStatus;
  readonly headers?: readonly HeaderValueOption[];
  readonly body?: string;
}

/** `envoy.config.core.v3.QueryParameter`. */
export interface QueryParameter {
  readonly key: string;
  readonly value: string;
}

/** `envoy.service.auth.v3.OkHttpResponse` as we send it. */
export interface OkHttpResponse {
  readonly headers?: readonly HeaderValueOption[];
  readonly headers_to_remove?: readonly string[];
  /** Deprecated by Envoy; prefer CheckResponse.dynamic_metadata. */
  readonly dynamic_metadata?: ProtoStruct;
  readonly response_headers_to_add?: readonly HeaderValueOption[];
  /** Never for a CONNECT: Envoy versions before the CVE-2026-73547 fix crash on it. */
  readonly query_parameters_to_set?: readonly QueryParameter[];
  /** Never for a CONNECT, as above. */
  readonly query_parameters_to_remove?: readonly string[];
}

/** `google.rpc.Status`: Envoy allows on code 0 and denies on anything else. */
export interface RpcStatus {
  readonly code: number;
  readonly message?: string;
  readonly details?: readonly ProtoAny[];
}

/** The `http_response` oneof: at most one member, enforced at compile time. */
export type CheckResponseHttpResponse =
  | {
      readonly denied_response: DeniedHttpResponse;
      readonly ok_response?: never;
      readonly error_response?: never;
    }
  | {
      readonly ok_response: OkHttpResponse;
      readonly denied_response?: never;
      readonly error_response?: never;
    }
  | {
      /** Envoy 1.37+ only; older versions skip field 5 and see a plain denial (403). */
      readonly error_response: DeniedHttpResponse;
      readonly denied_response?: never;
      readonly ok_response?: never;
    }
  | {
      readonly denied_response?: never;
      readonly ok_response?: never;
      readonly error_response?: never;
    };

/** `envoy.service.auth.v3.CheckResponse` as the Check handler returns it. */
export type CheckResponse = {
  readonly status: RpcStatus;
  /** Stored by Envoy under the `envoy.filters.http.ext_authz` metadata namespace. */
  readonly dynamic_metadata?: ProtoStruct;
} & CheckResponseHttpResponse;

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` names. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** `grpc.health.v1.HealthCheckRequest` as decoded. */
export interface HealthCheckRequest {
  readonly service?: string;
}

/** `grpc.health.v1.HealthCheckResponse` as sent. */
export interface HealthCheckResponse {
  readonly status: ServingStatus;
}
