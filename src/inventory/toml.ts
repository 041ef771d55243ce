/**
 * A small TOML reader for Codex's config.toml, which keeps its MCP servers in
 * `[mcp_servers.<name>]` tables beside the rest of Codex's settings.
 *
 * It reads the TOML 1.0 constructs such files are written with, so that the tables around the
 * servers can be stepped over correctly: comments, `[table]` and `[[array of tables]]` headers,
 * dotted, bare and quoted keys, basic and literal strings (single- and multi-line, with every
 * escape), integers, floats, booleans, dates and times (kept as their text), arrays over several
 * lines, and inline tables. A key or table defined twice is an error, as in TOML. Anything it
 * does not recognise is an error with line and column, never a guess: the scan then reports the
 * file as `malformed` and check cannot call it clean.
 *
 * Pure and total: never throws for any text.
 */

/** The document as plain data, or where and why it could not be read. */
export type TomlResult =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly message: string; readonly line: number; readonly col: number };

/** Thrown inside the reader only; readToml turns it into a result. */
class TomlError extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

type Table = Record<string, unknown>;

const BARE_KEY = /[A-Za-z0-9_-]+/y;
const DATE_TIME =
  /\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?)?|\d{2}:\d{2}:\d{2}(?:\.\d+)?/y;
const NUMBER =
  /[+-]?(?:0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*|0o[0-7](?:_?[0-7])*|0b[01](?:_?[01])*|inf|nan|(?:0|[1-9](?:_?\d)*)(?:\.\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?)/y;

/** Reads a TOML document. */
export function readToml(text: string): TomlResult {
  try {
    return { ok: true, value: new Reader(text).document() };
  } catch (err: unknown) {
    if (!(err instanceof TomlError)) throw err;
    const { line, col } = position(text, err.offset);
    return { ok: false, message: err.message, line, col };
  }
}

function position(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, col: (lines.at(-1)?.length ?? 0) + 1 };
}

/** Tables that a `[header]` defined, so a second header for one is refused. */
const defined = new WeakSet<Table>();
/** Tables created by an inline table, which nothing may extend. */
const sealed = new WeakSet<Table>();

class Reader {
  private i = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  document(): Table {
    const root: Table = Object.create(null) as Table;
    let current = root;
    for (;;) {
      this.skipBlankLines();
      if (this.i >= this.text.length) return root;
      if (this.peek() === '[') current = this.header(root);
      else this.keyValue(current);
      this.endOfLine();
    }
  }

  private peek(ahead = 0): string {
    return this.text.charAt(this.i + ahead);
  }

  private fail(message: string, at = this.i): never {
    throw new TomlError(message, at);
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.i++;
  }

  private skipComment(): void {
    if (this.peek() !== '#') return;
    while (this.i < this.text.length && this.peek() !== '\n') {
      const code = this.text.charCodeAt(this.i);
      if ((code < 0x20 && code !== 0x09 && code !== 0x0d) || code === 0x7f) {
        this.fail('a control character in a comment');
      }
      this.i++;
    }
  }

  /** Spaces, comments and newlines. */
  private skipBlankLines(): void {
    for (;;) {
      this.skipSpaces();
      this.skipComment();
      if (this.peek() === '\n') this.i++;
      else if (this.peek() === '\r' && this.peek(1) === '\n') this.i += 2;
      else return;
    }
  }

  private endOfLine(): void {
    this.skipSpaces();
    this.skipComment();
    if (this.i >= this.text.length) return;
    if (this.peek() === '\n') this.i++;
    else if (this.peek() === '\r' && this.peek(1) === '\n') this.i += 2;
    else this.fail('expected the end of the line');
  }

  private header(root: Table): Table {
    const start = this.i;
    const array = this.peek(1) === '[';
    this.i += array ? 2 : 1;
    this.skipSpaces();
    const path = this.keyPath();
    this.skipSpaces();
    if (!this.text.startsWith(array ? ']]' : ']', this.i))
      this.fail('expected "]" to end the header');
    this.i += array ? 2 : 1;
    let table = root;
    for (const key of path.slice(0, -1)) table = this.descend(table, key, start);
    const last = path.at(-1) ?? '';
    if (array) {
      const existing = table[last];
      const list = existing === undefined ? [] : existing;
      if (!Array.isArray(list)) this.fail(`${JSON.stringify(last)} is already a value`, start);
      const entry: Table = Object.create(null) as Table;
      (list as unknown[]).push(entry);
      table[last] = list;
      return entry;
    }
    const existing = table[last];
    if (existing === undefined) {
      const created: Table = Object.create(null) as Table;
      table[last] = created;
      defined.add(created);
      return created;
    }
    if (!isTable(existing) || defined.has(existing) || sealed.has(existing)) {
      this.fail(`table ${path.join('.')} is defined twice`, start);
    }
    defined.add(existing);
    return existing;
  }

  /** The table under `key`, created when absent; the last element of an array of tables. */
  private descend(table: Table, key: string, at: number): Table {
    const existing = table[key];
    if (existing === undefined) {
      const created: Table = Object.create(null) as Table;
      table[key] = created;
      return created;
    }
    if (Array.isArray(existing)) {
      const last: unknown = existing.at(-1);
      if (isTable(last)) return last;
    }
    if (!isTable(existing) || sealed.has(existing)) {
      this.fail(`${JSON.stringify(key)} is already a value`, at);
    }
    return existing;
  }

  private keyValue(table: Table): void {
    const start = this.i;
    const path = this.keyPath();
    this.skipSpaces();
    if (this.peek() !== '=') this.fail('expected "=" after the key');
    this.i++;
    this.skipSpaces();
    const value = this.value();
    let target = table;
    for (const key of path.slice(0, -1)) target = this.descend(target, key, start);
    const last = path.at(-1) ?? '';
    if (last in target) this.fail(`key ${path.join('.')} is defined twice`, start);
    target[last] = value;
  }

  private keyPath(): string[] {
    const path = [this.key()];
    for (;;) {
      this.skipSpaces();
      if (this.peek() !== '.') return path;
      this.i++;
      this.skipSpaces();
      path.push(this.key());
    }
  }

  private key(): string {
    const c = this.peek();
    if (c === '"') return this.basicString();
    if (c === "'") return this.literalString();
    BARE_KEY.lastIndex = this.i;
    const match = BARE_KEY.exec(this.text);
    if (match === null) this.fail('expected a key');
    this.i = BARE_KEY.lastIndex;
    return match[0];
  }

  private value(): unknown {
    const c = this.peek();
    if (this.text.startsWith('"""', this.i)) return this.multiLineString('"');
    if (this.text.startsWith("'''", this.i)) return this.multiLineString("'");
    if (c === '"') return this.basicString();
    if (c === "'") return this.literalString();
    if (c === '[') return this.array();
    if (c === '{') return this.inlineTable();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
    ] as const) {
      if (this.text.startsWith(word, this.i) && !/[A-Za-z0-9_-]/.test(this.peek(word.length))) {
        this.i += word.length;
        return value;
      }
    }
    DATE_TIME.lastIndex = this.i;
    const date = DATE_TIME.exec(this.text);
    if (date !== null) {
      this.i = DATE_TIME.lastIndex;
      return date[0];
    }
    NUMBER.lastIndex = this.i;
    const number = NUMBER.exec(this.text);
    if (number !== null && !/[A-Za-z0-9_.]/.test(this.text.charAt(NUMBER.lastIndex))) {
      this.i = NUMBER.lastIndex;
      const raw = number[0].replace(/_/g, '');
      if (/^[+-]?(inf|nan)$/.test(raw))
        return raw.endsWith('inf') ? Number(`${raw.slice(0, -3)}Infinity`) : Number.NaN;
      return /^[+-]?0[xob]/.test(raw)
        ? Number.parseInt(raw.replace(/^([+-]?)0[xob]/, '$1'), radix(raw))
        : Number(raw);
    }
    return this.fail('expected a value');
  }

  private array(): unknown[] {
    this.i++;
    const items: unknown[] = [];
    for (;;) {
      this.skipBlankLines();
      if (this.peek() === ']') {
        this.i++;
        return items;
      }
      items.push(this.value());
      this.skipBlankLines();
      if (this.peek() === ',') this.i++;
      else if (this.peek() !== ']') this.fail('expected "," or "]" in the array');
    }
  }

  private inlineTable(): Table {
    this.i++;
    const table: Table = Object.create(null) as Table;
    this.skipSpaces();
    if (this.peek() === '}') {
      this.i++;
      sealed.add(table);
      return table;
    }
    for (;;) {
      this.skipSpaces();
      this.keyValue(table);
      this.skipSpaces();
      if (this.peek() === '}') {
        this.i++;
        sealed.add(table);
        return table;
      }
      if (this.peek() !== ',') this.fail('expected "," or "}" in the inline table');
      this.i++;
    }
  }

  private basicString(): string {
    this.i++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\\') out += this.escape();
      else {
        this.checkStringCharacter(false);
        out += c;
        this.i++;
      }
    }
  }

  private literalString(): string {
    const start = ++this.i;
    for (;;) {
      if (this.peek() === "'") {
        this.i++;
        return this.text.slice(start, this.i - 1);
      }
      this.checkStringCharacter(false);
      this.i++;
    }
  }

  private multiLineString(quote: '"' | "'"): string {
    this.i += 3;
    // A newline right after the opening delimiter is not part of the string.
    if (this.peek() === '\n') this.i++;
    else if (this.peek() === '\r' && this.peek(1) === '\n') this.i += 2;
    let out = '';
    for (;;) {
      if (this.text.startsWith(quote.repeat(3), this.i)) {
        // Up to two quotes may sit right before the closing three.
        let run = 3;
        while (run < 5 && this.peek(run) === quote) run++;
        out += quote.repeat(run - 3);
        this.i += run;
        return out;
      }
      const c = this.peek();
      if (quote === '"' && c === '\\') {
        if (this.lineEndingBackslash()) {
          // A line-ending backslash trims the newline and the whitespace after it.
          this.i++;
          while (/[ \t\r\n]/.test(this.peek())) this.i++;
        } else {
          out += this.escape();
        }
        continue;
      }
      this.checkStringCharacter(true);
      out += c;
      this.i++;
    }
  }

  /** At a `\\` followed by nothing but spaces or tabs up to the end of the line. */
  private lineEndingBackslash(): boolean {
    let j = this.i + 1;
    while (this.text.charAt(j) === ' ' || this.text.charAt(j) === '\t') j++;
    return this.text.charAt(j) === '\n' || this.text.startsWith('\r\n', j);
  }

  private escape(): string {
    const start = this.i;
    const e = this.peek(1);
    const simple: Record<string, string> = {
      b: '\b',
      t: '\t',
      n: '\n',
      f: '\f',
      r: '\r',
      '"': '"',
      '\\': '\\',
    };
    const mapped = simple[e];
    if (mapped !== undefined) {
      this.i += 2;
      return mapped;
    }
    const digits = e === 'u' ? 4 : e === 'U' ? 8 : 0;
    const hex = this.text.slice(this.i + 2, this.i + 2 + digits);
    const code = Number.parseInt(hex, 16);
    if (
      digits === 0 ||
      !new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(hex) ||
      code > 0x10ffff ||
      (code >= 0xd800 && code <= 0xdfff)
    ) {
      this.fail('an invalid escape sequence', start);
    }
    this.i += 2 + digits;
    return String.fromCodePoint(code);
  }

  /** Refuses the end of the text, and control characters TOML does not allow in strings. */
  private checkStringCharacter(multiLine: boolean): void {
    if (this.i >= this.text.length) this.fail('a string is never closed');
    const code = this.text.charCodeAt(this.i);
    const allowed = code === 0x09 || (multiLine && (code === 0x0a || code === 0x0d));
    if ((code < 0x20 || code === 0x7f) && !allowed) {
      this.fail(
        code === 0x0a ? 'a string is never closed on its line' : 'a control character in a string',
      );
    }
  }
}

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function radix(raw: string): number {
  const prefix = raw.replace(/^[+-]/, '').slice(0, 2);
  return prefix === '0x' ? 16 : prefix === '0o' ? 8 : 2;
}
