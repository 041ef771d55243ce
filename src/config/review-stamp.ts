/**
 * The review stamp: a SHA-256 over the canonical form of an entry's security-relevant fields.
 * `mcp-gate stamp` writes it as `review_sha256`; every load recomputes it, and an entry whose
 * stamp no longer matches is denied with reason `rotation` until someone re-reviews and
 * re-stamps it. So a change that widens an approval (a new tool glob, another host, other
 * arguments) cannot ship without a new stamp, and the diff that adds the stamp is the review.
 *
 * The canonical form (docs/allowlist.md "Review stamp" has a worked example):
 * 1. Take the entry's keys listed in REVIEW_STAMP_FIELDS (allowlist-schema.ts) that are present
 *    in the file. Absent keys are omitted, present ones kept even when empty, so `tools: {}` and
 *    no `tools` hash differently: a spurious re-review at worst, never a missed change.
 * 2. Strings are taken exactly as written (after YAML unquoting): host, url, transport, mode,
 *    command, review_ticket, reviewed_on; `exception` is the JSON `true` or `false`.
 * 3. `scopes`, `tools.allow` and `tools.deny` are sets: duplicates removed and sorted by their
 *    UTF-8 bytes, because their order means nothing to matching, so reordering them is not a
 *    change; so are the lists inside `access` (`users`, `groups`, `clients`) and a tool rule's
 *    `match`. `allowed_args` keeps its written order: argv is positional. `conditions`,
 *    `tools.rules` and `uses` keep theirs (the first refusal reported depends on it).
 * 4. `uses` stands for what it expands to: each bundle name with the bundle's own canonical
 *    form (`access`, `conditions`, `rules` as above), so editing a bundle is a change to every
 *    entry that uses it. A name with no bundle is kept as the name alone. An entry with any of
 *    `access`, `conditions`, `uses` or `tools.rules` also carries the document's `identity`
 *    section, as written, under the key `identity`.
 * 5. Serialise as JSON with object keys sorted, no whitespace, strings escaped as
 *    JSON.stringify does. (The form holds only strings, booleans, arrays and objects, so this
 *    is exactly RFC 8785 JSON Canonicalization.) The stamp is the lower-case hex SHA-256 of its UTF-8 bytes.
 *
 * Pure: no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import { REVIEW_STAMP_FIELDS, TOOL_STAMP_FIELDS } from './allowlist-schema.js';
import type { AllowlistDoc, AllowlistEntry } from './allowlist-schema.js';
import { BundlesSchema, IdentitySchema } from './scoping-schema.js';
import { isRecord } from './yaml-source.js';

type CanonicalValue =
  string | boolean | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue };
type StampField = (typeof REVIEW_STAMP_FIELDS)[number];

/**
 * What of the document an entry's stamp also covers: the `bundles` its `uses` expands to, and
 * the `identity` section its access rules and conditions are judged with.
 */
export interface StampContext {
  readonly bundles?: AllowlistDoc['bundles'];
  readonly identity?: AllowlistDoc['identity'];
}

/**
 * The parts of a raw (unvalidated) document an entry's stamp covers, each when it is valid on
 * its own.
 */
export function documentStampContext(raw: unknown): StampContext {
  if (!isRecord(raw)) return {};
  const bundles = BundlesSchema.safeParse(raw['bundles']);
  const identity = IdentitySchema.safeParse(raw['identity']);
  return {
    ...(bundles.success ? { bundles: bundles.data } : {}),
    ...(identity.success ? { identity: identity.data } : {}),
  };
}

type StampBundles = AllowlistDoc['bundles'];
type Bundle = NonNullable<StampBundles>[string];
type Access = NonNullable<AllowlistEntry['access']>;
type Condition = NonNullable<AllowlistEntry['conditions']>[number];
type ToolRule = NonNullable<NonNullable<AllowlistEntry['tools']>['rules']>[number];

// One canonicaliser per stamped key; the mapped type makes a key added to REVIEW_STAMP_FIELDS
// without a canonicaliser a type error.
const CANONICALISERS: Readonly<
  Record<StampField, (entry: AllowlistEntry, bundles: StampBundles) => CanonicalValue | undefined>
> = {
  access: (entry) => (entry.access === undefined ? undefined : canonicalAccess(entry.access)),
  allowed_args: (entry) => entry.allowed_args,
  conditions: (entry) =>
    entry.conditions === undefined ? undefined : entry.conditions.map(canonicalCondition),
  command: (entry) => entry.command,
  exception: (entry) => entry.exception,
  host: (entry) => entry.host,
  inspection: (entry) => entry.inspection,
  mode: (entry) => entry.mode,
  review_ticket: (entry) => entry.review_ticket,
  reviewed_on: (entry) => entry.reviewed_on,
  scopes: (entry) => (entry.scopes === undefined ? undefined : asSet(entry.scopes)),
  tools: (entry) => {
    const tools = entry.tools;
    if (tools === undefined) return undefined;
    const canonical: Record<string, CanonicalValue> = {};
    for (const key of TOOL_STAMP_FIELDS) {
      if (key === 'rules') {
        if (tools.rules !== undefined) canonical[key] = tools.rules.map(canonicalToolRule);
        continue;
      }
      const globs = tools[key];
      if (globs !== undefined) canonical[key] = asSet(globs);
    }
    return canonical;
  },
  transport: (entry) => entry.transport,
  url: (entry) => entry.url,
  uses: (entry, bundles) =>
    entry.uses?.map((name) => {
      const bundle =
        bundles !== undefined && Object.hasOwn(bundles, name) ? bundles[name] : undefined;
      return bundle === undefined ? name : { name, bundle: canonicalBundle(bundle) };
    }),
};

function canonicalAccess(access: Access): CanonicalValue {
  const canonical: Record<string, CanonicalValue> = {};
  if (access.users !== undefined) canonical['users'] = asSet(access.users);
  if (access.groups !== undefined) canonical['groups'] = asSet(access.groups);
  if (access.clients !== undefined) canonical['clients'] = asSet(access.clients);
  return canonical;
}

function canonicalCondition(condition: Condition): CanonicalValue {
  return { expr: condition.expr, description: condition.description };
}

function canonicalToolRule(rule: ToolRule): CanonicalValue {
  const canonical: Record<string, CanonicalValue> = { match: asSet(rule.match) };
  if (rule.access !== undefined) canonical['access'] = canonicalAccess(rule.access);
  if (rule.conditions !== undefined)
    canonical['conditions'] = rule.conditions.map(canonicalCondition);
  return canonical;
}

function canonicalBundle(bundle: Bundle): CanonicalValue {
  const canonical: Record<string, CanonicalValue> = {};
  if (bundle.access !== undefined) canonical['access'] = canonicalAccess(bundle.access);
  if (bundle.conditions !== undefined) {
    canonical['conditions'] = bundle.conditions.map(canonicalCondition);
  }
  if (bundle.rules !== undefined) canonical['rules'] = bundle.rules.map(canonicalToolRule);
  return canonical;
}

/**
 * The canonical form of an entry's security-relevant fields (see the module comment), with the
 * parts of the document it depends on (`context`).
 */
export function toCanonicalReviewForm(entry: AllowlistEntry, context: StampContext = {}): string {
  const form: Record<string, CanonicalValue> = {};
  for (const field of REVIEW_STAMP_FIELDS) {
    const value = CANONICALISERS[field](entry, context.bundles);
    if (value !== undefined) form[field] = value;
  }
  // Who the identity section says a request is from decides what the entry's access rules and
  // conditions admit; re-pointing it (a header a client can send, another claim) is a change.
  const scoped =
    entry.access !== undefined ||
    entry.conditions !== undefined ||
    entry.uses !== undefined ||
    entry.tools?.rules !== undefined;
  if (scoped && context.identity !== undefined) form['identity'] = canonicalPlain(context.identity);
  return toCanonicalJson(form);
}

/** The review stamp: lower-case hex SHA-256 of the canonical form's UTF-8 bytes. */
export function computeReviewSha256(entry: AllowlistEntry, context: StampContext = {}): string {
  return createHash('sha256').update(toCanonicalReviewForm(entry, context), 'utf8').digest('hex');
}

/** Validated YAML data of strings, lists and maps as a canonical value, order kept. */
function canonicalPlain(value: unknown): CanonicalValue {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(canonicalPlain);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, CanonicalValue> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined) out[key] = canonicalPlain(member);
    }
    return out;
  }
  return String(value);
}

function asSet(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareUtf8);
}

function compareUtf8(a: string, b: string): number {
  // Without surrogates, UTF-16 code unit order is code point order, which is UTF-8 byte order:
  // compared in place, a load of 10,000 stamps spends a third less time here.
  if (!HAS_SURROGATE.test(a) && !HAS_SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const HAS_SURROGATE = /[\ud800-\udfff]/;

function toCanonicalJson(value: CanonicalValue): string {
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (isArray(value)) return `[${value.map(toCanonicalJson).join(',')}]`;
  const members = Object.entries(value)
    .sort(([a], [b]) => compareUtf8(a, b))
    .map(([key, member]) => `${JSON.stringify(key)}:${toCanonicalJson(member)}`);
  return `{${members.join(',')}}`;
}

function isArray(value: CanonicalValue): value is readonly CanonicalValue[] {
  return Array.isArray(value);
}
