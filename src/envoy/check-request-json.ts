/**
 * Proto3 JSON (the canonical protobuf JSON mapping: what Envoy's docs, OPA-Envoy decision logs
 * and `protojson` print) → the protobuf bytes of a CheckRequest, which `explain` then decodes with
 * the server's own decoder (check-request-codec.ts), so that explain and serve cannot read one
 * request differently. This module only maps JSON onto the schema; it decodes nothing.
 *
 * Contract:
 * - Accepts both field-name spellings the mapping allows, lowerCamelCase (`rawBody`) and the
 *   proto name (`raw_body`). Map keys (header names, `context_extensions` keys, Struct keys,
 *   metadata namespaces) are data and are never renamed.
 * - bytes are base64 (standard or URL-safe, padding optional); 64-bit integers are a decimal
 *   string or a number; enums are a name or a number; Timestamp is RFC 3339; Struct, Value and
 *   ListValue are plain JSON; wrappers are bare values; Any carries `@type` and must name a type
 *   our protos define. `null` means "not set".
 * - Strict: an unknown field, a wrong type, an invalid base64 string, two members of one oneof,
 *   or a field given under both spellings throws an AppError `ERR_REQUEST_INVALID` whose message
 *   names the JSON path. Exception: the keys OPA-Envoy adds beside `attributes` in its `input`
 *   document (`parsed_path`, `parsed_body`, ...) are ignored at the top level, so an OPA decision
 *   log can be replayed as is.
 * - The bytes are protobufjs's: the mapped object goes through `fromObject` and `encode` on the
 *   CheckRequest type of proto/. protobufjs's `fromObject` alone takes only one field spelling and
 *   none of the well-known types' JSON forms, which is why the mapping above comes first.
 * - Meant for the CLI (`explain`), not the hot path: it reflects over the schema per call.
 */
import protobuf from 'protobufjs';
import type { Field, Root, Type } from 'protobufjs';

import { AppError } from '../errors.js';
import { loadProtoRoot } from './proto.js';

/** Options for {@link checkRequestJsonToBytes}. */
export interface CheckRequestJsonOptions {
  /** Skip unknown fields everywhere instead of throwing (protojson's DiscardUnknown). */
  readonly ignoreUnknownFields?: boolean;
}

/** Keys OPA-Envoy puts next to `attributes` in its input document. */
const OPA_INPUT_EXTRAS: ReadonlySet<string> = new Set([
  'parsed_path',
  'parsed_query',
  'parsed_body',
  'truncated_body',
  'version',
]);

type Json = Readonly<Record<string, unknown>>;
type Out = Record<string, unknown>;

interface Context {
  readonly root: Root;
  readonly ignoreUnknown: boolean;
}

let loaded: { readonly root: Root; readonly checkRequest: Type } | undefined;

function schema(): { readonly root: Root; readonly checkRequest: Type } {
  if (loaded === undefined) {
    const root = loadProtoRoot();
    loaded = { root, checkRequest: root.lookupType('envoy.service.auth.v3.CheckRequest') };
  }
  return loaded;
}

/**
 * Encodes a CheckRequest written in proto3 JSON as protobuf bytes (without the gRPC frame
 * header), as Envoy would send it. Throws AppError `ERR_REQUEST_INVALID` with the offending JSON
 * path when the input is not a valid CheckRequest.
 */
export function checkRequestJsonToBytes(
  json: unknown,
  options: CheckRequestJsonOptions = {},
): Buffer {
  const { root, checkRequest } = schema();
  const ctx: Context = { root, ignoreUnknown: options.ignoreUnknownFields ?? false };
  if (!isObject(json)) fail('$', 'expected a JSON object (a CheckRequest)');
  let top: Json = json;
  if (!ctx.ignoreUnknown) {
    top = Object.fromEntries(Object.entries(json).filter(([key]) => !OPA_INPUT_EXTRAS.has(key)));
  }
  return encode(checkRequest, convertMessage(ctx, checkRequest, top, '$'), '$');
}

function fail(path: string, message: string): never {
  throw new AppError('ERR_REQUEST_INVALID', `${path}: ${message}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function encode(type: Type, plain: Out, path: string): Buffer {
  try {
    const bytes = type.encode(type.fromObject(plain)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (err: unknown) {
    // Our conversion should leave nothing for protobufjs to reject; if it does, say where.
    throw new AppError(
      'ERR_REQUEST_INVALID',
      `${path}: cannot encode ${type.fullName.slice(1)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/** lowerCamelCase JSON name of a proto field name, as protoc derives it. */
function jsonName(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

const fieldIndexes = new WeakMap<Type, ReadonlyMap<string, Field>>();

/** Field lookup by proto name or JSON name (own properties only: no `constructor` surprises). */
function fieldIndex(type: Type): ReadonlyMap<string, Field> {
  let index = fieldIndexes.get(type);
  if (index === undefined) {
    const map = new Map<string, Field>();
    for (const field of type.fieldsArray) {
      map.set(field.name, field);
      map.set(jsonName(field.name), field);
    }
    index = map;
    fieldIndexes.set(type, index);
  }
  return index;
}

type WellKnown = (ctx: Context, type: Type, json: unknown, path: string) => Out;

const WRAPPER: WellKnown = (ctx, type, json, path) => {
  const valueField = type.fields['value'];
  if (valueField === undefined) return fail(path, `${type.fullName} has no value field`);
  return { value: convertSingle(ctx, valueField, json, path) };
};

const WELL_KNOWN: Readonly<Record<string, WellKnown>> = {
  '.google.protobuf.Struct': (_ctx, _type, json, path) => toStruct(json, path),
  '.google.protobuf.Value': (_ctx, _type, json, path) => toValue(json, path),
  '.google.protobuf.ListValue': (_ctx, _type, json, path) => toList(json, path),
  '.google.protobuf.Timestamp': (ctx, type, json, path) =>
    typeof json === 'string' ? toTimestamp(json, path) : convertFields(ctx, type, json, path),
  '.google.protobuf.Any': (ctx, _type, json, path) => toAny(ctx, json, path),
  '.google.protobuf.BoolValue': WRAPPER,
  '.google.protobuf.StringValue': WRAPPER,
  '.google.protobuf.BytesValue': WRAPPER,
  '.google.protobuf.Int32Value': WRAPPER,
  '.google.protobuf.UInt32Value': WRAPPER,
  '.google.protobuf.Int64Value': WRAPPER,
  '.google.protobuf.UInt64Value': WRAPPER,
  '.google.protobuf.FloatValue': WRAPPER,
  '.google.protobuf.DoubleValue': WRAPPER,
};

function convertMessage(ctx: Context, type: Type, json: unknown, path: string): Out {
  const special = Object.hasOwn(WELL_KNOWN, type.fullName) ? WELL_KNOWN[type.fullName] : undefined;
  return special !== undefined
    ? special(ctx, type, json, path)
    : convertFields(ctx, type, json, path);
}

function convertFields(ctx: Context, type: Type, json: unknown, path: string): Out {
  if (!isObject(json)) fail(path, `expected an object for ${type.name}, got ${describe(json)}`);
  const index = fieldIndex(type);
  const out: Out = {};
  const oneofs = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    const field = index.get(key);
    if (field === undefined) {
      if (ctx.ignoreUnknown) continue;
      fail(path, `unknown field "${key}" in ${type.name}`);
    }
    if (Object.hasOwn(out, field.name)) {
      fail(
        path,
        `field ${field.name} given twice (as "${field.name}" and "${jsonName(field.name)}")`,
      );
    }
    const fieldPath = `${path}.${key}`;
    // null means "unset", except for a google.protobuf.Value, where it is the null value.
    if (value === null && field.resolvedType?.fullName !== '.google.protobuf.Value') continue;
    const oneof = field.partOf;
    if (oneof !== null) {
      const other = oneofs.get(oneof.name);
      if (other !== undefined)
        fail(path, `oneof ${oneof.name} has both ${other} and ${field.name}`);
      oneofs.set(oneof.name, field.name);
    }
    out[field.name] = convertField(ctx, field, value, fieldPath);
  }
  return out;
}

function convertField(ctx: Context, field: Field, value: unknown, path: string): unknown {
  if (field.map) {
    if (!isObject(value)) fail(path, `expected an object (a map), got ${describe(value)}`);
    // A null-prototype object, so a key such as "__proto__" stays an ordinary key.
    const out = Object.create(null) as Out;
    for (const [key, item] of Object.entries(value)) {
      out[key] = convertSingle(ctx, field, item, `${path}[${JSON.stringify(key)}]`);
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) fail(path, `expected an array, got ${describe(value)}`);
    return (value as readonly unknown[]).map((item, i) =>
      convertSingle(ctx, field, item, `${path}[${i}]`),
    );
  }
  return convertSingle(ctx, field, value, path);
}

function convertSingle(ctx: Context, field: Field, value: unknown, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return convertMessage(ctx, resolved, value, path);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && Object.hasOwn(resolved.values, value)) return value;
    if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 0x7fffffff) {
      return value;
    }
    return fail(path, `expected a ${resolved.name} name or number, got ${describe(value)}`);
  }
  return convertScalar(field.type, value, path);
}

const INT_TEXT = /^-?(?:0|[1-9]\d*)$/;
const INT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function convertScalar(type: string, value: unknown, path: string): unknown {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'bool':
      if (typeof value === 'boolean') return value;
      break;
    case 'double':
    case 'float':
      if (typeof value === 'number') return value;
      if (value === 'NaN') return NaN;
      if (value === 'Infinity') return Infinity;
      if (value === '-Infinity') return -Infinity;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
        return Number(value);
      }
      break;
    case 'bytes':
      if (typeof value === 'string') {
        const unpadded = value.replace(/=+$/, '');
        if (!BASE64.test(value) || unpadded.length % 4 === 1) {
          return fail(path, 'expected base64 bytes');
        }
        return Buffer.from(unpadded, 'base64');
      }
      break;
    default: {
      const range = INT_RANGES[type];
      if (range === undefined) return fail(path, `unsupported field type ${type}`);
      let text: string | undefined;
      if (typeof value === 'number' && Number.isSafeInteger(value)) text = String(value);
      else if (typeof value === 'string' && INT_TEXT.test(value)) text = value;
      if (text !== undefined) {
        const n = BigInt(text);
        if (n < range[0] || n > range[1]) return fail(path, `${text} is out of range for ${type}`);
        // 64-bit values stay decimal strings (protobufjs parses them with Long); 32-bit ones
        // become numbers.
        return type.endsWith('64') ? text : Number(text);
      }
    }
  }
  return fail(path, `expected ${type}, got ${describe(value)}`);
}

function toStruct(json: unknown, path: string): Out {
  if (!isObject(json)) fail(path, `expected an object (Struct), got ${describe(json)}`);
  const fields = Object.create(null) as Out;
  for (const [key, item] of Object.entries(json)) {
    fields[key] = toValue(item, `${path}[${JSON.stringify(key)}]`);
  }
  return { fields };
}

function toList(json: unknown, path: string): Out {
  if (!Array.isArray(json)) fail(path, `expected an array (ListValue), got ${describe(json)}`);
  return { values: (json as readonly unknown[]).map((item, i) => toValue(item, `${path}[${i}]`)) };
}

/**
 * Plain JSON → google.protobuf.Value for fromObject. The member names are camelCase because
 * protobufjs's bundled struct.proto declares them that way, whatever keepCase says.
 */
function toValue(json: unknown, path: string): Out {
  if (json === null) return { nullValue: 0 };
  if (typeof json === 'number') return { numberValue: json };
  if (typeof json === 'string') return { stringValue: json };
  if (typeof json === 'boolean') return { boolValue: json };
  if (Array.isArray(json)) return { listValue: toList(json, path) };
  if (typeof json === 'object') return { structValue: toStruct(json, path) };
  return fail(path, `not a JSON value: ${typeof json}`);
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function toTimestamp(text: string, path: string): Out {
  const m = RFC3339.exec(text);
  if (m === null) return fail(path, `expected an RFC 3339 timestamp, got ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const parts = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [year, month, day, hour, minute, second] = parts;
  // setUTCFullYear, unlike Date.UTC, takes years below 100 literally.
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  check.setUTCHours(hour, minute, second, 0);
  // Out-of-range parts roll over (February 30th); a valid timestamp survives unchanged.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return fail(path, `not a valid date and time: ${JSON.stringify(text)}`);
  }
  const ms = check.getTime();
  const offsetMinutes =
    sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const seconds = BigInt(ms / 1000) - BigInt(offsetMinutes * 60);
  const nanos = frac === undefined ? 0 : Number(frac.padEnd(9, '0'));
  return { seconds: seconds.toString(), nanos };
}

function toAny(ctx: Context, json: unknown, path: string): Out {
  if (!isObject(json)) fail(path, `expected an object (Any), got ${describe(json)}`);
  const typeUrl = json['@type'];
  if (typeof typeUrl !== 'string' || typeUrl === '') fail(path, 'Any without "@type"');
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const type = ctx.root.lookup(name);
  if (!(type instanceof protobuf.Type)) {
    return fail(path, `Any of type ${name}, which mcp-gate's protos do not define`);
  }
  const body = Object.hasOwn(WELL_KNOWN, type.fullName)
    ? json['value']
    : Object.fromEntries(Object.entries(json).filter(([key]) => key !== '@type'));
  return { type_url: typeUrl, value: encode(type, convertMessage(ctx, type, body, path), path) };
}
