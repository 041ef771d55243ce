/**
 * JSON object keys as the most permissive MCP server stacks match them to the fields they read.
 *
 * JavaScript and Python servers look keys up exactly. Go servers decode a message into structs
 * with `encoding/json`, which matches a key to a field ignoring case under Unicode simple case
 * folding, so `Name`, `NAME` and `naMe` all fill `name`, U+017F (long s) stands for `s` and
 * U+212A (Kelvin sign) for `k`; when several keys match, the last one wins. A later Go SDK
 * decoder (segmentio/encoding) also read a key with trailing NUL characters, `name\u0000`, as
 * `name`. A message is read here under the union of those matchings, so that any spelling a
 * server takes for an envelope field counts as that field.
 */

/**
 * The folded form of a key: trailing NULs dropped, ASCII letters lower-cased, long s to `s`,
 * Kelvin sign to `k`. Two keys that fold alike fill the same field on some server. Other
 * non-ASCII letters never fold onto the ASCII names MCP uses, so they stay as they are.
 */
export function foldJsonKey(key: string): string {
  let end = key.length;
  while (end > 0 && key.charCodeAt(end - 1) === 0) end--;
  let folded = '';
  for (let i = 0; i < end; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) folded += String.fromCharCode(c + 0x20);
    else if (c === 0x17f) folded += 's';
    else if (c === 0x212a) folded += 'k';
    else folded += key.charAt(i);
  }
  return folded;
}

/** Length of `key` without trailing NULs: folding keeps every other character, one for one. */
export function foldedLength(key: string): number {
  let end = key.length;
  while (end > 0 && key.charCodeAt(end - 1) === 0) end--;
  return end;
}
