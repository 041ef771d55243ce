/**
 * The parsed form of a condition (@bufbuild/cel's protobuf AST, macros expanded) and the few
 * facts read from its shape alone: its size and the paths comprehensions range over.
 */
import type { parse } from '@bufbuild/cel';
import { VARIABLE_TYPES } from './types.js';
import type { VariableName } from './types.js';

/** The parser's output. */
export type ParsedCondition = ReturnType<typeof parse>;
export type Expr = ParsedCondition['expr'];
export type Call = Extract<Expr['exprKind'], { case: 'callExpr' }>['value'];

/** A comprehension's range as a variable and constant keys: `args["files"]` is args, files. */
export interface RangePath {
  readonly variable: VariableName;
  readonly keys: readonly (string | number)[];
}

/** Nodes of `expr`, the macros' expansion included. */
export function countNodes(expr: Expr | undefined): number {
  if (expr === undefined) return 0;
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      return 1 + countNodes(kind.value.operand);
    case 'callExpr':
      return kind.value.args.reduce(
        (n, arg) => n + countNodes(arg),
        1 + countNodes(kind.value.target),
      );
    case 'listExpr':
      return kind.value.elements.reduce((n, element) => n + countNodes(element), 1);
    case 'structExpr':
      return kind.value.entries.reduce(
        (n, entry) =>
          n +
          countNodes(entry.value) +
          (entry.keyKind.case === 'mapKey' ? countNodes(entry.keyKind.value) : 0),
        1,
      );
    case 'comprehensionExpr': {
      const c = kind.value;
      return (
        1 +
        countNodes(c.iterRange) +
        countNodes(c.accuInit) +
        countNodes(c.loopCondition) +
        countNodes(c.loopStep) +
        countNodes(c.result)
      );
    }
    case 'identExpr':
    case 'constExpr':
    case undefined:
      return 1;
  }
}

/** The variable and constant keys of a range, or undefined when it is not such a path. */
export function rangePath(expr: Expr): RangePath | undefined {
  const keys: (string | number)[] = [];
  for (let node: Expr | undefined = expr; node !== undefined;) {
    const kind: Expr['exprKind'] = node.exprKind;
    if (kind.case === 'identExpr') {
      if (!VARIABLE_TYPES.has(kind.value.name)) return undefined;
      return { variable: kind.value.name as VariableName, keys: keys.reverse() };
    }
    if (kind.case === 'selectExpr' && !kind.value.testOnly) {
      keys.push(kind.value.field);
      node = kind.value.operand;
    } else if (
      kind.case === 'callExpr' &&
      kind.value.function === '_[_]' &&
      kind.value.args.length === 2
    ) {
      const key = constantKey(kind.value.args[1]);
      if (key === undefined) return undefined;
      keys.push(key);
      node = kind.value.args[0];
    } else {
      return undefined;
    }
  }
  return undefined;
}

function constantKey(expr: Expr | undefined): string | number | undefined {
  if (expr?.exprKind.case !== 'constExpr') return undefined;
  const constant = expr.exprKind.value.constantKind;
  if (constant.case === 'stringValue') return constant.value;
  if (constant.case === 'int64Value' || constant.case === 'uint64Value') {
    const index = Number(constant.value);
    return Number.isSafeInteger(index) ? index : undefined;
  }
  return undefined;
}
