/**
 * Tool-name globs: the language of `tools.allow` and `tools.deny` in the allowlist.
 *
 * The language (docs/allowlist.md "Globs"):
 * - `*` matches any run of characters, including none; `**` means the same as `*`.
 * - `?` matches exactly one character (one Unicode code point).
 * - Every other character matches itself, case-sensitively. There is no escape, no character
 *   class and no `{a,b}`: MCP tool names use letters, digits, `_`, `-` and `.` only, so none is
 *   needed, and a smaller language is easier to review.
 * - A valid pattern is 1–256 characters of printable ASCII without space (U+0021–U+007E). Empty
 *   patterns, spaces, control characters and non-ASCII are rejected at load time, because they
 *   are almost always a typo or a paste accident in a security file.
 *
 * Invariants: compileGlobSet is called once per list at compile time; the matcher it returns
 * never throws and runs in O(name × pattern) at worst (no regular expressions, so no
 * catastrophic backtracking on a hostile tool name). Pure.
 */

/** The longest pattern accepted. */
export const GLOB_MAX_LENGTH = 256;

const VALID_GLOB_CHARS = /^[\x21-\x7e]+$/;

/** Why `pattern` is not a valid glob, or undefined when it is. */
export function checkGlob(pattern: string): string | undefined {
  if (pattern.length === 0) return 'a glob must not be empty';
  if (pattern.length > GLOB_MAX_LENGTH) {
    return `a glob must be at most ${GLOB_MAX_LENGTH} characters`;
  }
  if (!VALID_GLOB_CHARS.test(pattern)) {
    return 'a glob may only contain printable ASCII characters without spaces (U+0021–U+007E)';
  }
  return undefined;
}

/** A compiled set of globs: true when the name matches at least one of them. */
export type GlobMatcher = (name: string) => boolean;

/**
 * Compiles a list of (already validated) globs into one matcher. Patterns are sorted into fast
 * paths (exact names in a Set, `prefix*`, `*suffix`, `*infix*`, a lone `*`) and only the rest
 * go through the general matcher. An empty list matches nothing.
 */
export function compileGlobSet(patterns: readonly string[]): GlobMatcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  const infixes: string[] = [];
  const general: string[][] = [];
  let matchesAll = false;

  for (const raw of patterns) {
    const pattern = raw.replace(/\*{2,}/g, '*');
    const stars = countOf(pattern, '*');
    if (pattern.includes('?')) {
      general.push(Array.from(pattern));
    } else if (stars === 0) {
      exact.add(pattern);
    } else if (pattern === '*') {
      matchesAll = true;
    } else if (stars === 1 && pattern.endsWith('*')) {
      prefixes.push(pattern.slice(0, -1));
    } else if (stars === 1 && pattern.startsWith('*')) {
      suffixes.push(pattern.slice(1));
    } else if (stars === 2 && pattern.startsWith('*') && pattern.endsWith('*')) {
      infixes.push(pattern.slice(1, -1));
    } else {
      general.push(Array.from(pattern));
    }
  }

  if (matchesAll) return () => true;
  return (name: string): boolean => {
    if (exact.has(name)) return true;
    for (const prefix of prefixes) if (name.startsWith(prefix)) return true;
    for (const suffix of suffixes) if (name.endsWith(suffix)) return true;
    for (const infix of infixes) if (name.includes(infix)) return true;
    if (general.length === 0) return false;
    // Code points, so that `?` matches one character even outside the BMP.
    const chars = Array.from(name);
    for (const pattern of general) if (matchTokens(pattern, chars)) return true;
    return false;
  };
}

/** Whether `name` matches the single glob `pattern`. */
export function matchGlob(pattern: string, name: string): boolean {
  return matchTokens(Array.from(pattern), Array.from(name));
}

function countOf(text: string, char: string): number {
  let count = 0;
  for (const c of text) if (c === char) count++;
  return count;
}

/**
 * The classic iterative wildcard match: advance on literal or `?`, remember the last `*`, and on
 * a mismatch let that `*` swallow one more character. Linear in practice, O(n·m) at worst.
 */
function matchTokens(pattern: readonly string[], name: readonly string[]): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const token = pattern[p];
    if (token !== undefined && token !== '*' && (token === '?' || token === name[n])) {
      p++;
      n++;
    } else if (token === '*') {
      star = p;
      resume = n;
      p++;
    } else if (star !== -1) {
      p = star + 1;
      resume++;
      n = resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
