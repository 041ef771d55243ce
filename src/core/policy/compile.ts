/**
 * compilePolicy: a validated allowlist document → CompiledPolicy, the frozen value the request
 * path reads. The location keys mean what host-pattern.ts and entry-url.ts say, the dates what
 * approval-date.ts says; validation uses the same parsers, so what `mcp-gate validate` accepts
 * is exactly what is compiled.
 *
 * Lookup structure (built once per load, so a decision costs the same for 10 or 10,000 entries):
 * - entries indexed by host pattern in a HostIndex (host-index.ts): a request host is looked up
 *   exactly, then by walking its labels from the most to the least specific suffix: O(labels),
 *   independent of the number of entries.
 * - per host, the candidates are sorted by path-prefix length (longest first), entries with a
 *   port before those without, then file order; the first that fits wins.
 * - tool globs are compiled once per entry (glob.ts).
 *
 * Invariants: only http entries are indexed (stdio servers never cross the proxy); every object
 * returned is frozen; lookups never throw; the input host must already be normalised
 * (lower-case, no port, no trailing dot), as RequestFacts guarantees. Pure: the review stamp is
 * hashed by the caller (src/config/review-stamp.ts) and passed in.
 */
import { pathHasPrefix } from '../normalise.js';
import { expiresAtMs } from './approval-date.js';
import { DEFAULT_DENY_TEXTS } from './deny-texts.js';
import { compileGlobSet } from './glob.js';
import type { GlobMatcher } from './glob.js';
import type { ConditionEngine, ConditionProgram } from './condition.js';
import {
  compileEntryRules,
  NO_CONDITION_ENGINE,
  toEntryRules,
  toIdentityConfig,
} from './entry-rules.js';
import { parseEntryUrl } from './entry-url.js';
import { HostIndex } from './host-index.js';
import { parseHostPattern } from './host-pattern.js';
import { needsInspection } from './inspection-set.js';
import type { CompiledEntry, CompiledPolicy, DenyReason, EntryRules, ToolRule } from './policy.js';
import type {
  BundleInput,
  PolicyEntryInput,
  PolicyHeaderInput,
  PolicyInput,
} from './policy-input.js';

interface Candidate {
  readonly entry: CompiledEntry;
  readonly port: number | undefined;
  /** "/" when the entry has no url: every path. */
  readonly prefix: string;
  readonly order: number;
}

/** Options that do not come from the document itself. */
export interface CompileOptions {
  /** SHA-256 (hex) of the allowlist file bytes. */
  readonly sha256: string;
}

/** CompileOptions, plus the review stamp of an entry as it is now (computeReviewSha256). */
export interface CompilePolicyOptions<E extends PolicyEntryInput> extends CompileOptions {
  readonly reviewSha256: (entry: E) => string;
  /** The expression language of `conditions`; without one, no condition ever holds. */
  readonly conditionEngine?: ConditionEngine;
}

/**
 * Compiles a validated document (AllowlistSchema output that also passed checkAllowlistRules).
 * Values that validation guarantees are not re-checked, except where a bad value would widen
 * access: those fail closed (an unparsable host is not indexed, an unparsable date is expired).
 */
export function compilePolicy<E extends PolicyEntryInput>(
  doc: PolicyInput<E>,
  options: CompilePolicyOptions<E>,
): CompiledPolicy {
  const builder = createPolicyBuilder(options.conditionEngine);
  for (const source of doc.approved)
    builder.add(compileEntry(source, options.reviewSha256(source), {}, doc.bundles));
  return builder.build(toPolicyHeader(doc, options));
}

/** Everything in a CompiledPolicy but its entries and lookups: plain data. */
export type PolicyHeader = Pick<
  CompiledPolicy,
  | 'version'
  | 'sha256'
  | 'defaultAction'
  | 'mode'
  | 'reviewUrl'
  | 'denyStyle'
  | 'denyTexts'
  | 'identity'
>;

/** The document-level part of a validated document. */
export function toPolicyHeader(doc: PolicyHeaderInput, options: CompileOptions): PolicyHeader {
  const denyTexts: Record<DenyReason, string> = { ...DEFAULT_DENY_TEXTS };
  for (const [reason, text] of Object.entries(doc.deny_reasons ?? {}) as [
    DenyReason,
    string | undefined,
  ][]) {
    if (text !== undefined) denyTexts[reason] = text;
  }
  return {
    version: doc.version,
    sha256: options.sha256,
    defaultAction: doc.default_action,
    mode: doc.mode,
    reviewUrl: doc.review_url,
    denyStyle: doc.deny_style,
    denyTexts: Object.freeze(denyTexts),
    identity: toIdentityConfig(doc.identity),
  };
}

/** Builds the lookups over compiled entries added in file order; `build` once, at the end. */
export interface PolicyBuilder {
  /** Adds the next entry; the caller passes frozen entries (compileEntry's are). */
  add(entry: CompiledEntry): void;
  build(header: PolicyHeader): CompiledPolicy;
}

/**
 * A PolicyBuilder. Entries and header are plain data, so they can be compiled in a worker
 * thread and handed over; the policy store adds them a slice at a time, keeping each step on
 * the request thread short.
 */
export function createPolicyBuilder(engine: ConditionEngine = NO_CONDITION_ENGINE): PolicyBuilder {
  const index = new HostIndex<Candidate>();
  const toolMatchers = new Map<CompiledEntry, GlobMatcher>();
  const entryRules = new Map<CompiledEntry, EntryRules>();
  const programs = new Map<string, ConditionProgram>();
  const entries: CompiledEntry[] = [];

  return {
    add(entry) {
      const order = entries.length;
      entries.push(entry);
      if (entry.tools !== undefined) toolMatchers.set(entry, compileToolRule(entry.tools));
      entryRules.set(entry, compileEntryRules(entry, engine, programs));
      if (entry.transport === 'http' && entry.host !== undefined) {
        index.add(entry.host, {
          entry,
          port: entry.port,
          prefix: entry.pathPrefix ?? '/',
          order,
        });
      }
    },
    build(header) {
      index.sortEach(
        (a, b) =>
          b.prefix.length - a.prefix.length ||
          Number(b.port !== undefined) - Number(a.port !== undefined) ||
          a.order - b.order,
      );
      const policy: CompiledPolicy = {
        ...header,
        entries: Object.freeze(entries),
        matchRequest(host, port, path) {
          return index.find(host, (candidates) => {
            for (const candidate of candidates) {
              if (candidate.port !== undefined && candidate.port !== port) continue;
              if (candidate.prefix === '/' || pathHasPrefix(path, candidate.prefix)) {
                return candidate.entry;
              }
            }
            return undefined;
          });
        },
        matchHost(host) {
          // A tunnel shows no port rule or path, so the broadest approval for the most specific
          // host pattern stands for the host: the last candidate in prefix order (shortest
          // prefix, no port), earliest in the file on ties.
          return index.find(host, (candidates) => broadest(candidates)?.entry);
        },
        inspectionEntry(host) {
          // The same list matchHost takes (the first non-empty one), so a more specific
          // host-only entry is not overruled by a wildcard with rules.
          const inspected = index.find(host, (candidates) => {
            let first: Candidate | undefined;
            for (const candidate of candidates) {
              if (
                needsInspection(candidate.entry) &&
                (first === undefined || candidate.order < first.order)
              ) {
                first = candidate;
              }
            }
            return { entry: first?.entry };
          });
          return inspected?.entry;
        },
        isToolAllowed(entry, tool) {
          if (entry.tools === undefined) return true;
          // An entry from another policy object (never the case on the request path) still
          // gets a correct answer rather than a default.
          const matcher = toolMatchers.get(entry) ?? compileToolRule(entry.tools);
          return matcher(tool);
        },
        rulesOf(entry) {
          return entryRules.get(entry) ?? compileEntryRules(entry, engine, programs);
        },
      };
      return Object.freeze(policy);
    },
  };
}

function broadest(candidates: readonly Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const candidate of candidates) {
    if (
      best === undefined ||
      candidate.prefix.length < best.prefix.length ||
      (candidate.prefix.length === best.prefix.length &&
        (candidate.port === undefined) > (best.port === undefined)) ||
      (candidate.prefix.length === best.prefix.length &&
        (candidate.port === undefined) === (best.port === undefined) &&
        candidate.order < best.order)
    ) {
      best = candidate;
    }
  }
  return best;
}

/** What the loader found about an entry's review beyond its stamp. */
export interface EntryReview {
  /** Why its signatures do not approve it (CompiledEntry.signatureProblem). */
  readonly signatureProblem?: string | undefined;
}

/**
 * One validated entry as plain, frozen data (no functions: it may cross a thread).
 * `reviewSha256` is the entry's review stamp recomputed from its keys (computeReviewSha256); a
 * written `review_sha256` that differs from it marks the entry for rotation, and so does a
 * signature problem in `review`.
 */
export function compileEntry(
  source: PolicyEntryInput,
  reviewSha256: string,
  review: EntryReview = {},
  bundles?: Readonly<Record<string, BundleInput>>,
): CompiledEntry {
  const host = source.host === undefined ? undefined : parseHostPattern(source.host);
  const url = source.url === undefined ? undefined : parseEntryUrl(source.url);
  const urlValue = url?.ok === true ? url.value : undefined;
  const tools: ToolRule | undefined =
    source.tools === undefined
      ? undefined
      : Object.freeze({
          allow:
            source.tools.allow === undefined ? undefined : Object.freeze([...source.tools.allow]),
          deny: Object.freeze([...(source.tools.deny ?? [])]),
        });
  return Object.freeze({
    id: source.id,
    transport: source.transport,
    host: host?.ok === true ? host.value : undefined,
    port: urlValue?.port,
    pathPrefix: urlValue?.pathPrefix,
    command: source.command,
    allowedArgs:
      source.allowed_args === undefined ? undefined : Object.freeze([...source.allowed_args]),
    scopes: Object.freeze([...(source.scopes ?? [])]),
    tools,
    ...toEntryRules(source, bundles),
    mode: source.mode,
    hostOnly: source.inspection === 'host_only',
    reviewTicket: source.review_ticket,
    reviewedBy: source.reviewed_by,
    reviewedOn: source.reviewed_on,
    expiresOn: source.expires_on,
    expiresAtMs: expiresAtMs(source.expires_on),
    stampMismatch: source.review_sha256 !== undefined && source.review_sha256 !== reviewSha256,
    signatureProblem: review.signatureProblem,
  });
}

function compileToolRule(rule: ToolRule): GlobMatcher {
  const allow = rule.allow === undefined ? (): boolean => true : compileGlobSet(rule.allow);
  const deny = compileGlobSet(rule.deny);
  // Deny wins: a tool that matches both lists is refused.
  return (tool) => !deny(tool) && allow(tool);
}
