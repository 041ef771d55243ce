/**
 * Validation of a condition's expression when the allowlist loads: parse, limits, the checks of
 * check.ts, and a bool result. Errors carry a 1-based line and column within the expression
 * text (lines split at `\n`, columns in UTF-16 code units like the YAML reader's), which the
 * caller adds to the position of the expression in its file.
 *
 * Limits, each so that the cost of a condition is bounded before any request arrives:
 * - at most MAX_EXPRESSION_LENGTH characters and MAX_EXPRESSION_NODES AST nodes (after macro
 *   expansion: `groups.all(g, p)` is p's nodes plus 7), so the parser's recursion and the
 *   node-count part of the cost are small;
 * - no comprehension inside another, and each over a range whose size is known before it runs.
 */
import { parse } from '@bufbuild/cel';
import { countNodes } from './ast.js';
import type { ParsedCondition } from './ast.js';
import { CheckFailure, checkCondition } from './check.js';
import type { Analysis } from './check.js';
import { aType } from './types.js';

/** The longest expression accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 2048;

/** The most AST nodes an expression may have, macros expanded. */
export const MAX_EXPRESSION_NODES = 128;

/** Why an expression is refused, and where (1-based, within the expression). */
export interface ConditionError {
  readonly ok: false;
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

/** A checked expression, ready to plan. */
export interface AnalysedCondition {
  readonly ok: true;
  readonly parsed: ParsedCondition;
  readonly analysis: Analysis;
}

/** Whether `expr` is a valid condition; never throws. */
export function validateCondition(expr: string): { readonly ok: true } | ConditionError {
  const analysed = analyseCondition(expr);
  return analysed.ok ? { ok: true } : analysed;
}

/** Validates `expr` and returns what evaluation needs; never throws. */
export function analyseCondition(expr: string): AnalysedCondition | ConditionError {
  if (expr.length > MAX_EXPRESSION_LENGTH) {
    return errorAt(
      expr,
      MAX_EXPRESSION_LENGTH,
      `the expression is ${expr.length} characters long, at most ${MAX_EXPRESSION_LENGTH}`,
    );
  }
  let parsed: ParsedCondition;
  try {
    parsed = parse(expr);
  } catch (err: unknown) {
    return parseError(expr, err);
  }
  const nodes = countNodes(parsed.expr);
  if (nodes > MAX_EXPRESSION_NODES) {
    return errorAt(expr, 0, `the expression has ${nodes} nodes, at most ${MAX_EXPRESSION_NODES}`);
  }
  let analysis: Analysis;
  try {
    analysis = checkCondition(parsed);
  } catch (err: unknown) {
    if (err instanceof CheckFailure) return errorAt(expr, tokenAt(expr, err.offset), err.message);
    return errorAt(expr, 0, `the expression could not be checked: ${messageOf(err)}`);
  }
  if (analysis.type.kind !== 'bool' && analysis.type.kind !== 'dyn') {
    return errorAt(expr, 0, `a condition must be a bool, this one is ${aType(analysis.type)}`);
  }
  return { ok: true, parsed, analysis };
}

const PARSER_POSITION = /^<input>:(\d+):(\d+): /;

function parseError(expr: string, err: unknown): ConditionError {
  if (err instanceof RangeError) return errorAt(expr, 0, 'the expression nests too deeply');
  const message = messageOf(err);
  const at = PARSER_POSITION.exec(message);
  if (at === null) return errorAt(expr, 0, message);
  return {
    ok: false,
    message: message.slice(at[0].length),
    line: Number(at[1]),
    column: Number(at[2]),
  };
}

/**
 * The parser places an operator's node at the whitespace before it (`user + 1` at the space
 * after `user`); the operator itself is the first character from there that is not one.
 */
function tokenAt(expr: string, offset: number): number {
  const skipped = /\S/.exec(expr.slice(offset));
  return skipped === null ? offset : offset + skipped.index;
}

function errorAt(expr: string, offset: number, message: string): ConditionError {
  const before = expr.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  return { ok: false, message, line, column: offset - lineStart + 1 };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
