/**
 * Loading the allowlist: text → YAML document → schema and rule checks → CompiledPolicy, with
 * every problem reported at once as `{line, col, message}` (1-based, pointing at the offending
 * key or value; for a missing key, at the mapping that lacks it).
 *
 * Contract:
 * - parseAllowlist is pure (the clock comes in as `now`, used only for expiry warnings) and
 *   never throws for any input text.
 * - YAML is read with the 1.2 core schema, so dates stay strings (validated here as real
 *   calendar dates) and `yes`/`no` stay strings. Duplicate keys, anchors, aliases, unknown tags,
 *   complex keys and multi-document files are errors: a security file is read by people, and
 *   every one of those lets the file mean something other than what a reader sees. So is
 *   nesting deeper than 32 levels, checked before the recursive part of YAML parsing runs.
 * - `version` is taken as written: `2026.10` stays "2026.10", not the number 2026.1.
 * - The policy's `sha256` is the SHA-256 of the text's UTF-8 bytes; loadAllowlistFile decodes
 *   strictly (invalid UTF-8 is an error, a BOM is kept), so that equals the file bytes.
 * - Warnings never block a load: approvals expired or expiring within 30 days of `now`, review
 *   stamps that no longer match, signatures that do not hold (with a trust file; the entry is
 *   then denied), and url details that matching ignores. validate --strict makes all but the
 *   url notes errors.
 * - The review rules (review-rules.ts: required stamps, exceptions, co-signers, governance) are
 *   errors like any other: a file that breaks them is refused.
 * - One reader: the `yaml` package, with positions, words and places every error. A second
 *   reader of a security file could come to read it differently from the first.
 * The YAML helpers here are shared with load-known-hosts.ts and stamp-file.ts.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { Composer, isAlias, isMap, isScalar, isSeq, LineCounter, Parser } from 'yaml';
import type { CST, Document, Node as YamlNode } from 'yaml';
import type * as z from 'zod';
import { expiresAtMs } from '../core/policy/approval-date.js';
import { compileEntry, createPolicyBuilder, toPolicyHeader } from '../core/policy/compile.js';
import type { CompiledEntry, CompiledPolicy } from '../core/policy/policy.js';
import {
  AllowlistEntrySchema,
  AllowlistSchema,
  allowedKeysAt,
  checkAllowlistRules,
  DateSchema,
  ReviewSha256Schema,
} from './allowlist-schema.js';
import type { AllowlistDoc, DocPath } from './allowlist-schema.js';
import { checkReviewRules } from './review-rules.js';
import { checkReviewSignatures, checkUnsignedSettings } from './review-signature.js';
import type { ReviewerKeys, UnsignedSetting } from './review-signature.js';
import { computeReviewSha256 } from './review-stamp.js';
import type { StampContext } from './review-stamp.js';
import { BundlesSchema, checkScopingRules, IdentitySchema } from './scoping-schema.js';
import { CONDITION_ENGINE } from './condition-engine.js';

/** One problem or warning, at a 1-based line and column of the file. */
export interface Issue {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

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

/** Warn about approvals that expire within this many days. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// YAML source

/** A parsed YAML document together with what is needed to turn offsets into positions. */
export interface YamlSource {
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** The text parsed. */
  readonly text: string;
}

/** The result of parseYamlSource: the document as plain data, or every YAML-level error. */
export type YamlParseResult =
  | { readonly ok: true; readonly source: YamlSource; readonly value: unknown }
  | { readonly ok: false; readonly errors: Issue[] };

/**
 * Parses `text` as a single YAML 1.2 (core schema) document and converts it to plain data
 * (objects without prototype, arrays, strings, numbers, booleans, null). Rejects what the
 * module comment lists; never throws.
 */
export function parseYamlSource(text: string): YamlParseResult {
  const lineCounter = new LineCounter();
  // parseDocument's steps, split so nesting is bounded before composing: yaml's CST parser is
  // iterative, but its composer recurses once per level, and a pathological file (100,000
  // nested "[") can exhaust the stack in ways V8 does not always report as a catchable error.
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const tooDeep = firstTooDeep(tokens);
  if (tooDeep !== undefined) {
    const message = `nested more than ${String(MAX_DEPTH)} levels deep`;
    return { ok: false, errors: [{ ...positionOf({ lineCounter }, tooDeep), message }] };
  }
  const composer = new Composer({ schema: 'core', uniqueKeys: true });
  let doc: Document.Parsed | undefined;
  const errors: Issue[] = [];
  for (const next of composer.compose(tokens, true, text.length)) {
    if (doc === undefined) doc = next;
    else {
      errors.push({
        ...positionOf({ lineCounter }, next.range[0]),
        message: 'the file must hold a single YAML document (found a second "---")',
      });
      break;
    }
  }
  // compose(…, forceDoc = true) always yields a document.
  if (doc === undefined)
    return { ok: false, errors: [{ line: 1, col: 1, message: 'no YAML document' }] };
  const source: YamlSource = { doc, lineCounter, text };
  for (const problem of [...doc.errors, ...doc.warnings]) {
    // Duplicate keys are reported by checkNode below, with the first occurrence's line.
    if (problem.code === 'DUPLICATE_KEY') continue;
    errors.push({ ...positionOf(source, problem.pos[0]), message: yamlMessage(problem) });
  }
  checkNode(source, doc.contents, errors);
  if (errors.length > 0) return { ok: false, errors: sortIssues(errors) };
  return { ok: true, source, value: toPlain(doc.contents) };
}

/** Deeper than any valid file nests (an allowlist needs 5 levels). */
const MAX_DEPTH = 32;

/** The offset of the first CST token nested deeper than MAX_DEPTH, walked without recursion. */
function firstTooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack = tokens.map((token) => ({ token, depth: 0 }));
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { token, depth } = next;
    if (depth > MAX_DEPTH) return token.offset;
    if (token.type === 'document') {
      if (token.value !== undefined) stack.push({ token: token.value, depth: depth + 1 });
    } else if (
      token.type === 'block-map' ||
      token.type === 'block-seq' ||
      token.type === 'flow-collection'
    ) {
      for (const item of token.items) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value !== undefined) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

function yamlMessage(problem: { code: string; message: string }): string {
  if (problem.code === 'TAG_RESOLVE_FAILED') {
    return `YAML tags other than the core schema's are not allowed (${problem.message})`;
  }
  return `YAML syntax error: ${problem.message.split('\n')[0] ?? problem.message}`;
}

/** Rejects anchors, aliases, complex keys and duplicate keys anywhere under `node`. */
function checkNode(source: YamlSource, node: unknown, errors: Issue[]): void {
  if (isAlias(node)) {
    errors.push({
      ...positionOf(source, node.range?.[0] ?? 0),
      message:
        'YAML aliases (*name) are not allowed: write each value out in full. ' +
        'To write a wildcard host, quote it: "*.example.com"',
    });
    return;
  }
  if (!isScalar(node) && !isMap(node) && !isSeq(node)) return;
  if (node.anchor !== undefined) {
    errors.push({
      ...positionOf(source, node.range?.[0] ?? 0),
      message: `YAML anchors (&${node.anchor}) are not allowed: write each value out in full`,
    });
  }
  if (isSeq(node)) {
    for (const item of node.items) checkNode(source, item, errors);
  } else if (isMap(node)) {
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      const key = pair.key;
      if (!isScalar(key)) {
        errors.push({
          ...positionOf(source, rangeStart(key) ?? rangeStart(node) ?? 0),
          message: 'keys must be plain strings',
        });
        continue;
      }
      checkNode(source, key, errors);
      const name = String(key.value);
      const offset = key.range?.[0] ?? 0;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, offset);
      else {
        errors.push({
          ...positionOf(source, offset),
          message: `duplicate key ${JSON.stringify(name)} (first at line ${String(positionOf(source, first).line)})`,
        });
      }
      checkNode(source, pair.value, errors);
    }
  }
}

function toPlain(node: unknown): unknown {
  if (isScalar(node)) return node.value;
  if (isSeq(node)) return node.items.map(toPlain);
  if (isMap(node)) {
    // No prototype: a key such as "__proto__" stays an ordinary (unknown) key.
    const out = Object.create(null) as Record<string, unknown>;
    for (const pair of node.items) {
      if (isScalar(pair.key)) out[String(pair.key.value)] = toPlain(pair.value);
    }
    return out;
  }
  return null;
}

function rangeStart(node: unknown): number | undefined {
  if (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) return node.range?.[0];
  return undefined;
}

/** 1-based line and column of a character offset. */
export function positionOf(
  source: Pick<YamlSource, 'lineCounter'>,
  offset: number,
): { line: number; col: number } {
  const { line, col } = source.lineCounter.linePos(offset);
  return line === 0 ? { line: 1, col: offset + 1 } : { line, col };
}

interface Located {
  /** The node at the path, if the path exists. */
  readonly node: YamlNode | undefined;
  /** The key node of the last path step, when that step is a mapping key that exists. */
  readonly key: YamlNode | undefined;
  /** The deepest node that exists along the path. */
  readonly nearest: YamlNode | undefined;
  readonly found: boolean;
}

/** Finds the node at a document path (mapping keys and sequence indexes). */
export function locate(source: YamlSource, path: DocPath): Located {
  let current: unknown = source.doc.contents;
  let key: YamlNode | undefined;
  let nearest = isYamlNode(current) ? current : undefined;
  for (const step of path) {
    if (isMap(current)) {
      const pair = current.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(step),
      );
      if (pair === undefined) return { node: undefined, key: undefined, nearest, found: false };
      key = isYamlNode(pair.key) ? pair.key : undefined;
      current = pair.value;
    } else if (isSeq(current) && typeof step === 'number') {
      key = undefined;
      current = current.items[step];
      if (current === undefined) return { node: undefined, key: undefined, nearest, found: false };
    } else {
      return { node: undefined, key: undefined, nearest, found: false };
    }
    if (isYamlNode(current)) nearest = current;
  }
  return { node: isYamlNode(current) ? current : undefined, key, nearest, found: true };
}

function isYamlNode(value: unknown): value is YamlNode {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

/**
 * The Issue for `message` at `path`: on the key, on the value (on the key instead when the value
 * is empty, as in `approved:`), or on the mapping at `path` (for a missing key).
 */
export function issueAt(
  source: YamlSource,
  path: DocPath,
  at: 'key' | 'value' | 'map',
  message: string,
): Issue {
  const found = locate(source, path);
  let node: YamlNode | undefined;
  if (at === 'key') node = found.key ?? found.node;
  else if (at === 'value') {
    node = isImplicitNull(found.node) ? (found.key ?? found.node) : (found.node ?? found.key);
  } else node = found.node;
  const offset = rangeStart(node ?? found.nearest) ?? 0;
  return { ...positionOf(source, offset), message };
}

function isImplicitNull(node: YamlNode | undefined): boolean {
  return isScalar(node) && node.value === null && (node.source === '' || node.source === undefined);
}

/** `FILE:LINE:COL message`, the format of `mcp-gate validate`. */
export function formatIssue(file: string, issue: Issue): string {
  return `${file}:${issue.line}:${issue.col} ${issue.message}`;
}

/** Sorts by position, then message, so output is stable. */
export function sortIssues(issues: Issue[]): Issue[] {
  return issues.sort(
    (a, b) =>
      a.line - b.line ||
      a.col - b.col ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

// ---------------------------------------------------------------------------------------------
// zod issues → Issues

/** `approved[0].tools.allow[1]`, the path as shown in messages. */
export function pathLabel(path: DocPath): string {
  let label = '';
  for (const step of path) {
    label += typeof step === 'number' ? `[${String(step)}]` : label === '' ? step : `.${step}`;
  }
  return label;
}

function prefixed(path: DocPath, message: string): string {
  return path.length === 0 ? message : `${pathLabel(path)}: ${message}`;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  array: 'a list',
  object: 'a mapping',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

/**
 * Turns zod issues into positioned Issues with messages of the form `path: problem`.
 * `keysAt` supplies the allowed keys at a path for "did you mean" hints.
 */
export function zodIssuesToIssues(
  source: YamlSource,
  issues: readonly z.core.$ZodIssue[],
  keysAt: (path: DocPath) => readonly string[] | undefined,
): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((step) => typeof step !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint = closest(key, keysAt(path) ?? []);
        const message = `unknown key ${JSON.stringify(key)}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`;
        out.push(issueAt(source, [...path, key], 'key', prefixed(path, message)));
      }
      continue;
    }
    const found = locate(source, path);
    if (!found.found) {
      const parent = path.slice(0, -1);
      const key = String(path[path.length - 1]);
      out.push(
        issueAt(
          source,
          parent,
          'map',
          prefixed(parent, `missing required key ${JSON.stringify(key)}`),
        ),
      );
      continue;
    }
    let message: string;
    if (path.length === 0 && source.doc.contents === null) {
      message = 'the file is empty; an allowlist needs at least version, review_url and approved';
    } else if (issue.code === 'invalid_type') {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      message = prefixed(path, `expected ${expected}, got ${describeValue(issue.input)}`);
      if (path.length === 0)
        message = `the top level must be a mapping (key: value lines), got ${describeValue(issue.input)}`;
    } else if (issue.code === 'invalid_value') {
      const values = issue.values.map((value) => String(value)).join(', ');
      message = prefixed(path, `must be one of ${values}; got ${describeValue(issue.input)}`);
    } else {
      message = prefixed(path, issue.message);
    }
    out.push(issueAt(source, path, 'value', message));
  }
  return out;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// ---------------------------------------------------------------------------------------------
// The allowlist

/** SHA-256 (hex) of the UTF-8 bytes of `text`. */
export function sha256OfText(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
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
  const context = documentStampContext(raw);
  const reviewFindings = entryWarnings(raw, options.now, place, (entry) =>
    stampMismatchOf(entry, context),
  );
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
  if (!isPlainRecord(raw)) return;
  const node = source.doc.get('version', true);
  if (isScalar(node) && typeof node.value === 'number') {
    raw['version'] = node.source ?? String(node.value);
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A warning about the value at `path`, placed in the file. */
type PlaceWarning = (path: DocPath, message: string) => Issue;

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

/**
 * The parts of the document an entry's stamp covers (review-stamp.ts StampContext), each when it
 * is valid on its own.
 */
export function documentStampContext(raw: unknown): StampContext {
  if (!isPlainRecord(raw)) return {};
  const bundles = BundlesSchema.safeParse(raw['bundles']);
  const identity = IdentitySchema.safeParse(raw['identity']);
  return {
    ...(bundles.success ? { bundles: bundles.data } : {}),
    ...(identity.success ? { identity: identity.data } : {}),
  };
}

/**
 * An issue inside a condition's expression, placed at its own line and column in the file when
 * the expression's text appears there as written (plain, quoted without escapes, or a block);
 * otherwise at the start of the value, with the position inside the expression in the message.
 */
function issueInExpression(
  source: YamlSource,
  path: DocPath,
  position: { readonly line: number; readonly column: number },
  message: string,
): Issue {
  const found = locate(source, path);
  const node = found.node;
  const start = rangeStart(node);
  const expr = isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
  if (start !== undefined && expr !== undefined && isScalar(node)) {
    const lineText = expr.split('\n')[position.line - 1];
    const end = node.range?.[1] ?? start;
    const at = lineText === undefined ? -1 : source.text.indexOf(lineText, start);
    if (at >= 0 && at + (lineText?.length ?? 0) <= end) {
      return { ...positionOf(source, at + position.column - 1), message };
    }
  }
  const where = `(line ${position.line}, column ${position.column} of the expression)`;
  return issueAt(source, path, 'value', `${message} ${where}`);
}

function entryWarnings(
  raw: unknown,
  now: Date,
  place: PlaceWarning,
  stampMismatch: (entry: Record<string, unknown>, index: number) => boolean,
): Issue[] {
  const warnings: Issue[] = [];
  if (!isPlainRecord(raw) || !Array.isArray(raw['approved'])) return warnings;
  const approved: unknown[] = raw['approved'];
  const nowMs = now.getTime();
  approved.forEach((entry, index) => {
    if (!isPlainRecord(entry)) return;
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

    if (stampMismatch(entry, index)) {
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

// ---------------------------------------------------------------------------------------------
// Files

/** The text of a configuration file, or an Issue at 1:1 saying why it cannot be read. */
export type ReadResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: Issue };

const READ_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
};

/** Far beyond any real allowlist (10,000 entries are about 3 MB); a stray huge file is refused. */
export const MAX_CONFIG_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Reads a configuration file as strict UTF-8 (invalid bytes are an error rather than U+FFFD,
 * and a BOM is kept), so the text's UTF-8 encoding is exactly the file's bytes. Only regular
 * files (or symlinks to one) up to MAX_CONFIG_FILE_BYTES are read: a FIFO or device would block
 * or never end.
 */
export async function readConfigFile(path: string): Promise<ReadResult> {
  const fail = (message: string): ReadResult => ({
    ok: false,
    error: { line: 1, col: 1, message: `cannot read file: ${message}` },
  });
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (info.isDirectory()) return fail('is a directory, not a file (EISDIR)');
    if (!info.isFile()) return fail('not a regular file');
    if (info.size > MAX_CONFIG_FILE_BYTES) {
      return fail(`larger than ${String(MAX_CONFIG_FILE_BYTES / 1024 / 1024)} MiB`);
    }
    bytes = await readFile(path);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const why = READ_PROBLEMS[code] ?? 'read failed';
    return fail(`${why} (${code})`);
  }
  try {
    return {
      ok: true,
      text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes),
    };
  } catch {
    return fail('it is not valid UTF-8');
  }
}

/**
 * Whether `text` looks like another policy file than an allowlist: its top level is a mapping
 * with `key` and without `approved` (judged on the lines alone when it is not valid YAML).
 * `mcp-gate validate` uses it to pick the checker.
 */
export function looksLikeFileOf(text: string, key: string): boolean {
  const yaml = parseYamlSource(text);
  if (!yaml.ok) return new RegExp(`^${key}\\s*:`, 'm').test(text) && !/^approved\s*:/m.test(text);
  const value = yaml.value;
  return isPlainRecord(value) && key in value && !('approved' in value);
}

/** Reads and parses an allowlist file; I/O problems become an error at 1:1. */
export async function loadAllowlistFile(path: string, now: Date): Promise<ParseAllowlistResult> {
  const read = await readConfigFile(path);
  if (!read.ok) return { ok: false, fileName: path, errors: [read.error], warnings: [] };
  return parseAllowlist(read.text, { fileName: path, now });
}
