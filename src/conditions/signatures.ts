/**
 * The functions a condition may call, with their overloads: the whitelist check.ts enforces.
 *
 * The bar for a function: its time is linear in its input and its output no larger than its
 * inputs, so the cost model (cost.ts) can price it from its arguments. That admits the
 * operators, `size`, the string tests, the conversions between scalars, and from CEL's strings
 * extension `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`, `trim` and `substring`. It
 * refuses `replace`, `split`, `join`, `format` and `repeat`-like functions (their output can
 * outgrow their input, or they build lists), and everything else CEL has (time, bytes, protobuf
 * messages, optionals): nothing a condition needs, and each one more thing to price and review.
 *
 * The overloads are those @bufbuild/cel implements for these names (minus bytes, timestamps
 * and durations, which no variable holds), so a call the check accepts has an implementation.
 * Operators with their own rules (`==`, `in`, `[]`, `&&`, `?:`) are typed in check.ts.
 */
import {
  BOOL,
  DOUBLE,
  DYN,
  INT,
  STRING,
  TYPE,
  UINT,
  accepts,
  listOf,
  mapOf,
  unionOf,
} from './types.js';
import type { StaticType } from './types.js';

/** One overload: a method when it has a receiver. */
export interface Signature {
  readonly receiver?: StaticType;
  readonly args: readonly StaticType[];
  readonly result: StaticType;
}

const LIST = listOf(DYN);
const MAP = mapOf(DYN, DYN);

function fn(args: readonly StaticType[], result: StaticType): Signature {
  return { args, result };
}

function method(receiver: StaticType, args: readonly StaticType[], result: StaticType): Signature {
  return { receiver, args, result };
}

const ORDERED_PAIRS: readonly (readonly [StaticType, StaticType])[] = [
  [BOOL, BOOL],
  [STRING, STRING],
  [INT, INT],
  [UINT, UINT],
  [DOUBLE, DOUBLE],
  [INT, UINT],
  [UINT, INT],
  [INT, DOUBLE],
  [DOUBLE, INT],
  [UINT, DOUBLE],
  [DOUBLE, UINT],
];
const ORDERING = ORDERED_PAIRS.map(([a, b]) => fn([a, b], BOOL));
const NUMBERS = [INT, UINT, DOUBLE];
const ARITHMETIC = NUMBERS.map((t) => fn([t, t], t));

/** Whitelisted functions by the name the parser gives them (`_+_` for `+`). */
export const SIGNATURES: ReadonlyMap<string, readonly Signature[]> = new Map([
  ['!_', [fn([BOOL], BOOL)]],
  ['-_', [fn([INT], INT), fn([DOUBLE], DOUBLE)]],
  ['_+_', [...ARITHMETIC, fn([STRING, STRING], STRING), fn([LIST, LIST], LIST)]],
  ['_-_', ARITHMETIC],
  ['_*_', ARITHMETIC],
  ['_/_', ARITHMETIC],
  ['_%_', [fn([INT, INT], INT), fn([UINT, UINT], UINT)]],
  ['_<_', ORDERING],
  ['_<=_', ORDERING],
  ['_>_', ORDERING],
  ['_>=_', ORDERING],
  ['size', [STRING, LIST, MAP].flatMap((t) => [fn([t], INT), method(t, [], INT)])],
  ['contains', [method(STRING, [STRING], BOOL)]],
  ['startsWith', [method(STRING, [STRING], BOOL)]],
  ['endsWith', [method(STRING, [STRING], BOOL)]],
  ['matches', [method(STRING, [STRING], BOOL)]],
  ['indexOf', [method(STRING, [STRING], INT), method(STRING, [STRING, INT], INT)]],
  ['lastIndexOf', [method(STRING, [STRING], INT), method(STRING, [STRING, INT], INT)]],
  ['lowerAscii', [method(STRING, [], STRING)]],
  ['upperAscii', [method(STRING, [], STRING)]],
  ['trim', [method(STRING, [], STRING)]],
  ['substring', [method(STRING, [INT], STRING), method(STRING, [INT, INT], STRING)]],
  ['int', [INT, UINT, DOUBLE, STRING].map((t) => fn([t], INT))],
  ['uint', [UINT, INT, DOUBLE, STRING].map((t) => fn([t], UINT))],
  ['double', [DOUBLE, INT, UINT, STRING].map((t) => fn([t], DOUBLE))],
  ['string', [STRING, BOOL, INT, UINT, DOUBLE].map((t) => fn([t], STRING))],
  ['bool', [BOOL, STRING].map((t) => fn([t], BOOL))],
  ['type', [fn([DYN], TYPE)]],
  ['dyn', [fn([DYN], DYN)]],
]);

/** Why a notable function is refused, beyond "not on the list". */
export const REFUSED_BECAUSE: ReadonlyMap<string, string> = new Map([
  ['replace', 'its output can outgrow its input'],
  ['split', 'it builds a list from a string'],
  ['join', 'its output can outgrow its input'],
  ['format', 'its output can outgrow its input'],
  ['repeat', 'its output can outgrow its input'],
  ['quote', 'its output can outgrow its input'],
]);

/** How an operator is written, for messages: `_+_` is `+`, `@in` is `in`. */
export function displayName(name: string): string {
  if (name === '@in') return 'in';
  if (name.startsWith('_') && name.endsWith('_') && name.length > 2) return name.slice(1, -1);
  if (name.endsWith('_') && name.length > 1) return name.slice(0, -1);
  return name;
}

/**
 * The overloads of `name` that a call of this form (method or function) and arity may use, or
 * why the call is refused whatever its arguments.
 */
export function overloadsOf(
  name: string,
  isMethod: boolean,
  arity: number,
): readonly Signature[] | { readonly refusal: string } {
  const shown = displayName(name);
  const overloads = SIGNATURES.get(name);
  if (overloads === undefined) {
    const because = REFUSED_BECAUSE.get(name);
    return {
      refusal: `function ${shown} is not allowed in conditions${because ? `: ${because}` : ''}`,
    };
  }
  const forms = overloads.filter((o) => (o.receiver !== undefined) === isMethod);
  if (forms.length === 0) {
    return {
      refusal: isMethod
        ? `${shown} is a function: write ${shown}(x), not x.${shown}()`
        : `${shown} is a method: write x.${shown}(…)`,
    };
  }
  const arities = [...new Set(forms.map((o) => o.args.length))];
  if (!arities.includes(arity)) {
    const counts = arities.join(' or ');
    return {
      refusal: `${shown} takes ${counts} argument${counts === '1' ? '' : 's'}, not ${arity}`,
    };
  }
  return forms.filter((o) => o.args.length === arity);
}

/** The result type of a call to one of `overloads` with these types, or undefined if none fits. */
export function resultOf(
  overloads: readonly Signature[],
  receiver: StaticType | undefined,
  args: readonly StaticType[],
): StaticType | undefined {
  const results = overloads
    .filter((overload) => fits(overload, receiver, args))
    .map((overload) => overload.result);
  return results.length === 0 ? undefined : results.reduce(unionOf);
}

function fits(
  overload: Signature,
  receiver: StaticType | undefined,
  args: readonly StaticType[],
): boolean {
  if (
    overload.receiver !== undefined &&
    (receiver === undefined || !accepts(overload.receiver, receiver))
  ) {
    return false;
  }
  return (
    overload.args.length === args.length &&
    overload.args.every((param, i) => {
      const arg = args[i];
      return arg !== undefined && accepts(param, arg);
    })
  );
}
