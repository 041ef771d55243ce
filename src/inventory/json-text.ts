/**
 * Reading a client's JSON config: strict JSON, or JSONC (JSON with `//` and `/* *\/` comments and
 * trailing commas, the dialect VS Code and Zed settings are written in; Gemini CLI strips
 * comments too).
 *
 * Values always come from JSON.parse. JSONC is first turned into JSON by blanking its comments
 * and trailing commas with spaces, which keeps every other character at its offset, so an error
 * position in the blanked text is the position in the file. When JSON.parse refuses a text,
 * {@link jsonErrorOffset} walks it once more, only to say where: V8's own messages sometimes
 * carry no position and sometimes quote the file, and a config file may hold credentials, so
 * none of V8's wording reaches a report.
 *
 * Pure and total: never throws for any text.
 */

/** A parsed value, or where and why the text is not JSON. */
export type JsonTextResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string; readonly line: number; readonly col: number };

/** Parses `text` as JSON, or as JSONC when `jsonc` is true. A leading BOM is ignored. */
export function parseJsonText(text: string, jsonc: boolean): JsonTextResult {
  const body = text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text;
  let json = body;
  if (jsonc) {
    const blanked = blankComments(body);
    if (typeof blanked === 'number') {
      return failAt(body, blanked, 'a /* comment is never closed');
    }
    json = blankTrailingCommas(blanked);
  }
  try {
    return { ok: true, value: JSON.parse(json) as unknown };
  } catch {
    const offset = jsonErrorOffset(json);
    const at = offset < 0 ? json.length : offset;
    const what = at >= json.length ? 'unexpected end of the file' : `unexpected ${shown(json, at)}`;
    return failAt(body, at, `not valid ${jsonc ? 'JSONC' : 'JSON'}: ${what}`);
  }
}

/** 1-based line and column of a UTF-16 offset. */
export function lineColOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

function failAt(text: string, offset: number, message: string): JsonTextResult {
  return { ok: false, message, ...lineColOf(text, offset) };
}

/** A character for a message: JSON punctuation as itself, anything else by its kind only. */
function shown(text: string, at: number): string {
  const ch = text.charAt(at);
  if ('{}[],:"/\''.includes(ch)) return JSON.stringify(ch);
  if (ch === '\n' || ch === '\r') return 'end of line';
  return 'character';
}

/**
 * Replaces `//` and `/* *\/` comments outside strings with spaces (newlines kept). Returns the
 * offset of a block comment that never ends instead.
 */
function blankComments(text: string): string | number {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      let end = i;
      while (end < text.length && text.charCodeAt(end) !== 0x0a && text.charCodeAt(end) !== 0x0d) {
        end++;
      }
      out += ' '.repeat(end - i);
      i = end;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a /* * */) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return i;
      out += text.slice(i, close + 2).replace(/[^\r\n]/g, ' ');
      i = close + 2;
    } else {
      out += text.charAt(i);
      i++;
    }
  }
  return out;
}

/** Replaces each comma that only whitespace separates from a `}` or `]` with a space. */
function blankTrailingCommas(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === 0x2c /* , */) {
      const next = skipWhitespace(text, i + 1);
      const after = text.charCodeAt(next);
      out += after === 0x7d || after === 0x5d ? ' ' : ',';
    } else {
      out += text.charAt(i);
    }
    i++;
  }
  return out;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/**
 * The offset just past the string starting at `start` (a `"`), or -(offset of the error) - 1
 * when it is not a valid JSON string (a control character, a bad escape, no closing quote).
 */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -i - 1;
    if (c === 0x5c /* \ */) {
      const e = text.charAt(i + 1);
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -i - 1;
        i += 6;
      } else if ('"\\/bfnrt'.includes(e) && e !== '') {
        i += 2;
      } else {
        return -i - 1;
      }
    } else {
      i++;
    }
  }
  return -text.length - 1;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The offset of the first character at which `text` stops being one strict JSON value, or -1
 * when it is one. Iterative (an explicit stack), so nesting depth costs no call stack.
 */
export function jsonErrorOffset(text: string): number {
  const stack: ('{' | '[')[] = [];
  let i = skipWhitespace(text, 0);
  // 'value': a value must start here; 'key': an object key (after "{" also "}"); 'close': an
  // array or object may end here instead of holding a value (right after its opening).
  let expect: 'value' | 'key' | 'key-or-close' | 'value-or-close' = 'value';
  for (;;) {
    i = skipWhitespace(text, i);
    if (i >= text.length) return text.length;
    const c = text.charAt(i);
    if (expect === 'key' || expect === 'key-or-close') {
      if (expect === 'key-or-close' && c === '}') {
        stack.pop();
        i++;
      } else {
        if (c !== '"') return i;
        const end = stringEnd(text, i);
        if (end < 0) return -end - 1;
        i = skipWhitespace(text, end);
        if (text.charAt(i) !== ':') return i;
        i++;
        expect = 'value';
        continue;
      }
    } else if (expect === 'value-or-close' && c === ']') {
      stack.pop();
      i++;
    } else if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      expect = c === '{' ? 'key-or-close' : 'value-or-close';
      continue;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return -end - 1;
      i = end;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) return i;
      i = NUMBER.lastIndex;
    } else {
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
      if (literal === undefined) return i;
      i += literal.length;
    }
    // A value ended at i: what may follow depends on the container it is in.
    for (;;) {
      i = skipWhitespace(text, i);
      const top = stack.at(-1);
      if (top === undefined) return i < text.length ? i : -1;
      const next = text.charAt(i);
      if (next === ',') {
        i++;
        expect = top === '{' ? 'key' : 'value';
        break;
      }
      if (next !== (top === '{' ? '}' : ']')) return i;
      stack.pop();
      i++;
    }
  }
}
