/**
 * Judges the messages of a request against an entry's tool rules and conditions (decide.ts
 * step 7): for every message, the access rules of the tool rules that match its tool, then the
 * entry's conditions and those tool rules' conditions, in that order. A body-less request (a GET
 * stream) counts as one message without method or tool, so entry conditions still apply to it.
 *
 * Arguments are read for conditions only as every server would read them (tool-arguments.ts),
 * and all conditions of one Check share one cost budget (condition.ts). Pure; never throws.
 */
import { isCredentialHeader } from '../credential-headers.js';
import type { RequestFacts } from '../facts.js';
import type { ClientName } from '../mcp/client.js';
import type { InspectionDetail, McpInspection, McpMessage } from '../mcp/inspection.js';
import type { JsonObject } from '../mcp/json-rpc-body.js';
import { CHECK_CONDITION_BUDGET } from './condition.js';
import type { ConditionSource, CostBudget } from './condition.js';
import type { Principal } from './identity.js';
import type {
  CompiledCondition,
  CompiledEntry,
  CompiledToolRule,
  DenyReason,
  EntryRules,
} from './policy.js';
import { readToolArguments } from './tool-arguments.js';

export interface JudgeInput {
  readonly facts: RequestFacts;
  readonly inspection: McpInspection;
  readonly entry: CompiledEntry;
  readonly rules: EntryRules;
  readonly principal: Principal;
  readonly client: ClientName;
}

export type RuleVerdict =
  | {
      readonly kind: 'admitted';
      /** What admitted the request, in order, each once (`tool rule 1 access`). */
      readonly admitted: readonly string[];
    }
  | {
      readonly kind: 'refused';
      readonly reason: DenyReason;
      readonly detail: InspectionDetail | undefined;
      /** The tool of the refused message, if it was a tools/call. */
      readonly tool: string | undefined;
      readonly why: string;
      /** The access rule or condition that refused, as `admitted` names them. */
      readonly rule: string;
      readonly condition: ConditionSource | undefined;
    };

const NO_TOOL_RULES: readonly CompiledToolRule[] = [];
const NO_ARGS: JsonObject = Object.freeze({});
/** The one message of a body-less request. */
const BODYLESS: readonly (McpMessage | undefined)[] = [undefined];

export function judgeMessages(input: JudgeInput): RuleVerdict {
  const { facts, inspection, entry, rules, principal, client } = input;
  const budget: CostBudget = { remaining: CHECK_CONDITION_BUDGET };
  const admitted = new Set<string>();
  let headers: ReadonlyMap<string, string> | undefined;
  const messages = inspection.messages.length > 0 ? inspection.messages : BODYLESS;

  for (const message of messages) {
    const tool = message?.tool;
    const toolRules =
      tool === undefined || rules.toolRules.length === 0
        ? NO_TOOL_RULES
        : rules.toolRules.filter((rule) => rule.matches(tool));
    for (const rule of toolRules) {
      if (rule.access === undefined) continue;
      const name = `${rule.rule.origin} access`;
      const refusal = rule.access.judge(principal, client);
      if (refusal !== undefined) {
        return refused(refusal.reason, refusal.identityMissing ? 'identity_missing' : undefined, {
          tool,
          why: refusal.why,
          rule: name,
        });
      }
      admitted.add(name);
    }

    const conditions: CompiledCondition[] = [...rules.conditions];
    for (const rule of toolRules) conditions.push(...rule.conditions);
    if (conditions.length === 0) continue;

    let args = NO_ARGS;
    const names = new Set<string>();
    for (const condition of conditions) {
      if (condition.program.readsArgs) for (const n of condition.program.memberNames) names.add(n);
    }
    if (conditions.some((condition) => condition.program.readsArgs)) {
      const reading = readToolArguments(message?.arguments, names);
      if (!reading.ok) {
        return refused('uninspectable', reading.detail, {
          tool,
          why: reading.message,
          rule: 'tool arguments',
        });
      }
      args = reading.args;
    }
    headers ??= conditionHeaders(facts.headers);
    const bindings = rules.engine.bind({
      user: principal.user ?? '',
      groups: principal.groups ?? [],
      client,
      server: entry.id,
      host: facts.host,
      path: facts.path,
      method: message?.method ?? '',
      tool: tool ?? '',
      args,
      headers,
    });
    for (const condition of conditions) {
      const { source } = condition;
      const name = `${source.origin} condition ${JSON.stringify(source.description)}`;
      const outcome = condition.program.evaluate(bindings, budget);
      if (outcome.kind === 'holds') {
        admitted.add(name);
        continue;
      }
      if (outcome.kind === 'over_budget') {
        return refused('uninspectable', 'too_large', {
          tool,
          why: `the conditions of entry ${entry.id} would cost more than one check may spend`,
          rule: name,
        });
      }
      return refused('condition_failed', undefined, {
        tool,
        why:
          outcome.kind === 'fails'
            ? `${name} does not hold`
            : `${name} could not be evaluated: ${outcome.message}`,
        rule: name,
        condition: source,
      });
    }
  }
  return { kind: 'admitted', admitted: [...admitted] };
}

function refused(
  reason: DenyReason,
  detail: InspectionDetail | undefined,
  rest: {
    readonly tool: string | undefined;
    readonly why: string;
    readonly rule: string;
    readonly condition?: ConditionSource;
  },
): RuleVerdict {
  return { kind: 'refused', reason, detail, condition: undefined, ...rest };
}

/** The `headers` variable: no pseudo-headers, no credentials, no client-sent mcp-gate headers. */
function conditionHeaders(headers: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of headers) {
    if (name.startsWith(':') || name.startsWith('x-mcp-gate-') || isCredentialHeader(name)) {
      continue;
    }
    out.set(name, value);
  }
  return out;
}
