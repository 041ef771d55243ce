/**
 * A strict check of Envoy configuration (parsed YAML) against Envoy's own v3 protos, the copy in
 * @grpc/grpc-js-xds (test/helpers/envoy-protos.ts). protobufjs' fromObject skips unknown fields
 * and coerces wrong types, so this walks the message tree itself, as Envoy's proto3 JSON parser
 * does when it loads a file, and reports every difference with its path:
 *
 * - every key is a field of its message, in snake_case or lowerCamelCase; deprecated fields and
 *   two members of one oneof are errors;
 * - scalars have their JSON type (64-bit integers may be strings), enums are value names or
 *   numbers of that enum;
 * - `google.protobuf.Any` (`typed_config` and others) names its type in `@type`; the type is
 *   loaded from its package's directory and the rest of the object is checked against it;
 * - well-known types take their JSON forms: Duration `"1.5s"`, wrappers as bare values, Struct,
 *   Value and ListValue as any JSON, Empty as `{}`.
 *
 * What it does not check: protoc-gen-validate rules (required, ranges) and cross-references
 * (cluster names); `envoy --mode validate` does, where ENVOY_BIN is set.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import protobuf from 'protobufjs';
import type { Enum, Field, Type } from 'protobufjs';

import { createEnvoyRoot, ENVOY_INCLUDE_DIRS } from './envoy-protos.js';

/** One problem: where (`listeners[0].filter_chains[0]...`) and what. */
export interface StrictIssue {
  readonly path: string;
  readonly message: string;
}

const root = createEnvoyRoot();
const loadedPackages = new Set<string>();

const INT_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
};

/** Loads every .proto of the package that declares `fullName`; undefined when none holds it. */
export function lookupEnvoyType(fullName: string): Type | undefined {
  const segments = fullName.split('.');
  const firstTypeSegment = segments.findIndex((s) => /^[A-Z]/.test(s));
  if (firstTypeSegment <= 0) return undefined;
  const pkg = segments.slice(0, firstTypeSegment).join('/');
  if (!loadedPackages.has(pkg)) {
    loadedPackages.add(pkg);
    const files = ENVOY_INCLUDE_DIRS.map((dir) => path.join(dir, pkg))
      .filter((dir) => existsSync(dir))
      .flatMap((dir) =>
        readdirSync(dir)
          .filter((f) => f.endsWith('.proto'))
          .map((f) => path.join(dir, f)),
      );
    if (files.length > 0) {
      root.loadSync(files, { keepCase: true });
      root.resolveAll();
    }
  }
  try {
    return root.lookupType(fullName);
  } catch {
    return undefined;
  }
}

/** Checks `value` (parsed YAML or JSON) as the message `typeName`; [] when Envoy accepts it. */
export function checkEnvoyMessage(value: unknown, typeName: string): StrictIssue[] {
  const type = lookupEnvoyType(typeName);
  if (type === undefined) return [{ path: '', message: `unknown message type ${typeName}` }];
  const issues: StrictIssue[] = [];
  checkMessage(value, type, '', issues);
  return issues;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function fieldByJsonName(type: Type, key: string): Field | undefined {
  const direct = type.fields[key];
  if (direct !== undefined) return direct;
  return type.fieldsArray.find((f) => camel(f.name) === key);
}

function join(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${String(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}

function checkMessage(value: unknown, type: Type, at: string, issues: StrictIssue[]): void {
  const name = type.fullName.replace(/^\./, '');
  if (checkWellKnown(value, name, at, issues)) return;
  if (!isPlainObject(value)) {
    issues.push({ path: at, message: `${name} must be an object, got ${describe(value)}` });
    return;
  }
  const oneofsSeen = new Map<string, string>();
  for (const [key, inner] of Object.entries(value)) {
    const field = fieldByJsonName(type, key);
    const where = join(at, key);
    if (field === undefined) {
      issues.push({ path: where, message: `unknown field ${key} of ${name}` });
      continue;
    }
    if (field.options?.['deprecated'] === true) {
      issues.push({ path: where, message: `deprecated field ${field.name} of ${name}` });
    }
    const oneof = field.partOf;
    if (oneof !== null && !oneof.name.startsWith('_')) {
      const other = oneofsSeen.get(oneof.name);
      if (other !== undefined) {
        issues.push({
          path: where,
          message: `${field.name} and ${other} are one oneof (${oneof.name})`,
        });
      }
      oneofsSeen.set(oneof.name, field.name);
    }
    checkField(inner, field, where, issues);
  }
}

function checkField(value: unknown, field: Field, at: string, issues: StrictIssue[]): void {
  field.resolve();
  if (field instanceof protobuf.MapField) {
    if (!isPlainObject(value)) {
      issues.push({ path: at, message: `map ${field.name} must be an object` });
      return;
    }
    for (const [key, inner] of Object.entries(value))
      checkSingle(inner, field, join(at, key), issues);
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) {
      issues.push({
        path: at,
        message: `repeated ${field.name} must be a list, got ${describe(value)}`,
      });
      return;
    }
    value.forEach((inner, i) => {
      checkSingle(inner, field, join(at, i), issues);
    });
    return;
  }
  checkSingle(value, field, at, issues);
}

function checkSingle(value: unknown, field: Field, at: string, issues: StrictIssue[]): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    checkMessage(value, resolved, at, issues);
  } else if (resolved instanceof protobuf.Enum) {
    checkEnum(value, resolved, at, issues);
  } else {
    checkScalar(value, field.type, at, issues);
  }
}

function checkEnum(value: unknown, type: Enum, at: string, issues: StrictIssue[]): void {
  const known =
    typeof value === 'string'
      ? value in type.values
      : Object.values(type.values).includes(value as number);
  if (!known) {
    issues.push({
      path: at,
      message: `${describe(value)} is not a value of ${type.fullName.replace(/^\./, '')} (${Object.keys(type.values).join(', ')})`,
    });
  }
}

function checkScalar(value: unknown, scalar: string, at: string, issues: StrictIssue[]): void {
  let ok: boolean;
  if (scalar === 'string') ok = typeof value === 'string';
  else if (scalar === 'bool') ok = typeof value === 'boolean';
  else if (scalar === 'bytes')
    ok = typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value);
  else if (scalar === 'double' || scalar === 'float') ok = typeof value === 'number';
  else if (INT_TYPES.has(scalar))
    ok = Number.isInteger(value) && (!scalar.startsWith('u') || (value as number) >= 0);
  else if (LONG_TYPES.has(scalar)) {
    ok = Number.isSafeInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value));
  } else ok = false;
  if (!ok) issues.push({ path: at, message: `${describe(value)} is not a valid ${scalar}` });
}

/** Handles the well-known types with special JSON forms; false for any other message. */
function checkWellKnown(value: unknown, name: string, at: string, issues: StrictIssue[]): boolean {
  const wrapped = WRAPPERS[name];
  if (wrapped !== undefined) {
    checkScalar(value, wrapped, at, issues);
    return true;
  }
  switch (name) {
    case 'google.protobuf.Duration':
      if (typeof value !== 'string' || !/^-?\d+(\.\d{1,9})?s$/.test(value)) {
        issues.push({ path: at, message: `${describe(value)} is not a Duration such as "1.5s"` });
      }
      return true;
    case 'google.protobuf.Timestamp':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
        issues.push({ path: at, message: `${describe(value)} is not an RFC 3339 Timestamp` });
      }
      return true;
    case 'google.protobuf.Struct':
      if (!isPlainObject(value)) issues.push({ path: at, message: 'Struct must be an object' });
      return true;
    case 'google.protobuf.ListValue':
      if (!Array.isArray(value)) issues.push({ path: at, message: 'ListValue must be a list' });
      return true;
    case 'google.protobuf.Value':
      return true;
    case 'google.protobuf.Empty':
      if (!isPlainObject(value) || Object.keys(value).length > 0) {
        issues.push({ path: at, message: 'Empty must be {}' });
      }
      return true;
    case 'google.protobuf.Any':
      checkAny(value, at, issues);
      return true;
    default:
      return false;
  }
}

function checkAny(value: unknown, at: string, issues: StrictIssue[]): void {
  if (!isPlainObject(value) || typeof value['@type'] !== 'string') {
    issues.push({ path: at, message: 'Any must be an object with an @type' });
    return;
  }
  const url = value['@type'];
  const typeName = url.slice(url.lastIndexOf('/') + 1);
  const type = lookupEnvoyType(typeName);
  if (type === undefined) {
    issues.push({ path: join(at, '@type'), message: `unknown type ${url}` });
    return;
  }
  const rest = Object.fromEntries(Object.entries(value).filter(([key]) => key !== '@type'));
  // A well-known type inside an Any carries its JSON form under "value".
  checkMessage(typeName.startsWith('google.protobuf.') ? rest['value'] : rest, type, at, issues);
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
