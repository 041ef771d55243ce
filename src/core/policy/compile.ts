/**
 * compilePolicy: a validated allowlist document → CompiledPolicy, the frozen value the request
 * path reads. Also the meaning of the two location keys, shared with validation so that what
 * `mcp-gate validate` accepts is exactly what is compiled: host patterns (parseHostPattern) and
 * entry URLs (parseEntryUrl).
 *
 * Lookup structure (built once per load, so a decision costs the same for 10 or 10,000 entries):
 * - exact hosts in a Map host → candidates; wildcard entries in a Map suffix (".example.com") →
 *   candidates. A request host is looked up exactly, then by walking its labels from the most to
 *   the least specific suffix: O(labels), independent of the number of entries.
 * - per host, the candidates are sorted by path-prefix length (longest first), entries with a
 *   port before those without, then file order; the first that fits wins.
 * - tool globs are compiled once per entry (glob.ts).
 *
 * Invariants: only http entries are indexed (stdio servers never cross the proxy); every object
 * returned is frozen; lookups never throw; the input host must already be normalised
 * (lower-case, no port, no trailing dot), as RequestFacts guarantees. Pure: the review stamp is
 * hashed by the caller (src/config/review-stamp.ts) and passed in.
 */
import { normalisePath, pathHasPrefix } from '../normalise.js';
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
import { needsInspection } from './inspection-set.js';
import type {
  CompiledEntry,
  CompiledPolicy,
  DenyReason,
  EntryRules,
  HostPattern,
  ToolRule,
} from './policy.js';
import type {
  BundleInput,
  PolicyEntryInput,
  PolicyHeaderInput,
  PolicyInput,
} from './policy-input.js';

const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Host patterns

/** A parse result: the value, or a message saying what is wrong (for validation). */
export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DIGITS = /^[0-9]+$/;

/**
 * Parses an allowlist host pattern: an exact lower-case DNS name (or IPv4 address), or `*.` plus
 * a name of at least two labels, meaning every host under that name at any depth but never the
 * name itself. Upper case, ports, schemes, paths, trailing dots, IPv6 literals and any other use
 * of `*` are rejected rather than normalised: a security file should say exactly what it means.
 */
export function parseHostPattern(text: string): Parsed<HostPattern> {
  const fail = (message: string): Parsed<HostPattern> => ({ ok: false, message });
  const shown = JSON.stringify(text);
  if (text.length === 0) return fail('a host must not be empty');
  if (text.includes('://')) {
    const host = text.slice(text.indexOf('://') + 3).split(/[/?#:]/)[0] ?? '';
    return fail(`${shown} must be a host name without a scheme (write ${JSON.stringify(host)})`);
  }
  if (text.includes('/')) {
    return fail(`${shown} must be a host name without a path (restrict paths with url)`);
  }
  if (text.includes('@')) return fail(`${shown} must be a host name without user info`);
  if (text.includes('[') || text.split(':').length > 2) {
    return fail(`${shown}: IPv6 addresses are not supported in host patterns`);
  }
  if (text.includes(':')) {
    return fail(`${shown} must be a host name without a port (restrict the port with url)`);
  }
  // The WHATWG host rules would fold case silently; we refuse instead, so the file shows the
  // exact name that is compared.
  if (/[A-Z]/.test(text)) {
    return fail(`${shown} must be lower-case (write ${JSON.stringify(text.toLowerCase())})`);
  }
  if (/[^\x21-\x7e]/.test(text)) {
    return fail(
      `${shown} must be ASCII: write internationalised names in their "xn--" form, without spaces`,
    );
  }
  if (text.endsWith('.')) {
    return fail(`${shown} must not end with a dot (write ${JSON.stringify(text.slice(0, -1))})`);
  }
  if (text.length > 253) return fail(`${shown} is longer than 253 characters`);

  const wildcard = text.startsWith('*.');
  const name = wildcard ? text.slice(2) : text;
  if (name.includes('*')) {
    return fail(`${shown}: "*" is only allowed as the whole first label, as in "*.example.com"`);
  }
  const labels = name.split('.');
  for (const label of labels) {
    if (!DNS_LABEL.test(label)) {
      return fail(
        `${shown}: ${JSON.stringify(label)} is not a valid DNS label (a-z, 0-9 and "-", ` +
          'not starting or ending with "-", 1 to 63 characters)',
      );
    }
  }
  const numeric = labels.every((label) => DIGITS.test(label));
  if (numeric && wildcard) {
    return fail(`${shown}: wildcards apply to names, not to IP addresses`);
  }
  if (numeric && !isIpv4(labels)) return fail(`${shown} is not a valid IPv4 address`);
  if (wildcard) {
    if (labels.length < 2) {
      return fail(
        `${shown} would match every host under a top-level domain; ` +
          'name at least two labels after "*." (as in "*.example.com")',
      );
    }
    return { ok: true, value: Object.freeze({ kind: 'wildcard', suffix: `.${name}` }) };
  }
  return { ok: true, value: Object.freeze({ kind: 'exact', host: name }) };
}

function isIpv4(labels: readonly string[]): boolean {
  return (
    labels.length === 4 &&
    labels.every((label) => (label === '0' || !label.startsWith('0')) && Number(label) <= 255)
  );
}

// ---------------------------------------------------------------------------------------------
// Entry URLs

/** The parts of an entry's `url` that matching uses. */
export interface EntryUrl {
  /** Lower-cased host as written in the URL (may itself be a `*.` pattern). */
  readonly host: string;
  readonly port: number | undefined;
  /** Normalised path prefix: starts with "/", no trailing slash except for the root "/". */
  readonly pathPrefix: string;
  /** The URL carried a query, which matching ignores (validation warns about it). */
  readonly hasQuery: boolean;
}

// Parsed by hand rather than with WHATWG URL: the URL class drops default ports, resolves dot
// segments its own way and accepts odd hosts. We need the port exactly as written and one path
// normalisation shared with the request path (normalise.ts).
const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s;
const DEFAULT_PORTS: ReadonlySet<number> = new Set([80, 443]);

/**
 * Parses an entry's `url`: `http(s)://host[:port][/path][?query]`. The scheme is checked but
 * ignored when matching; the query is ignored; user info, fragments and default ports are
 * rejected (a request rarely names port 80 or 443, so an entry restricted to one would silently
 * never match).
 */
export function parseEntryUrl(url: string): Parsed<EntryUrl> {
  const fail = (message: string): Parsed<EntryUrl> => ({ ok: false, message });
  const shape = URL_SHAPE.exec(url);
  if (shape === null) {
    return fail(`${JSON.stringify(url)} is not an absolute URL like "https://mcp.example.com/mcp"`);
  }
  const [, scheme = '', authority = '', rawPath = '', query, fragment] = shape;
  if (!/^https?$/i.test(scheme)) return fail(`the scheme must be http or https, not "${scheme}"`);
  if (fragment !== undefined) return fail('a url must not contain a fragment ("#…")');
  if (authority.includes('@')) {
    return fail(
      'a url must not contain user info ("user:password@"); credentials do not belong here',
    );
  }
  const portAt = authority.lastIndexOf(':');
  const hostText = portAt === -1 ? authority : authority.slice(0, portAt);
  let port: number | undefined;
  if (portAt !== -1) {
    const portText = authority.slice(portAt + 1);
    port = DIGITS.test(portText) ? Number(portText) : Number.NaN;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      return fail(`${JSON.stringify(portText)} is not a port number (1–65535)`);
    }
    if (DEFAULT_PORTS.has(port)) {
      return fail(
        `port ${port} is a default port that requests rarely spell out, so this entry would not ` +
          'match them; leave the port out (an entry without a port matches any port)',
      );
    }
  }
  const host = hostText.toLowerCase();
  const hostCheck = parseHostPattern(host);
  if (!hostCheck.ok) return fail(`the url's host: ${hostCheck.message}`);
  return {
    ok: true,
    value: Object.freeze({
      host,
      port,
      pathPrefix: toPathPrefix(rawPath),
      hasQuery: query !== undefined,
    }),
  };
}

function toPathPrefix(rawPath: string): string {
  const normalised = normalisePath(rawPath === '' ? '/' : rawPath);
  // "/mcp/" and "/mcp" name the same prefix: pathHasPrefix matches whole segments either way.
  const trimmed = normalised.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

// ---------------------------------------------------------------------------------------------
// Dates

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

// ---------------------------------------------------------------------------------------------
// Host index (shared with the known-MCP-host list)

/**
 * Values keyed by host pattern, looked up by a concrete host: the exact list if present, then
 * the wildcard lists from the longest suffix to the shortest. O(labels of the host) per lookup.
 */
export class HostIndex<T> {
  private readonly exact = new Map<string, T[]>();
  private readonly wildcard = new Map<string, T[]>();

  /** Adds `value` under `pattern` (values keep insertion order per pattern). */
  add(pattern: HostPattern, value: T): void {
    const map = pattern.kind === 'exact' ? this.exact : this.wildcard;
    const key = pattern.kind === 'exact' ? pattern.host : pattern.suffix;
    const list = map.get(key);
    if (list === undefined) map.set(key, [value]);
    else list.push(value);
  }

  /** Sorts every list in place (call once, after the last add). */
  sortEach(compare: (a: T, b: T) => number): void {
    for (const list of this.exact.values()) list.sort(compare);
    for (const list of this.wildcard.values()) list.sort(compare);
  }

  /**
   * Visits the lists that apply to `host`, most specific first, until `visit` returns a value
   * other than undefined, and returns that value.
   */
  find<R>(host: string, visit: (candidates: readonly T[]) => R | undefined): R | undefined {
    if (host === '') return undefined;
    const exact = this.exact.get(host);
    if (exact !== undefined) {
      const found = visit(exact);
      if (found !== undefined) return found;
    }
    if (this.wildcard.size === 0) return undefined;
    // Start after the first character so that ".example.com" (an empty first label) never
    // counts as a subdomain of example.com.
    for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const list = this.wildcard.get(host.slice(dot));
      if (list !== undefined) {
        const found = visit(list);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Compilation

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
