/**
 * The rules about how entries were reviewed, beside the field and entry rules of
 * allowlist-rules.ts: the required review stamp, exceptions, co-signers, and the `governance`
 * section's limits. Like checkAllowlistRules they take the raw document, check whatever parts of
 * it are individually valid, and report every problem with a path, so load-allowlist.ts places
 * each at its line and column. A violation is an error: the file is refused (the service keeps
 * its last good allowlist), as for any other invalid field.
 *
 * - `review_sha256` is required on every entry unless the file says `require_review_stamp:
 *   false` (validate --strict requires it even then). Only entries valid on their own are held
 *   to it: `mcp-gate stamp` cannot stamp an invalid entry, so the other errors come first.
 * - `exception: true` needs `exception_approved_by` (someone other than `reviewed_by`) and ends at
 *   most MAX_EXCEPTION_DAYS (or governance `exception_max_days`) after `reviewed_on`.
 * - `cosigned_by` names a second reviewer, never the first.
 * - With `governance`: `expires_on` at most `max_approval_days` after `reviewed_on` (so a renewal
 *   past it needs a new review, which the stamp covers), and entries with a scope matching
 *   `cosign_scopes` need `cosigned_by`.
 * Pure: no I/O, no clock.
 */
import { compileGlobSet } from '../core/policy/glob.js';
import { DAY_MS, utcDayStartMs } from '../core/policy/approval-date.js';
import { entryFieldReader } from './allowlist-rules.js';
import type { RuleIssue, RuleOptions, RuleReport } from './allowlist-rules.js';
import { AllowlistEntrySchema, GovernanceSchema, MAX_EXCEPTION_DAYS } from './allowlist-schema.js';
import { isRecord } from './yaml-source.js';

/** Options of checkReviewRules. */
export interface ReviewRuleOptions extends RuleOptions {
  /** validate --strict: a missing stamp is an error even with `require_review_stamp: false`. */
  readonly strict?: boolean;
  /** The caller is about to write the stamps (`mcp-gate stamp`): missing ones are no error. */
  readonly stamping?: boolean;
}

/** Whole days from `from` to `to` (`YYYY-MM-DD`), or undefined if either is not a date. */
function daysBetween(from: string, to: string): number | undefined {
  const start = utcDayStartMs(from);
  const end = utcDayStartMs(to);
  return start === undefined || end === undefined ? undefined : Math.round((end - start) / DAY_MS);
}

/** Checks the review rules of a raw allowlist document (see the module comment). */
export function checkReviewRules(raw: unknown, options: ReviewRuleOptions = {}): RuleReport {
  const errors: RuleIssue[] = [];
  const report: RuleReport = { errors, notes: [] };
  if (!isRecord(raw) || !Array.isArray(raw['approved'])) return report;
  const approved: unknown[] = raw['approved'];
  const schemaValid = options.schemaValid === true;
  const field = entryFieldReader(schemaValid);

  const optOut = raw['require_review_stamp'] === false;
  const requireStamp = options.stamping !== true && (!optOut || options.strict === true);
  const governance =
    raw['governance'] === undefined ? undefined : GovernanceSchema.safeParse(raw['governance']);
  const rules = governance?.success === true ? governance.data : undefined;
  const needsCosigner =
    rules?.cosign_scopes === undefined ? undefined : compileGlobSet(rules.cosign_scopes);
  const exceptionMaxDays = rules?.exception_max_days ?? MAX_EXCEPTION_DAYS;

  approved.forEach((entry, index) => {
    if (!isRecord(entry)) return;
    const at = ['approved', index] as const;
    const label = `approved[${String(index)}]`;
    const id = field(entry, 'id');
    const reviewedBy = field(entry, 'reviewed_by');
    const reviewedOn = field(entry, 'reviewed_on');
    const expiresOn = field(entry, 'expires_on');
    const days =
      reviewedOn === undefined || expiresOn === undefined
        ? undefined
        : daysBetween(reviewedOn, expiresOn);

    if (
      requireStamp &&
      !('review_sha256' in entry) &&
      (schemaValid || AllowlistEntrySchema.safeParse(entry).success)
    ) {
      errors.push({
        path: at,
        at: 'map',
        message:
          `${label}: missing required key "review_sha256": once the entry is reviewed, run ` +
          `"mcp-gate stamp FILE --id ${id ?? 'ID'}"` +
          (optOut
            ? ' (validate --strict requires stamps even with require_review_stamp: false)'
            : ' (or set require_review_stamp: false, the weaker mode in docs/allowlist.md)'),
      });
    }

    const cosignedBy = field(entry, 'cosigned_by');
    if (cosignedBy !== undefined && cosignedBy === reviewedBy) {
      errors.push({
        path: [...at, 'cosigned_by'],
        at: 'value',
        message: `${label}.cosigned_by: must name a second reviewer, not reviewed_by again`,
      });
    }

    const exception = field(entry, 'exception');
    const approver = field(entry, 'exception_approved_by');
    if (exception === true) {
      if (!('exception_approved_by' in entry)) {
        errors.push({
          path: at,
          at: 'map',
          message: `${label}: missing required key "exception_approved_by" (every exception names who granted it)`,
        });
      } else if (approver !== undefined && approver === reviewedBy) {
        errors.push({
          path: [...at, 'exception_approved_by'],
          at: 'value',
          message: `${label}.exception_approved_by: must be someone other than reviewed_by`,
        });
      }
      if (days !== undefined && days > exceptionMaxDays) {
        errors.push({
          path: [...at, 'expires_on'],
          at: 'value',
          message:
            `${label}.expires_on: an exception lasts at most ${String(exceptionMaxDays)} days ` +
            `from reviewed_on ${String(reviewedOn)}; ${String(expiresOn)} is ${String(days)} days after it`,
        });
      }
    } else if (
      'exception_approved_by' in entry &&
      // An invalid `exception` is reported on its own.
      (exception !== undefined || !('exception' in entry))
    ) {
      errors.push({
        path: [...at, 'exception_approved_by'],
        at: 'key',
        message: `${label}.exception_approved_by: only allowed with exception: true`,
      });
    }

    if (rules === undefined) return;
    if (days !== undefined && days > rules.max_approval_days) {
      errors.push({
        path: [...at, 'expires_on'],
        at: 'value',
        message:
          `${label}.expires_on: ${String(expiresOn)} is ${String(days)} days after reviewed_on ` +
          `${String(reviewedOn)}; governance.max_approval_days allows ${String(rules.max_approval_days)} ` +
          '(a longer approval needs a new review: a new reviewed_on and stamp)',
      });
    }
    const scopes = field(entry, 'scopes');
    const matched = needsCosigner === undefined ? undefined : scopes?.find(needsCosigner);
    if (matched !== undefined && !('cosigned_by' in entry)) {
      errors.push({
        path: at,
        at: 'map',
        message:
          `${label}: missing required key "cosigned_by": scope ${JSON.stringify(matched)} ` +
          'matches governance.cosign_scopes, so a second reviewer must approve the entry',
      });
    }
  });
  return report;
}
