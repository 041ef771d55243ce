/**
 * Strict JSON for JSON-RPC request bodies, at the cost of `JSON.parse`: what inspect.ts needs from
 * a body, computed without building every value twice.
 *
 * Contract (pure: no I/O, no clock; never throws, whatever the input). The result is exactly what
 * a full strict parse plus inspect's envelope filter gives; json-rpc-body.test.ts checks it against
 * such a parser (test/oracles/strict-json.ts) on generated bodies:
 * - A text is accepted exactly when it is RFC 8259 JSON nesting at most `maxDepth` containers. A
 *   rejected text gets V8's own syntax error as its message, or the depth limit it passed.
 * - `envelopeDuplicates` lists the keys that occur twice in one object at the levels where a
 *   duplicate lets a client show us one value and the server another: `jsonrpc`, `method`, `id`
 *   and `params` in a message (the top-level object or an object element of a top-level array),
 *   and `name`, `uri`, `protocolVersion` and `arguments` (which conditions read) in a message's
 *   `params` object. Keys are compared
 *   after unescaping and, as Go servers match them, folded (json-key.ts): `Name` and `name\u0000`
 *   are both `name`, so `{"name":"a","Name":"b"}` reports `params.name`. A path is built from the
 *   message: `method`, `params.name`, and in a batch `[1].params.name`; each key is reported once
 *   per object, in the order the duplicate's value ends.
 * - `argumentDuplicates`: per message, whether some object inside its `params.arguments` holds a
 *   key twice (after unescaping). `value` keeps only the last copy, so conditions that read
 *   arguments are told (src/core/policy/tool-arguments.ts refuses them). Duplicates elsewhere
 *   (`_meta`…) are not reported.
 * - `topLevelIds`: the raw text of each message's last `id`, so ids are echoed byte-exact.
 * - `value` is `JSON.parse`'s: the same values, the last of duplicate keys winning, `__proto__`
 *   an own data key; but objects have `Object.prototype`, so read members only through
 *   `Object.hasOwn` (never `in`, never an inherited name).
 *
 * How: V8's `JSON.parse` accepts exactly the RFC 8259 grammar (ECMA-262 JSON.parse), in native
 * code, two to four times faster than a strict parser walks it in JavaScript (bench/micro-json.ts).
 * Once it has accepted the text, one more pass reads only the structure: it jumps over strings
 * with `indexOf`, keeps no values, reads the keys of envelope objects, and counts nesting. A text
 * `JSON.parse` refuses is rejected with its error; rejected bodies are denied or not MCP.
 */
import { foldJsonKey, foldedLength } from './json-key.js';
import { closingQuote } from './json-string.js';

/** A parsed JSON value. */
export type JsonValue = null | boolean | number | string | JsonArray | JsonObject;

/** A parsed JSON array (an ordinary array: indices cannot reach a prototype). */
export type JsonArray = readonly JsonValue[];

/**
 * A parsed JSON object. Every key, `__proto__` included, is an own data property; the prototype
 * may be `Object.prototype`, so read members with bracket access after `Object.hasOwn`, never
 * through `in` or an inherited name. Read-only by type only: nothing is frozen, to keep the hot
 * path cheap.
 */
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** Options for {@link parseJsonRpcBody}. */
export interface JsonRpcBodyOptions {
  /**
   * Maximum container nesting: a scalar nests 0 deep, `[]` or `{}` 1 deep, `[[]]` 2 deep. A value
   * that is not a number `>= 0` (e.g. `NaN`) counts as `0`, so only scalars parse (fail closed).
   */
  readonly maxDepth: number;
}

/** A body that is exactly one JSON value, with what the MCP decision needs from its text. */
export interface JsonRpcBodySuccess {
  readonly ok: true;
  /** `JSON.parse`'s value: objects inherit from `Object.prototype` (read with `Object.hasOwn`). */
  readonly value: JsonValue;
  /** Duplicate envelope keys as paths (see the module comment); empty when there are none. */
  readonly envelopeDuplicates: readonly string[];
  /**
   * Raw `id` text per message: `[id]` for a top-level object; for a top-level array, entry `i`
   * belongs to element `i` (`undefined` when that element is not an object); `[]` for a scalar.
   * An entry is `undefined` when the message has no `id`.
   */
  readonly topLevelIds: readonly (string | undefined)[];
  /**
   * Per message, index for index with `topLevelIds`: true when an object inside its
   * `params.arguments` holds a key twice, which `value` no longer shows (JSON.parse keeps the
   * last copy, a first-wins server reads the first).
   */
  readonly argumentDuplicates: readonly boolean[];
}

/** A body that is not accepted; `message` says why (V8's syntax error, or the depth limit). */
export interface JsonRpcBodyFailure {
  readonly ok: false;
  /** `syntax`: not RFC 8259 JSON; `too_deep`: containers nested deeper than `maxDepth`. */
  readonly error: 'syntax' | 'too_deep';
  readonly message: string;
}

/** Result of {@link parseJsonRpcBody}. */
export type JsonRpcBodyResult = JsonRpcBodySuccess | JsonRpcBodyFailure;

/**
 * Parses a decoded request body. Never throws.
 *
 * @param text - the decoded body (no BOM; see decode-body.ts)
 * @param opts - the nesting limit
 * @returns the value with envelope duplicates and raw ids, or why the text was rejected
 */
export function parseJsonRpcBody(text: string, opts: JsonRpcBodyOptions): JsonRpcBodyResult {
  let value: JsonValue;
  try {
    // JSON.parse yields nothing but JSON values; typed as such for the readers downstream.
    value = JSON.parse(text) as JsonValue;
  } catch (err: unknown) {
    // V8 says what and where ("... in JSON at position 23"); that is the message explain shows.
    return {
      ok: false,
      error: 'syntax',
      message: err instanceof Error ? err.message : String(err),
    };
  }
  // `>= 0` is false for NaN, so a broken limit means "scalars only" rather than "unlimited".
  const maxDepth = opts.maxDepth >= 0 ? opts.maxDepth : 0;
  const scan = new EnvelopeScan(text, maxDepth);
  try {
    scan.run();
  } catch (err: unknown) {
    if (err instanceof TooDeep) {
      return { ok: false, error: 'too_deep', message: `nesting deeper than ${String(maxDepth)}` };
    }
    // The scan meets only texts JSON.parse accepted; should it fault on one, nothing is accepted.
    return { ok: false, error: 'syntax', message: 'the envelope scan failed' };
  }
  return {
    ok: true,
    value,
    envelopeDuplicates: scan.duplicates,
    topLevelIds: scan.ids,
    argumentDuplicates: scan.argumentDuplicates,
  };
}

/**
 * True when `text` is a JSON array with more than `max` elements at its top level. It reads only
 * as far as element `max + 1`, skipping strings natively and nested containers by counting, so
 * a body of a million tiny elements is refused after reading `max` of them instead of being
 * parsed whole. The text need not be valid JSON: an answer for an invalid text is never used
 * to allow anything, since the over-long batch is refused either way.
 */
export function batchExceeds(text: string, max: number): boolean {
  let i = 0;
  while (isWhitespace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== LEFT_BRACKET) return false;
  let depth = 0;
  let elements = 0;
  let empty = true;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return false;
      if (depth === 1) empty = false;
    } else if (c === LEFT_BRACE || c === LEFT_BRACKET) {
      depth++;
      if (depth === 2) empty = false;
    } else if (c === RIGHT_BRACE || c === RIGHT_BRACKET) {
      depth--;
      if (depth === 0) return elements + (empty ? 0 : 1) > max;
    } else if (depth === 1) {
      if (c === COMMA) {
        elements++;
        if (elements + 1 > max) return true;
      } else if (!isWhitespace(c)) {
        empty = false;
      }
    }
  }
  return false;
}

/**
 * True when `text` holds more than `max` object members (a `:` outside strings), at any depth.
 * `JSON.parse` spends far more per member than per byte when keys are distinct (V8 builds a new
 * object shape per key): 4 MiB of distinct keys costs it 150–1,150 ms against 20–40 ms for a
 * 4 MiB string, so a body with too many members is refused before it is parsed. Strings are
 * skipped natively; the text need not be valid JSON (the answer never allows anything).
 */
export function membersExceed(text: string, max: number): boolean {
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return false;
    } else if (c === COLON && ++members > max) {
      return true;
    }
  }
  return false;
}

// Char codes, named so the scan reads like the grammar.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const LEFT_BRACKET = 0x5b;
const RIGHT_BRACKET = 0x5d;
const LEFT_BRACE = 0x7b;
const RIGHT_BRACE = 0x7d;

/** An envelope object: the keys whose duplicates count there, and its path below a message. */
interface EnvelopeLevel {
  /** A key's index here is its bit in the scan's `seen` and `reported` masks. */
  readonly keys: readonly string[];
  /** The keys folded (json-key.ts), index for index. */
  readonly folded: readonly string[];
  readonly path: string;
}

function envelopeLevel(keys: readonly string[], path: string): EnvelopeLevel {
  return { keys, folded: keys.map(foldJsonKey), path };
}

const MESSAGE = envelopeLevel(['jsonrpc', 'method', 'id', 'params'], '');
const PARAMS = envelopeLevel(['name', 'uri', 'protocolVersion', 'arguments'], 'params.');
const ID_KEY = MESSAGE.keys.indexOf('id');
const PARAMS_KEY = MESSAGE.keys.indexOf('params');
const ARGUMENTS_KEY = PARAMS.keys.indexOf('arguments');
const NOT_ENVELOPE = -1;

/** Thrown to end the scan when nesting passes the limit; never escapes this module. */
class TooDeep extends Error {}

/**
 * One structural pass over a text `JSON.parse` has accepted, so it never meets bad syntax: a
 * string is a quote to the next unescaped quote, and a scalar ends at whitespace, `,`, `]` or `}`.
 */
class EnvelopeScan {
  readonly duplicates: string[] = [];
  readonly ids: (string | undefined)[] = [];
  readonly argumentDuplicates: boolean[] = [];
  /** Raw text of the last `id` of the message scanned last (undefined: it had none). */
  private messageId: string | undefined;
  /** Whether the arguments of the message scanned last hold a key twice in one object. */
  private messageArgumentDuplicates = false;
  private readonly text: string;
  private readonly maxDepth: number;

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.maxDepth = maxDepth;
  }

  run(): void {
    const text = this.text;
    let i = this.skipWhitespace(0);
    const c = text.charCodeAt(i);
    if (c === LEFT_BRACE) {
      this.scanObject(i, 1, -1, MESSAGE);
      this.ids.push(this.messageId);
      this.argumentDuplicates.push(this.messageArgumentDuplicates);
    } else if (c === LEFT_BRACKET) {
      this.checkDepth(1);
      i = this.skipWhitespace(i + 1);
      if (text.charCodeAt(i) === RIGHT_BRACKET) return;
      for (let index = 0; ; index++) {
        if (text.charCodeAt(i) === LEFT_BRACE) {
          i = this.scanObject(i, 2, index, MESSAGE);
          this.ids.push(this.messageId);
          this.argumentDuplicates.push(this.messageArgumentDuplicates);
        } else {
          this.ids.push(undefined);
          this.argumentDuplicates.push(false);
          i = this.skipValue(i, 1);
        }
        i = this.skipWhitespace(i);
        if (text.charCodeAt(i) !== COMMA) return;
        i = this.skipWhitespace(i + 1);
      }
    }
    // A scalar: no containers, no ids; JSON.parse has checked everything else.
  }

  /**
   * Scans an envelope object opening at `start`, `depth` containers deep: a message (whose
   * `params` object is scanned the same way), or a message's `params`. `index` is the message's
   * position in a batch, -1 at the top level. Returns where the object ends; for a message,
   * leaves the raw text of its last `id` in {@link messageId}.
   */
  private scanObject(start: number, depth: number, index: number, level: EnvelopeLevel): number {
    const text = this.text;
    const isMessage = level === MESSAGE;
    if (isMessage) {
      this.messageId = undefined;
      this.messageArgumentDuplicates = false;
    }
    this.checkDepth(depth);
    let seen = 0;
    let reported = 0;
    let i = this.skipWhitespace(start + 1);
    if (text.charCodeAt(i) === RIGHT_BRACE) return i + 1;
    for (;;) {
      const keyEnd = closingQuote(text, i);
      const key = envelopeIndex(level, this.keyAt(i, keyEnd));
      const valueStart = this.skipWhitespace(this.skipWhitespace(keyEnd + 1) + 1); // past ':'
      if (isMessage && key === PARAMS_KEY && text.charCodeAt(valueStart) === LEFT_BRACE) {
        i = this.scanObject(valueStart, depth + 1, index, PARAMS);
      } else if (level === PARAMS && key === ARGUMENTS_KEY) {
        i = this.skipArguments(valueStart, depth);
      } else {
        i = this.skipValue(valueStart, depth);
      }
      if (isMessage && key === ID_KEY) this.messageId = text.slice(valueStart, i);
      // Recorded once the value has ended: that fixes the order of the paths.
      if (key !== NOT_ENVELOPE) {
        const bit = 1 << key;
        if ((seen & bit) === 0) {
          seen |= bit;
        } else if ((reported & bit) === 0) {
          reported |= bit;
          this.duplicates.push(`${prefixOf(index)}${level.path}${level.keys[key] ?? ''}`);
        }
      }
      i = this.skipWhitespace(i);
      if (text.charCodeAt(i) !== COMMA) return i + 1; // past '}'
      i = this.skipWhitespace(i + 1);
    }
  }

  /**
   * Skips the value starting at `start` inside a container `depth` deep; returns where it ends.
   * Containers are walked with a counter rather than recursion, checking each new level.
   */
  private skipValue(start: number, depth: number): number {
    const text = this.text;
    let c = text.charCodeAt(start);
    if (c === QUOTE) return closingQuote(text, start) + 1;
    if (c !== LEFT_BRACE && c !== LEFT_BRACKET) {
      let i = start + 1;
      for (;;) {
        c = text.charCodeAt(i);
        if (c === COMMA || c === RIGHT_BRACE || c === RIGHT_BRACKET || isWhitespace(c)) return i;
        if (i >= text.length) return i;
        i++;
      }
    }
    let open = 1;
    this.checkDepth(depth + open);
    let i = start + 1;
    for (;;) {
      c = text.charCodeAt(i);
      if (c === QUOTE) {
        i = closingQuote(text, i) + 1;
        continue;
      }
      if (c === LEFT_BRACE || c === LEFT_BRACKET) {
        open++;
        this.checkDepth(depth + open);
      } else if (c === RIGHT_BRACE || c === RIGHT_BRACKET) {
        open--;
        if (open === 0) return i + 1;
      }
      i++;
    }
  }

  /**
   * Skips a message's `arguments` value as skipValue does, noting in
   * {@link messageArgumentDuplicates} whether an object in it holds a key twice. A string is a
   * key exactly when a `:` follows it; each open object keeps the keys it has seen.
   */
  private skipArguments(start: number, depth: number): number {
    const text = this.text;
    const first = text.charCodeAt(start);
    if (first !== LEFT_BRACE && first !== LEFT_BRACKET) return this.skipValue(start, depth);
    // One entry per open container: its keys so far, or undefined for an array.
    const open: (Set<string> | undefined)[] = [];
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const end = closingQuote(text, i);
        const keys = open[open.length - 1];
        if (keys !== undefined && text.charCodeAt(this.skipWhitespace(end + 1)) === COLON) {
          const key = this.keyAt(i, end);
          if (keys.has(key)) this.messageArgumentDuplicates = true;
          else keys.add(key);
        }
        i = end + 1;
        continue;
      }
      if (c === LEFT_BRACE || c === LEFT_BRACKET) {
        open.push(c === LEFT_BRACE ? new Set() : undefined);
        this.checkDepth(depth + open.length);
      } else if (c === RIGHT_BRACE || c === RIGHT_BRACKET) {
        open.pop();
        if (open.length === 0) return i + 1;
      }
      i++;
    }
  }

  /** The value of the key string from `start` (its opening quote) to `end` (its closing quote). */
  private keyAt(start: number, end: number): string {
    const raw = this.text.slice(start + 1, end);
    // Escaped keys are rare; JSON.parse unescapes them exactly as it did for `value`.
    return raw.includes('\\') ? (JSON.parse(this.text.slice(start, end + 1)) as string) : raw;
  }

  private skipWhitespace(from: number): number {
    const text = this.text;
    let i = from;
    while (isWhitespace(text.charCodeAt(i))) i++;
    return i;
  }

  private checkDepth(depth: number): void {
    if (depth > this.maxDepth) throw new TooDeep();
  }
}

function isWhitespace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function envelopeIndex(level: EnvelopeLevel, key: string): number {
  const keys = level.keys;
  for (let k = 0; k < keys.length; k++) if (keys[k] === key) return k;
  // Other spellings are rare; a key is folded only when it could fold onto an envelope key.
  const length = foldedLength(key);
  let folded: string | undefined;
  for (let k = 0; k < keys.length; k++) {
    if (keys[k]?.length !== length) continue;
    folded ??= foldJsonKey(key);
    if (level.folded[k] === folded) return k;
  }
  return NOT_ENVELOPE;
}

/** The path prefix of a message: none at the top level, `[n].` in a batch. */
function prefixOf(index: number): string {
  return index < 0 ? '' : `[${index}].`;
}
