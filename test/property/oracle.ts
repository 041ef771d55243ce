/**
 * Running one generated case through the pure pipeline exactly as the Check handler does
 * (CheckRequest → toRequestFacts → authorize → toCheckResponse), and the tests' own judgement of
 * what the case is: does it carry MCP, which tools would a server call, and which documented
 * blind spot (README, SECURITY.md "What mcp-gate cannot see") it falls into, if any.
 */
import { isDecisionId } from '../../src/core/decision-id.js';
import type { RequestFacts } from '../../src/core/facts.js';
import { authorize } from '../../src/core/pipeline.js';
import type { Authorization, PolicySnapshot } from '../../src/core/pipeline.js';
import type { CheckRequest, CheckResponse } from '../../src/envoy/check-types.js';
import { toRequestFacts } from '../../src/envoy/to-facts.js';
import { toCheckResponse } from '../../src/envoy/to-response.js';
import { envoyCheckRequest } from '../helpers/envoy-check-request.js';
import type { FuzzCase } from './arbitraries.js';
import { NOW_MS, snapshotFor } from './fixtures.js';
import { REFERENCE_MCP_METHODS, hasMcpHeader, serverViews } from './server-view.js';
import type { ClientRequest } from './server-view.js';

/** A valid decision id (20 characters of the digit-free alphabet). */
export const DECISION_ID_A = 'abcdefghjkmnpqrstuvw';
export const DECISION_ID_B = 'wvutsrqpnmkjhgfedcba';
if (!isDecisionId(DECISION_ID_A) || !isDecisionId(DECISION_ID_B)) {
  throw new Error('test decision ids must be valid decision ids');
}

/** The CheckRequest Envoy sends for the case. */
export function checkRequestFor(c: FuzzCase): CheckRequest {
  if (c.bodyBuffered) return envoyCheckRequest(c.request);
  // An empty body is "the request ended with its headers" to the builder: nothing buffered.
  return envoyCheckRequest({ ...c.request, body: new Uint8Array(0) });
}

export function clientRequestOf(c: FuzzCase): ClientRequest {
  return { method: c.request.method, headers: c.request.headers, body: c.request.body };
}

export interface Evaluation {
  readonly facts: RequestFacts;
  readonly authorization: Authorization;
  readonly response: CheckResponse;
}

/** The Check handler's pure path for one case. */
export function evaluate(
  c: FuzzCase,
  decisionId: string = DECISION_ID_A,
  snapshot: PolicySnapshot = snapshotFor(c.policy),
  request: CheckRequest = checkRequestFor(c),
): Evaluation {
  const facts = toRequestFacts(request);
  const authorization = authorize(snapshot, facts, NOW_MS, decisionId);
  const response = toCheckResponse(
    authorization.decision,
    facts,
    authorization.inspection,
    snapshot.policy,
  );
  return { facts, authorization, response };
}

/** MCP by the brief's definition: MCP request headers, or a body a server reads as MCP. */
export function carriesMcp(c: FuzzCase): boolean {
  const request = clientRequestOf(c);
  return hasMcpHeader(request) || serverViews(request).some((v) => v.messages.some((m) => m.isMcp));
}

function wasTruncated(c: FuzzCase): boolean {
  const body = c.request.body;
  return (
    c.bodyBuffered && body !== undefined && body.length > (c.request.maxRequestBytes ?? Infinity)
  );
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why the case lies outside what mcp-gate can promise, citing the documented limitation, or
 * undefined when the security invariants must hold for it.
 */
export function documentedBlindSpot(c: FuzzCase): string | undefined {
  const request = clientRequestOf(c);
  const headers = hasMcpHeader(request);
  // README "With Envoy": bodies must be sent; without one and without MCP headers nothing shows.
  if (!c.bodyBuffered && !headers) return 'envoy sends no body and the client sent no MCP header';
  // README: pack_as_bytes: true, because Envoy's string form rewrites invalid UTF-8 as "!".
  const body = c.request.body;
  if (c.request.packAsBytes !== true && body !== undefined && !isValidUtf8(body)) {
    return 'pack_as_bytes is off and the body is not UTF-8';
  }
  // SECURITY.md: a cut body whose visible part shows no MCP signal is treated as non-MCP.
  if (wasTruncated(c) && !headers && body !== undefined) {
    // What the visible bytes show once NULs (UTF-16) and \u escapes are set aside.
    const visible = Buffer.from(body.subarray(0, c.request.maxRequestBytes))
      .toString('latin1')
      .replace(/\0/g, '')
      .replace(/\\u([0-9a-fA-F]{4})/g, (_match, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      )
      .replace(/\\\//g, '/');
    const methods = serverViews(request).flatMap((v) => v.messages.map((m) => m.method));
    const shown = methods.some((m) => REFERENCE_MCP_METHODS.has(m) && visible.includes(`"${m}"`));
    if (!shown) return 'body cut by Envoy before any MCP method name';
  }
  return undefined;
}

/** A one-paragraph account of what mcp-gate decided, for failure messages. */
export function describe(evaluation: Evaluation): string {
  const { decision, inspection } = evaluation.authorization;
  return JSON.stringify({
    verdict: decision.verdict,
    reason: decision.reason,
    detail: decision.detail,
    entry: decision.entry?.id,
    tool: decision.tool,
    dryRun: decision.dryRun,
    host: evaluation.facts.host,
    port: evaluation.facts.port,
    path: evaluation.facts.path,
    signals: inspection.signals,
    messages: inspection.messages.map((m) => `${m.kind}:${m.method ?? ''}:${m.tool ?? ''}`),
  });
}
