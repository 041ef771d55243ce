/**
 * Strict JSON parser for MCP (JSON-RPC) request bodies.
 *
 * Why not `JSON.parse`: it silently keeps the last of two equal keys, so
 * `{"method":"tools/list","method":"tools/call"}` (or the same key spelled `"\u006dethod"`) lets a
 * client show one value to whoever reads first and another to whoever reads last. An authorizer
 * must see every such duplicate, and must never build objects whose `__proto__` key reaches a
 * prototype. It also has no depth limit and cannot tell us the raw text of a JSON-RPC `id`.
 *
 * Contract (pure: no I/O, no clock; never throws, whatever the input):
 * - Accepts exactly the RFC 8259 grammar: no comments, trailing commas, `NaN`/`Infinity`, leading
 *   zeros, single quotes or non-JSON whitespace. A leading U+FEFF (BOM) is a syntax error here;
 *   decode-body.ts deals with byte-order marks before text reaches this parser.
 * - Objects have a `null` prototype, so `__proto__`, `constructor` and `prototype` are ordinary
 *   own data keys and no parsed input can change any prototype.
 * - Every key that occurs more than once in one object, at any depth, is reported once in
 *   `duplicateKeys` as a path (see {@link StrictJsonSuccess.duplicateKeys}); keys are compared
 *   after unescaping. `value` keeps the last occurrence, as `JSON.parse` does; callers deny anyway.
 * - Strings: all RFC 8259 escapes; lone surrogates (`"\ud800"`) are valid JSON grammar (RFC 8259
 *   §8.2 notes their unpredictable handling) and are kept as the lone UTF-16 code unit. `\u0000`
 *   is accepted; raw U+0000–U+001F inside a string is a syntax error (RFC 8259 §7).
 * - Numbers become JS numbers exactly as `JSON.parse` computes them (`1e400` is `Infinity`,
 *   `-0` is `-0`); the raw `id` text is recorded separately (`topLevelIds`) so ids survive.
 * - Nesting deeper than `maxDepth` containers is `too_deep`. The parser keeps its own stack (no
 *   recursion), so even 100,000 nested `[` cannot overflow the call stack.
 *
 * Where it is used: only in tests, as the oracle that src/core/mcp/json-rpc-body.ts (JSON.parse
 * plus an envelope scan, what the service runs) is checked against. It walks char codes, takes one
 * `slice` per escape-free string, and computes short integers without allocating.
 */
import type {
  JsonArray,
  JsonObject,
  JsonRpcBodyOptions,
  JsonValue,
} from '../../src/core/mcp/json-rpc-body.js';

/** Parsed values have the shapes the service's reader declares; here objects have a `null` prototype. */
export type { JsonArray, JsonObject, JsonValue };

/** Options for {@link parseStrictJson}: the same nesting limit as the service's reader. */
export type StrictJsonOptions = JsonRpcBodyOptions;

/** Why a text was rejected. */
export type StrictJsonError =
  /** Not RFC 8259 JSON (including empty input, trailing data, bad escapes, raw control characters). */
  | 'syntax'
  /** Containers nested deeper than `maxDepth`. */
  | 'too_deep';

/** A text that is exactly one JSON value. */
export interface StrictJsonSuccess {
  readonly ok: true;
  /** The parsed value; for duplicate keys the last occurrence wins. */
  readonly value: JsonValue;
  /**
   * Paths of keys that occur more than once in the same object, each reported once per object, in
   * the order the second occurrence was met. A path is built from the root: object keys that are
   * identifiers are joined with `.`, other keys appear as `["key"]` (JSON-quoted), and array indices
   * as `[n]`: `method`, `params.name`, `[1].params.name`, `params.arguments["a.b"]`. Empty when
   * there are none. Any non-empty list means the body is ambiguous.
   */
  readonly duplicateKeys: readonly string[];
  /**
   * The raw source text of each message's `id` value, for echoing the id back byte-exact
   * (e.g. `7`, `"abc"`, `"\u0061"`, `1e400`, `123456789012345678901234567890`). One entry per
   * message: `[id]` for a top-level object; for a top-level array, entry `i` belongs to element
   * `i` (`undefined` when that element is not an object); `[]` for a top-level scalar. An entry is
   * `undefined` when the object has no `id` member; with duplicate `id` keys it is the text of the
   * last one, matching `value`.
   */
  readonly topLevelIds: readonly (string | undefined)[];
}

/** A text that is not accepted; `message` says what and where (offset in UTF-16 code units). */
export interface StrictJsonFailure {
  readonly ok: false;
  readonly error: StrictJsonError;
  readonly message: string;
}

/** Result of {@link parseStrictJson}. */
export type StrictJsonResult = StrictJsonSuccess | StrictJsonFailure;

/**
 * Narrows a {@link JsonValue} to a {@link JsonObject} (not `null`, not an array).
 *
 * @param value - any parsed value
 * @returns true when `value` is a JSON object
 */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses `text` as exactly one RFC 8259 JSON value, reporting duplicate keys and raw message ids.
 * Never throws: every rejection is a {@link StrictJsonFailure}.
 *
 * @param text - the decoded body (no BOM; see decode-body.ts)
 * @param opts - the nesting limit
 * @returns the value with duplicate-key paths and raw ids, or why the text was rejected
 */
export function parseStrictJson(text: string, opts: StrictJsonOptions): StrictJsonResult {
  // `>= 0` is false for NaN, so a broken limit means "scalars only" rather than "unlimited".
  const maxDepth = opts.maxDepth >= 0 ? opts.maxDepth : 0;
  const parser = new Parser(text, maxDepth);
  try {
    return parser.parse();
  } catch (err: unknown) {
    if (err instanceof ParseFailure) {
      return { ok: false, error: err.error, message: err.message };
    }
    // Nothing else is expected; whatever it is, the body is not accepted (fail closed).
    return { ok: false, error: 'syntax', message: `parser fault: ${String(err)}` };
  }
}

// Char codes, named so the state machine reads like the grammar.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const LEFT_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RIGHT_BRACKET = 0x5d;
const LOWER_B = 0x62;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const LEFT_BRACE = 0x7b;
const RIGHT_BRACE = 0x7d;

/** Integers with at most this many digits are exact in a double, so we compute them directly. */
const MAX_FAST_INT_DIGITS = 15;

/**
 * Objects with up to this many keys are checked for duplicates by scanning their key list: for the
 * small objects of JSON-RPC envelopes that is much cheaper than a property lookup on a
 * null-prototype (dictionary-mode) object, which first has to internalize the key (measured: the
 * whole parse got ~30% faster).
 */
const LINEAR_KEY_SCAN_LIMIT = 16;

/** Object keys printed with `.` in duplicate-key paths; anything else is printed JSON-quoted. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Internal signal carrying a rejection to {@link parseStrictJson}; never escapes this module. */
class ParseFailure extends Error {
  readonly error: StrictJsonError;
  constructor(error: StrictJsonError, message: string) {
    super(message);
    this.error = error;
  }
}

interface ArrayFrame {
  readonly isArray: true;
  readonly items: JsonValue[];
  /** Index or key of this container in its parent (unused for the root). */
  readonly keyInParent: string | number;
}

interface ObjectFrame {
  readonly isArray: false;
  readonly members: Record<string, JsonValue>;
  readonly keyInParent: string | number;
  /** True for a top-level object or an element of a top-level array: a JSON-RPC message. */
  readonly isMessage: boolean;
  /** Key whose value is being parsed. */
  key: string;
  /** Offset where that value starts, to slice the raw `id` text. */
  valueStart: number;
  /** Raw text of this message's `id` value, when `isMessage`. */
  idRaw: string | undefined;
  /** The first {@link LINEAR_KEY_SCAN_LIMIT} distinct keys, for the duplicate check. */
  readonly keys: string[];
  /** Keys already reported as duplicates in this object (created on the first one). */
  reported: Set<string> | undefined;
}

type Frame = ArrayFrame | ObjectFrame;

class Parser {
  private readonly text: string;
  private readonly length: number;
  private readonly maxDepth: number;
  private pos = 0;

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.length = text.length;
    this.maxDepth = maxDepth;
  }

  parse(): StrictJsonSuccess {
    const text = this.text;
    const stack: Frame[] = [];
    const duplicateKeys: string[] = [];
    const arrayIds: (string | undefined)[] = [];
    // Raw id of the object value just completed (undefined for any other value); read when that
    // value is attached to a top-level array, or when it is itself the top-level value.
    let completedId: string | undefined;
    let value: JsonValue;

    this.skipWhitespace();
    for (;;) {
      // State 1: a value starts at this.pos. Scalars complete at once; a non-empty container is
      // pushed and we loop back here for its first member.
      const c = text.charCodeAt(this.pos);
      if (c === LEFT_BRACE || c === LEFT_BRACKET) {
        // Checked before anything is pushed, so the stack never exceeds maxDepth frames.
        if (stack.length + 1 > this.maxDepth) {
          throw new ParseFailure(
            'too_deep',
            `nesting deeper than ${this.maxDepth} at offset ${this.pos}`,
          );
        }
        const parent = stack[stack.length - 1];
        const keyInParent =
          parent === undefined ? '' : parent.isArray ? parent.items.length : parent.key;
        this.pos++;
        this.skipWhitespace();
        if (c === LEFT_BRACE) {
          const members = Object.create(null) as Record<string, JsonValue>;
          if (text.charCodeAt(this.pos) === RIGHT_BRACE) {
            this.pos++;
            value = members;
            completedId = undefined;
          } else {
            const frame: ObjectFrame = {
              isArray: false,
              members,
              keyInParent,
              isMessage: parent === undefined || (stack.length === 1 && parent.isArray),
              key: '',
              valueStart: 0,
              idRaw: undefined,
              keys: [],
              reported: undefined,
            };
            stack.push(frame);
            this.readKey(frame);
            continue;
          }
        } else {
          const items: JsonValue[] = [];
          if (text.charCodeAt(this.pos) === RIGHT_BRACKET) {
            this.pos++;
            value = items;
            completedId = undefined;
          } else {
            stack.push({ isArray: true, items, keyInParent });
            continue;
          }
        }
      } else {
        value = this.readScalar(c);
        completedId = undefined;
      }

      // State 2: `value` is complete and this.pos is just past it. Attach it to the enclosing
      // container, then either expect the next member (back to state 1) or close the container,
      // which completes another value (stay in state 2).
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          this.skipWhitespace();
          if (this.pos !== this.length) {
            throw this.syntax('unexpected data after the JSON value');
          }
          const topLevelIds = Array.isArray(value)
            ? arrayIds
            : isJsonObject(value)
              ? [completedId]
              : [];
          return { ok: true, value, duplicateKeys, topLevelIds };
        }
        if (top.isArray) {
          top.items.push(value);
          if (stack.length === 1) arrayIds.push(completedId);
          this.skipWhitespace();
          const d = text.charCodeAt(this.pos);
          if (d === COMMA) {
            this.pos++;
            this.skipWhitespace();
            break;
          }
          if (d !== RIGHT_BRACKET) throw this.syntax("expected ',' or ']'");
          this.pos++;
          stack.pop();
          value = top.items;
          completedId = undefined;
        } else {
          const key = top.key;
          if (isDuplicateKey(top, key)) this.reportDuplicate(stack, top, key, duplicateKeys);
          top.members[key] = value;
          if (top.isMessage && key === 'id') top.idRaw = text.slice(top.valueStart, this.pos);
          this.skipWhitespace();
          const d = text.charCodeAt(this.pos);
          if (d === COMMA) {
            this.pos++;
            this.skipWhitespace();
            this.readKey(top);
            break;
          }
          if (d !== RIGHT_BRACE) throw this.syntax("expected ',' or '}'");
          this.pos++;
          stack.pop();
          value = top.members;
          completedId = top.idRaw;
        }
      }
    }
  }

  /** Reads `"key" :` and leaves this.pos at the start of the member's value. */
  private readKey(frame: ObjectFrame): void {
    if (this.text.charCodeAt(this.pos) !== QUOTE) throw this.syntax('expected a string key');
    frame.key = this.readString();
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) !== COLON) throw this.syntax("expected ':'");
    this.pos++;
    this.skipWhitespace();
    frame.valueStart = this.pos;
  }

  private reportDuplicate(stack: Frame[], frame: ObjectFrame, key: string, out: string[]): void {
    frame.reported ??= new Set();
    if (frame.reported.has(key)) return;
    frame.reported.add(key);
    let path = '';
    for (let i = 1; i < stack.length; i++) {
      const f = stack[i];
      if (f !== undefined) path = appendPathSegment(path, f.keyInParent);
    }
    out.push(appendPathSegment(path, key));
  }

  private readScalar(c: number): JsonValue {
    if (c === QUOTE) return this.readString();
    if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return this.readNumber();
    if (c === LOWER_T) return this.readLiteral('true', true);
    if (c === LOWER_F) return this.readLiteral('false', false);
    if (c === LOWER_N) return this.readLiteral('null', null);
    throw this.syntax('expected a JSON value');
  }

  private readLiteral<T extends JsonValue>(word: string, result: T): T {
    if (!this.text.startsWith(word, this.pos)) throw this.syntax(`expected '${word}'`);
    this.pos += word.length;
    return result;
  }

  /** Reads a string starting at the opening quote; this.pos ends just past the closing quote. */
  private readString(): string {
    const text = this.text;
    const length = this.length;
    const start = this.pos + 1;
    let i = start;
    // Fast path: no escapes means one slice and no intermediate strings.
    for (;;) {
      if (i >= length) throw this.syntaxAt(i, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.pos = i + 1;
        return text.slice(start, i);
      }
      if (c === BACKSLASH) break;
      if (c < SPACE) throw this.syntaxAt(i, 'raw control character in string');
      i++;
    }
    let out = '';
    let chunkStart = start;
    for (;;) {
      if (i >= length) throw this.syntaxAt(i, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.pos = i + 1;
        return out + text.slice(chunkStart, i);
      }
      if (c === BACKSLASH) {
        out += text.slice(chunkStart, i);
        const e = text.charCodeAt(i + 1);
        switch (e) {
          case QUOTE:
            out += '"';
            break;
          case BACKSLASH:
            out += '\\';
            break;
          case SLASH:
            out += '/';
            break;
          case LOWER_B:
            out += '\b';
            break;
          case LOWER_F:
            out += '\f';
            break;
          case LOWER_N:
            out += '\n';
            break;
          case LOWER_R:
            out += '\r';
            break;
          case LOWER_T:
            out += '\t';
            break;
          case LOWER_U: {
            const unit =
              (hexValue(text.charCodeAt(i + 2)) << 12) |
              (hexValue(text.charCodeAt(i + 3)) << 8) |
              (hexValue(text.charCodeAt(i + 4)) << 4) |
              hexValue(text.charCodeAt(i + 5));
            // hexValue returns -1 for a non-hex digit, which makes the whole OR negative.
            if (unit < 0) throw this.syntaxAt(i, 'invalid \\u escape');
            // One UTF-16 unit per escape: a surrogate pair comes from two escapes, and a lone
            // surrogate stays lone (valid JSON grammar, kept as is).
            out += String.fromCharCode(unit);
            i += 4;
            break;
          }
          default:
            throw this.syntaxAt(i, 'invalid escape');
        }
        i += 2;
        chunkStart = i;
        continue;
      }
      if (c < SPACE) throw this.syntaxAt(i, 'raw control character in string');
      i++;
    }
  }

  private readNumber(): number {
    const text = this.text;
    const start = this.pos;
    let i = start;
    let c = text.charCodeAt(i);
    const negative = c === MINUS;
    if (negative) c = text.charCodeAt(++i);
    let intValue = 0;
    if (c === DIGIT_0) {
      c = text.charCodeAt(++i);
      if (c >= DIGIT_0 && c <= DIGIT_9) throw this.syntaxAt(i, 'leading zero in number');
    } else if (c >= DIGIT_1 && c <= DIGIT_9) {
      do {
        intValue = intValue * 10 + (c - DIGIT_0);
        c = text.charCodeAt(++i);
      } while (c >= DIGIT_0 && c <= DIGIT_9);
    } else {
      throw this.syntaxAt(i, 'expected a digit');
    }
    const intDigits = i - start - (negative ? 1 : 0);
    let isInteger = true;
    if (c === DOT) {
      isInteger = false;
      c = text.charCodeAt(++i);
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) throw this.syntaxAt(i, 'expected a digit after "."');
      do c = text.charCodeAt(++i);
      while (c >= DIGIT_0 && c <= DIGIT_9);
    }
    if (c === LOWER_E || c === UPPER_E) {
      isInteger = false;
      c = text.charCodeAt(++i);
      if (c === PLUS || c === MINUS) c = text.charCodeAt(++i);
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) throw this.syntaxAt(i, 'expected an exponent digit');
      do c = text.charCodeAt(++i);
      while (c >= DIGIT_0 && c <= DIGIT_9);
    }
    this.pos = i;
    if (isInteger && intDigits <= MAX_FAST_INT_DIGITS) {
      // `-intValue` of 0 is -0, exactly what JSON.parse('-0') gives.
      return negative ? -intValue : intValue;
    }
    // The grammar above is a subset of what Number() accepts, and both round the same way.
    return Number(text.slice(start, i));
  }

  private skipWhitespace(): void {
    const text = this.text;
    let i = this.pos;
    let c = text.charCodeAt(i);
    while (c === SPACE || c === LF || c === CR || c === TAB) c = text.charCodeAt(++i);
    this.pos = i;
  }

  private syntax(what: string): ParseFailure {
    return this.syntaxAt(this.pos, what);
  }

  private syntaxAt(offset: number, what: string): ParseFailure {
    return new ParseFailure(
      'syntax',
      `${what}: found ${describeCharAt(this.text, offset)} at offset ${offset}`,
    );
  }
}

/** True when `key` is already a member of the object being built; records it otherwise. */
function isDuplicateKey(frame: ObjectFrame, key: string): boolean {
  const keys = frame.keys;
  if (keys.length < LINEAR_KEY_SCAN_LIMIT) {
    for (const seen of keys) if (seen === key) return true;
    keys.push(key);
    return false;
  }
  // Past the limit the list is complete for the first keys only, so ask the object itself.
  return key in frame.members;
}

/** 0–15 for a hex digit's char code, -1 otherwise (including NaN past the end). */
function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const lower = c | 0x20; // ASCII letters only differ in this bit
  if (lower >= 0x61 && lower <= LOWER_F) return lower - 0x61 + 10;
  return -1;
}

function appendPathSegment(path: string, segment: string | number): string {
  if (typeof segment === 'number') return `${path}[${segment}]`;
  if (IDENTIFIER.test(segment)) return path === '' ? segment : `${path}.${segment}`;
  // Quoted so a key containing "." or "[" cannot be mistaken for a deeper path.
  return `${path}[${JSON.stringify(segment)}]`;
}

/** A short, log-safe description of the character at `offset`. */
function describeCharAt(text: string, offset: number): string {
  if (offset >= text.length) return 'end of input';
  const c = text.charCodeAt(offset);
  if (c > SPACE && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}
