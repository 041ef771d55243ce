/**
 * McpInspection: what src/core/mcp/inspect.ts learned about a request's MCP content.
 * A plain value: inspection never throws, it reports failures here instead.
 */
import type { JsonValue } from './json-rpc-body.js';

/** Why a request that matters could not be inspected; the `detail` of reason `uninspectable`. */
export const INSPECTION_DETAILS = [
  /** The body was cut by Envoy (`x-envoy-auth-partial-body: true`). */
  'truncated',
  /** A POST carried no body although the decision needs it. */
  'body_missing',
  /** `content-encoding` or charset that we cannot or will not decode. */
  'undecodable',
  /** Decoded body or batch beyond the configured limits. */
  'too_large',
  /** MCP headers say MCP but the body is not JSON. */
  'not_json',
  /** A JSON-RPC envelope key appears twice: an evasion attempt. */
  'duplicate_keys',
  /** 2026-07-28 `Mcp-Method` / `Mcp-Name` disagree with the body. */
  'header_mismatch',
  /** A JSON array body where the declared revision forbids batches. */
  'batch_forbidden',
  /** A message that is not valid JSON-RPC / MCP (for example a `tools/call` without a name). */
  'malformed',
  /**
   * A raw path that servers route differently from us: dot segments, percent-encoded `.`, `/` or
   * `\`, or a backslash. Envoy's own path normalisation removes them before we see the request.
   */
  'ambiguous_path',
  /** An authority whose host or port we cannot read with certainty (userinfo, `:+443`, `a..`). */
  'ambiguous_authority',
  /** MCP over WebSocket: the frames after the upgrade never reach ext_authz. */
  'websocket',
  /**
   * A CONNECT or SNI-only check to a host whose approval needs the request itself (tool, path
   * or port rules): Envoy should have intercepted it (src/core/policy/inspection-set.ts).
   */
  'tunnel_not_inspected',
  /**
   * Tool arguments that a condition reads hold keys a case-insensitive server (Go's
   * encoding/json) could read differently: two keys that fold alike, or a key that folds onto
   * a name the condition reads while spelled otherwise.
   */
  'ambiguous_arguments',
  /**
   * Not an inspection failure: the detail of `principal_not_allowed` when an access rule needs
   * an identity and the request carries none.
   */
  'identity_missing',
  /**
   * Not an inspection failure: the detail of `rotation` when, with a reviewers file, the entry
   * has no valid signature by its reviewers (src/config/review-signature.ts).
   */
  'signature',
] as const;
export type InspectionDetail = (typeof INSPECTION_DETAILS)[number];

export interface InspectionFailure {
  readonly detail: InspectionDetail;
  /** Human-readable explanation for logs and `explain` (never shown to the client). */
  readonly message: string;
  /**
   * `always`: deny whenever the request is MCP (evasion attempts, undecodable bodies).
   * `tool_restricted`: matters only when the matched entry restricts tools (a truncated or
   * missing body hides which tool is called).
   */
  readonly scope: 'always' | 'tool_restricted';
}

export type McpMessageKind = 'request' | 'notification' | 'response';

export interface McpMessage {
  readonly kind: McpMessageKind;
  /** JSON-RPC method; undefined for responses. */
  readonly method: string | undefined;
  /** The id exactly as written in the body (raw JSON text, e.g. `7` or `"abc"`), for echoing. */
  readonly idJson: string | undefined;
  /** `tools/call` params.name. */
  readonly tool: string | undefined;
  /** `tools/call` params.arguments as JSON.parse read it (any type: conditions check it). */
  readonly arguments: JsonValue | undefined;
  /**
   * True when an object inside `arguments` holds a key twice: JSON.parse kept the last copy, so
   * `arguments` cannot show what a first-wins server reads (json-rpc-body.ts).
   */
  readonly argumentsRepeatKeys: boolean;
  /** `resources/read` params.uri. */
  readonly resourceUri: string | undefined;
  /** `prompts/get` params.name. */
  readonly prompt: string | undefined;
  /** `initialize` params.protocolVersion or 2026 `_meta` protocolVersion. */
  readonly protocolVersion: string | undefined;
  /** `initialize` params.clientInfo.name or 2026 `_meta` clientInfo.name. */
  readonly clientName: string | undefined;
}

/** How the client talks to the server, which decides the deny response shape. */
export type McpTransport = 'streamable_http' | 'legacy_sse' | 'none';

export interface McpInspection {
  readonly isMcp: boolean;
  /** Names of the signals that made (or did not make) this MCP, for explain and logs. */
  readonly signals: readonly string[];
  readonly transport: McpTransport;
  /** True when the body was a JSON array. */
  readonly batch: boolean;
  /** Messages in body order; empty for body-less requests. */
  readonly messages: readonly McpMessage[];
  /** Declared protocol revision (header first, then initialize/_meta). */
  readonly protocolVersion: string | undefined;
  readonly clientName: string | undefined;
  readonly userAgent: string | undefined;
  /**
   * Set when MCP is identified only from 2026-07-28 headers on a body-less request: the
   * `Mcp-Method`/`Mcp-Name` values (decoded), which such servers must validate.
   */
  readonly headerMethod: string | undefined;
  readonly headerName: string | undefined;
  readonly failure: InspectionFailure | undefined;
}

/** Limits applied while inspecting; defaults in src/config/service-config.ts. */
export interface InspectionLimits {
  /** Maximum decoded body size in bytes (default 4 MiB). */
  readonly maxBodyBytes: number;
  /** Maximum number of elements in a batch (default 1,000). */
  readonly maxBatchElements: number;
}
