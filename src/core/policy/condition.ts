/**
 * Conditions: reviewed expressions over the tool request (`conditions:` on an entry or a tool
 * rule) that must all hold for an approval to apply. The core decides when a condition applies
 * and what its outcome means; the expression language itself (CEL, src/conditions/) is injected
 * as a ConditionEngine, so the core depends on no evaluator.
 *
 * Cost: no condition may stall a Check. The engine refuses, when the allowlist loads, expressions
 * whose cost cannot be bounded (nesting, size, functions whose output outgrows their input), and
 * charges what remains to a CostBudget shared by every condition of one Check; a Check whose
 * conditions would spend more is denied `uninspectable`/`too_large`, never allowed unevaluated.
 */
import type { JsonValue } from '../mcp/json-rpc-body.js';

/** One condition as written, plain data (it crosses the policy worker's thread boundary). */
export interface ConditionSource {
  /** The expression text, exactly as written. */
  readonly expr: string;
  /** What the condition requires, in the reviewer's words; shown in the deny text. */
  readonly description: string;
  /** Where it was written, for explain and logs: `entry`, `tool rule 2`, `bundle eng-default`. */
  readonly origin: string;
}

/**
 * The variables a condition sees. Strings are `""` and lists empty when the request has none
 * (no identity, not a tools/call), so an expression never meets an absent variable.
 */
export interface ConditionVariables {
  /** The user named by the `identity:` section, or `""`. */
  readonly user: string;
  readonly groups: readonly string[];
  /** The AI client (src/core/mcp/client.ts): self-reported, a scope, not an authentication. */
  readonly client: string;
  /** The matched entry's id. */
  readonly server: string;
  readonly host: string;
  /** The normalised request path. */
  readonly path: string;
  /** The JSON-RPC method of the message being judged, or `""` (a GET stream, a response). */
  readonly method: string;
  /** The `tools/call` tool name, or `""`. */
  readonly tool: string;
  /** The `tools/call` `params.arguments` object as JSON.parse read it; `{}` when absent. */
  readonly args: Readonly<Record<string, JsonValue>>;
  /** Request headers by lower-case name, credentials removed (credential-headers.ts). */
  readonly headers: ReadonlyMap<string, string>;
}

/** What evaluating one condition gave. */
export type ConditionOutcome =
  | { readonly kind: 'holds' }
  | { readonly kind: 'fails' }
  /** The expression raised an error (a missing key, a type mismatch): it did not hold. */
  | { readonly kind: 'error'; readonly message: string }
  /** The Check's budget ran out before the expression finished: it was not evaluated. */
  | { readonly kind: 'over_budget' };

/** The cost still available to the conditions of one Check; engines decrement it. */
export interface CostBudget {
  remaining: number;
}

/**
 * Cost units one Check may spend on conditions. A unit is about 50 ns of the slowest work of its
 * kind (src/conditions/cost.ts); measured, the whole budget is 6–10 ms of the worst work it
 * admits (docs/conditions.md "Cost").
 */
export const CHECK_CONDITION_BUDGET = 200_000;

/** A compiled condition, ready to run on the request thread. */
export interface ConditionProgram {
  /** Whether the expression reads `args` (so unreadable arguments make it unevaluable). */
  readonly readsArgs: boolean;
  /**
   * Every member name the expression selects or indexes with a constant (`args.query`,
   * `args["repo"]`, `headers["x-team"]`): a key in the arguments that a case-insensitive reader
   * would take for one of these, spelled differently, makes the request ambiguous.
   */
  readonly memberNames: ReadonlySet<string>;
  evaluate(bindings: ConditionBindings, budget: CostBudget): ConditionOutcome;
}

/** Variables converted once per message into the engine's own form; opaque to the core. */
export interface ConditionBindings {
  readonly variables: ConditionVariables;
}

/** The expression language, injected where policies are compiled. */
export interface ConditionEngine {
  /**
   * Compiles an expression that validation already accepted. Never throws: an expression that
   * fails to compile here gives a program whose every outcome is `error` (fail closed).
   */
  compile(expr: string): ConditionProgram;
  /** Converts the variables of one message; called at most once per message. */
  bind(variables: ConditionVariables): ConditionBindings;
}
