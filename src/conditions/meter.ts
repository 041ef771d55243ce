/**
 * The meter: how functions called by the CEL evaluator charge the Check's CostBudget.
 *
 * The evaluator gives a function only its arguments, so the budget of the evaluation under way
 * is held here for the duration of one synchronous `metered` call (evaluation never awaits, so
 * no other evaluation can interleave). A charge that does not fit marks the meter exhausted and
 * throws; @bufbuild/cel turns every exception of a function into an error value, which `||` or
 * `&&` may then discard (`error || true` is true), so `metered` reports exhaustion from the
 * flag, never from the result: an exhausted evaluation is over budget whatever it returned.
 */
import type { CostBudget } from '../core/policy/condition.js';

interface Meter {
  readonly budget: CostBudget;
  exhausted: boolean;
}

let active: Meter | undefined;

/** The exception a charge that does not fit throws; the evaluator wraps it into an error value. */
class OverBudget extends Error {
  constructor() {
    super('the conditions of this Check ran out of budget');
  }
}

/**
 * Charges `units` to the evaluation under way, or throws. Outside `metered` it throws too: a
 * function of the environment run without a budget is a bug, and must not run unbounded.
 */
export function charge(units: number): void {
  const meter = active;
  if (meter === undefined) throw new Error('a condition function ran outside an evaluation');
  if (meter.exhausted || !(units <= meter.budget.remaining)) {
    meter.exhausted = true;
    throw new OverBudget();
  }
  meter.budget.remaining -= units;
}

/** The units still available to the evaluation under way (0 outside one). */
export function remainingUnits(): number {
  return active === undefined || active.exhausted ? 0 : active.budget.remaining;
}

/**
 * Runs `evaluate` with `budget` as the meter's budget. Error values are built by the evaluator
 * for every failed operation (a number compared with a string, a missing key), and V8 captures
 * a stack trace for each, which costs five times the error itself; their stacks are never read,
 * so capture is off while the expression runs.
 */
export function metered<T>(
  budget: CostBudget,
  evaluate: () => T,
): { readonly value: T; readonly exhausted: boolean } {
  const meter: Meter = { budget, exhausted: false };
  const outer = active;
  const stackTraceLimit = Error.stackTraceLimit;
  active = meter;
  Error.stackTraceLimit = 0;
  try {
    const value = evaluate();
    return { value, exhausted: meter.exhausted };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    active = outer;
  }
}
