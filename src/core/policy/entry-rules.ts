/**
 * What an entry requires beyond host, path and tool lists: its access rules, tool rules and
 * conditions, with the bundles it `uses` expanded into them, and the `identity:` section that
 * says where users and groups come from.
 *
 * Two stages, because compiled entries cross a thread: toEntryRules gives plain data (in the
 * policy worker), compileEntryRules turns it into matchers and programs (on the request thread,
 * once per load). Expansion order is the entry's own rules, then each bundle's in `uses` order;
 * since every rule must admit, the order changes which refusal is reported, never whether.
 */
import { CLIENT_NAMES } from '../mcp/client.js';
import type { ClientName } from '../mcp/client.js';
import { asciiLower, compileAccess } from './access.js';
import type { AccessRule } from './access.js';
import type {
  ConditionEngine,
  ConditionOutcome,
  ConditionProgram,
  ConditionSource,
  ConditionVariables,
} from './condition.js';
import { compileGlobSet } from './glob.js';
import type { IdentityConfig, IdentitySource } from './identity.js';
import type {
  AccessInput,
  BundleInput,
  ConditionInput,
  IdentityInput,
  IdentitySourceInput,
  PolicyEntryInput,
  ToolRuleInput,
} from './policy-input.js';
import type {
  CompiledCondition,
  CompiledEntry,
  CompiledToolRule,
  EntryRules,
  ToolAccessRule,
} from './policy.js';

/** The plain-data part of CompiledEntry that this module owns. */
export type EntryRuleFields = Pick<
  CompiledEntry,
  'access' | 'conditions' | 'toolRules' | 'bundles'
>;

const EMPTY: readonly never[] = Object.freeze([]);

/** An entry's own rules and those of the bundles it uses, as plain frozen data. */
export function toEntryRules(
  source: PolicyEntryInput,
  bundles: Readonly<Record<string, BundleInput>> | undefined,
): EntryRuleFields {
  const access: AccessRule[] = [];
  const conditions: ConditionSource[] = [];
  const toolRules: ToolAccessRule[] = [];
  const add = (
    origin: string,
    part: {
      readonly access?: AccessInput | undefined;
      readonly conditions?: readonly ConditionInput[] | undefined;
      readonly rules?: readonly ToolRuleInput[] | undefined;
    },
  ): void => {
    if (part.access !== undefined) access.push(toAccessRule(part.access, origin));
    for (const condition of part.conditions ?? []) conditions.push(toCondition(condition, origin));
    (part.rules ?? []).forEach((rule, index) => {
      const ruleOrigin = `${origin === 'entry' ? '' : `${origin} `}tool rule ${index + 1}`;
      toolRules.push(
        Object.freeze({
          match: Object.freeze([...rule.match]),
          access: rule.access === undefined ? undefined : toAccessRule(rule.access, ruleOrigin),
          conditions: Object.freeze(
            (rule.conditions ?? []).map((condition) => toCondition(condition, ruleOrigin)),
          ),
          origin: ruleOrigin,
        }),
      );
    });
  };
  add('entry', {
    access: source.access,
    conditions: source.conditions,
    rules: source.tools?.rules,
  });
  const used = source.uses ?? [];
  for (const name of used) {
    const bundle =
      bundles !== undefined && Object.hasOwn(bundles, name) ? bundles[name] : undefined;
    // Validation refuses an unknown bundle; should one slip through, it admits nobody.
    add(`bundle ${name}`, bundle ?? { access: { users: [], groups: [] } });
  }
  return Object.freeze({
    access: access.length === 0 ? EMPTY : Object.freeze(access),
    conditions: conditions.length === 0 ? EMPTY : Object.freeze(conditions),
    toolRules: toolRules.length === 0 ? EMPTY : Object.freeze(toolRules),
    bundles: used.length === 0 ? EMPTY : Object.freeze([...used]),
  });
}

function toAccessRule(input: AccessInput, origin: string): AccessRule {
  const known: ReadonlySet<string> = new Set(CLIENT_NAMES);
  return Object.freeze({
    users: input.users === undefined ? undefined : Object.freeze(input.users.map(asciiLower)),
    groups: input.groups === undefined ? undefined : Object.freeze([...input.groups]),
    clients:
      input.clients === undefined
        ? undefined
        : Object.freeze(input.clients.filter((c): c is ClientName => known.has(c))),
    origin,
  });
}

function toCondition(input: ConditionInput, origin: string): ConditionSource {
  return Object.freeze({ expr: input.expr, description: input.description, origin });
}

/** The `identity:` section as plain data; undefined when absent. */
export function toIdentityConfig(input: IdentityInput | undefined): IdentityConfig | undefined {
  if (input === undefined) return undefined;
  return Object.freeze({
    user: toIdentitySource(input.user),
    groups: toIdentitySource(input.groups),
    jwt:
      input.jwt === undefined
        ? undefined
        : Object.freeze({
            namespace: input.jwt.metadata_namespace,
            payloadKey: input.jwt.payload_key,
          }),
  });
}

function toIdentitySource(input: IdentitySourceInput | undefined): IdentitySource | undefined {
  if (input === undefined) return undefined;
  if (input.header !== undefined) {
    return Object.freeze({
      from: 'header',
      name: input.header.toLowerCase(),
      separator: input.separator,
    });
  }
  if (input.jwt_claim !== undefined) {
    const claim = typeof input.jwt_claim === 'string' ? [input.jwt_claim] : [...input.jwt_claim];
    return Object.freeze({
      from: 'jwt_claim',
      claim: Object.freeze(claim),
      separator: input.separator,
    });
  }
  if (input.peer !== undefined) return Object.freeze({ from: 'peer', field: input.peer });
  return undefined;
}

/** An engine for policies compiled without one: every condition is an error, so none admits. */
export const NO_CONDITION_ENGINE: ConditionEngine = Object.freeze({
  compile(): ConditionProgram {
    const outcome: ConditionOutcome = { kind: 'error', message: 'no condition engine' };
    return { readsArgs: false, memberNames: new Set<string>(), evaluate: () => outcome };
  },
  bind(variables: ConditionVariables) {
    return { variables };
  },
});

/** Compiles an entry's rules for the request path; `programs` shares programs across entries. */
export function compileEntryRules(
  entry: CompiledEntry,
  engine: ConditionEngine,
  programs: Map<string, ConditionProgram>,
): EntryRules {
  const compileCondition = (source: ConditionSource): CompiledCondition => {
    let program = programs.get(source.expr);
    if (program === undefined) {
      program = engine.compile(source.expr);
      programs.set(source.expr, program);
    }
    const label = `${source.origin} condition ${JSON.stringify(source.description)}`;
    return Object.freeze({ source, program, label });
  };
  const toolRules: CompiledToolRule[] = entry.toolRules.map((rule) =>
    Object.freeze({
      rule,
      matches: compileGlobSet(rule.match),
      access: rule.access === undefined ? undefined : compileAccess(rule.access),
      accessLabel: `${rule.origin} access`,
      conditions: Object.freeze(rule.conditions.map(compileCondition)),
    }),
  );
  return Object.freeze({
    access: Object.freeze(entry.access.map(compileAccess)),
    conditions: Object.freeze(entry.conditions.map(compileCondition)),
    toolRules: Object.freeze(toolRules),
    engine,
    none: entry.access.length === 0 && entry.conditions.length === 0 && toolRules.length === 0,
  });
}
