/**
 * A JSON tree that can hold what JSON.stringify cannot write: duplicate keys, numbers spelled
 * exactly (`1e400`, 30-digit integers), `\u`-escaped keys and values. The generators build bodies
 * as these trees so that one request can carry the evasions a hand-written client would try.
 */

export type JsonNode =
  | { readonly t: 'lit'; readonly v: null | boolean | string }
  /** A number written exactly as `text`. */
  | { readonly t: 'num'; readonly text: string }
  | { readonly t: 'arr'; readonly items: readonly JsonNode[] }
  /** Entries in order; a key may repeat. */
  | { readonly t: 'obj'; readonly entries: readonly (readonly [string, JsonNode])[] };

export interface JsonStyle {
  /** Write the first character of every key as a `\u` escape (`"\u006dethod"`). */
  readonly escapeKeys: boolean;
  /** Write the first character of every string value as a `\u` escape. */
  readonly escapeValues: boolean;
  /** Spaces and newlines between tokens. */
  readonly spaced: boolean;
}

export const PLAIN_STYLE: JsonStyle = { escapeKeys: false, escapeValues: false, spaced: false };

export const lit = (v: null | boolean | string): JsonNode => ({ t: 'lit', v });
export const num = (n: number | string): JsonNode => ({ t: 'num', text: String(n) });
export const arr = (items: readonly JsonNode[]): JsonNode => ({ t: 'arr', items });
export const obj = (entries: readonly (readonly [string, JsonNode])[]): JsonNode => ({
  t: 'obj',
  entries,
});

/** Plain JSON data → tree (no duplicates, default spelling). */
export function fromValue(value: unknown): JsonNode {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return lit(value);
  if (typeof value === 'number') return num(JSON.stringify(value));
  if (Array.isArray(value)) return arr(value.map(fromValue));
  if (typeof value === 'object') {
    return obj(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fromValue(v)]));
  }
  return lit(null);
}

function quote(text: string, escapeFirst: boolean): string {
  const json = JSON.stringify(text);
  if (!escapeFirst || text.length === 0) return json;
  const first = text.charCodeAt(0);
  // JSON.stringify already escaped control characters, quotes and backslashes: keep those.
  if (json.charAt(1) === '\\') return json;
  return `"\\u${first.toString(16).padStart(4, '0')}${json.slice(2)}`;
}

export function renderJson(node: JsonNode, style: JsonStyle): string {
  const gap = style.spaced ? ' ' : '';
  const line = style.spaced ? '\n' : '';
  switch (node.t) {
    case 'lit':
      return typeof node.v === 'string'
        ? quote(node.v, style.escapeValues)
        : JSON.stringify(node.v);
    case 'num':
      return node.text;
    case 'arr':
      return `[${line}${node.items.map((item) => renderJson(item, style)).join(`,${line}`)}${line}]`;
    case 'obj':
      return `{${line}${node.entries
        .map(
          ([key, value]) =>
            `${quote(key, style.escapeKeys)}${gap}:${gap}${renderJson(value, style)}`,
        )
        .join(`,${line}`)}${line}}`;
  }
}

/** Runs a change on the entries of an object node (other nodes are returned unchanged). */
export function mapEntries(
  node: JsonNode,
  change: (entries: readonly (readonly [string, JsonNode])[]) => (readonly [string, JsonNode])[],
): JsonNode {
  return node.t === 'obj' ? obj(change(node.entries)) : node;
}

export function getEntry(node: JsonNode, key: string): JsonNode | undefined {
  return node.t === 'obj' ? node.entries.find(([k]) => k === key)?.[1] : undefined;
}
