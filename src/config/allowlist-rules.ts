/**
 * The allowlist's rules that span several fields and entries (checkAllowlistRules): keys that
 * depend on `transport`, a url's host against the entry's host, review before expiry, unique
 * ids, one entry per host + port + path prefix; and the FieldReader the review rules
 * (review-rules.ts) read entries with too. docs/allowlist.md is the reference.
 *
 * Contract: the rules take the raw document and run on every load beside AllowlistSchema,
 * reporting every problem with a path, so load-allowlist.ts can show all errors at once with
 * line and column. They tolerate a partly invalid document: each rule runs when the fields it
 * needs are individually valid, which is why they are not zod refinements (zod skips an
 * object's refinements as soon as any field in it fails).
 * Pure: no I/O.
 */
import { parseEntryUrl } from '../core/policy/entry-url.js';
import {
  hostPatternMatches,
  hostPatternToString,
  parseHostPattern,
} from '../core/policy/host-pattern.js';
import { AllowlistEntrySchema } from './allowlist-schema.js';
import type { AllowlistEntry, AllowlistEntryKey } from './allowlist-schema.js';
import type { DocPath } from './config-issues.js';
import { isRecord } from './yaml-source.js';

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
