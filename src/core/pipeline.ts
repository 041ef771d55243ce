/**
 * The whole pure path for one request: facts → MCP inspection → decision. The gRPC handler and
 * `mcp-gate explain` both go through here, so what explain prints is what the service does.
 */
import type { Decision } from './decision.js';
import type { RequestFacts } from './facts.js';
import type { CharsetDecoder } from './mcp/decode-body.js';
import { inspectMcp } from './mcp/inspect.js';
import type { InspectionLimits, McpInspection } from './mcp/inspection.js';
import { decide } from './policy/decide.js';
import type { CompiledPolicy, KnownHosts } from './policy/policy.js';

/** The policy state a decision is made against; swapped as one reference on reload. */
export interface PolicySnapshot {
  readonly policy: CompiledPolicy;
  readonly knownHosts: KnownHosts;
  readonly limits: InspectionLimits;
  /** Reads bodies in a charset other than UTF-8 (src/text/iconv-charsets.ts). */
  readonly charsets: CharsetDecoder;
}

export interface Authorization {
  readonly decision: Decision;
  readonly inspection: McpInspection;
}

/** Inspects and decides one request. Never throws for any facts. */
export function authorize(
  snapshot: PolicySnapshot,
  facts: RequestFacts,
  nowMs: number,
  decisionId: string,
): Authorization {
  const inspection = inspectMcp(facts, snapshot.limits, snapshot.charsets);
  const decision = decide({
    policy: snapshot.policy,
    knownHosts: snapshot.knownHosts,
    facts,
    inspection,
    nowMs,
    decisionId,
  });
  return { decision, inspection };
}
