/** HTTP header-value helpers shared by the body decoder and the MCP header decoder. Pure. */

/** Trims HTTP optional whitespace (SP / HTAB) only, unlike String#trim (RFC 9110 §5.6.3). */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === ' ' || s[start] === '\t')) start++;
  while (end > start && (s[end - 1] === ' ' || s[end - 1] === '\t')) end--;
  return s.slice(start, end);
}
