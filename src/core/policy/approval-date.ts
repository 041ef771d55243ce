/**
 * Approval dates, the meaning of an allowlist entry's `reviewed_on` and `expires_on` keys: which
 * texts are real `YYYY-MM-DD` calendar dates, and the instant from which an approval is expired.
 * A date is a UTC day, whatever the time zone of the machine reading it.
 *
 * Invariants: pure (no clock: callers compare with their own "now"); never throws.
 */

/** Milliseconds in a UTC day (no leap seconds in epoch time). */
export const DAY_MS = 86_400_000;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Epoch milliseconds of 00:00 UTC on a `YYYY-MM-DD` calendar date, or undefined when the text is
 * not in that form or not a real date (2027-02-30).
 */
export function utcDayStartMs(date: string): number | undefined {
  const match = ISO_DATE.exec(date);
  if (match === null) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC rolls 2027-02-30 over to March; a real date survives the round trip unchanged.
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day
  ) {
    return undefined;
  }
  return ms;
}

/** First instant at which an approval valid through `expiresOn` (inclusive, UTC) is expired. */
export function expiresAtMs(expiresOn: string): number {
  const start = utcDayStartMs(expiresOn);
  // Unreachable for validated input; an unparsable date fails closed (already expired).
  return start === undefined ? Number.NEGATIVE_INFINITY : start + DAY_MS;
}
