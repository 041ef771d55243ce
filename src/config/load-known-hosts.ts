/**
 * The known-MCP-host list (deploy/known-mcp-hosts.yaml): hosts that serve MCP and nothing else.
 * A CONNECT or TLS SNI check only shows a host; when that host is on this list and no entry
 * approves it, the tunnel is denied as `unapproved`. Hosts on neither list pass, because a
 * tunnel to them cannot be told apart from ordinary traffic.
 *
 * Format: a single top-level key, `hosts:`, holding a list of host patterns with the same rules
 * as the allowlist's `host` (exact lower-case names, or `"*.example.com"` for every subdomain at
 * any depth, never the apex). Validation is strict and reports every problem with line and
 * column, like the allowlist. Duplicates and names already covered by a listed wildcard are
 * warnings: harmless, but a sign the list needs tidying.
 * parseKnownHosts (= validateKnownHosts, plain data a worker can hand over, + toKnownHosts) is
 * pure and never throws; loadKnownHostsFile adds the file read.
 */
import * as z from 'zod';
import { HostIndex } from '../core/policy/host-index.js';
import {
  hostPatternMatches,
  hostPatternToString,
  parseHostPattern,
} from '../core/policy/host-pattern.js';
import type { HostPattern } from '../core/policy/host-pattern.js';
import type { KnownHosts } from '../core/policy/policy.js';
import { HostPatternSchema } from './field-schemas.js';
import { looksLikeFileOf, readConfigFile, sha256OfText } from './config-file.js';
import { sortIssues } from './config-issues.js';
import type { Issue } from './config-issues.js';
import { issueAt, parseYamlSource } from './yaml-source.js';
import { zodIssuesToIssues } from './zod-issues.js';

/** The known-host file's schema. */
export const KnownHostsSchema = z.strictObject({
  hosts: z.array(HostPatternSchema),
});

/** The outcome of parseKnownHosts; `fileName` is echoed for the caller's messages. */
export type ParseKnownHostsResult =
  | {
      readonly ok: true;
      readonly fileName: string;
      readonly knownHosts: KnownHosts;
      readonly warnings: Issue[];
    }
  | {
      readonly ok: false;
      readonly fileName: string;
      readonly errors: Issue[];
      readonly warnings: Issue[];
    };

/** The outcome of validateKnownHosts: the distinct patterns in file order, or every error. */
export type ValidateKnownHostsResult =
  | {
      readonly ok: true;
      readonly fileName: string;
      readonly patterns: HostPattern[];
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

/** Validates and compiles a known-MCP-host list. Pure; never throws. */
export function parseKnownHosts(text: string, fileName: string): ParseKnownHostsResult {
  const validated = validateKnownHosts(text, fileName);
  if (!validated.ok) return validated;
  const { patterns, sha256, warnings } = validated;
  return { ok: true, fileName, knownHosts: toKnownHosts(patterns, sha256), warnings };
}

/**
 * Every check of parseKnownHosts, returning the distinct patterns as plain data (so this can
 * run in a worker thread). Pure; never throws.
 */
export function validateKnownHosts(text: string, fileName: string): ValidateKnownHostsResult {
  const yaml = parseYamlSource(text);
  if (!yaml.ok) return { ok: false, fileName, errors: yaml.errors, warnings: [] };
  const { source, value } = yaml;
  const parsed = KnownHostsSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const errors = zodIssuesToIssues(source, parsed.error.issues, (path) =>
      path.length === 0 ? ['hosts'] : undefined,
    );
    return { ok: false, fileName, errors: sortIssues(errors), warnings: [] };
  }

  const patterns: { pattern: HostPattern; index: number }[] = [];
  const seen = new Map<string, number>();
  const warnings: Issue[] = [];
  parsed.data.hosts.forEach((text, index) => {
    const first = seen.get(text);
    if (first !== undefined) {
      warnings.push(
        issueAt(
          source,
          ['hosts', index],
          'value',
          `hosts[${String(index)}]: duplicate of hosts[${String(first)}]`,
        ),
      );
      return;
    }
    seen.set(text, index);
    const pattern = parseHostPattern(text);
    if (pattern.ok) patterns.push({ pattern: pattern.value, index });
  });
  for (const { pattern, index } of patterns) {
    // A name under the pattern stands for it: a wildcard covers another wildcard when it covers
    // the names that one covers.
    const probe = pattern.kind === 'exact' ? pattern.host : `x${pattern.suffix}`;
    const cover = patterns.find(
      (other) =>
        other.index !== index &&
        other.pattern.kind === 'wildcard' &&
        hostPatternMatches(other.pattern, probe),
    );
    if (cover !== undefined) {
      const coverName = hostPatternToString(cover.pattern);
      warnings.push(
        issueAt(
          source,
          ['hosts', index],
          'value',
          `hosts[${String(index)}]: already covered by ${coverName} (hosts[${String(cover.index)}])`,
        ),
      );
    }
  }

  return {
    ok: true,
    fileName,
    patterns: patterns.map(({ pattern }) => pattern),
    sha256: sha256OfText(text),
    warnings: sortIssues(warnings),
  };
}

/** The lookup over validated, distinct patterns; `sha256` is the file's. */
export function toKnownHosts(patterns: readonly HostPattern[], sha256: string): KnownHosts {
  const index = new HostIndex<true>();
  for (const pattern of patterns) index.add(pattern, true);
  return Object.freeze({
    sha256,
    size: patterns.length,
    isKnownMcpHost: (host: string) => index.find(host, () => true) ?? false,
  });
}

/** Used when no known-host file is configured: no host is known to serve MCP. */
export const EMPTY_KNOWN_HOSTS: KnownHosts = Object.freeze({
  sha256: '',
  size: 0,
  isKnownMcpHost: () => false,
});

/** Reads and parses a known-MCP-host file; I/O problems become an error at 1:1. */
export async function loadKnownHostsFile(path: string): Promise<ParseKnownHostsResult> {
  const read = await readConfigFile(path);
  if (!read.ok) return { ok: false, fileName: path, errors: [read.error], warnings: [] };
  return parseKnownHosts(read.text, path);
}

/**
 * Whether `text` looks like a known-MCP-host list (its top level is a mapping with `hosts`)
 * rather than an allowlist; `mcp-gate validate` uses it to pick the checker.
 */
export function looksLikeKnownHosts(text: string): boolean {
  return looksLikeFileOf(text, 'hosts');
}
