/**
 * Tool arguments as a condition may read them: only when every server behind us would read the
 * same values.
 *
 * JSON.parse gives the arguments object JavaScript and Python servers see. A Go server decoding
 * into a struct matches keys case-insensitively (json-key.ts), the last matching key winning, so
 * `{"query":"SELECT 1","QUERY":"DROP TABLE t"}` is a SELECT to a condition and a DROP to the
 * server, and `{"Force":true}` sets a `force` field that a condition testing `has(args.force)`
 * does not see. So arguments are refused (`ambiguous_arguments`) when an object holds two keys
 * that fold alike, or a key that folds onto a member name some condition reads while spelled
 * differently. Folding here is wider than any one server's (Unicode lower case on top of Go's
 * rules): a false alarm denies a request that is odd anyway; a miss would let one through. A key
 * written twice alike, `{"query":"DROP TABLE t","query":"SELECT 1"}`, is gone from the parsed
 * value (JSON.parse keeps the last copy, a first-wins server runs the first), so the body scan
 * reports it (McpMessage.argumentsRepeatKeys) and it is refused the same way.
 *
 * Size: arguments with more than MAX_ARGUMENT_NODES values are not evaluated (`too_large`), which
 * bounds what a condition's comprehension can range over. Pure; never throws; no recursion.
 */
import { foldJsonKey } from '../mcp/json-key.js';
import type { JsonObject, JsonValue } from '../mcp/json-rpc-body.js';

/** JSON values (objects, arrays and scalars, each counted) conditions evaluate at most. */
export const MAX_ARGUMENT_NODES = 10_000;

export type ArgumentsReading =
  | { readonly ok: true; readonly args: JsonObject }
  | {
      readonly ok: false;
      readonly detail: 'ambiguous_arguments' | 'too_large' | 'malformed';
      readonly message: string;
    };

const EMPTY_ARGS: JsonObject = Object.freeze({});

/** A key's folded form: Go's folding (json-key.ts), then Unicode lower case. */
function fold(key: string): string {
  return foldJsonKey(key).toLowerCase();
}

/**
 * Reads `params.arguments` for conditions. `memberNames` are the names the conditions select or
 * index (ConditionProgram.memberNames); `repeatsKeys` is McpMessage.argumentsRepeatKeys.
 */
export function readToolArguments(
  value: JsonValue | undefined,
  repeatsKeys: boolean,
  memberNames: ReadonlySet<string>,
): ArgumentsReading {
  if (value === undefined || value === null) return { ok: true, args: EMPTY_ARGS };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, detail: 'malformed', message: 'tools/call arguments is not an object' };
  }
  if (repeatsKeys) return ambiguous('an argument key occurs twice in one object');
  const foldedNames = new Map<string, string>();
  for (const name of memberNames) foldedNames.set(fold(name), name);

  const pending: JsonValue[] = [value];
  let nodes = 0;
  while (pending.length > 0) {
    const next = pending.pop() as JsonValue;
    nodes++;
    if (nodes > MAX_ARGUMENT_NODES) {
      return {
        ok: false,
        detail: 'too_large',
        message: `tool arguments hold more than ${MAX_ARGUMENT_NODES} values`,
      };
    }
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      for (const item of next as readonly JsonValue[]) pending.push(item);
      continue;
    }
    const object = next as JsonObject;
    const seen = new Set<string>();
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      const folded = fold(key);
      if (seen.has(folded)) return ambiguous(`two argument keys read as ${JSON.stringify(folded)}`);
      seen.add(folded);
      const named = foldedNames.get(folded);
      if (named !== undefined && named !== key) {
        return ambiguous(
          `argument key ${JSON.stringify(key)} is read as ${JSON.stringify(named)} by some servers`,
        );
      }
      pending.push(object[key] as JsonValue);
    }
  }
  return { ok: true, args: value as JsonObject };
}

function ambiguous(message: string): ArgumentsReading {
  return { ok: false, detail: 'ambiguous_arguments', message };
}
