/**
 * The policy files as plain data that can cross a thread boundary, and the snapshot built from
 * that data on the request thread.
 *
 * loadPolicyData does the expensive part of a (re)load: read both files, hash them, parse the
 * YAML, validate, and compile every entry into plain frozen data. It runs in the policy worker
 * (policy-worker.ts) for reloads, and in-process at start-up, when no Check is waiting yet.
 * buildSnapshot adds the entries to a PolicyBuilder a slice at a time and yields to the event
 * loop between slices, so even a 10,000-entry allowlist never holds up a Check for long; the
 * snapshot becomes visible only when it is complete (the store swaps one reference).
 *
 * loadPolicyData never throws: every problem is an `invalid` result whose errors are
 * `FILE:LINE:COL message` lines, the format of `mcp-gate validate`.
 */
import type { PolicySnapshot } from '../core/pipeline.js';
import { createPolicyBuilder, toPolicyHeader } from '../core/policy/compile.js';
import type { PolicyHeader } from '../core/policy/compile.js';
import type { HostPattern } from '../core/policy/host-pattern.js';
import type { CompiledEntry } from '../core/policy/policy.js';
import { CONDITION_ENGINE } from './condition-engine.js';
import { policyTextHash } from './content-hash.js';
import { readConfigFile } from './config-file.js';
import { formatIssue } from './config-issues.js';
import { validateAllowlist } from './load-allowlist.js';
import { forEachInSlices } from '../sliced-loop.js';
import { ICONV_CHARSETS } from '../text/iconv-charsets.js';
import { EMPTY_KNOWN_HOSTS, toKnownHosts, validateKnownHosts } from './load-known-hosts.js';
import { parseReviewers } from './load-reviewers.js';

/** What to load, and which contents need no work because they were judged before. */
export interface PolicyLoadRequest {
  readonly allowlistPath: string;
  readonly knownHostsPath: string | undefined;
  /**
   * The reviewers' trust file (`--reviewers`): entries need valid signatures by listed reviewers.
   * Undefined: signatures are not checked.
   */
  readonly reviewersPath?: string | undefined;
  /** The clock for expiry warnings (epoch ms). */
  readonly nowMs: number;
  /** Content hashes (see PolicyData.hash) to answer `unchanged` for without parsing. */
  readonly skipHashes: readonly string[];
}

/** A validated allowlist (and known-host list), compiled as far as plain data allows. */
export interface PolicyData {
  /** SHA-256 over the files' texts: identifies the content for the unchanged check. */
  readonly hash: string;
  readonly header: PolicyHeader;
  /** Compiled entries in file order. */
  readonly entries: readonly CompiledEntry[];
  /** Undefined when no known-host file is configured. */
  readonly knownHosts:
    { readonly patterns: readonly HostPattern[]; readonly sha256: string } | undefined;
  /** `FILE:LINE:COL message` lines; they never block a load. */
  readonly warnings: readonly string[];
}

/** The outcome of loadPolicyData. */
export type PolicyLoadResult =
  | { readonly kind: 'unchanged'; readonly hash: string }
  | {
      readonly kind: 'invalid';
      /** Undefined when a file could not be read. */
      readonly hash: string | undefined;
      /** `FILE:LINE:COL message` lines, every problem of every file. */
      readonly errors: readonly string[];
    }
  | { readonly kind: 'loaded'; readonly data: PolicyData };

/** Reads, validates and compiles the files. Never throws. */
export async function loadPolicyData(request: PolicyLoadRequest): Promise<PolicyLoadResult> {
  const { allowlistPath, knownHostsPath, reviewersPath } = request;
  const optional = (path: string | undefined): ReturnType<typeof readConfigFile> =>
    path === undefined ? Promise.resolve({ ok: true as const, text: '' }) : readConfigFile(path);
  const [allowlistRead, knownRead, reviewersRead] = await Promise.all([
    readConfigFile(allowlistPath),
    optional(knownHostsPath),
    optional(reviewersPath),
  ]);
  const readErrors: string[] = [];
  if (!allowlistRead.ok) readErrors.push(formatIssue(allowlistPath, allowlistRead.error));
  if (!knownRead.ok && knownHostsPath !== undefined) {
    readErrors.push(formatIssue(knownHostsPath, knownRead.error));
  }
  if (!reviewersRead.ok && reviewersPath !== undefined) {
    readErrors.push(formatIssue(reviewersPath, reviewersRead.error));
  }
  if (!allowlistRead.ok || !knownRead.ok || !reviewersRead.ok) {
    return { kind: 'invalid', hash: undefined, errors: readErrors };
  }

  const hash = await policyTextHash({
    allowlist: allowlistRead.text,
    knownHosts: knownHostsPath === undefined ? undefined : knownRead.text,
    reviewers: reviewersPath === undefined ? undefined : reviewersRead.text,
  });
  if (request.skipHashes.includes(hash)) return { kind: 'unchanged', hash };

  const errors: string[] = [];
  const warnings: string[] = [];
  const reviewers = reviewersPath === undefined ? undefined : parseReviewers(reviewersRead.text);
  if (reviewersPath !== undefined && reviewers?.ok === false) {
    // A broken trust file is a broken policy: without it no signature can be judged.
    errors.push(...reviewers.errors.map((e) => formatIssue(reviewersPath, e)));
    return { kind: 'invalid', hash, errors };
  }
  const allowlist = validateAllowlist(allowlistRead.text, {
    fileName: allowlistPath,
    now: new Date(request.nowMs),
    reviewers: reviewers?.ok === true ? reviewers.reviewers : undefined,
    permittedSettings: reviewers?.ok === true ? reviewers.permitted : undefined,
  });
  warnings.push(...allowlist.warnings.map((w) => formatIssue(allowlistPath, w)));
  if (!allowlist.ok) errors.push(...allowlist.errors.map((e) => formatIssue(allowlistPath, e)));

  let knownHosts: PolicyData['knownHosts'];
  if (knownHostsPath !== undefined) {
    const known = validateKnownHosts(knownRead.text, knownHostsPath);
    warnings.push(...known.warnings.map((w) => formatIssue(knownHostsPath, w)));
    if (known.ok) knownHosts = { patterns: known.patterns, sha256: known.sha256 };
    else errors.push(...known.errors.map((e) => formatIssue(knownHostsPath, e)));
  }
  if (!allowlist.ok || errors.length > 0) return { kind: 'invalid', hash, errors };

  const { doc, entries, sha256 } = allowlist;
  return {
    kind: 'loaded',
    data: {
      hash,
      header: toPolicyHeader(doc, { sha256 }),
      entries,
      knownHosts,
      warnings,
    },
  };
}

/** Entries added between two yields to the event loop: about a millisecond of work. */
export const BUILD_SLICE = 200;

/**
 * Builds the snapshot from PolicyData (possibly structured-cloned from a worker, so nothing in
 * it is frozen yet). Yields to the event loop between slices of entries.
 */
export async function buildSnapshot(
  data: PolicyData,
  limits: PolicySnapshot['limits'],
): Promise<PolicySnapshot> {
  const builder = createPolicyBuilder(CONDITION_ENGINE);
  await forEachInSlices(data.entries, BUILD_SLICE, (entry) => {
    builder.add(deepFreeze(entry));
  });
  const policy = builder.build(deepFreeze({ ...data.header }));
  const knownHosts =
    data.knownHosts === undefined
      ? EMPTY_KNOWN_HOSTS
      : toKnownHosts(deepFreeze([...data.knownHosts.patterns]), data.knownHosts.sha256);
  // The core reads other charsets as the upstreams do, through the decoder it is given here.
  return Object.freeze({ policy, knownHosts, limits, charsets: ICONV_CHARSETS });
}

/** Freezes plain data (objects and arrays) all the way down; returns it. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
  return value;
}
