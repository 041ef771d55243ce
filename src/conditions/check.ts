/**
 * The load-time check of a parsed condition: the language subset, a type inference over the
 * declared variables, and the facts the cost model and the policy need (analysis below).
 *
 * @bufbuild/cel has no usable type checker, so this is ours, and deliberately small: it types
 * what the variables declare, treats JSON arguments as `dyn`, and refuses only what cannot work
 * for any request (types.ts). What it refuses, each with the position of the offending node:
 * - identifiers that are not a variable, a comprehension variable or a type name;
 * - functions not in signatures.ts, or called with the wrong arity or form (method vs function),
 *   or with argument types no overload takes;
 * - map and message literals, bytes literals, optional syntax, two-variable comprehensions;
 * - `matches` with a pattern that is not a string literal, or that RE2 refuses (regex.ts);
 * - a comprehension inside another, or over a range that is not a variable or a constant path
 *   into one (`args.paths`, `args["files"]`, `groups`), so its size is known before it runs.
 *
 * Macros arrive expanded (`groups.all(g, p)` is a comprehension whose step is `@result && p`);
 * the parser names the accumulator `@result`, which no user can write, so it is allowed only
 * inside the comprehension that declares it.
 */
import { countNodes, rangePath } from './ast.js';
import type { Call, Expr, ParsedCondition, RangePath } from './ast.js';
import { compilePattern } from './regex.js';
import { displayName, overloadsOf, resultOf } from './signatures.js';
import {
  BOOL,
  DOUBLE,
  DYN,
  INT,
  NULL,
  STRING,
  TYPE,
  TYPE_NAMES,
  UINT,
  VARIABLE_TYPES,
  aType,
  accepts,
  comparable,
  listOf,
  typeName,
  unionOf,
} from './types.js';
import type { StaticType } from './types.js';

/** What evaluation needs to know about a checked condition. */
export interface Analysis {
  /** Every node of the expanded expression. */
  readonly nodes: number;
  /** Each comprehension: its range, and the nodes it evaluates per element. */
  readonly comprehensions: readonly { readonly range: RangePath; readonly bodyNodes: number }[];
  /** Constant member names selected, indexed or tested with `in` (condition.ts). */
  readonly memberNames: ReadonlySet<string>;
  readonly readsArgs: boolean;
  /** The static type of the whole expression: bool or dyn once validate.ts accepted it. */
  readonly type: StaticType;
}

/** A refusal at a character offset of the expression. */
export class CheckFailure extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

type Scope = ReadonlyMap<string, StaticType>;

/** Checks `parsed`; throws CheckFailure at the first refusal. */
export function checkCondition(parsed: ParsedCondition): Analysis {
  const checker = new Checker(parsed);
  const type = checker.typeOf(parsed.expr, new Map());
  return {
    nodes: countNodes(parsed.expr),
    comprehensions: checker.comprehensions,
    memberNames: checker.memberNames,
    readsArgs: checker.readsArgs,
    type,
  };
}

class Checker {
  readonly comprehensions: { range: RangePath; bodyNodes: number }[] = [];
  readonly memberNames = new Set<string>();
  readsArgs = false;
  private inComprehension = false;

  private readonly parsed: ParsedCondition;

  constructor(parsed: ParsedCondition) {
    this.parsed = parsed;
  }

  private fail(expr: Expr, message: string): never {
    throw new CheckFailure(message, this.parsed.sourceInfo?.positions[expr.id.toString()] ?? 0);
  }

  typeOf(expr: Expr, scope: Scope): StaticType {
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'identExpr':
        return this.identifier(expr, kind.value.name, scope);
      case 'constExpr':
        return this.constant(expr, kind.value.constantKind.case);
      case 'selectExpr': {
        const { operand, field, testOnly } = kind.value;
        if (operand === undefined) return this.fail(expr, 'malformed field selection');
        this.memberNames.add(field);
        const value = this.field(expr, this.typeOf(operand, scope), field);
        return testOnly ? BOOL : value;
      }
      case 'callExpr':
        return this.call(expr, kind.value, scope);
      case 'listExpr': {
        if (kind.value.optionalIndices.length > 0)
          this.fail(expr, 'optional elements are not supported');
        const types = kind.value.elements.map((element) => this.typeOf(element, scope));
        return listOf(
          types.reduce<StaticType | undefined>((a, b) => (a ? unionOf(a, b) : b), undefined) ?? DYN,
        );
      }
      case 'structExpr':
        return this.fail(expr, 'map and message literals are not supported in conditions');
      case 'comprehensionExpr':
        return this.comprehension(expr, kind.value, scope);
      case undefined:
        return this.fail(expr, 'unsupported expression');
    }
  }

  private identifier(expr: Expr, name: string, scope: Scope): StaticType {
    const local = scope.get(name);
    if (local !== undefined) return local;
    const variable = VARIABLE_TYPES.get(name);
    if (variable !== undefined) {
      if (name === 'args') this.readsArgs = true;
      return variable;
    }
    if (TYPE_NAMES.has(name)) return TYPE;
    return this.fail(
      expr,
      `unknown identifier ${name} (the variables are ${[...VARIABLE_TYPES.keys()].join(', ')})`,
    );
  }

  private constant(expr: Expr, kind: string | undefined): StaticType {
    switch (kind) {
      case 'boolValue':
        return BOOL;
      case 'int64Value':
        return INT;
      case 'uint64Value':
        return UINT;
      case 'doubleValue':
        return DOUBLE;
      case 'stringValue':
        return STRING;
      case 'nullValue':
        return NULL;
      case 'bytesValue':
        return this.fail(expr, 'bytes literals are not supported in conditions');
      case undefined:
      default:
        return this.fail(expr, 'unsupported constant');
    }
  }

  /** The type of `container.name`. */
  private field(expr: Expr, container: StaticType, name: string): StaticType {
    if (container.kind === 'dyn') return DYN;
    if (container.kind === 'map' && accepts(container.key, STRING)) return container.value;
    return this.fail(expr, `${aType(container)} has no fields (.${name})`);
  }

  /** The type of `container[key]`. */
  private index(expr: Expr, container: StaticType, key: StaticType): StaticType {
    switch (container.kind) {
      case 'dyn':
        return DYN;
      case 'map':
        if (!accepts(container.key, key)) {
          this.fail(
            expr,
            `${aType(container)} has ${typeName(container.key)} keys, not ${typeName(key)}`,
          );
        }
        return container.value;
      case 'list':
        if (key.kind !== 'int' && key.kind !== 'uint' && key.kind !== 'dyn') {
          this.fail(expr, `a list index is an int, not ${aType(key)}`);
        }
        return container.element;
      case 'bool':
      case 'int':
      case 'uint':
      case 'double':
      case 'string':
      case 'null':
      case 'type':
        return this.fail(expr, `${aType(container)} cannot be indexed`);
    }
  }

  private call(expr: Expr, call: Call, scope: Scope): StaticType {
    const name = call.function;
    const args = call.args;
    switch (name) {
      // `@not_strictly_false` is the loop condition the parser writes into all() and exists().
      case '_&&_':
      case '_||_':
      case '!_':
      case '@not_strictly_false':
        if (args.length !== (name === '_&&_' || name === '_||_' ? 2 : 1)) break;
        for (const arg of args) this.expectBool(arg, scope);
        return BOOL;
      case '_?_:_': {
        const [condition, ifTrue, ifFalse] = args;
        if (condition === undefined || ifTrue === undefined || ifFalse === undefined) break;
        this.expectBool(condition, scope);
        return unionOf(this.typeOf(ifTrue, scope), this.typeOf(ifFalse, scope));
      }
      case '_==_':
      case '_!=_': {
        const [left, right] = this.argTypes(args, scope);
        if (left && right && !comparable(left, right)) {
          this.fail(
            expr,
            `${displayName(name)} compares ${aType(left)} with ${aType(right)}: they are never equal`,
          );
        }
        return BOOL;
      }
      case '@in':
        return this.membership(expr, args, scope);
      case '_[_]': {
        const [container, key] = args;
        if (container === undefined || key === undefined) break;
        const keyConstant =
          key.exprKind.case === 'constExpr' ? key.exprKind.value.constantKind : undefined;
        if (keyConstant?.case === 'stringValue') this.memberNames.add(keyConstant.value);
        return this.index(expr, this.typeOf(container, scope), this.typeOf(key, scope));
      }
      case 'matches': {
        const pattern = args[0];
        if (
          pattern?.exprKind.case !== 'constExpr' ||
          pattern.exprKind.value.constantKind.case !== 'stringValue'
        ) {
          return this.fail(pattern ?? expr, 'matches takes a string literal pattern');
        }
        const compiled = compilePattern(pattern.exprKind.value.constantKind.value);
        if ('error' in compiled) this.fail(pattern, compiled.error);
        break;
      }
    }
    return this.overload(expr, call, scope);
  }

  private expectBool(arg: Expr, scope: Scope): void {
    const type = this.typeOf(arg, scope);
    if (type.kind !== 'bool' && type.kind !== 'dyn')
      this.fail(arg, `expected a bool, got ${typeName(type)}`);
  }

  private argTypes(args: readonly Expr[], scope: Scope): StaticType[] {
    return args.map((arg) => this.typeOf(arg, scope));
  }

  private membership(expr: Expr, args: readonly Expr[], scope: Scope): StaticType {
    const [needleExpr, containerExpr] = args;
    if (needleExpr === undefined || containerExpr === undefined)
      return this.fail(expr, 'malformed in');
    const needle = this.typeOf(needleExpr, scope);
    const container = this.typeOf(containerExpr, scope);
    if (container.kind === 'list' && !comparable(needle, container.element)) {
      this.fail(
        expr,
        `in looks for ${aType(needle)} among ${typeName(container.element)} elements: never found`,
      );
    }
    if (container.kind === 'map' && !accepts(container.key, needle)) {
      this.fail(
        expr,
        `in looks for ${aType(needle)} among ${typeName(container.key)} keys: never found`,
      );
    }
    if (container.kind !== 'list' && container.kind !== 'map' && container.kind !== 'dyn') {
      this.fail(expr, `in needs a list or a map, not ${aType(container)}`);
    }
    const constant =
      needleExpr.exprKind.case === 'constExpr' ? needleExpr.exprKind.value.constantKind : undefined;
    if (constant?.case === 'stringValue' && container.kind !== 'list')
      this.memberNames.add(constant.value);
    return BOOL;
  }

  private overload(expr: Expr, call: Call, scope: Scope): StaticType {
    const forms = overloadsOf(call.function, call.target !== undefined, call.args.length);
    if ('refusal' in forms) return this.fail(expr, forms.refusal);
    const receiver = call.target === undefined ? undefined : this.typeOf(call.target, scope);
    const args = this.argTypes(call.args, scope);
    const result = resultOf(forms, receiver, args);
    if (result !== undefined) return result;
    const shown = displayName(call.function);
    const shownArgs = `(${args.map(typeName).join(', ')})`;
    return this.fail(
      expr,
      `no overload of ${shown} takes ${receiver === undefined ? shownArgs : `${typeName(receiver)}.${shown}${shownArgs}`}`,
    );
  }

  private comprehension(
    expr: Expr,
    c: Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value'],
    scope: Scope,
  ): StaticType {
    const { iterRange, accuInit, loopCondition, loopStep, result } = c;
    if (!iterRange || !accuInit || !loopCondition || !loopStep || !result) {
      return this.fail(expr, 'malformed comprehension');
    }
    if (this.inComprehension) {
      this.fail(
        expr,
        'a comprehension (all, exists, exists_one, map, filter) may not contain another',
      );
    }
    if (c.iterVar2 !== '') this.fail(expr, 'two-variable comprehensions are not supported');
    if (VARIABLE_TYPES.has(c.iterVar) || TYPE_NAMES.has(c.iterVar)) {
      this.fail(expr, `the comprehension variable ${c.iterVar} hides the identifier of that name`);
    }
    const range = rangePath(iterRange);
    if (range === undefined) {
      this.fail(
        iterRange,
        'a comprehension ranges over a variable or a constant path into one (args.paths, args["files"], groups, headers)',
      );
    }
    const rangeType = this.typeOf(iterRange, scope);
    const element =
      rangeType.kind === 'list'
        ? rangeType.element
        : rangeType.kind === 'map'
          ? rangeType.key
          : rangeType.kind === 'dyn'
            ? DYN
            : undefined;
    if (element === undefined)
      return this.fail(iterRange, `cannot iterate over ${aType(rangeType)}`);
    const accumulator = this.typeOf(accuInit, scope);
    this.inComprehension = true;
    const body = new Map(scope).set(c.iterVar, element).set(c.accuVar, accumulator);
    this.typeOf(loopCondition, body);
    this.typeOf(loopStep, body);
    this.inComprehension = false;
    this.comprehensions.push({
      range,
      bodyNodes: countNodes(loopCondition) + countNodes(loopStep),
    });
    return this.typeOf(result, new Map(scope).set(c.accuVar, accumulator));
  }
}
