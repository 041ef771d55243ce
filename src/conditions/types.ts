/**
 * The static types of the condition language, for the checks made when an allowlist loads
 * (check.ts): the declared variables, and the few rules that tell when two types can never meet.
 *
 * `dyn` is a value whose type is known only when the condition runs (a JSON argument); it is
 * accepted wherever a type is expected, and an actual mismatch is then an `error` outcome. So
 * the checks refuse only what is wrong for every request: `user + 1`, `groups.startsWith("x")`.
 */
import type { ConditionVariables } from '../core/policy/condition.js';

/** A static type. */
export type StaticType =
  | { readonly kind: 'dyn' | 'bool' | 'int' | 'uint' | 'double' | 'string' | 'null' | 'type' }
  | { readonly kind: 'list'; readonly element: StaticType }
  | { readonly kind: 'map'; readonly key: StaticType; readonly value: StaticType };

export const DYN: StaticType = { kind: 'dyn' };
export const BOOL: StaticType = { kind: 'bool' };
export const INT: StaticType = { kind: 'int' };
export const UINT: StaticType = { kind: 'uint' };
export const DOUBLE: StaticType = { kind: 'double' };
export const STRING: StaticType = { kind: 'string' };
export const NULL: StaticType = { kind: 'null' };
export const TYPE: StaticType = { kind: 'type' };

export function listOf(element: StaticType): StaticType {
  return { kind: 'list', element };
}

export function mapOf(key: StaticType, value: StaticType): StaticType {
  return { kind: 'map', key, value };
}

/** The name of a variable a condition may read. */
export type VariableName = keyof ConditionVariables;

/**
 * The variables and their types. A JSON argument is `dyn`: a number is a double, an object a
 * map(string, dyn), an array a list(dyn) (values.ts).
 */
export const VARIABLE_TYPES: ReadonlyMap<string, StaticType> = new Map<VariableName, StaticType>([
  ['user', STRING],
  ['groups', listOf(STRING)],
  ['client', STRING],
  ['server', STRING],
  ['host', STRING],
  ['path', STRING],
  ['method', STRING],
  ['tool', STRING],
  ['args', mapOf(STRING, DYN)],
  ['headers', mapOf(STRING, STRING)],
]);

/** Identifiers that name a type, for `type(x) == string`; each is a value of type `type`. */
export const TYPE_NAMES: ReadonlySet<string> = new Set([
  'bool',
  'int',
  'uint',
  'double',
  'string',
  'list',
  'map',
  'null_type',
  'type',
]);

/** `list(string)`, `map(string, dyn)`. */
export function typeName(type: StaticType): string {
  switch (type.kind) {
    case 'list':
      return `list(${typeName(type.element)})`;
    case 'map':
      return `map(${typeName(type.key)}, ${typeName(type.value)})`;
    case 'dyn':
    case 'bool':
    case 'int':
    case 'uint':
    case 'double':
    case 'string':
    case 'null':
    case 'type':
      return type.kind;
  }
}

/** `a string`, `an int`, `a list(string)`, `null`: a type named in a sentence. */
export function aType(type: StaticType): string {
  const name = typeName(type);
  if (name === 'null') return name;
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;
}

export function isNumeric(type: StaticType): boolean {
  return type.kind === 'int' || type.kind === 'uint' || type.kind === 'double';
}

/** Whether a value of type `actual` may be passed where `expected` is declared. */
export function accepts(expected: StaticType, actual: StaticType): boolean {
  if (expected.kind === 'dyn' || actual.kind === 'dyn') return true;
  if (expected.kind === 'list' && actual.kind === 'list') {
    return accepts(expected.element, actual.element);
  }
  if (expected.kind === 'map' && actual.kind === 'map') {
    return accepts(expected.key, actual.key) && accepts(expected.value, actual.value);
  }
  return expected.kind === actual.kind;
}

/**
 * Whether values of these types can ever be equal. Numbers compare across int, uint and double
 * (CEL's heterogeneous equality); other kinds only with themselves.
 */
export function comparable(a: StaticType, b: StaticType): boolean {
  if (isNumeric(a) && isNumeric(b)) return true;
  if (a.kind === 'list' && b.kind === 'list') return comparable(a.element, b.element);
  if (a.kind === 'map' && b.kind === 'map') {
    return comparable(a.key, b.key) && comparable(a.value, b.value);
  }
  return accepts(a, b);
}

/** The type of a value that is one of `a` or `b`. */
export function unionOf(a: StaticType, b: StaticType): StaticType {
  return typeName(a) === typeName(b) ? a : DYN;
}
