/**
 * Recognises JSON-RPC MCP traffic in bytes we cannot parse: a body Envoy cut short, a body over
 * our size cap, a body whose content coding or charset we refuse. Such a body is never parsed;
 * we only ask whether its visible part looks like a JSON-RPC message, so that a client cannot turn
 * MCP into "not MCP" (and slip past the allowlist) by padding, compressing or mis-labelling it.
 *
 * Contract (pure: no I/O, no clock; never throws, linear in the input):
 * - The text is a one-byte-per-char view of the bytes (latin1), or decoded text; only ASCII
 *   matters. NUL characters are ignored everywhere, so UTF-16 and UTF-32 encodings of ASCII JSON
 *   read like the UTF-8 form.
 * - It must start, after byte-order marks and JSON whitespace, with `{` or `[`.
 * - Then some JSON string in it, with escapes undone (`"\u006asonrpc"` counts), must be the key
 *   or value `jsonrpc`, an MCP method name that contains `/` or is `initialize`, or any MCP
 *   method name as the value of a `method` key (`ping` alone is too common a word).
 * A string cut off by the end of the text is ignored: its value is unknown.
 */
import { closingQuote } from './json-string.js';
import { MCP_METHODS } from './methods.js';

/** Longest string value worth unescaping: no signal word is longer than this when escaped. */
const MAX_SIGNAL_RAW_LENGTH = 64 * 6;

/** Characters skipped before the first `{` or `[`: JSON whitespace, NUL and byte-order marks. */
const LEADING_NOISE = /^(?:[ \t\r\n\0\uFEFF]|\u00EF\u00BB\u00BF|\u00FE\u00FF|\u00FF\u00FE)*/;

/** True when `text` shows a JSON-RPC MCP message (see the module comment). */
export function showsJsonRpcSignal(text: string): boolean {
  const view = text.includes('\0') ? text.replace(/\0/g, '') : text;
  const start = LEADING_NOISE.exec(view)?.[0].length ?? 0;
  const first = view.charCodeAt(start);
  if (first !== 0x7b /* { */ && first !== 0x5b /* [ */) return false;

  let previousKey: string | undefined;
  let i = view.indexOf('"', start);
  while (i >= 0) {
    const end = closingQuote(view, i);
    if (end < 0) return false;
    const raw = view.slice(i + 1, end);
    const value = raw.length <= MAX_SIGNAL_RAW_LENGTH ? unescapeJsonString(raw) : undefined;
    const isKey = nextNonSpace(view, end + 1) === 0x3a; /* : */
    if (value === 'jsonrpc') return true;
    if (value !== undefined && !isKey && MCP_METHODS.has(value)) {
      if (previousKey === 'method' || value.includes('/') || value === 'initialize') return true;
    }
    previousKey = isKey ? value : undefined;
    i = view.indexOf('"', end + 1);
  }
  return false;
}

function nextNonSpace(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
    i++;
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** The value of a JSON string's raw content; undefined when an escape is invalid. */
function unescapeJsonString(raw: string): string | undefined {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charAt(i);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = raw.charAt(i + 1);
    if (e === 'u') {
      const hex = raw.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else {
      const simple = SIMPLE_ESCAPES[e];
      if (simple === undefined) return undefined;
      out += simple;
      i += 1;
    }
  }
  return out;
}
