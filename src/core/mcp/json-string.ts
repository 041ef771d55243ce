/**
 * Where a JSON string ends, for the scans that read a body's structure without parsing it
 * (json-rpc-body.ts, json-rpc-signal.ts).
 */

const BACKSLASH = 0x5c;

/**
 * Index of the quote closing the string whose opening quote is at `start`, or -1 when it never
 * closes. indexOf runs natively, so a long string costs almost nothing to skip; a quote preceded
 * by an odd run of backslashes is escaped, and each run is counted once (linear overall). The
 * text need not be valid JSON.
 */
export function closingQuote(text: string, start: number): number {
  let q = text.indexOf('"', start + 1);
  while (q > 0 && text.charCodeAt(q - 1) === BACKSLASH) {
    let backslashes = 1;
    while (text.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) break;
    q = text.indexOf('"', q + 1);
  }
  return q;
}
