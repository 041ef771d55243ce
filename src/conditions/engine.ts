/**
 * The CEL condition engine: src/core/policy/condition.ts's ConditionEngine, on @bufbuild/cel.
 *
 * compile() validates again (validate.ts; it is cheap) and plans once; a refused expression
 * gives a program whose every outcome is `error`. evaluate() never throws, and never runs work
 * it has not been paid for:
 * 1. it charges the static estimate (cost.ts): NODE_UNITS × (nodes + for each comprehension
 *    (body nodes + 1) × the size of its range, read from these bindings). If that exceeds the
 *    budget the outcome is `over_budget` and nothing runs (a 100,000-element list costs nothing
 *    to refuse);
 * 2. it evaluates with the meter on (meter.ts); functions whose time grows with their input
 *    charge it first, and one that does not fit makes the outcome `over_budget`, whatever the
 *    expression made of the error;
 * 3. an error value is `error` with its message; a result that is not a bool (a `dyn`
 *    expression that gave a string) is `error`; true holds, false fails.
 *
 * Error messages are the evaluator's, cut to MAX_MESSAGE_LENGTH: a few quote a value of the
 * request (`bool("x")` says it cannot convert 'x'), so treat them as request data.
 */
import { celType, isCelError, isCelList, isCelMap, plan } from '@bufbuild/cel';
import type { CelResult, CelValue } from '@bufbuild/cel';
import type {
  ConditionBindings,
  ConditionEngine,
  ConditionOutcome,
  ConditionProgram,
  ConditionVariables,
  CostBudget,
} from '../core/policy/condition.js';
import type { RangePath } from './ast.js';
import type { Analysis } from './check.js';
import { NODE_UNITS } from './cost.js';
import { CONDITION_ENV } from './environment.js';
import { metered } from './meter.js';
import { analyseCondition } from './validate.js';
import { toCelValue } from './values.js';

/** The longest error message an outcome carries. */
export const MAX_MESSAGE_LENGTH = 300;

const HOLDS: ConditionOutcome = Object.freeze({ kind: 'holds' });
const FAILS: ConditionOutcome = Object.freeze({ kind: 'fails' });
const OVER_BUDGET: ConditionOutcome = Object.freeze({ kind: 'over_budget' });

type Values = Readonly<Record<string, CelValue>>;

/** Bindings made by this engine: the variables as CEL values. */
class CelBindings implements ConditionBindings {
  readonly variables: ConditionVariables;
  readonly values: Values;

  constructor(variables: ConditionVariables, values: Values) {
    this.variables = variables;
    this.values = values;
  }
}

/**
 * The variables as the evaluator reads them (by name, `values[name]`). The scalars are plain
 * fields; the containers are converted when an expression first reads them, since most
 * conditions read one or two variables and a Check should not pay for headers it never reads.
 * The prototype chain ends here, without Object.prototype: `constructor` or `toString` must not
 * resolve to anything (check.ts refuses unknown names; this keeps it so at run time).
 */
class LazyValues {
  readonly user: string;
  readonly client: string;
  readonly server: string;
  readonly host: string;
  readonly path: string;
  readonly method: string;
  readonly tool: string;
  readonly #variables: ConditionVariables;
  #groups: CelValue | undefined;
  #args: CelValue | undefined;
  #headers: CelValue | undefined;

  constructor(variables: ConditionVariables) {
    this.#variables = variables;
    this.user = variables.user;
    this.client = variables.client;
    this.server = variables.server;
    this.host = variables.host;
    this.path = variables.path;
    this.method = variables.method;
    this.tool = variables.tool;
  }

  get groups(): CelValue {
    this.#groups ??= toCelValue(this.#variables.groups);
    return this.#groups;
  }

  get args(): CelValue {
    this.#args ??= toCelValue(this.#variables.args);
    return this.#args;
  }

  get headers(): CelValue {
    this.#headers ??= toCelValue(Object.fromEntries(this.#variables.headers));
    return this.#headers;
  }
}
Object.setPrototypeOf(LazyValues.prototype, null);
Reflect.deleteProperty(LazyValues.prototype, 'constructor');

function toBindings(variables: ConditionVariables): CelBindings {
  return new CelBindings(variables, new LazyValues(variables) as unknown as Values);
}

function errorOutcome(message: string): ConditionOutcome {
  return { kind: 'error', message: message.slice(0, MAX_MESSAGE_LENGTH) };
}

/** The number of elements (or keys) a comprehension's range has in `values`; 0 if none. */
function rangeSize(values: Values, range: RangePath): number {
  let value: CelValue | undefined = values[range.variable];
  for (const key of range.keys) {
    if (isCelMap(value)) value = value.get(key);
    else if (isCelList(value) && typeof key === 'number') value = value.get(key);
    else return 0;
  }
  return isCelList(value) || isCelMap(value) ? value.size : 0;
}

/** The units `analysis` costs before its functions charge anything, for these values. */
function staticCost(analysis: Analysis, values: Values): number {
  let nodes = analysis.nodes;
  for (const { range, bodyNodes } of analysis.comprehensions) {
    nodes += (bodyNodes + 1) * rangeSize(values, range);
  }
  return nodes * NODE_UNITS;
}

class CelProgram implements ConditionProgram {
  private readonly run: (values: Values) => CelResult;
  private readonly analysis: Analysis;

  constructor(run: (values: Values) => CelResult, analysis: Analysis) {
    this.run = run;
    this.analysis = analysis;
  }

  get readsArgs(): boolean {
    return this.analysis.readsArgs;
  }

  get memberNames(): ReadonlySet<string> {
    return this.analysis.memberNames;
  }

  evaluate(bindings: ConditionBindings, budget: CostBudget): ConditionOutcome {
    try {
      const { values } =
        bindings instanceof CelBindings ? bindings : toBindings(bindings.variables);
      const estimate = staticCost(this.analysis, values);
      if (!(estimate <= budget.remaining)) return OVER_BUDGET;
      budget.remaining -= estimate;
      const { value, exhausted } = metered(budget, () => this.run(values));
      if (exhausted) return OVER_BUDGET;
      if (isCelError(value)) return errorOutcome(value.message);
      if (value === true) return HOLDS;
      if (value === false) return FAILS;
      return errorOutcome(`the condition gave a ${celType(value).name}, not a bool`);
    } catch (err: unknown) {
      // Fail closed: whatever escaped the evaluator, the condition did not hold.
      return errorOutcome(
        `the condition could not be evaluated: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

/** A program for an expression that does not compile: every evaluation is that error. */
function failedProgram(message: string): ConditionProgram {
  const outcome = errorOutcome(message);
  return { readsArgs: false, memberNames: new Set(), evaluate: () => outcome };
}

function compile(expr: string): ConditionProgram {
  const analysed = analyseCondition(expr);
  if (!analysed.ok) {
    return failedProgram(
      `the condition does not compile (${analysed.line}:${analysed.column}): ${analysed.message}`,
    );
  }
  try {
    const run = plan(CONDITION_ENV, analysed.parsed);
    return new CelProgram((values) => run(values), analysed.analysis);
  } catch (err: unknown) {
    return failedProgram(
      `the condition does not compile: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The CEL engine conditions are compiled with. */
export function createCelConditionEngine(): ConditionEngine {
  return { compile, bind: toBindings };
}
