/**
 * The decision: a pure, total function of the request facts, the MCP inspection, the compiled
 * allowlist, the known-MCP-host list and the clock.
 *
 * Order of judgement for MCP traffic (the first that applies wins):
 * 1. no entry matches → `unapproved` (or allow with `default_action: allow`);
 * 2. the entry expired → `expired`; 3. its review stamp no longer matches → `rotation`, or its
 *    review signatures do not hold (with a trust file) → `rotation`, detail `signature`;
 * 4. the body could not be inspected where it matters → `uninspectable`;
 * 5. the user, groups or AI client are outside the entry's access rules →
 *    `principal_not_allowed` / `client_not_allowed`;
 * 6. a `tools/call` for a tool the entry does not allow → `tool_not_allowed`;
 * 7. per message: a matching tool rule's access refuses → `principal_not_allowed` /
 *    `client_not_allowed`; a condition (the entry's, then the tool rules') does not hold →
 *    `condition_failed`, or cannot be evaluated → `uninspectable`;
 * 8. otherwise `approved`.
 * Server-level reasons come first because they are what the person must act on.
 * CONNECT and SNI-only checks see just a host: approved hosts pass, unless an entry for the host
 * has tool, path or port rules (the inspection set): Envoy should have intercepted that tunnel,
 * so it is `uninspectable`/`tunnel_not_inspected`. Known MCP hosts that are not approved are
 * `unapproved`; everything else passes (we cannot tell). An authority we cannot read
 * with certainty (facts host `""`) is never let through as an unknown host: Envoy may read it as
 * a host we would deny (`mcp.linear.app:0443` is port 443 to Envoy).
 * Dry-run (global, or the matched entry's own mode) turns a deny into an allow flagged `dryRun`.
 */
import type { Decision } from '../decision.js';
import type { RequestFacts } from '../facts.js';
import { classifyClient } from '../mcp/client.js';
import type { ClientName } from '../mcp/client.js';
import type { InspectionDetail, McpInspection } from '../mcp/inspection.js';
import type { ConditionSource } from './condition.js';
import { NO_PRINCIPAL, resolvePrincipal } from './identity.js';
import type { Principal } from './identity.js';
import { judgeMessages } from './judge-rules.js';
import type { RuleVerdict } from './judge-rules.js';
import type {
  AllowReason,
  CompiledEntry,
  CompiledPolicy,
  DenyReason,
  EntryRules,
  KnownHosts,
} from './policy.js';

export interface DecideInput {
  readonly policy: CompiledPolicy;
  readonly knownHosts: KnownHosts;
  readonly facts: RequestFacts;
  readonly inspection: McpInspection;
  /** Wall clock, epoch milliseconds. */
  readonly nowMs: number;
  readonly decisionId: string;
}

/** Decides one request. Never throws for any facts and inspection. */
export function decide(input: DecideInput): Decision {
  const { facts, inspection } = input;
  if (facts.isConnect) return decideHostOnly(input);
  if (!inspection.isMcp) {
    return allow(input, 'not_mcp', undefined, undefined, 'not MCP traffic');
  }

  const { policy } = input;
  const entry = policy.matchRequest(facts.host, facts.port, facts.path);
  if (entry === undefined) {
    if (policy.defaultAction === 'deny') {
      return deny(
        input,
        'unapproved',
        undefined,
        undefined,
        undefined,
        'no approved entry matches',
      );
    }
    if (facts.host === '') {
      return denyAmbiguousAuthority(input);
    }
    if (inspection.failure?.scope === 'always') {
      return deny(
        input,
        'uninspectable',
        undefined,
        inspection.failure.detail,
        undefined,
        inspection.failure.message,
      );
    }
    return allow(input, 'default_allow', undefined, firstTool(inspection), 'default_action: allow');
  }

  const serverLevel = serverLevelDenial(entry, input.nowMs);
  if (serverLevel !== undefined) {
    const { reason, detail, why } = serverLevel;
    return deny(input, reason, entry, detail, undefined, why);
  }

  const rules = policy.rulesOf(entry);
  const failure = inspection.failure;
  const needsBody =
    entry.tools !== undefined || rules.conditions.length > 0 || rules.toolRules.length > 0;
  if (failure !== undefined && (failure.scope === 'always' || needsBody)) {
    return deny(input, 'uninspectable', entry, failure.detail, undefined, failure.message);
  }

  const principal = resolvePrincipal(policy.identity, facts);
  const client = classifyClient(inspection, true);
  const refused = denyByEntryAccess(input, entry, rules, principal, client);
  if (refused !== undefined) return refused;

  if (entry.tools !== undefined) {
    for (const message of inspection.messages) {
      if (message.tool !== undefined && !policy.isToolAllowed(entry, message.tool)) {
        return deny(
          input,
          'tool_not_allowed',
          entry,
          undefined,
          message.tool,
          `tool ${JSON.stringify(message.tool)} is outside entry ${entry.id}'s tool rules`,
          { principal, client, toolLevel: true },
        );
      }
    }
  }

  let admitted: readonly string[] = [];
  if (!rules.none) {
    const verdict = judgeMessages({ facts, inspection, entry, rules, principal, client });
    if (verdict.kind === 'refused') return denyByRule(input, entry, principal, client, verdict);
    admitted = verdict.admitted;
  }
  const why =
    admitted.length === 0
      ? `approved by entry ${entry.id}`
      : `approved by entry ${entry.id} (${admitted.join('; ')})`;
  return allow(input, 'approved', entry, firstTool(inspection), why, {
    principal,
    client,
    rules: admitted,
  });
}

/** The denial by the first of the entry's access rules that refuses, if one does. */
function denyByEntryAccess(
  input: DecideInput,
  entry: CompiledEntry,
  rules: EntryRules,
  principal: Principal,
  client: ClientName,
): Decision | undefined {
  for (const access of rules.access) {
    const refusal = access.judge(principal, client);
    if (refusal === undefined) continue;
    return deny(
      input,
      refusal.reason,
      entry,
      refusal.identityMissing ? 'identity_missing' : undefined,
      undefined,
      refusal.why,
      { principal, client, rules: [`${access.rule.origin} access`] },
    );
  }
  return undefined;
}

/** A refusal by a tool rule's access or a condition, as a Decision. */
function denyByRule(
  input: DecideInput,
  entry: CompiledEntry,
  principal: Principal,
  client: ClientName,
  verdict: Extract<RuleVerdict, { kind: 'refused' }>,
): Decision {
  return deny(input, verdict.reason, entry, verdict.detail, verdict.tool, verdict.why, {
    principal,
    client,
    rules: [verdict.rule],
    condition: verdict.condition,
    toolLevel: verdict.tool !== undefined,
  });
}

function decideHostOnly(input: DecideInput): Decision {
  const { policy, facts } = input;
  const host = facts.host;
  if (host === '') {
    return denyAmbiguousAuthority(input);
  }
  const broadest = policy.matchHost(host);
  if (broadest !== undefined) {
    const inspected = policy.inspectionEntry(host);
    const entry = inspected ?? broadest;
    const serverLevel = serverLevelDenial(entry, input.nowMs);
    if (serverLevel !== undefined) {
      const { reason, detail, why } = serverLevel;
      return deny(input, reason, entry, detail, undefined, why);
    }
    if (inspected !== undefined) {
      return deny(
        input,
        'uninspectable',
        inspected,
        'tunnel_not_inspected',
        undefined,
        `entry ${inspected.id} has rules that need the request itself, but this tunnel to ` +
          `${host} was not intercepted (render the Envoy config from this allowlist)`,
      );
    }
    // Who may use the server travels on the CONNECT too (its headers, the TLS peer).
    const principal = resolvePrincipal(policy.identity, facts);
    const client = classifyClient(input.inspection, true);
    const refused = denyByEntryAccess(input, entry, policy.rulesOf(entry), principal, client);
    if (refused !== undefined) return refused;
    return allow(input, 'approved', entry, undefined, `host approved by entry ${entry.id}`, {
      principal,
      client,
    });
  }
  if (input.knownHosts.isKnownMcpHost(host)) {
    if (policy.defaultAction === 'allow') {
      return allow(input, 'default_allow', undefined, undefined, 'default_action: allow');
    }
    return deny(
      input,
      'unapproved',
      undefined,
      undefined,
      undefined,
      'a known MCP host that no entry approves',
    );
  }
  return allow(
    input,
    'unknown_host',
    undefined,
    undefined,
    'tunnel to a host not known to serve MCP',
  );
}

/** The authority cannot be read with certainty: Envoy may reach a host we would deny. */
function denyAmbiguousAuthority(input: DecideInput): Decision {
  const authority = JSON.stringify(input.facts.authority);
  return deny(
    input,
    'uninspectable',
    undefined,
    'ambiguous_authority',
    undefined,
    `authority ${authority} cannot be read with certainty`,
  );
}

/**
 * Steps 2 and 3 of the order of judgement: an entry that expired (`nowMs` on or after the day
 * after `expires_on`), whose review stamp no longer matches, or (with a reviewers file) whose
 * signatures do not hold approves nothing. Also used by the
 * endpoint inventory, so a stdio or http approval is judged by the same rules off the request
 * path.
 */
export function serverLevelDenial(
  entry: CompiledEntry,
  nowMs: number,
): { reason: DenyReason; detail: InspectionDetail | undefined; why: string } | undefined {
  if (nowMs >= entry.expiresAtMs) {
    return {
      reason: 'expired',
      detail: undefined,
      why: `entry ${entry.id} expired after ${entry.expiresOn}`,
    };
  }
  if (entry.stampMismatch) {
    return {
      reason: 'rotation',
      detail: undefined,
      why: `entry ${entry.id} changed since its review stamp`,
    };
  }
  if (entry.signatureProblem !== undefined) {
    return {
      reason: 'rotation',
      detail: 'signature',
      why: `entry ${entry.id} has no valid review signature: ${entry.signatureProblem}`,
    };
  }
  return undefined;
}

function firstTool(inspection: McpInspection): string | undefined {
  for (const message of inspection.messages) {
    if (message.tool !== undefined) return message.tool;
  }
  return undefined;
}

function allow(
  input: DecideInput,
  reason: AllowReason,
  entry: CompiledEntry | undefined,
  tool: string | undefined,
  explanation: string,
  context: DecisionContext = {},
): Decision {
  const isMcp = input.inspection.isMcp || input.facts.isConnect;
  return {
    id: input.decisionId,
    verdict: 'allow',
    reason,
    detail: undefined,
    dryRun: false,
    entry,
    server: entry?.id ?? serverName(input),
    tool,
    isMcp,
    client: context.client ?? classifyClient(input.inspection, isMcp),
    principal:
      context.principal ??
      (isMcp ? resolvePrincipal(input.policy.identity, input.facts) : NO_PRINCIPAL),
    rules: context.rules ?? NO_RULES,
    condition: undefined,
    toolLevel: false,
    allowlistVersion: input.policy.version,
    explanation,
  };
}

const NO_RULES: readonly string[] = Object.freeze([]);

/** What a decision adds beyond its reason, when decide already knows it. */
interface DecisionContext {
  readonly principal?: Principal;
  readonly client?: ClientName;
  readonly rules?: readonly string[];
}

/** What a denial adds: also which condition refused, and whether it is about one call. */
interface DenyContext extends DecisionContext {
  readonly condition?: ConditionSource | undefined;
  readonly toolLevel?: boolean;
}

function deny(
  input: DecideInput,
  reason: DenyReason,
  entry: CompiledEntry | undefined,
  detail: InspectionDetail | undefined,
  tool: string | undefined,
  explanation: string,
  context: DenyContext = {},
): Decision {
  const mode = entry?.mode ?? input.policy.mode;
  const common = {
    id: input.decisionId,
    detail,
    entry,
    server: entry?.id ?? serverName(input),
    tool: tool ?? firstTool(input.inspection),
    isMcp: true,
    client: context.client ?? classifyClient(input.inspection, true),
    principal: context.principal ?? resolvePrincipal(input.policy.identity, input.facts),
    rules: context.rules ?? NO_RULES,
    condition: context.condition,
    toolLevel: context.toolLevel ?? false,
    allowlistVersion: input.policy.version,
  };
  if (mode === 'dry-run') {
    const explained = `dry-run, would deny: ${explanation}`;
    return { ...common, verdict: 'allow', reason, dryRun: true, explanation: explained };
  }
  return { ...common, verdict: 'deny', reason, dryRun: false, explanation };
}

function serverName(input: DecideInput): string {
  const { facts } = input;
  if (facts.host !== '') return facts.host;
  if (facts.sni !== undefined && facts.sni !== '') return facts.sni;
  return facts.authority;
}
