/**
 * The string fields of the policy files, each a zod string checked by one function that words
 * the problem (checkedString): ids, hosts, urls, dates, globs, review stamps, reviewer names and
 * signatures, the review url and deny texts. The allowlist document (allowlist-schema.ts), its
 * scoping keys (scoping-schema.ts), the known-host list and the trust file build on these, so a
 * field means the same wherever it is written. docs/allowlist.md is the reference.
 * Pure: no I/O.
 */
import * as z from 'zod';
import {
  findForbiddenWording,
  findUnknownPlaceholders,
  FORBIDDEN_WORDING_REASON,
  DENY_TEXT_PLACEHOLDERS,
} from '../core/policy/deny-texts.js';
import { checkGlob } from '../core/policy/glob.js';
import { utcDayStartMs } from '../core/policy/approval-date.js';
import { parseEntryUrl } from '../core/policy/entry-url.js';
import { parseHostPattern } from '../core/policy/host-pattern.js';

/** A string field checked by `check`, which returns a problem description or undefined. */
export function checkedString(check: (value: string) => string | undefined): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const problem = check(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/**
 * What `mcp-gate discover` writes where only a person can answer (review_ticket, reviewed_by,
 * the dates): such a value is refused, so a draft entry cannot be merged as it was printed.
 */
export const PLACEHOLDER_PREFIX = 'TODO-';

/** The refusal of a placeholder value, or undefined for any other value. */
function placeholderProblem(value: string): string | undefined {
  return value.trim().startsWith(PLACEHOLDER_PREFIX)
    ? `${JSON.stringify(value)} is a placeholder left by "mcp-gate discover"; the reviewer must ` +
        'replace it with the real value'
    : undefined;
}

const nonEmpty = (value: string): string | undefined =>
  value.trim() === '' ? 'must not be empty' : placeholderProblem(value);

/** `version`: a free-form revision label, taken as written (see load-allowlist.ts). */
export const VersionSchema = checkedString((value) => {
  if (value.trim() === '') return 'must not be empty';
  if (value.length > 128) return 'must be at most 128 characters';
  if (hasControlCharacter(value)) return 'must not contain control characters';
  return undefined;
});

/** Whether `value` holds a C0 control character or DEL. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** How ids and bundle names are spelt: lower-case, log- and metric-label-friendly. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Entry ids (ID_PATTERN). */
export const EntryIdSchema = checkedString((value) =>
  ID_PATTERN.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a valid id: use 1 to 64 lower-case letters, digits, ` +
      '".", "_" and "-", starting with a letter or digit',
);

/** A host pattern (see parseHostPattern). */
export const HostPatternSchema = checkedString((value) => {
  const parsed = parseHostPattern(value);
  return parsed.ok ? undefined : parsed.message;
});

/** An entry `url` (see parseEntryUrl). */
export const EntryUrlSchema = checkedString((value) => {
  const parsed = parseEntryUrl(value);
  return parsed.ok ? undefined : parsed.message;
});

/** A `YYYY-MM-DD` calendar date, kept as a string (the YAML core schema has no timestamps). */
export const DateSchema = checkedString(
  (value) =>
    placeholderProblem(value) ??
    (utcDayStartMs(value) === undefined
      ? `${JSON.stringify(value)} is not a real calendar date in the form YYYY-MM-DD`
      : undefined),
);

/** A tool glob (see glob.ts for the language). */
export const GlobSchema = checkedString((value) => {
  const problem = checkGlob(value);
  return problem === undefined ? undefined : `${JSON.stringify(value)}: ${problem}`;
});

/** `review_sha256`: lower-case hex, as written by `mcp-gate stamp`. */
export const ReviewSha256Schema = checkedString((value) =>
  /^[0-9a-f]{64}$/.test(value)
    ? undefined
    : 'must be 64 lower-case hex digits, as written by "mcp-gate stamp"',
);

/**
 * A reviewer's name, as in `reviewed_by`, `cosigned_by`, a signature's `by` and the trust file
 * (load-reviewers.ts). Control characters are refused: the name is part of the signed message,
 * whose fields are separated by newlines (review-signature.ts).
 */
export const ReviewerNameSchema = checkedString((value) => {
  const problem = nonEmpty(value);
  if (problem !== undefined) return problem;
  if (value.length > 128) return 'must be at most 128 characters';
  return hasControlCharacter(value) ? 'must not contain control characters' : undefined;
});

/** An Ed25519 signature as `mcp-gate sign` writes it: 64 bytes in standard, padded base64. */
export const SignatureBase64Schema = checkedString((value) => {
  const bytes = /^[A-Za-z0-9+/]{86}==$/.test(value) ? Buffer.from(value, 'base64') : undefined;
  return bytes?.length === 64 && bytes.toString('base64') === value
    ? undefined
    : 'must be an Ed25519 signature in base64 (88 characters), as written by "mcp-gate sign"';
});

/** `review_url`: absolute http(s), shown to every person who is denied. */
export const ReviewUrlSchema = checkedString((value) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not an absolute URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return 'must be an http or https URL';
  }
  if (url.username !== '' || url.password !== '') {
    return 'must not contain user info ("user:password@")';
  }
  return shownInDenyTextProblem(value);
});

/**
 * The refusal of a value that is shown inside deny texts (the review url, a condition's
 * description) when it holds wording that deny texts must not, or undefined.
 */
export function shownInDenyTextProblem(value: string): string | undefined {
  const forbidden = findForbiddenWording(value);
  return forbidden === undefined
    ? undefined
    : `contains ${JSON.stringify(forbidden)}, and it is shown in deny texts: ${FORBIDDEN_WORDING_REASON}`;
}

/** A deny text template (a `deny_reasons` value). */
export const DenyTextSchema = checkedString((value) => {
  if (value.trim() === '') return 'must not be empty';
  const unknown = findUnknownPlaceholders(value);
  if (unknown.length > 0) {
    return (
      `unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; ` +
      `known: ${DENY_TEXT_PLACEHOLDERS.map((name) => `{${name}}`).join(' ')}`
    );
  }
  const forbidden = findForbiddenWording(value);
  if (forbidden !== undefined) {
    return `contains ${JSON.stringify(forbidden)}: ${FORBIDDEN_WORDING_REASON}`;
  }
  return undefined;
});

/** A string with something in it that is no "mcp-gate discover" placeholder. */
export const NonEmptyStringSchema = checkedString(nonEmpty);
