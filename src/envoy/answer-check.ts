/**
 * One CheckRequest, judged and answered: facts (to-facts.ts) → inspection and decision
 * (src/core/pipeline.ts) → CheckResponse (to-response.ts). The one path from a decoded request to
 * the response Envoy gets: the gRPC handler (server.ts `check`, which adds telemetry and turns a
 * throw into an `internal_error` deny) and `mcp-gate explain` both call it, so what explain prints
 * is what the service answers.
 */
import type { Decision } from '../core/decision.js';
import type { RequestFacts } from '../core/facts.js';
import type { McpInspection } from '../core/mcp/inspection.js';
import { authorize } from '../core/pipeline.js';
import type { PolicySnapshot } from '../core/pipeline.js';
import type { CheckRequest, CheckResponse } from './check-types.js';
import { toRequestFacts } from './to-facts.js';
import { toCheckResponse } from './to-response.js';

export interface CheckAnswer {
  readonly facts: RequestFacts;
  readonly inspection: McpInspection;
  readonly decision: Decision;
  readonly response: CheckResponse;
}

/** Judges one decoded CheckRequest against a snapshot. May throw only on a fault of ours. */
export function answerCheck(
  snapshot: PolicySnapshot,
  request: CheckRequest,
  nowMs: number,
  decisionId: string,
): CheckAnswer {
  const facts = toRequestFacts(request);
  const { decision, inspection } = authorize(snapshot, facts, nowMs, decisionId);
  const response = toCheckResponse(decision, facts, inspection, snapshot.policy);
  return { facts, inspection, decision, response };
}
