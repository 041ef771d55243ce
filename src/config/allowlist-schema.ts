/**
 * The allowlist document schema: the zod shape of deploy/allowlist.yaml, with strict objects at
 * every level, so an unknown or misspelt key is an error, never silently ignored, and defaults
 * applied here. Each field is checked on its own (the string fields are field-schemas.ts, the
 * scoping keys scoping-schema.ts); what relates fields and entries is allowlist-rules.ts.
 * docs/allowlist.md is the reference.
 *
 * Every entry key is classified, next to the schema, as part of the review stamp's canonical
 * form (REVIEW_STAMP_FIELDS) or as not security relevant (NOT_REVIEW_STAMP_FIELDS). A key in
 * neither list fails type-checking (EveryEntryKeyClassified) and a unit test, so a new field
 * that widens access cannot be left out of the stamp by accident.
 * Pure: no I/O.
 */
import * as z from 'zod';
import { DENY_REASONS, DENY_STYLES } from '../core/policy/policy.js';
import type { DenyReason } from '../core/policy/policy.js';
import type { DocPath } from './config-issues.js';
import {
  DateSchema,
  DenyTextSchema,
  EntryIdSchema,
  EntryUrlSchema,
  GlobSchema,
  HostPatternSchema,
  NonEmptyStringSchema,
  ReviewerNameSchema,
  ReviewSha256Schema,
  ReviewUrlSchema,
  SignatureBase64Schema,
  VersionSchema,
} from './field-schemas.js';
import {
  AccessSchema,
  BundleNameSchema,
  BundlesSchema,
  ConditionSchema,
  IdentitySchema,
  ToolRuleSchema,
} from './scoping-schema.js';

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
