/**
 * The cost model of conditions: what a unit of the Check's CostBudget buys.
 *
 * A unit is about 50 ns of CPU on the machine we calibrated on (docs/conditions.md "Cost"), at
 * the worst rate of each kind of work. Two kinds of charge fill the budget:
 * - Static, before evaluation: NODE_UNITS per AST node, and per comprehension its body's nodes
 *   (plus one for the step) times the size of its range, read from the bindings. A node's worst
 *   case is a failed overload dispatch that builds an error value (a number compared with a
 *   string: about 2 µs), not the 40–100 ns of a typical node, so NODE_UNITS covers that.
 * - Dynamic, while evaluating: the functions whose time grows with their input (string scans,
 *   `matches`, equality and `in` over lists and maps, concatenation) charge their input's size at
 *   the rates below before they run, through the meter (meter.ts).
 *
 * Every rate is the slowest measured rate of its function on adversarial input, rounded up; the
 * figures are in docs/conditions.md and bench/micro-conditions.ts measures them again.
 */

/** Units per AST node evaluated. */
export const NODE_UNITS = 50;

/** Characters a unit buys in a scan by V8's string search (contains, indexOf, startsWith…). */
export const SCAN_CHARS_PER_UNIT = 8;

/** Characters a unit buys in `trim()`, which tests each character against a set. */
export const TRIM_CHARS_PER_UNIT = 3;

/** Characters a unit buys in `size(string)`, which counts code points (environment.ts). */
export const SIZE_CHARS_PER_UNIT = 6;

/** Units per character of `lowerAscii()` / `upperAscii()`, which build the result per char. */
export const CASE_UNITS_PER_CHAR = 1;

/** Characters of a concatenation's result a unit buys (V8 copies them when it flattens). */
export const CONCAT_CHARS_PER_UNIT = 16;

/** Characters a unit buys when strings are compared (`==`, `<`). */
export const COMPARE_CHARS_PER_UNIT = 64;

/**
 * Units per character of text per instruction of the pattern's RE2 program in `matches`. The
 * DFA of @bufbuild/re2 builds a state, in time linear in the program, for up to every character
 * when the states a pattern can reach outnumber its cache (`[ab]*a[ab]{16}$` on random a/b text:
 * about 600 ns per character per instruction), and never falls below NFA speed.
 */
export const MATCH_UNITS_PER_CHAR_PER_INSTRUCTION = 12;

/** Units per list element copied by `+`. */
export const COPY_UNITS_PER_ELEMENT = 2;

/** Units per list element visited by `==` or `in`. */
export const ELEMENT_UNITS = 2;

/** Units per map entry visited by `==` or `in`: a key lookup in the other map, besides. */
export const ENTRY_UNITS = 12;

/** Ceiling of `chars / perUnit`, at least 1: a call costs something even on empty input. */
export function unitsFor(chars: number, perUnit: number): number {
  return Math.max(1, Math.ceil(chars / perUnit));
}
