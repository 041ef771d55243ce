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
import type { ConditionSource, ConditionVariables, CostBudget } from './condition.js';
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
  const admitted: string[] = [];
  const messages = inspection.messages.length > 0 ? inspection.messages : BODYLESS;
  const headers = new ConditionHeaders(facts.headers);

  for (const message of messages) {
    const tool = message?.tool;
    const toolRules =
      tool === undefined || rules.toolRules.length === 0
        ? NO_TOOL_RULES
        : rules.toolRules.filter((rule) => rule.matches(tool));
    for (const rule of toolRules) {
      if (rule.access === undefined) continue;
      const refusal = rule.access.judge(principal, client);
      if (refusal !== undefined) {
        return refused(refusal.reason, refusal.identityMissing ? 'identity_missing' : undefined, {
          tool,
          why: refusal.why,
          rule: rule.accessLabel,
        });
      }
      admit(admitted, rule.accessLabel);
    }

    let conditions = rules.conditions;
    for (const rule of toolRules) {
      if (rule.conditions.length > 0) conditions = [...conditions, ...rule.conditions];
    }
    if (conditions.length === 0) continue;

    let args = NO_ARGS;
    const names = argumentNames(conditions);
    if (names !== undefined) {
      const reading = readToolArguments(
        message?.arguments,
        message?.argumentsRepeatKeys === true,
        names,
      );
      if (!reading.ok) {
        return refused('uninspectable', reading.detail, {
          tool,
          why: reading.message,
          rule: 'tool arguments',
        });
      }
      args = reading.args;
    }
    const bindings = rules.engine.bind(
      new MessageVariables(principal, client, entry.id, facts, message, args, headers),
    );
    for (const condition of conditions) {
      const outcome = condition.program.evaluate(bindings, budget);
      if (outcome.kind === 'holds') {
        admit(admitted, condition.label);
        continue;
      }
      if (outcome.kind === 'over_budget') {
        return refused('uninspectable', 'too_large', {
          tool,
          why: `the conditions of entry ${entry.id} would cost more than one check may spend`,
          rule: condition.label,
        });
      }
      return refused('condition_failed', undefined, {
        tool,
        why:
          outcome.kind === 'fails'
            ? `${condition.label} does not hold`
            : `${condition.label} could not be evaluated: ${outcome.message}`,
        rule: condition.label,
        condition: condition.source,
      });
    }
  }
  return { kind: 'admitted', admitted };
}

function admit(admitted: string[], label: string): void {
  if (!admitted.includes(label)) admitted.push(label);
}

/** The member names of the conditions that read `args`, or undefined when none does. */
function argumentNames(conditions: readonly CompiledCondition[]): ReadonlySet<string> | undefined {
  let names: Set<string> | undefined;
  for (const { program } of conditions) {
    if (!program.readsArgs) continue;
    names ??= new Set();
    for (const name of program.memberNames) names.add(name);
  }
  return names;
}

/** The `headers` variable of a request, built when a condition first reads it. */
class ConditionHeaders {
  readonly #raw: ReadonlyMap<string, string>;
  #filtered: ReadonlyMap<string, string> | undefined;

  constructor(raw: ReadonlyMap<string, string>) {
    this.#raw = raw;
  }

  get value(): ReadonlyMap<string, string> {
    this.#filtered ??= conditionHeaders(this.#raw);
    return this.#filtered;
  }
}

/** One message's variables; `headers` is read from the request's shared ConditionHeaders. */
class MessageVariables implements ConditionVariables {
  readonly user: string;
  readonly groups: readonly string[];
  readonly client: string;
  readonly server: string;
  readonly host: string;
  readonly path: string;
  readonly method: string;
  readonly tool: string;
  readonly args: JsonObject;
  readonly #headers: ConditionHeaders;

  constructor(
    principal: Principal,
    client: ClientName,
    server: string,
    facts: RequestFacts,
    message: McpMessage | undefined,
    args: JsonObject,
    headers: ConditionHeaders,
  ) {
    this.user = principal.user ?? '';
    this.groups = principal.groups ?? NO_GROUPS;
    this.client = client;
    this.server = server;
    this.host = facts.host;
    this.path = facts.path;
    this.method = message?.method ?? '';
    this.tool = message?.tool ?? '';
    this.args = args;
    this.#headers = headers;
  }

  get headers(): ReadonlyMap<string, string> {
    return this.#headers.value;
  }
}

const NO_GROUPS: readonly string[] = Object.freeze([]);

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
