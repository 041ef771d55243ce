/**
 * The CEL environment conditions run in: @bufbuild/cel's standard functions, with every
 * whitelisted function whose time grows with its input replaced by one that charges the meter
 * first (cost.ts has the rates) and then runs the library's own implementation; and from the
 * strings extension only the whitelisted functions (signatures.ts), charged the same way, so
 * `replace` or `split` is not even reachable at run time.
 *
 * Replacements take the place of the standard overload with the same id (the library resolves
 * a name's overloads in order, a later one replacing an earlier with the same signature). Four
 * are ours rather than wrapped: `matches` (the library compiles the pattern on every call; ours
 * is compiled once, regex.ts), list `+` (values.ts), `size` of a string (the library builds an
 * array of its characters), and the length guard on numeric parsing.
 *
 * cel-es' variable declarations only feed its checker, which we do not use (check.ts types the
 * expressions), so the environment declares none; the variables are VARIABLE_TYPES.
 */
import { celEnv, celFunc, celMethod, isCelError } from '@bufbuild/cel';
import type { CelEnv, CelFunc, CelList, CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import {
  CASE_UNITS_PER_CHAR,
  COMPARE_CHARS_PER_UNIT,
  CONCAT_CHARS_PER_UNIT,
  SCAN_CHARS_PER_UNIT,
  SIZE_CHARS_PER_UNIT,
  TRIM_CHARS_PER_UNIT,
  unitsFor,
} from './cost.js';
import { charge, remainingUnits } from './meter.js';
import { compilePattern } from './regex.js';
import { concatLists, weightOf } from './values.js';

/** A numeric string longer than this is no int, uint or double anyone writes: refused unread. */
const MAX_NUMERIC_STRING = 64;

/** What a call costs, from its receiver (for a method) and arguments. */
type Price = (target: CelValue | undefined, args: readonly CelValue[]) => number;

type Impl = (this: CelValue | undefined, ...args: CelValue[]) => CelValue;

const STANDARD = celEnv();

function lengthOf(value: CelValue | undefined): number {
  return typeof value === 'string' ? value.length : 0;
}

function find(funcs: Iterable<CelFunc>, id: string): CelFunc {
  for (const func of funcs) if (func.id === id) return func;
  // A library upgrade renamed an overload: fail at startup, not with an unpriced function.
  throw new Error(`@bufbuild/cel has no overload ${id}`);
}

/** A function with `func`'s signature whose implementation is `impl`. */
function withImpl(func: CelFunc, impl: Impl): CelFunc {
  if (func.target === undefined) {
    return celFunc(func.name, func.arguments, func.result, impl as never);
  }
  return celMethod(func.name, func.target, func.arguments, func.result, impl as never);
}

/** `func`, charging `price` before it runs. */
function priced(func: CelFunc, price: Price): CelFunc {
  return withImpl(func, function (this: CelValue | undefined, ...args: CelValue[]): CelValue {
    charge(price(this, args));
    const result = func.call(0, this, args);
    if (result === undefined) throw new Error(`no overload ${func.id} for these arguments`);
    if (isCelError(result)) throw result;
    return result;
  });
}

const scan: Price = (target, args) =>
  unitsFor(lengthOf(target) + lengthOf(args[0]), SCAN_CHARS_PER_UNIT);
const prefix: Price = (target, args) =>
  unitsFor(Math.min(lengthOf(target), lengthOf(args[0])), SCAN_CHARS_PER_UNIT);
const ordering: Price = (_, [a, b]) =>
  unitsFor(Math.min(lengthOf(a), lengthOf(b)), COMPARE_CHARS_PER_UNIT);
const equality: Price = (_, [a, b]) => {
  if (a === undefined || b === undefined) return 1;
  const cap = remainingUnits() + 1;
  return Math.min(weightOf(a, cap), weightOf(b, cap));
};

const std = (id: string) => find(STANDARD.funcs, id);
const ext = (id: string) => find(strings, id);

function numeric(id: string): CelFunc {
  const func = std(id);
  return priced(func, (_, [text]) => {
    if (lengthOf(text) > MAX_NUMERIC_STRING) {
      throw new Error(
        `${func.name}(): a string of more than ${MAX_NUMERIC_STRING} characters is no number`,
      );
    }
    return 1;
  });
}

/**
 * `size` of a string: its code points, a lone surrogate counting as one, as the library counts
 * them; but without building an array of every character (a 4 MiB string would be 4 million).
 */
function codePoints(text: CelValue | undefined): bigint {
  if (typeof text !== 'string') throw new Error('size: not a string');
  charge(unitsFor(text.length, SIZE_CHARS_PER_UNIT));
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return BigInt(count);
}

const matches = withImpl(std('string.matches(string)'), function (this, pattern) {
  const compiled = typeof pattern === 'string' ? compilePattern(pattern) : undefined;
  if (compiled === undefined || 'error' in compiled) throw new Error('matches: invalid pattern');
  const text = typeof this === 'string' ? this : '';
  charge((text.length + 1) * compiled.unitsPerChar);
  return compiled.regex.test(text);
});

const FUNCS: readonly CelFunc[] = [
  priced(std('string.contains(string)'), scan),
  ...['indexOf', 'lastIndexOf']
    .flatMap((name) => [`string.${name}(string)`, `string.${name}(string,int)`])
    .map((id) => priced(ext(id), scan)),
  ...['startsWith', 'endsWith'].map((name) => priced(std(`string.${name}(string)`), prefix)),
  matches,
  priced(ext('string.trim()'), (target) => unitsFor(lengthOf(target), TRIM_CHARS_PER_UNIT)),
  ...['substring(int)', 'substring(int,int)'].map((sig) =>
    priced(ext(`string.${sig}`), (target) => unitsFor(lengthOf(target), COMPARE_CHARS_PER_UNIT)),
  ),
  ...['lowerAscii', 'upperAscii'].map((name) =>
    priced(ext(`string.${name}()`), (target) =>
      Math.max(1, lengthOf(target) * CASE_UNITS_PER_CHAR),
    ),
  ),
  withImpl(std('size(string)'), (text) => codePoints(text)),
  withImpl(std('string.size()'), function (this) {
    return codePoints(this);
  }),
  priced(std('_+_(string,string)'), (_, [a, b]) =>
    unitsFor(lengthOf(a) + lengthOf(b), CONCAT_CHARS_PER_UNIT),
  ),
  withImpl(std('_+_(list,list)'), (head, tail) => concatLists(head as CelList, tail as CelList)),
  ...['_<_', '_<=_', '_>_', '_>=_'].map((op) => priced(std(`${op}(string,string)`), ordering)),
  priced(std('_==_(dyn,dyn)'), equality),
  priced(std('_!=_(dyn,dyn)'), equality),
  priced(std('@in(dyn,list)'), (_, [, list]) =>
    list === undefined ? 1 : weightOf(list, remainingUnits() + 1),
  ),
  ...['int(string)', 'uint(string)', 'double(string)'].map(numeric),
];

/** The environment every condition is planned in. */
export const CONDITION_ENV: CelEnv = celEnv({ funcs: [...FUNCS] });
