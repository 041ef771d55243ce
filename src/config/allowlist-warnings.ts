/**
 * The warnings a load gives about approvals that still load: an approval expired or expiring
 * within EXPIRY_WARNING_DAYS of `now`, and a review stamp that no longer matches its entry's
 * fields. Each is found on the raw document, for every entry valid enough to judge, and placed
 * by the caller. They never block a load; validate --strict makes them errors.
 * Pure: the clock comes in as `now`.
 */
import { DAY_MS, expiresAtMs } from '../core/policy/approval-date.js';
import { AllowlistEntrySchema } from './allowlist-schema.js';
import { DateSchema, ReviewSha256Schema } from './field-schemas.js';
import type { DocPath, Issue } from './config-issues.js';
import { computeReviewSha256, documentStampContext } from './review-stamp.js';
import type { StampContext } from './review-stamp.js';
import { isRecord } from './yaml-source.js';

/** Warn about approvals that expire within this many days. */
export const EXPIRY_WARNING_DAYS = 30;

/** A warning about the value at `path`, placed in the file. */
export type PlaceWarning = (path: DocPath, message: string) => Issue;

/**
 * Whether a raw entry has a valid `review_sha256` that differs from the stamp computed over its
 * fields; only entries valid on their own are judged.
 */
function stampMismatchOf(entry: Record<string, unknown>, context: StampContext): boolean {
  const stamp = ReviewSha256Schema.safeParse(entry['review_sha256']);
  if (!stamp.success) return false;
  const whole = AllowlistEntrySchema.safeParse(entry);
  return whole.success && computeReviewSha256(whole.data, context) !== stamp.data;
}

/** The expiry and stale-stamp warnings of every entry of the raw document `raw`. */
export function entryWarnings(raw: unknown, now: Date, place: PlaceWarning): Issue[] {
  const warnings: Issue[] = [];
  if (!isRecord(raw) || !Array.isArray(raw['approved'])) return warnings;
  const context = documentStampContext(raw);
  const approved: unknown[] = raw['approved'];
  const nowMs = now.getTime();
  approved.forEach((entry, index) => {
    if (!isRecord(entry)) return;
    const id = typeof entry['id'] === 'string' ? entry['id'] : `approved[${String(index)}]`;
    const label = `approved[${String(index)}]`;

    const expiresOn = DateSchema.safeParse(entry['expires_on']);
    if (expiresOn.success) {
      const expiresAt = expiresAtMs(expiresOn.data);
      const path = ['approved', index, 'expires_on'];
      if (nowMs >= expiresAt) {
        warnings.push(
          place(
            path,
            `${label}.expires_on: approval ${JSON.stringify(id)} expired after ${expiresOn.data} (UTC); ` +
              'matching requests are denied with reason "expired" until it is renewed',
          ),
        );
      } else if (expiresAt - nowMs <= EXPIRY_WARNING_DAYS * DAY_MS) {
        const days = Math.ceil((expiresAt - nowMs) / DAY_MS);
        warnings.push(
          place(
            path,
            `${label}.expires_on: approval ${JSON.stringify(id)} expires after ${expiresOn.data} (UTC), ` +
              `in ${String(days)} day${days === 1 ? '' : 's'}; renew the review before then`,
          ),
        );
      }
    }

    if (stampMismatchOf(entry, context)) {
      warnings.push(
        place(
          ['approved', index, 'review_sha256'],
          `${label}.review_sha256: does not match the entry's security-relevant fields, which ` +
            'changed since the review; matching requests are denied with reason "rotation" ' +
            'until the change is reviewed and re-stamped with "mcp-gate stamp"',
        ),
      );
    }
  });
  return warnings;
}
