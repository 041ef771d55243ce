/**
 * `google.protobuf.Struct` in wire shape (check-types.ts ProtoStruct, as the CheckRequest
 * decoders give it) → plain JSON. Read through type guards: a missing or mistyped member reads as
 * null, never throws. Shared by to-facts.ts (Envoy's metadata_context) and explain's output.
 */
import type { JsonObject, JsonValue } from '../core/mcp/json-rpc-body.js';

type Bag = Readonly<Record<string, unknown>>;

function bag(value: unknown): Bag | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Bag)
    : undefined;
}

// A Struct nests as deep as its sender built it; Envoy's own filters write a few levels. Deeper
// values read as null rather than risk the stack.
const MAX_STRUCT_DEPTH = 32;

/** A Struct as a plain JSON object. */
export function structToJson(struct: object, depth = 0): JsonObject {
  const out: Record<string, JsonValue> = {};
  const fields = bag((struct as Bag)['fields']);
  if (fields === undefined) return out;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    // defineProperty: a `__proto__` key must stay a plain own member, as JSON.parse makes it.
    Object.defineProperty(out, key, {
      value: valueToJson(fields[key], depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function valueToJson(value: unknown, depth: number): JsonValue {
  const v = bag(value);
  if (v === undefined || depth > MAX_STRUCT_DEPTH) return null;
  if (typeof v['stringValue'] === 'string') return v['stringValue'];
  if (typeof v['numberValue'] === 'number') return v['numberValue'];
  if (typeof v['boolValue'] === 'boolean') return v['boolValue'];
  const struct = bag(v['structValue']);
  if (struct !== undefined) return structToJson(struct, depth);
  const list = bag(v['listValue']);
  if (list !== undefined) {
    const values = list['values'];
    return Array.isArray(values)
      ? (values as readonly unknown[]).map((item) => valueToJson(item, depth + 1))
      : [];
  }
  return null;
}
