/**
 * A strict reader for the plain subset of YAML that allowlists are written in: the fast path of
 * the allowlist loader. It reads a 10,000-entry file in a few tens of milliseconds, where the
 * `yaml` package's parse with positions takes seconds.
 *
 * Contract: parseSimpleYaml either vouches for a text, returning exactly the plain data that
 * parseYamlSource (load-allowlist.ts) returns for it, or returns undefined. It never guesses:
 * whatever lies outside the subset is refused, and the caller then takes the precise path,
 * which reports every problem with its position. So a refusal costs time, never correctness,
 * and the subset can stay small. test/unit/config/simple-yaml.test.ts holds both readers to
 * the same answers.
 *
 * The subset, one construct per line:
 * - a block mapping at the top level (column 0), block mappings and block sequences below it
 *   (a sequence may sit at its key's indentation), at most MAX_DEPTH levels;
 * - keys that are plain lower-case words (`[a-z_][a-z0-9_]*`), each once per mapping, followed
 *   by `: ` or `:` at the end of the line;
 * - values on the key's (or the `- `'s) line: a plain scalar that the YAML 1.2 core schema reads
 *   as a string, a single- or double-quoted scalar (common escapes only), or a flow sequence
 *   `[a, "b"]` of such scalars; a nested block on the following lines after `key:`;
 * - `# comments` on their own lines and after values, blank lines.
 * Refused, among others: anchors, aliases, tags, directives, document markers, block scalars
 * (`|`, `>`), flow mappings, multi-line scalars or flow sequences, `? ` keys, quoted keys,
 * empty values (null), booleans, numbers (except under `numbersAsWritten` keys), tabs, a CR
 * that does not end a line (CRLF line ends are read), control characters, a BOM, surrogates
 * and the Unicode line separators.
 *
 * Pure; never throws.
 */
import type { DocPath } from './allowlist-schema.js';

/** A text the reader vouches for: its data, and where each value was written. */
export interface SimpleYaml {
  /** The top-level mapping, as parseYamlSource returns it (objects without prototype). */
  readonly value: Record<string, unknown>;
  /**
   * 1-based line and column where the value at `path` starts, as the `yaml` package places
   * its nodes (a quoted scalar at its quote, a block mapping at its first key, a block sequence
   * at its first `-`); undefined when nothing is at `path`.
   */
  positionOf(path: DocPath): { line: number; col: number } | undefined;
}

export interface SimpleYamlOptions {
  /**
   * Top-level keys whose plain scalars the core schema reads as numbers are kept as the
   * text written (`version: 2026.10` stays "2026.10"), as load-allowlist.ts does.
   */
  readonly numbersAsWritten?: readonly string[];
}

/** Deeper than an allowlist nests (top level → approved → entry → tools → allow is 5). */
const MAX_DEPTH = 8;
/** Longer keys are no allowlist key (YAML also limits implicit keys, to 1,024 characters). */
const MAX_KEY_LENGTH = 64;

/**
 * Characters outside the subset anywhere in the text: every control character but the line
 * feed and CR (so tabs too), DEL, C1 controls (NEL among them), the line and paragraph
 * separators, any surrogate (non-BMP text is rare enough to leave to the precise path), the
 * BOM and the non-characters U+FFFE and U+FFFF. A CR must end a line (CRLF), see LONE_CR.
 */
const OUTSIDE_SUBSET = /[^\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;
const LONE_CR = /\r(?!\n)/;

// The YAML 1.2 core schema's resolution of plain scalars, as the `yaml` package implements it
// (schema/core and schema/common in its sources); anything else is a string. All of them start
// with one of MAYBE_NOT_STRING, which spares most scalars the three tests.
const MAYBE_NOT_STRING = /^[-+.~0-9nNtTfF]/;
const CORE_NULL = /^(?:~|[Nn]ull|NULL)$/;
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const CORE_NUMBER =
  /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

/** Characters that cannot start a plain scalar (YAML's c-indicator). */
const INDICATORS = new Set('-?:,[]{}#&*!|>\'"%@`');
/** Characters that end or nest a flow collection. */
const FLOW_INDICATORS = new Set(',[]{}');

/** The single-character escapes of double-quoted scalars that the subset reads. */
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  '"': '"',
  '/': '/',
  '0': '\0',
  b: '\b',
  t: '\t',
  n: '\n',
  f: '\f',
  r: '\r',
};
const HEX = /^[0-9a-fA-F]+$/;

const CR = 0x0d;
const SPACE = 0x20;
const DOUBLE_QUOTE = 0x22;
const HASH = 0x23;
const SINGLE_QUOTE = 0x27;
const COMMA = 0x2c;
const DASH = 0x2d;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;

/** NO: the text leaves the subset. YAML data never holds undefined, so it cannot clash. */
const NO = undefined;
type Maybe<T> = T | typeof NO;

/** Reads `text` if it lies within the subset (see the module comment); else undefined. */
export function parseSimpleYaml(text: string, options: SimpleYamlOptions = {}): Maybe<SimpleYaml> {
  if (OUTSIDE_SUBSET.test(text) || LONE_CR.test(text)) return NO;
  const spans = new Spans();
  const value = new SubsetReader(text, new Set(options.numbersAsWritten)).readDocument(spans);
  if (value === NO) return NO;
  let lines: LineStarts | undefined;
  return {
    value,
    positionOf: (path) => {
      const offset = offsetOf(spans, value, path);
      if (offset === NO) return NO;
      // Built on the first call only: most loads ask for no position at all.
      lines ??= new LineStarts(text);
      return lines.position(offset);
    },
  };
}

/**
 * Where the values of one mapping (in key order, which is insertion order because no key looks
 * like an array index) or the items of one sequence start, and the same for each of them that
 * is itself a mapping or sequence. Kept beside the data rather than keyed by it: a Map from
 * 30,000 containers cost more than reading the text.
 */
class Spans {
  readonly starts: number[] = [];
  readonly inner: (Spans | undefined)[] = [];

  /** Records the next value's start (and its own spans, for a container); returns `inner`. */
  add<T extends Spans | undefined>(start: number, inner: T): T {
    this.starts.push(start);
    this.inner.push(inner);
    return inner;
  }
}

/** The text offset where the value at `path` under `root` starts; `spans` are root's. */
function offsetOf(spans: Spans, root: unknown, path: DocPath): Maybe<number> {
  let container = root;
  let current: Spans | undefined = spans;
  let offset: Maybe<number> = NO;
  for (const step of path) {
    if (current === undefined || typeof container !== 'object' || container === null) return NO;
    let index: number;
    if (Array.isArray(container)) {
      if (typeof step !== 'number') return NO;
      index = step;
    } else index = Object.keys(container).indexOf(String(step));
    offset = current.starts[index];
    if (offset === NO) return NO;
    current = current.inner[index];
    container = (container as Record<string | number, unknown>)[step];
  }
  return offset;
}

/**
 * A cursor over the text. The reader stands on a content line (one that is neither blank nor
 * only a comment); each read method starts at `at` and leaves the reader on the first content
 * line after what it read, or just after the scalar it read for the inline ones.
 */
class SubsetReader {
  private readonly text: string;
  private readonly numbersAsWritten: ReadonlySet<string>;
  /** The cursor (a text offset). */
  private at = 0;
  /** Where the current line starts and ends (before its CRLF or LF, or at the end of the text). */
  private lineStart = 0;
  private lineEnd = 0;
  /** Where the line after the current one starts. */
  private nextStart = 0;
  /** Spaces before the current line's content; -1 once the text is used up. */
  private indent = -1;
  /**
   * One string per distinct key. Keys sliced from the text are new strings each time, and
   * each would be hashed and looked up again as a property name; an allowlist repeats a dozen
   * keys ten thousand times.
   */
  private readonly keys = new Map<string, string>();

  constructor(text: string, numbersAsWritten: ReadonlySet<string>) {
    this.text = text;
    this.numbersAsWritten = numbersAsWritten;
  }

  /** The whole text as one top-level mapping at column 0, or NO; `spans` gets its positions. */
  readDocument(spans: Spans): Maybe<Record<string, unknown>> {
    this.nextLine(0);
    if (this.indent !== 0) return NO;
    const value = this.readMapping(0, 1, spans);
    // A mapping at column 0 ends only where the text does, or at a line it cannot read.
    return this.atEnd() ? value : NO;
  }

  private atEnd(): boolean {
    return this.indent === -1;
  }

  /** Moves to the first content line starting at or after `from`, or to the end. */
  private nextLine(from: number): void {
    const { text } = this;
    for (let start = from; start < text.length;) {
      const feed = text.indexOf('\n', start);
      const next = feed === -1 ? text.length : feed + 1;
      let end = feed === -1 ? text.length : feed;
      if (end > start && text.charCodeAt(end - 1) === CR) end--;
      let first = start;
      while (first < end && text.charCodeAt(first) === SPACE) first++;
      if (first < end && text.charCodeAt(first) !== HASH) {
        this.lineStart = start;
        this.lineEnd = end;
        this.nextStart = next;
        this.indent = first - start;
        this.at = first;
        return;
      }
      start = next;
    }
    this.indent = -1;
    this.at = text.length;
  }

  private advance(): void {
    this.nextLine(this.nextStart);
  }

  /**
   * A block mapping whose keys sit at column `indent`. Its first key is at the cursor, which
   * lies after the line's indentation when the mapping opens a sequence item (`- id: x`).
   */
  private readMapping(indent: number, level: number, spans: Spans): Maybe<Record<string, unknown>> {
    if (level > MAX_DEPTH) return NO;
    // No prototype: a key such as "__proto__" stays an ordinary key, as in parseYamlSource.
    const map = Object.create(null) as Record<string, unknown>;
    for (;;) {
      const key = this.readKey();
      if (key === NO || key in map) return NO;
      const afterColon = this.at;
      this.skipSpaces();
      let value: unknown;
      if (this.at === this.lineEnd || (this.charHere() === HASH && this.at > afterColon)) {
        // `key:` alone on its line: a block follows, more indented, or a sequence at the
        // key's own indentation (`approved:` then `- id: …`). Anything else is an empty
        // value, which no allowlist key accepts.
        this.advance();
        if (this.indent < indent || (this.indent === indent && !this.atSequenceItem())) return NO;
        const inner = spans.add(this.at, new Spans());
        value = this.atSequenceItem()
          ? this.readSequence(this.indent, level + 1, inner)
          : this.readMapping(this.indent, level + 1, inner);
      } else {
        value = this.readInline(level === 1 && this.numbersAsWritten.has(key), level, spans);
        this.advance();
      }
      if (value === NO) return NO;
      map[key] = value;
      if (this.indent < indent) return map;
      // A deeper line here would continue a scalar over lines, or be a YAML error.
      if (this.indent > indent) return NO;
    }
  }

  /** A block sequence whose `-` sit at column `indent`, starting on the current line. */
  private readSequence(indent: number, level: number, spans: Spans): Maybe<unknown[]> {
    if (level > MAX_DEPTH) return NO;
    const list: unknown[] = [];
    while (this.indent === indent && this.atSequenceItem()) {
      this.at += 1;
      this.skipSpaces();
      // `-` alone (its item on the lines below) and `- - x` are YAML, but not the subset.
      if (this.at === this.lineEnd || this.charHere() === HASH || this.atSequenceItem()) {
        return NO;
      }
      let item: unknown;
      if (this.keyEnd() !== -1) {
        const inner = spans.add(this.at, new Spans());
        item = this.readMapping(this.at - this.lineStart, level + 1, inner);
      } else {
        item = this.readInline(false, level, spans);
        this.advance();
      }
      if (item === NO) return NO;
      list.push(item);
    }
    // The caller judges a line at this indentation (its own next key); a deeper one is an error.
    return this.indent > indent ? NO : list;
  }

  /**
   * A scalar or a flow sequence at the cursor, which must end the line (but for a comment);
   * its position goes to `spans`, its container's.
   */
  private readInline(keepNumber: boolean, level: number, spans: Spans): unknown {
    const first = this.charHere();
    let value: unknown;
    if (first === OPEN_BRACKET) {
      value = this.readFlowSequence(level + 1, spans.add(this.at, new Spans()));
    } else {
      spans.add(this.at, undefined);
      value =
        first === DOUBLE_QUOTE
          ? this.readDoubleQuoted()
          : first === SINGLE_QUOTE
            ? this.readSingleQuoted()
            : this.readPlain(keepNumber);
    }
    return value !== NO && this.onlyCommentLeft() ? value : NO;
  }

  /** `[a, "b", 'c']` on one line: scalars only, no trailing comma. */
  private readFlowSequence(level: number, spans: Spans): Maybe<unknown[]> {
    if (level > MAX_DEPTH) return NO;
    const list: unknown[] = [];
    this.at += 1;
    this.skipSpaces();
    if (this.charHere() === CLOSE_BRACKET) {
      this.at += 1;
      return list;
    }
    for (;;) {
      const first = this.charHere();
      spans.add(this.at, undefined);
      const item =
        first === DOUBLE_QUOTE
          ? this.readDoubleQuoted()
          : first === SINGLE_QUOTE
            ? this.readSingleQuoted()
            : this.readFlowPlain();
      if (item === NO) return NO;
      list.push(item);
      this.skipSpaces();
      const next = this.charHere();
      this.at += 1;
      if (next === CLOSE_BRACKET) return list;
      if (next !== COMMA) return NO;
      this.skipSpaces();
    }
  }

  /** The column just after the `:` of a key at the cursor, or -1 if none starts there. */
  private keyEnd(): number {
    const { text, at } = this;
    let end = at;
    for (; end < this.lineEnd && end - at <= MAX_KEY_LENGTH; end++) {
      const code = text.charCodeAt(end);
      const lower = code >= 0x61 && code <= 0x7a;
      const digit = code >= 0x30 && code <= 0x39;
      if (!(lower || code === 0x5f || (digit && end > at))) break;
    }
    if (end === at || end - at > MAX_KEY_LENGTH || text.charCodeAt(end) !== COLON) return -1;
    // `key:value` is one plain scalar in YAML, not a pair.
    return end + 1 === this.lineEnd || text.charCodeAt(end + 1) === SPACE ? end + 1 : -1;
  }

  /** A plain lower-case key and its `:` at the cursor. */
  private readKey(): Maybe<string> {
    const end = this.keyEnd();
    if (end === -1) return NO;
    const sliced = this.text.slice(this.at, end - 1);
    let key = this.keys.get(sliced);
    if (key === undefined) {
      key = sliced;
      this.keys.set(key, key);
    }
    this.at = end;
    return key;
  }

  /** A plain scalar in block context: up to a comment or the end of the line. */
  private readPlain(keepNumber: boolean): Maybe<string> {
    const { text, at: start, lineEnd } = this;
    if (!this.plainMayStart(false)) return NO;
    let end = lineEnd;
    for (let at = start + 1; at < lineEnd; at++) {
      const code = text.charCodeAt(at);
      if (code === HASH && text.charCodeAt(at - 1) === SPACE) {
        end = at;
        break;
      }
      // `a: b` inside a value would be a second mapping on one line: a YAML error.
      if (code === COLON && (at + 1 === lineEnd || text.charCodeAt(at + 1) === SPACE)) return NO;
    }
    while (text.charCodeAt(end - 1) === SPACE) end--;
    this.at = end;
    return resolvePlain(text.slice(start, end), keepNumber);
  }

  /** A plain scalar inside `[…]`: up to `,` or `]`. */
  private readFlowPlain(): Maybe<string> {
    const { text, at: start, lineEnd } = this;
    if (!this.plainMayStart(true)) return NO;
    let end = start + 1;
    for (; end < lineEnd; end++) {
      const char = text.charAt(end);
      if (char === ',' || char === ']') break;
      // Nested collections, comments inside the brackets and `a: b` pairs: not the subset.
      if (char === '#' || FLOW_INDICATORS.has(char)) return NO;
      if (char === ':') {
        const next = text.charAt(end + 1);
        if (end + 1 === lineEnd || next === ' ' || FLOW_INDICATORS.has(next)) return NO;
      }
    }
    if (end === lineEnd) return NO;
    while (text.charCodeAt(end - 1) === SPACE) end--;
    this.at = end;
    return resolvePlain(text.slice(start, end), false);
  }

  /**
   * Whether a plain scalar may start at the cursor: not at an indicator, except a `-` directly
   * followed by a character that continues the scalar (`--readonly`). YAML allows `?` and `:`
   * there too; the subset leaves them to the precise path.
   */
  private plainMayStart(flow: boolean): boolean {
    const first = this.text.charAt(this.at);
    if (this.at === this.lineEnd) return false;
    if (!INDICATORS.has(first)) return true;
    if (first !== '-' || this.at + 1 === this.lineEnd) return false;
    const next = this.text.charAt(this.at + 1);
    return next !== ' ' && !(flow && FLOW_INDICATORS.has(next));
  }

  /** `'…'` on one line; `''` stands for one quote. */
  private readSingleQuoted(): Maybe<string> {
    const { text, lineEnd } = this;
    let value = '';
    for (let from = this.at + 1; ;) {
      const quote = text.indexOf("'", from);
      if (quote === -1 || quote >= lineEnd) return NO;
      value += text.slice(from, quote);
      if (text.charCodeAt(quote + 1) !== SINGLE_QUOTE || quote + 1 === lineEnd) {
        this.at = quote + 1;
        return value;
      }
      value += "'";
      from = quote + 2;
    }
  }

  /** `"…"` on one line, with the escapes in ESCAPES, `\xXX` and `\uXXXX` (not a surrogate). */
  private readDoubleQuoted(): Maybe<string> {
    const { text, lineEnd } = this;
    let value = '';
    for (let from = this.at + 1; ;) {
      let at = from;
      while (at < lineEnd) {
        const code = text.charCodeAt(at);
        if (code === DOUBLE_QUOTE || code === BACKSLASH) break;
        at++;
      }
      if (at === lineEnd) return NO;
      value += text.slice(from, at);
      if (text.charCodeAt(at) === DOUBLE_QUOTE) {
        this.at = at + 1;
        return value;
      }
      const kind = text.charAt(at + 1);
      const simple = ESCAPES[kind];
      if (simple !== undefined) {
        value += simple;
        from = at + 2;
        continue;
      }
      const digits = kind === 'x' ? 2 : kind === 'u' ? 4 : 0;
      const hex = text.slice(at + 2, Math.min(at + 2 + digits, lineEnd));
      if (digits === 0 || hex.length !== digits || !HEX.test(hex)) return NO;
      const code = Number.parseInt(hex, 16);
      if (code >= 0xd800 && code <= 0xdfff) return NO;
      value += String.fromCharCode(code);
      from = at + 2 + digits;
    }
  }

  private charHere(): number {
    return this.at < this.lineEnd ? this.text.charCodeAt(this.at) : -1;
  }

  private skipSpaces(): void {
    while (this.at < this.lineEnd && this.text.charCodeAt(this.at) === SPACE) this.at++;
  }

  /** A `-` at the cursor followed by a space or the end of the line. */
  private atSequenceItem(): boolean {
    if (this.charHere() !== DASH) return false;
    return this.at + 1 === this.lineEnd || this.text.charCodeAt(this.at + 1) === SPACE;
  }

  /** Nothing but spaces left on the line, then perhaps a comment (with a space before `#`). */
  private onlyCommentLeft(): boolean {
    const from = this.at;
    this.skipSpaces();
    return this.at === this.lineEnd || (this.charHere() === HASH && this.at > from);
  }
}

/**
 * A plain scalar's value when the core schema reads it as a string; with `keepNumber`, a
 * number is kept as written. Null and booleans are valid nowhere in an allowlist: refused.
 */
function resolvePlain(source: string, keepNumber: boolean): Maybe<string> {
  if (!MAYBE_NOT_STRING.test(source)) return source;
  if (CORE_NULL.test(source) || CORE_BOOL.test(source)) return NO;
  return CORE_NUMBER.test(source) && !keepNumber ? NO : source;
}

/** Line starts of a text, for turning offsets into lines and columns. */
class LineStarts {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let feed = text.indexOf('\n'); feed !== -1; feed = text.indexOf('\n', feed + 1)) {
      this.starts.push(feed + 1);
    }
  }

  /** 1-based line and column of `offset`, counted as the `yaml` package's LineCounter does. */
  position(offset: number): { line: number; col: number } {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.starts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, col: offset - (this.starts[low] ?? 0) + 1 };
  }
}
