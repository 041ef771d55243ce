/**
 * Decision: the plain value the pipeline returns for one request, whatever the verdict.
 * It feeds the CheckResponse, the audit log line and the metrics alike, so all three always
 * agree on reason, entry and decision id.
 */
import type { ClientName } from './mcp/client.js';
import type { InspectionDetail } from './mcp/inspection.js';
import type { ConditionSource } from './policy/condition.js';
import type { Principal } from './policy/identity.js';
import { NO_PRINCIPAL } from './policy/identity.js';
import type { AllowReason, CompiledEntry, DenyReason } from './policy/policy.js';

/** What every decision carries, whatever its verdict. */
interface DecisionCommon {
  /** Decision id: 20 characters from a digit-free alphabet (see decision-id.ts). */
  readonly id: string;
  readonly detail: InspectionDetail | undefined;
  /** The entry that matched, if any. */
  readonly entry: CompiledEntry | undefined;
  /** `{server}` in texts: the entry id, or the host when no entry matched. */
  readonly server: string;
  /** The tool that decided (a denied one, or the first called one), if any. */
  readonly tool: string | undefined;
  /** Whether the request was recognised as MCP. */
  readonly isMcp: boolean;
  /**
   * The AI client the request says it comes from (src/core/mcp/client.ts): self-reported, so it
   * can scope an approval (`access.clients`) but proves nothing. `none` when not MCP.
   */
  readonly client: ClientName;
  /** Who the request is from, as the allowlist's `identity:` section reads it. */
  readonly principal: Principal;
  /**
   * The access rules and conditions that decided: for a deny the one that refused, for an allow
   * every one that admitted (`entry access`, `tool rule 1 condition "only SELECT"`). For explain.
   */
  readonly rules: readonly string[];
  /** The condition that did not hold, when the reason is `condition_failed`. */
  readonly condition: ConditionSource | undefined;
  /**
   * True when the denial concerns one tool call rather than the server (a tool outside the
   * tool rules, a tool rule's access, a condition on a call): clients show it as a tool result.
   */
  readonly toolLevel: boolean;
  readonly allowlistVersion: string;
  /** A short explanation for logs and explain (never sent to the client). */
  readonly explanation: string;
}

/** The request passes, and nothing refused it. */
export interface Allowed extends DecisionCommon {
  readonly verdict: 'allow';
  readonly reason: AllowReason;
  readonly dryRun: false;
}

/**
 * The request passes only because dry-run turned a deny into an allow: `reason` keeps the deny
 * reason, which the upstream sees in `x-mcp-gate-would-deny` and the log as `would_deny`.
 */
export interface WouldDeny extends DecisionCommon {
  readonly verdict: 'allow';
  readonly reason: DenyReason;
  readonly dryRun: true;
}

/** The request is refused. */
export interface Denied extends DecisionCommon {
  readonly verdict: 'deny';
  readonly reason: DenyReason;
  readonly dryRun: false;
}

/**
 * One of three outcomes, told apart by `verdict` and `dryRun`: checking `verdict === 'deny'`
 * or `dryRun` narrows `reason` to a DenyReason without a cast.
 */
export type Decision = Allowed | WouldDeny | Denied;

/** Reasons that say nothing about the request, only about mcp-gate's own state. */
export type ServiceFaultReason = Extract<DenyReason, 'internal_error' | 'overloaded'>;

export function isServiceFault(reason: DenyReason): reason is ServiceFaultReason {
  return reason === 'internal_error' || reason === 'overloaded';
}

/**
 * The decision when mcp-gate could not judge the request: the Check path failed
 * (`internal_error`) or the check was shed under load (`overloaded`). A deny whatever the mode,
 * made without reading the request, so it cannot fail the way the request did; for the same
 * reason it names no client, entry or principal.
 */
export function serviceFaultDecision(
  reason: ServiceFaultReason,
  decisionId: string,
  allowlistVersion: string,
): Denied {
  return {
    id: decisionId,
    verdict: 'deny',
    reason,
    detail: undefined,
    dryRun: false,
    entry: undefined,
    server: '',
    tool: undefined,
    isMcp: false,
    client: 'none',
    principal: NO_PRINCIPAL,
    rules: [],
    condition: undefined,
    toolLevel: false,
    allowlistVersion,
    explanation: reason === 'overloaded' ? 'shed under load' : 'internal error',
  };
}
