/**
 * The allowlist schema: the zod shape of deploy/allowlist.yaml (strict objects at every level,
 * so an unknown or misspelt key is an error, never silently ignored), and the rules that span
 * several fields (checkAllowlistRules). docs/allowlist.md is the reference for both.
 *
 * Contract:
 * - AllowlistSchema checks each field on its own; checkAllowlistRules checks the relations
 *   between fields and entries. Both run on every load and both report every problem with a
 *   path, so load-allowlist.ts can show all errors at once with line and column. The cross-field
 *   rules are written to tolerate a partly invalid document: each rule runs when the fields it
 *   needs are individually valid, which is why they are not zod refinements (zod skips an
 *   object's refinements as soon as any field in it fails).
 * - Every entry key is classified, next to the schema, as part of the review stamp's canonical
 *   form (REVIEW_STAMP_FIELDS) or as not security relevant (NOT_REVIEW_STAMP_FIELDS). A key in
 *   neither list fails type-checking (EveryEntryKeyClassified) and a unit test, so a new field
 *   that widens access cannot be left out of the stamp by accident.
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
import {
  hostPatternMatches,
  hostPatternToString,
  parseHostPattern,
} from '../core/policy/host-pattern.js';
import { DENY_REASONS, DENY_STYLES } from '../core/policy/policy.js';
import type { DenyReason } from '../core/policy/policy.js';
import {
  AccessSchema,
  BundleNameSchema,
  BundlesSchema,
  ConditionSchema,
  IdentitySchema,
  ToolRuleSchema,
} from './scoping-schema.js';

// ---------------------------------------------------------------------------------------------
// Field schemas

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

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Entry ids: lower-case, log- and metric-label-friendly. */
export const EntryIdSchema = checkedString((value) =>
  /^[a-z0-9][a-z0-9._-]{0,63}$/.test(value)
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
  const forbidden = findForbiddenWording(value);
  if (forbidden !== undefined) {
    return `contains ${JSON.stringify(forbidden)}, and it is shown in deny texts: ${FORBIDDEN_WORDING_REASON}`;
  }
  return undefined;
});

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

const NonEmptyStringSchema = checkedString(nonEmpty);

/** `mode` values, top level and per entry. */
export const MODES = ['enforce', 'dry-run'] as const;
/** `transport` values: `http` entries are matched against traffic, `stdio` ones never are. */
export const TRANSPORTS = ['http', 'stdio'] as const;
/**
 * `inspection` values. `required` (what an absent key means) keeps an entry with tool, path or
 * port rules in the inspection set; `host_only` accepts that tunnels to its host are decided on
 * the host alone (src/core/policy/inspection-set.ts).
 */
export const INSPECTION_MODES = ['required', 'host_only'] as const;
/** `default_action` values: what happens to MCP traffic no entry approves. */
export const DEFAULT_ACTIONS = ['deny', 'allow'] as const;

// ---------------------------------------------------------------------------------------------
// Document schemas

/** `tools`: absent = every tool; `allow` absent = every tool not denied; deny wins. */
export const ToolsSchema = z.strictObject({
  allow: z.array(GlobSchema).optional(),
  deny: z.array(GlobSchema).optional(),
  /** Per-tool access and conditions (scoping-schema.ts). */
  rules: z.array(ToolRuleSchema).min(1).optional(),
});

/** One `signatures` item: a reviewer's signature over the entry (review-signature.ts). */
export const SignatureSchema = z.strictObject({
  by: ReviewerNameSchema,
  sig: SignatureBase64Schema,
});

/** An exception lasts at most this many days from `reviewed_on` (governance may say fewer). */
export const MAX_EXCEPTION_DAYS = 30;
/** `governance.max_approval_days` when the section leaves it out: about six months. */
export const DEFAULT_MAX_APPROVAL_DAYS = 183;

/**
 * `governance`: rules the allowlist itself must follow (review-rules.ts), enforced by validate and
 * on every load. Absent, none of them apply; present, every key has its default.
 */
export const GovernanceSchema = z.strictObject({
  max_approval_days: z
    .int()
    .min(1, 'must be at least 1')
    .max(3660, 'must be at most 3660 (ten years)')
    .default(DEFAULT_MAX_APPROVAL_DAYS),
  exception_max_days: z
    .int()
    .min(1, 'must be at least 1')
    .max(MAX_EXCEPTION_DAYS, `must be at most ${String(MAX_EXCEPTION_DAYS)}: exceptions are short`)
    .default(MAX_EXCEPTION_DAYS),
  cosign_scopes: z.array(GlobSchema).optional(),
});

/** One approval. Which keys apply depends on `transport` (checkAllowlistRules). */
export const AllowlistEntrySchema = z.strictObject({
  id: EntryIdSchema,
  host: HostPatternSchema.optional(),
  transport: z.enum(TRANSPORTS),
  url: EntryUrlSchema.optional(),
  command: NonEmptyStringSchema.optional(),
  allowed_args: z.array(z.string()).optional(),
  scopes: z.array(NonEmptyStringSchema).optional(),
  tools: ToolsSchema.optional(),
  access: AccessSchema.optional(),
  conditions: z.array(ConditionSchema).min(1).optional(),
  uses: z.array(BundleNameSchema).min(1).optional(),
  mode: z.enum(MODES).optional(),
  inspection: z.enum(INSPECTION_MODES).optional(),
  review_ticket: NonEmptyStringSchema,
  reviewed_by: NonEmptyStringSchema,
  reviewed_on: DateSchema,
  expires_on: DateSchema,
  review_sha256: ReviewSha256Schema.optional(),
  cosigned_by: ReviewerNameSchema.optional(),
  exception: z.boolean().optional(),
  exception_approved_by: ReviewerNameSchema.optional(),
  signatures: z.array(SignatureSchema).optional(),
});

// Built from DENY_REASONS so a new reason is overridable without touching this file; the cast
// only restores the key type that Object.fromEntries loses.
const denyReasonsShape = Object.fromEntries(
  DENY_REASONS.map((reason) => [reason, DenyTextSchema.optional()]),
) as Record<DenyReason, z.ZodOptional<typeof DenyTextSchema>>;

/** `deny_reasons`: optional overrides of the built-in deny texts. */
export const DenyReasonsSchema = z.strictObject(denyReasonsShape);

/** The whole allowlist file. Defaults are applied here; docs/allowlist.md lists them. */
export const AllowlistSchema = z.strictObject({
  version: VersionSchema,
  default_action: z.enum(DEFAULT_ACTIONS).default('deny'),
  mode: z.enum(MODES).default('enforce'),
  review_url: ReviewUrlSchema,
  deny_style: z.enum(DENY_STYLES).default('auto'),
  identity: IdentitySchema.optional(),
  bundles: BundlesSchema.optional(),
  approved: z.array(AllowlistEntrySchema),
  deny_reasons: DenyReasonsSchema.optional(),
  require_review_stamp: z.boolean().default(true),
  governance: GovernanceSchema.optional(),
});

/** A validated allowlist document (defaults applied). */
export type AllowlistDoc = z.output<typeof AllowlistSchema>;
/** One validated entry, keys as written (no defaults are applied inside entries). */
export type AllowlistEntry = z.output<typeof AllowlistEntrySchema>;
/** An entry key. */
export type AllowlistEntryKey = keyof typeof AllowlistEntrySchema.shape;

// ---------------------------------------------------------------------------------------------
// What the review stamp covers

/**
 * Entry keys whose values make up the review stamp's canonical form (review-stamp.ts): every key
 * that decides which traffic, which program or which tools an approval lets through, plus the
 * review record it was approved under. `mode` is here because switching an entry to `dry-run`
 * turns its enforcement off: that widens access as surely as a new tool glob. A new key that
 * widens access belongs here.
 */
export const REVIEW_STAMP_FIELDS = [
  'access',
  'allowed_args',
  'command',
  'conditions',
  'exception',
  'host',
  'inspection',
  'mode',
  'review_ticket',
  'reviewed_on',
  'scopes',
  'tools',
  'transport',
  'url',
  'uses',
] as const satisfies readonly AllowlistEntryKey[];

/**
 * Entry keys deliberately left out of the stamp: naming (`id`), bookkeeping (`reviewed_by`,
 * `cosigned_by`, `exception_approved_by`: who, not what; with a trust file the signatures bind
 * the reviewers' names), renewal (`expires_on`, checked on every request anyway), and the stamp
 * and the signatures themselves (a signature covers the stamp's canonical form).
 */
export const NOT_REVIEW_STAMP_FIELDS = [
  'expires_on',
  'id',
  'review_sha256',
  'reviewed_by',
  'cosigned_by',
  'exception_approved_by',
  'signatures',
] as const satisfies readonly AllowlistEntryKey[];

/** `tools` keys in the canonical form; every key of ToolsSchema must be listed. */
export const TOOL_STAMP_FIELDS = [
  'allow',
  'deny',
  'rules',
] as const satisfies readonly (keyof typeof ToolsSchema.shape)[];

type AssertNever<T extends never> = T;
/**
 * Compile-time guard: fails type-checking, naming the key, when AllowlistEntrySchema has a key
 * that is in neither REVIEW_STAMP_FIELDS nor NOT_REVIEW_STAMP_FIELDS.
 */
export type EveryEntryKeyClassified = AssertNever<
  Exclude<
    AllowlistEntryKey,
    (typeof REVIEW_STAMP_FIELDS)[number] | (typeof NOT_REVIEW_STAMP_FIELDS)[number]
  >
>;
/** Compile-time guard: every `tools` key is in TOOL_STAMP_FIELDS. */
export type EveryToolKeyClassified = AssertNever<
  Exclude<keyof typeof ToolsSchema.shape, (typeof TOOL_STAMP_FIELDS)[number]>
>;

// ---------------------------------------------------------------------------------------------
// Cross-field rules

/** A path into the document, as zod reports it. */
export type DocPath = readonly (string | number)[];

/**
 * A problem found by checkAllowlistRules. `at` says which node of `path` to point at: the key
 * (for a key that must go), the value, or the mapping at `path` (for a missing key).
 */
export interface RuleIssue {
  readonly path: DocPath;
  readonly at: 'key' | 'value' | 'map';
  readonly message: string;
}

/** A warning-worthy fact found while checking rules; load-allowlist.ts words and places it. */
export interface RuleNote {
  readonly path: DocPath;
  readonly message: string;
}

/** The outcome of checkAllowlistRules. */
export interface RuleReport {
  readonly errors: RuleIssue[];
  readonly notes: RuleNote[];
}

type Raw = Record<string, unknown>;

/** A YAML mapping read as plain data. */
export function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The field's value when it is present and valid on its own, else undefined. */
export type FieldReader = <K extends AllowlistEntryKey>(
  entry: Raw,
  key: K,
) => AllowlistEntry[K] | undefined;

const valid: FieldReader = (entry, key) => {
  if (!(key in entry)) return undefined;
  const result = AllowlistEntrySchema.shape[key].safeParse(entry[key]);
  return result.success ? (result.data as AllowlistEntry[typeof key]) : undefined;
};

// For a document AllowlistSchema accepted, every present field is valid and the schema returns
// it unchanged (no field has a transform), so its value can be read as is.
const trusted: FieldReader = (entry, key) => entry[key] as AllowlistEntry[typeof key] | undefined;

/**
 * How rule checks read an entry's fields: validating each (a document that failed the schema) or
 * as they are (one that passed). Shared with review-rules.ts.
 */
export function entryFieldReader(schemaValid: boolean): FieldReader {
  return schemaValid ? trusted : valid;
}

/** Options of checkAllowlistRules. */
export interface RuleOptions {
  /**
   * The caller has checked the document against AllowlistSchema and it passed: fields are read
   * without validating each again, which would repeat the schema's work on every field.
   */
  readonly schemaValid?: boolean;
}

/**
 * The rules that relate fields and entries: transport-specific keys, url host vs. host, review
 * and expiry order, unique ids, one entry per host + port + path prefix. Takes the raw
 * (unvalidated) document and checks whatever parts of it are individually valid. Also notes
 * legal-but-surprising urls (a query, a host narrower than a wildcard `host`) as warnings.
 */
export function checkAllowlistRules(raw: unknown, options: RuleOptions = {}): RuleReport {
  const field = entryFieldReader(options.schemaValid === true);
  const errors: RuleIssue[] = [];
  const notes: RuleNote[] = [];
  if (!isRecord(raw) || !Array.isArray(raw['approved'])) return { errors, notes };
  const approved: unknown[] = raw['approved'];

  const firstById = new Map<string, number>();
  const firstByLocation = new Map<string, { index: number; id: string | undefined }>();

  approved.forEach((entry, index) => {
    if (!isRecord(entry)) return;
    const at = ['approved', index] as const;
    const transport = field(entry, 'transport');
    const label = `approved[${index}]`;

    if (transport === 'http') {
      if (!('host' in entry)) {
        errors.push({
          path: at,
          at: 'map',
          message: `${label}: missing required key "host" (every http entry needs one)`,
        });
      }
      for (const key of ['command', 'allowed_args'] as const) {
        if (key in entry) {
          errors.push({
            path: [...at, key],
            at: 'key',
            message: `${label}.${key}: only allowed with transport: stdio`,
          });
        }
      }
    } else if (transport === 'stdio') {
      if (!('command' in entry)) {
        errors.push({
          path: at,
          at: 'map',
          message: `${label}: missing required key "command" (every stdio entry needs one)`,
        });
      }
      if ('url' in entry) {
        errors.push({
          path: [...at, 'url'],
          at: 'key',
          message: `${label}.url: only allowed with transport: http (a stdio server has no URL)`,
        });
      }
      if ('inspection' in entry) {
        errors.push({
          path: [...at, 'inspection'],
          at: 'key',
          message: `${label}.inspection: only allowed with transport: http (nothing to intercept)`,
        });
      }
    }

    const hostText = field(entry, 'host');
    const host = hostText === undefined ? undefined : parseHostPattern(hostText);
    const urlText = transport === 'stdio' ? undefined : field(entry, 'url');
    const url = urlText === undefined ? undefined : parseEntryUrl(urlText);
    if (host?.ok === true && url?.ok === true) {
      const written = hostPatternToString(host.value);
      if (url.value.host !== written) {
        if (!url.value.host.startsWith('*.') && hostPatternMatches(host.value, url.value.host)) {
          notes.push({
            path: [...at, 'url'],
            message:
              `${label}.url: host ${url.value.host} is narrower than the entry's host ` +
              `${written}, but the entry matches every host under ${written}; ` +
              `narrow host, or write ${written} in the url`,
          });
        } else {
          errors.push({
            path: [...at, 'url'],
            at: 'value',
            message: `${label}.url: its host ${url.value.host} does not match the entry's host ${written}`,
          });
        }
      }
    }
    if (url?.ok === true && url.value.hasQuery) {
      notes.push({
        path: [...at, 'url'],
        message: `${label}.url: the query is ignored when matching; only host, port and path count`,
      });
    }

    const needsRequest =
      entry['tools'] !== undefined ||
      entry['conditions'] !== undefined ||
      (url?.ok === true && (url.value.pathPrefix !== '/' || url.value.port !== undefined));
    if (
      transport === 'http' &&
      host?.ok === true &&
      host.value.kind === 'wildcard' &&
      needsRequest &&
      field(entry, 'inspection') !== 'host_only'
    ) {
      const name = host.value.suffix.slice(1);
      notes.push({
        path: [...at, 'host'],
        message:
          `${label}.host: ${hostText} matches hosts at any depth, but the interception ` +
          `certificate for it covers one label only (x.${name}, not x.y.${name}), so clients ` +
          `refuse inspected TLS to deeper hosts; approve those as their own patterns ` +
          `("*.y.${name}") or exact hosts`,
      });
    }

    const reviewedOn = field(entry, 'reviewed_on');
    const expiresOn = field(entry, 'expires_on');
    if (reviewedOn !== undefined && expiresOn !== undefined && expiresOn < reviewedOn) {
      errors.push({
        path: [...at, 'expires_on'],
        at: 'value',
        message: `${label}.expires_on: ${expiresOn} is before reviewed_on ${reviewedOn}`,
      });
    }

    const id = field(entry, 'id');
    if (id !== undefined) {
      const first = firstById.get(id);
      if (first === undefined) firstById.set(id, index);
      else {
        errors.push({
          path: [...at, 'id'],
          at: 'value',
          message: `${label}.id: duplicate id ${JSON.stringify(id)} (also approved[${first}])`,
        });
      }
    }

    // Two approvals for the same host, port and path prefix would make the match depend on file
    // order and the review of one would silently shadow the other.
    // An invalid url is reported on its own; without its prefix the location is unknown.
    const urlOk = !('url' in entry) || url?.ok === true;
    if (transport === 'http' && host?.ok === true && urlOk) {
      const port = url?.ok === true ? url.value.port : undefined;
      const prefix = url?.ok === true ? url.value.pathPrefix : '/';
      const location = `${hostPatternToString(host.value)} ${String(port)} ${prefix}`;
      const first = firstByLocation.get(location);
      if (first === undefined) firstByLocation.set(location, { index, id });
      else {
        const where = urlText === undefined ? 'host' : 'url';
        errors.push({
          path: [...at, where],
          at: 'value',
          message:
            `${label}.${where}: same host, port and path prefix as approved[${first.index}]` +
            `${first.id === undefined ? '' : ` (${first.id})`}; ` +
            'merge the two entries or narrow one with url',
        });
      }
    }
  });
  return { errors, notes };
}

/** The keys allowed at a path, for "did you mean" hints; undefined where keys are free. */
export function allowedKeysAt(path: DocPath): readonly string[] | undefined {
  if (path.length === 0) return Object.keys(AllowlistSchema.shape);
  if (path.length === 1 && path[0] === 'deny_reasons') return DENY_REASONS;
  if (path.length === 2 && path[0] === 'approved') return Object.keys(AllowlistEntrySchema.shape);
  if (path.length === 3 && path[0] === 'approved' && path[2] === 'tools') {
    return Object.keys(ToolsSchema.shape);
  }
  if (path.length === 1 && path[0] === 'identity') return ['user', 'groups', 'jwt'];
  if (path.at(-1) === 'access') return ['users', 'groups', 'clients'];
  if (path.length === 1 && path[0] === 'governance') return Object.keys(GovernanceSchema.shape);
  if (path.length === 4 && path[0] === 'approved' && path[2] === 'signatures') {
    return Object.keys(SignatureSchema.shape);
  }
  return undefined;
}
