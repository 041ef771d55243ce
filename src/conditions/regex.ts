/**
 * Patterns of `matches`: RE2 syntax, compiled once by @bufbuild/re2 (an automaton, no
 * backtracking: `(a+)+$` runs in time linear in the text), with a price per character.
 *
 * A pattern is a string literal of the expression (check.ts refuses any other), so the set of
 * patterns is the allowlist's, known when it loads; they are compiled then, and a bad one is an
 * error at its position. The cache below is keyed by pattern text and holds only those.
 */
import { RE2JS } from '@bufbuild/re2';
import { MATCH_UNITS_PER_CHAR_PER_INSTRUCTION } from './cost.js';

/**
 * The largest RE2 program a pattern may compile to (`[a-z]{100}` is about 100 instructions):
 * at MATCH_UNITS_PER_CHAR_PER_INSTRUCTION, a larger one could read only a few dozen characters
 * in a Check's budget.
 */
export const MAX_PATTERN_INSTRUCTIONS = 128;

/** A compiled pattern and what each character of text costs it. */
export interface CompiledPattern {
  readonly regex: RE2JS;
  readonly unitsPerChar: number;
}

/** Reloads may bring new patterns; past this many the cache starts over rather than grow. */
const MAX_CACHED_PATTERNS = 4096;

const compiled = new Map<string, CompiledPattern>();

/** Compiles `pattern`, or says why it is refused. */
export function compilePattern(pattern: string): CompiledPattern | { readonly error: string } {
  const known = compiled.get(pattern);
  if (known !== undefined) return known;
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(pattern);
  } catch (err: unknown) {
    return { error: `invalid pattern: ${err instanceof Error ? err.message : String(err)}` };
  }
  const instructions = regex.re2().prog.numInst();
  if (instructions > MAX_PATTERN_INSTRUCTIONS) {
    return {
      error: `the pattern compiles to ${instructions} RE2 instructions, at most ${MAX_PATTERN_INSTRUCTIONS}`,
    };
  }
  const entry = { regex, unitsPerChar: instructions * MATCH_UNITS_PER_CHAR_PER_INSTRUCTION };
  if (compiled.size >= MAX_CACHED_PATTERNS) compiled.clear();
  compiled.set(pattern, entry);
  return entry;
}
