/**
 * Loading the allowlist: text → YAML document → schema and rule checks → CompiledPolicy, with
 * every problem reported at once as `{line, col, message}` (config-issues.ts), placed in the
 * file by yaml-source.ts.
 *
 * Contract:
 * - parseAllowlist is pure (the clock comes in as `now`, used only for expiry warnings) and
 *   never throws for any input text.
 * - YAML is read as yaml-source.ts says (core schema, no anchors, aliases, tags, duplicate keys
 *   or second documents), so dates stay strings (validated here as real calendar dates).
 * - `version` is taken as written: `2026.10` stays "2026.10", not the number 2026.1.
 * - The policy's `sha256` is the SHA-256 of the text's UTF-8 bytes; loadAllowlistFile reads the
 *   file as config-file.ts does (strict UTF-8, a BOM is kept), so that equals the file bytes.
 * - Warnings never block a load: approvals expired or expiring within 30 days of `now`, review
 *   stamps that no longer match (allowlist-warnings.ts), signatures that do not hold (with a
 *   trust file; the entry is then denied), and url details that matching ignores. validate
 *   --strict makes all but the url notes errors.
 * - The review rules (review-rules.ts: required stamps, exceptions, co-signers, governance) are
 *   errors like any other: a file that breaks them is refused.
 */
import { isScalar } from 'yaml';
import { compileEntry, createPolicyBuilder, toPolicyHeader } from '../core/policy/compile.js';
import type { CompiledEntry, CompiledPolicy } from '../core/policy/policy.js';
import { checkAllowlistRules } from './allowlist-rules.js';
import { AllowlistSchema, allowedKeysAt } from './allowlist-schema.js';
import type { AllowlistDoc } from './allowlist-schema.js';
import { entryWarnings } from './allowlist-warnings.js';
import { CONDITION_ENGINE } from './condition-engine.js';
import { readConfigFile, sha256OfText } from './config-file.js';
import { pathLabel, sortIssues } from './config-issues.js';
import type { DocPath, Issue } from './config-issues.js';
import { checkReviewRules } from './review-rules.js';
import { checkReviewSignatures, checkUnsignedSettings } from './review-signature.js';
import type { ReviewerKeys, UnsignedSetting } from './review-signature.js';
import { computeReviewSha256 } from './review-stamp.js';
import { checkScopingRules } from './scoping-schema.js';
import { isRecord, issueAt, issueInExpression, parseYamlSource } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';
import { zodIssuesToIssues } from './zod-issues.js';

/** The outcome of parseAllowlist; warnings are reported either way. */
export type ParseAllowlistResult =
  | {
      readonly ok: true;
      readonly fileName: string;
      readonly policy: CompiledPolicy;
      readonly warnings: Issue[];
    }
  | {
      readonly ok: false;
      readonly fileName: string;
      readonly errors: Issue[];
      readonly warnings: Issue[];
    };

/** Inputs of parseAllowlist besides the text. */
export interface ParseAllowlistOptions {
  /** Echoed in the result for the caller's messages; issues themselves carry no file name. */
  readonly fileName: string;
  /** The time expiry warnings are judged against. */
  readonly now: Date;
  /**
   * The trust file's reviewers (`--reviewers`): every entry's signatures are checked against
   * them (review-signature.ts). Undefined: signatures are not checked.
   */
  readonly reviewers?: ReviewerKeys | undefined;
  /**
   * With `reviewers`: the top-level settings the trust file permits that let traffic through
   * unsigned (`default_action: allow`, `mode: dry-run`); any other is an error. Default none.
   */
  readonly permittedSettings?: ReadonlySet<UnsignedSetting> | undefined;
  /**
   * Signature problems are errors (validate) rather than warnings that leave the entry denied
   * with reason `rotation`, detail `signature` (the service).
   */
  readonly signatureErrors?: boolean | undefined;
  /**
   * validate --strict: expired and soon-expiring approvals, stale stamps and signature problems
   * are errors, and stamps are required even with `require_review_stamp: false`.
   */
  readonly strict?: boolean | undefined;
  /** `mcp-gate stamp` checks the file it is about to stamp: missing stamps are no error. */
  readonly stamping?: boolean | undefined;
}

/** The outcome of validateAllowlist: the validated document (plain data), or every error. */
export type ValidateAllowlistResult =
  | {
      readonly ok: true;
      readonly fileName: string;
      readonly doc: AllowlistDoc;
      /** `doc.approved` compiled, in file order (plain frozen data, like the document). */
      readonly entries: readonly CompiledEntry[];
      /** SHA-256 (hex) of the text's UTF-8 bytes. */
      readonly sha256: string;
      readonly warnings: Issue[];
    }
  | {
      readonly ok: false;
      readonly fileName: string;
      readonly errors: Issue[];
      readonly warnings: Issue[];
    };

/** Validates and compiles allowlist text. Pure; never throws. */
export function parseAllowlist(text: string, options: ParseAllowlistOptions): ParseAllowlistResult {
  const validated = validateAllowlist(text, options);
  if (!validated.ok) return validated;
  const { fileName, doc, entries, sha256, warnings } = validated;
  // compilePolicy, with the entries validation compiled already.
  const builder = createPolicyBuilder(CONDITION_ENGINE);
  for (const entry of entries) builder.add(entry);
  return { ok: true, fileName, policy: builder.build(toPolicyHeader(doc, { sha256 })), warnings };
}

/**
 * Every check of parseAllowlist, and the compilation of each entry: the result is plain data,
 * so the policy store can run this (the expensive part) in a worker thread. Pure; never throws.
 */
export function validateAllowlist(
  text: string,
  options: ParseAllowlistOptions,
): ValidateAllowlistResult {
  const yaml = parseYamlSource(text);
  const { fileName } = options;
  if (!yaml.ok) return { ok: false, fileName, errors: yaml.errors, warnings: [] };
  const { source, value: raw } = yaml;
  keepVersionAsWritten(source, raw);

  const errors: Issue[] = [];
  const parsed = AllowlistSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success)
    errors.push(...zodIssuesToIssues(source, parsed.error.issues, allowedKeysAt));
  // A document the schema accepted need not have each field validated again by the rules.
  const schemaValid = parsed.success;
  const rules = checkAllowlistRules(raw, { schemaValid });
  const review = checkReviewRules(raw, {
    schemaValid,
    strict: options.strict === true,
    stamping: options.stamping === true,
  });
  const unsigned =
    options.reviewers === undefined
      ? []
      : checkUnsignedSettings(raw, options.permittedSettings ?? new Set());
  for (const rule of [...rules.errors, ...review.errors, ...unsigned]) {
    errors.push(issueAt(source, rule.path, rule.at, rule.message));
  }

  for (const issue of checkScopingRules(raw)) {
    errors.push(
      issue.exprPosition === undefined
        ? issueAt(source, issue.path, issue.at, issue.message)
        : issueInExpression(source, issue.path, issue.exprPosition, issue.message),
    );
  }

  const place = (path: DocPath, message: string): Issue => issueAt(source, path, 'value', message);
  const warnings = rules.notes.map((note) => place(note.path, note.message));
  // Expiry and stale stamps: warnings for the service, errors for validate --strict.
  const reviewFindings = entryWarnings(raw, options.now, place);
  (options.strict === true ? errors : warnings).push(...reviewFindings);
  sortIssues(warnings);

  if (!parsed.success) return { ok: false, fileName, errors: sortIssues(errors), warnings };
  // Signatures are judged even when another rule failed, so validate reports every problem.
  const doc = parsed.data;
  const signatureIssues: Issue[] = [];
  const entries = doc.approved.map((entry, index) => {
    const reviewSha256 = computeReviewSha256(entry, doc);
    const problems =
      options.reviewers === undefined
        ? []
        : checkReviewSignatures(entry, reviewSha256, options.reviewers);
    for (const problem of problems) {
      const path = ['approved', index, ...problem.path];
      signatureIssues.push(place(path, `${pathLabel(path)}: ${problem.message}`));
    }
    return compileEntry(
      entry,
      reviewSha256,
      { signatureProblem: problems[0]?.message },
      doc.bundles,
    );
  });
  if (options.signatureErrors === true || options.strict === true) {
    errors.push(...signatureIssues);
  } else if (signatureIssues.length > 0) {
    for (const issue of signatureIssues) {
      warnings.push({
        ...issue,
        message: `${issue.message}; matching requests are denied with reason "rotation" (detail "signature")`,
      });
    }
    sortIssues(warnings);
  }
  if (errors.length > 0) return { ok: false, fileName, errors: sortIssues(errors), warnings };
  return { ok: true, fileName, doc, entries, sha256: sha256OfText(text), warnings };
}

/**
 * A plain number in `version` is replaced by its source text: the label is an identifier, and
 * `2026.10` read as a number would be logged as 2026.1.
 */
function keepVersionAsWritten(source: YamlSource, raw: unknown): void {
  if (!isRecord(raw)) return;
  const node = source.doc.get('version', true);
  if (isScalar(node) && typeof node.value === 'number') {
    raw['version'] = node.source ?? String(node.value);
  }
}

/** Reads and parses an allowlist file; I/O problems become an error at 1:1. */
export async function loadAllowlistFile(path: string, now: Date): Promise<ParseAllowlistResult> {
  const read = await readConfigFile(path);
  if (!read.ok) return { ok: false, fileName: path, errors: [read.error], warnings: [] };
  return parseAllowlist(read.text, { fileName: path, now });
}
