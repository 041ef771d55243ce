/**
 * Decision → CheckResponse (envoy.service.auth.v3), shaped for what Envoy honours and what the
 * person's MCP client shows (docs/wire/envoy-ext-authz.md, CheckResponse; docs/wire/mcp.md,
 * Denials).
 *
 * - Deny: `status.code` PERMISSION_DENIED and a `denied_response`; Envoy sends its status, headers
 *   and body as a local reply. Server-level denials are HTTP 403 `text/plain` (the sentence reaches
 *   the user verbatim, no transport fallback, no OAuth). A denied tool on a Streamable HTTP
 *   `tools/call` is an HTTP 200 JSON-RPC *result* with `isError: true` and
 *   `resultType: "complete"`: the only shape every client hands to the model as a tool result
 *   (2026-07-28 clients reject results without `resultType`). Never 302/401/404/405.
 * - Allow: `status.code` OK; for MCP an `ok_response` that names the entry and decision for the
 *   upstream and strips client-sent `x-mcp-gate-*` headers. Non-MCP traffic passes untouched
 *   except that forged `x-mcp-gate-*` headers are still stripped.
 * - Every header we set carries `append: false`: newer Envoy treats an unset `append` as "add
 *   another line", older Envoy as "overwrite"; explicit false means overwrite in both
 *   (docs/wire/envoy-ext-authz.md, ok_response).
 * - Query-parameter mutations are never sent (they crash Envoy on CONNECT before 1.39.1).
 */
import { isServiceFault, serviceFaultDecision } from '../core/decision.js';
import type { Decision, ServiceFaultReason } from '../core/decision.js';
import { escapeUnsafe, renderDenyMessage } from '../core/deny-message.js';
import type { RequestFacts } from '../core/facts.js';
import type { McpInspection } from '../core/mcp/inspection.js';
import { DEFAULT_DENY_TEXTS, denyTemplate } from '../core/policy/deny-texts.js';
import type { CompiledPolicy, DenyReason } from '../core/policy/policy.js';
import type { CheckResponse, HeaderValueOption, ProtoStruct, ProtoValue } from './check-types.js';

/** gRPC status codes used in `CheckResponse.status`. */
const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;

/** JSON-RPC error code for policy denials: outside the range MCP reserves (-32768…-32000). */
export const POLICY_DENIED_JSONRPC_CODE = -31001;

const HEADER_PREFIX = 'x-mcp-gate-';

/** The parts of a deny response, before protobuf framing (also printed by `explain`). */
export interface DenyShape {
  readonly httpStatus: number;
  readonly contentType: string;
  readonly body: string;
}

/** Builds the CheckResponse for a decision. */
export function toCheckResponse(
  decision: Decision,
  facts: RequestFacts,
  inspection: McpInspection,
  policy: CompiledPolicy,
): CheckResponse {
  if (decision.verdict === 'deny') {
    return deniedResponse(
      decision,
      decision.reason,
      toDenyShape(decision, decision.reason, facts, inspection, policy),
    );
  }

  const forged = forgedHeaderNames(facts);
  if (!decision.isMcp) {
    if (forged.length === 0) return { status: { code: GRPC_OK } };
    return { status: { code: GRPC_OK }, ok_response: { headers_to_remove: forged } };
  }
  const headers = [header(`${HEADER_PREFIX}decision-id`, decision.id)];
  if (decision.entry !== undefined)
    headers.push(header(`${HEADER_PREFIX}server`, decision.entry.id));
  if (decision.dryRun) headers.push(header(`${HEADER_PREFIX}would-deny`, decision.reason));
  const setNames = new Set(headers.map((h) => h.header.key));
  return {
    status: { code: GRPC_OK },
    ok_response: {
      headers,
      // A name we also set is overwritten by `append: false`; listing it for removal too could
      // remove our own value, depending on the order Envoy applies the two lists.
      headers_to_remove: forged.filter((name) => !setNames.has(name)),
    },
    dynamic_metadata: decisionMetadata(decision),
  };
}

/** The HTTP status, content type and body a denial sends, per `deny_style`. */
export function toDenyShape(
  decision: Decision,
  reason: DenyReason,
  facts: RequestFacts,
  inspection: McpInspection,
  policy: CompiledPolicy,
): DenyShape {
  const text = renderDenyMessage({
    template: denyTemplate(policy.denyTexts, reason, decision.detail),
    reason,
    server: decision.server,
    host: facts.host !== '' ? facts.host : facts.authority,
    tool: decision.tool,
    condition: decision.condition?.description,
    reviewUrl: policy.reviewUrl,
    entryId: decision.entry?.id,
    decisionId: decision.id,
  });
  const single =
    !inspection.batch && inspection.messages.length === 1 ? inspection.messages[0] : undefined;

  if (policy.denyStyle === 'jsonrpc_error') {
    const error = {
      code: POLICY_DENIED_JSONRPC_CODE,
      message: text,
      data: { reason, decision_id: decision.id, review_url: policy.reviewUrl },
    };
    return {
      httpStatus: 403,
      contentType: 'application/json',
      body: `{"jsonrpc":"2.0","id":${errorIdJson(single?.idJson)},"error":${JSON.stringify(error)}}`,
    };
  }

  const toolResultFits =
    policy.denyStyle === 'auto' &&
    decision.toolLevel &&
    inspection.transport === 'streamable_http' &&
    single?.kind === 'request' &&
    single.method === 'tools/call' &&
    single.idJson !== undefined;
  if (toolResultFits) {
    const result = {
      content: [{ type: 'text', text }],
      isError: true,
      resultType: 'complete',
    };
    return {
      httpStatus: 200,
      contentType: 'application/json',
      body: `{"jsonrpc":"2.0","id":${single.idJson},"result":${JSON.stringify(result)}}`,
    };
  }
  return textShape(reason, text);
}

/**
 * The plain-text deny: 403, except when mcp-gate itself is at fault or overloaded, a 503 (the
 * person may simply retry).
 */
function textShape(reason: DenyReason, text: string): DenyShape {
  const httpStatus = isServiceFault(reason) ? 503 : 403;
  return { httpStatus, contentType: 'text/plain; charset=utf-8', body: text };
}

/** A deny CheckResponse: the shape plus the headers and metadata every denial carries. */
function deniedResponse(decision: Decision, reason: DenyReason, shape: DenyShape): CheckResponse {
  const headers = [
    header('content-type', shape.contentType),
    header(`${HEADER_PREFIX}reason`, reason),
    header(`${HEADER_PREFIX}decision-id`, decision.id),
  ];
  if (decision.detail !== undefined) {
    headers.push(header(`${HEADER_PREFIX}detail`, decision.detail));
  }
  return {
    status: { code: GRPC_PERMISSION_DENIED, message: reason },
    denied_response: { status: { code: shape.httpStatus }, headers, body: shape.body },
    dynamic_metadata: decisionMetadata(decision),
  };
}

/**
 * The id for a JSON-RPC error inside an HTTP error body. Clients show that body as text, and
 * one bridge scans the text for "404"/"405", so an id spelling them (long sessions reach id 404)
 * is replaced by null, which JSON-RPC allows when the id cannot be echoed.
 */
function errorIdJson(idJson: string | undefined): string {
  if (idJson === undefined || /40[45]/.test(idJson)) return 'null';
  return idJson;
}

function header(key: string, value: string): HeaderValueOption {
  return { header: { key, value }, append: { value: false } };
}

/** Client-sent `x-mcp-gate-*` headers: nothing downstream may trust a forged one. */
function forgedHeaderNames(facts: RequestFacts): string[] {
  const names: string[] = [];
  for (const name of facts.headers.keys()) {
    if (name.startsWith(HEADER_PREFIX)) names.push(name);
  }
  return names;
}

/**
 * Envoy stores this under `envoy.filters.http.ext_authz` for access logs
 * (`%DYNAMIC_METADATA(envoy.filters.http.ext_authz:reason)%`).
 */
function decisionMetadata(decision: Decision): ProtoStruct {
  const fields: Record<string, ProtoValue> = {
    decision_id: { stringValue: decision.id },
    verdict: { stringValue: decision.verdict },
    reason: { stringValue: decision.reason },
    dry_run: { boolValue: decision.dryRun },
    allowlist_version: { stringValue: decision.allowlistVersion },
    // Request-supplied (the host when no entry matched): access logs print these verbatim.
    server: { stringValue: escapeUnsafe(decision.server) },
  };
  if (decision.detail !== undefined) fields['detail'] = { stringValue: decision.detail };
  if (decision.entry !== undefined) fields['entry'] = { stringValue: decision.entry.id };
  if (decision.tool !== undefined) fields['tool'] = { stringValue: escapeUnsafe(decision.tool) };
  return { fields };
}

/**
 * The answer when mcp-gate could not judge the request (serviceFaultDecision): HTTP 503,
 * because the fault is ours, not the person's.
 */
export function serviceFaultResponse(
  reason: ServiceFaultReason,
  decisionId: string,
  policy: CompiledPolicy | undefined,
): { decision: Decision; response: CheckResponse } {
  const decision = serviceFaultDecision(reason, decisionId, policy?.version ?? '');
  const text = renderDenyMessage({
    template: policy?.denyTexts[reason] ?? DEFAULT_DENY_TEXTS[reason],
    reason,
    server: '',
    host: '',
    tool: undefined,
    reviewUrl: policy?.reviewUrl ?? '',
    entryId: undefined,
    decisionId,
  });
  return { decision, response: deniedResponse(decision, reason, textShape(reason, text)) };
}
