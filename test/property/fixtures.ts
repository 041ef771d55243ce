/**
 * The allowlists the properties run against, and what the tests know about them independently of
 * the code under test: each http entry's host, port, path prefix and tool rules as plain data, so
 * generators can label a request "aimed at entry X" or "aimed at no entry" by construction, and
 * the tool oracle can judge a tool name with its own glob reading (docs/allowlist.md "Globs").
 */
import { parseAllowlist } from '../../src/config/load-allowlist.js';
import { parseKnownHosts } from '../../src/config/load-known-hosts.js';
import type { PolicySnapshot } from '../../src/core/pipeline.js';
import { ICONV_CHARSETS } from '../../src/text/iconv-charsets.js';
import { stamped } from '../helpers/stamped.js';

/** The clock every property decides at: inside every entry's review window. */
export const NOW_MS = Date.parse('2026-11-21T12:00:00Z');

/** Inspection limits as the service defaults them (src/config/service-config.ts). */
export const LIMITS = { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 } as const;

/** An http entry of the base allowlist, described as data for the generators and oracles. */
export interface EntryModel {
  readonly id: string;
  /** Exact host, or the suffix after `*.` for a wildcard entry. */
  readonly host: string;
  readonly wildcard: boolean;
  /** The only port the entry matches, when its url names one. */
  readonly port: number | undefined;
  /** Path prefix from the url (`/mcp`), or undefined when every path is covered. */
  readonly pathPrefix: string | undefined;
  /** Absent: every tool. */
  readonly tools:
    { readonly allow: readonly string[] | undefined; readonly deny: readonly string[] } | undefined;
}

/** Every http entry of BASE_ALLOWLIST, in file order. */
export const ENTRIES: readonly EntryModel[] = [
  {
    id: 'gh',
    host: 'api.githubcopilot.com',
    wildcard: false,
    port: undefined,
    pathPrefix: '/mcp',
    tools: { allow: ['get_*', 'list_*', 'search_*'], deny: ['*delete*'] },
  },
  {
    id: 'docs',
    host: 'docs.example.net',
    wildcard: true,
    port: undefined,
    pathPrefix: '/mcp',
    tools: { allow: ['search_docs', 'fetch_?'], deny: [] },
  },
  {
    id: 'internal',
    host: 'mcp.internal.test',
    wildcard: false,
    port: 8443,
    pathPrefix: '/mcp',
    tools: undefined,
  },
  {
    id: 'locked',
    host: 'mcp.locked.example',
    wildcard: false,
    port: undefined,
    pathPrefix: undefined,
    tools: { allow: [], deny: [] },
  },
  {
    id: 'by-ip',
    host: '10.20.30.40',
    wildcard: false,
    port: undefined,
    pathPrefix: undefined,
    tools: { allow: undefined, deny: ['exec*', 'run?'] },
  },
];

/** A host on the known-MCP-host list that no entry approves (judged on CONNECT). */
export const KNOWN_UNAPPROVED_HOST = 'mcp.known-vendor.example';

const REVIEW = `    review_ticket: SEC-1
    reviewed_by: fuzz
    reviewed_on: 2026-10-01
    expires_on: 2027-10-01`;

const BASE_TEXT = `version: fuzz-base
default_action: deny
mode: enforce
review_url: https://mcp-review.corp.example/request
approved:
  - id: gh
    host: api.githubcopilot.com
    transport: http
    url: https://api.githubcopilot.com/mcp/
    tools:
      allow: ["get_*", "list_*", "search_*"]
      deny: ["*delete*"]
${REVIEW}
  - id: docs
    host: "*.docs.example.net"
    transport: http
    url: https://*.docs.example.net/mcp
    tools:
      allow: ["search_docs", "fetch_?"]
${REVIEW}
  - id: internal
    host: mcp.internal.test
    transport: http
    url: http://mcp.internal.test:8443/mcp
${REVIEW}
  - id: locked
    host: mcp.locked.example
    transport: http
    tools:
      allow: []
${REVIEW}
  - id: by-ip
    host: 10.20.30.40
    transport: http
    tools:
      deny: ["exec*", "run?"]
${REVIEW}
  - id: local-db
    transport: stdio
    command: /opt/acme/bin/db-mcp
${REVIEW}
`;

/**
 * Enforce mode, default deny: the setting the two security invariants are stated for. Every
 * variant below is stamped after its edit, as a reviewer would stamp it.
 */
export const BASE_ALLOWLIST = stamped(BASE_TEXT);

/**
 * Variants for the properties that hold in every configuration (never throws, deterministic,
 * every allow names its entry): global dry-run, default allow, a per-entry dry-run, an expired
 * entry and a jsonrpc_error deny style.
 */
export const POLICY_TEXTS = {
  base: BASE_ALLOWLIST,
  'dry-run': stamped(BASE_TEXT.replace('mode: enforce', 'mode: dry-run')),
  'default-allow': stamped(BASE_TEXT.replace('default_action: deny', 'default_action: allow')),
  'entry-dry-run': stamped(
    BASE_TEXT.replace(
      '    url: https://api.githubcopilot.com/mcp/\n',
      '    url: https://api.githubcopilot.com/mcp/\n    mode: dry-run\n',
    ),
  ),
  expired: stamped(
    BASE_TEXT.replace(
      '    url: http://mcp.internal.test:8443/mcp\n    review_ticket: SEC-1\n    reviewed_by: fuzz\n    reviewed_on: 2026-10-01\n    expires_on: 2027-10-01',
      '    url: http://mcp.internal.test:8443/mcp\n    review_ticket: SEC-1\n    reviewed_by: fuzz\n    reviewed_on: 2026-10-01\n    expires_on: 2026-11-01',
    ),
  ),
  'jsonrpc-error': stamped(
    BASE_TEXT.replace(
      'review_url: https://mcp-review.corp.example/request',
      'review_url: https://mcp-review.corp.example/request\ndeny_style: jsonrpc_error',
    ),
  ),
} as const;

export type PolicyName = keyof typeof POLICY_TEXTS;

export const POLICY_NAMES = Object.keys(POLICY_TEXTS) as readonly PolicyName[];

export const KNOWN_HOSTS_TEXT = `hosts: [${KNOWN_UNAPPROVED_HOST}, mcp.locked.example]\n`;

/** Compiles a named allowlist afresh (each call gives an independent snapshot). */
export function compileSnapshot(name: PolicyName): PolicySnapshot {
  const text = POLICY_TEXTS[name];
  if (name !== 'base' && text === BASE_ALLOWLIST) {
    // A variant whose replace() found nothing would silently test the base policy.
    throw new Error(`policy variant ${name} is identical to the base allowlist`);
  }
  const parsed = parseAllowlist(text, { fileName: `${name}.yaml`, now: new Date(NOW_MS) });
  if (!parsed.ok) {
    throw new Error(parsed.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n'));
  }
  const known = parseKnownHosts(KNOWN_HOSTS_TEXT, 'known.yaml');
  if (!known.ok) throw new Error(JSON.stringify(known.errors));
  return {
    policy: parsed.policy,
    knownHosts: known.knownHosts,
    limits: LIMITS,
    charsets: ICONV_CHARSETS,
  };
}

const snapshots = new Map<string, PolicySnapshot>();

/**
 * A cached snapshot per policy name (compiling YAML per run would dominate the run time).
 * `copy: 1` is a second snapshot compiled separately from the same text, for determinism checks.
 */
export function snapshotFor(name: PolicyName, copy: 0 | 1 = 0): PolicySnapshot {
  const key = `${name}#${copy}`;
  let snapshot = snapshots.get(key);
  if (snapshot === undefined) {
    snapshot = compileSnapshot(name);
    snapshots.set(key, snapshot);
  }
  return snapshot;
}

export function entryModel(id: string): EntryModel {
  const entry = ENTRIES.find((e) => e.id === id);
  if (entry === undefined) throw new Error(`no entry model ${id}`);
  return entry;
}

/**
 * The tests' own reading of a glob (docs/allowlist.md): `*` any run, `?` one code point, every
 * other character literal and case-sensitive. Regular expressions are fine here: the patterns are
 * our own fixtures, not hostile input.
 */
function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

/** Whether the entry's tool rules allow `tool`: deny wins, absent allow = every tool. */
export function referenceToolAllowed(entry: EntryModel, tool: string): boolean {
  const rules = entry.tools;
  if (rules === undefined) return true;
  if (rules.deny.some((glob) => globToRegExp(glob).test(tool))) return false;
  if (rules.allow === undefined) return true;
  return rules.allow.some((glob) => globToRegExp(glob).test(tool));
}
