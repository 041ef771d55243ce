/**
 * Parsed<T>: what a parser of text a person wrote returns, the value or a message saying what
 * is wrong with it, so that validation can report the message at the place it was written.
 * Pure: a type only.
 */

/** A parse result: the value, or a message saying what is wrong (for validation). */
export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };
