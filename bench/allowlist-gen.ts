/**
 * Realistic generated allowlists of any size, valid per docs/allowlist.md, for the load and the
 * micro-benchmarks. Deterministic for a given size and date (a seeded generator), so two runs
 * load the same policy.
 *
 * The mix follows what a large organisation's list looks like: mostly vendor hosts with an MCP
 * path prefix and tool rules, some wildcard hosts, some ports, a few dry-run rollouts, about one
 * in ten stdio records (inventory only, never matched), every entry stamped by review (so a load
 * recomputes every stamp, as in production). The entries the benchmark payloads target are
 * always present: `github-official` (api.githubcopilot.com/mcp/, read-only tools).
 */
import { stringify } from 'yaml';
import type { AllowlistEntry } from '../src/config/allowlist-schema.js';
import { computeReviewSha256 } from '../src/config/review-stamp.js';

/** The entry every MCP payload of the benchmark is sent to. */
export const TARGET_ENTRY = {
  id: 'github-official',
  host: 'api.githubcopilot.com',
  path: '/mcp/',
} as const;

const DAY_MS = 86_400_000;
const TOOL_VERBS = ['get', 'list', 'search', 'create', 'update', 'delete', 'run', 'query'];
const TOOL_NOUNS = ['issue', 'page', 'record', 'file', 'report', 'ticket', 'job', 'user'];
const TEAMS = ['security-platform', 'eng-productivity', 'data-platform', 'it-ops'];

/** mulberry32: a tiny seeded PRNG; statistical quality is irrelevant here. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function targetEntry(reviewedOn: string, expiresOn: string): AllowlistEntry {
  return {
    id: TARGET_ENTRY.id,
    host: TARGET_ENTRY.host,
    transport: 'http',
    url: `https://${TARGET_ENTRY.host}${TARGET_ENTRY.path}`,
    scopes: ['repo.read', 'issues.read', 'pull_requests.read'],
    tools: { allow: ['get_*', 'list_*', 'search_*'], deny: ['*delete*'] },
    review_ticket: 'SEC-4902',
    reviewed_by: 'security-platform',
    reviewed_on: reviewedOn,
    expires_on: expiresOn,
  };
}

function generatedEntry(
  index: number,
  random: () => number,
  reviewedOn: string,
  expiresOn: string,
): AllowlistEntry {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const vendor = `vendor${String(index).padStart(5, '0')}`;
  const review = {
    review_ticket: `SEC-${10_000 + index}`,
    reviewed_by: pick(TEAMS),
    reviewed_on: reviewedOn,
    expires_on: expiresOn,
  };
  const roll = random();
  if (roll < 0.1) {
    return {
      id: `${vendor}-local`,
      transport: 'stdio',
      command: `/opt/mcp/bin/${vendor}-mcp`,
      allowed_args: ['--readonly'],
      scopes: ['local.read'],
      ...review,
    };
  }
  const wildcard = roll < 0.25;
  const host = wildcard ? `*.mcp.${vendor}.example` : `mcp.${vendor}.example`;
  const port = random() < 0.1 ? `:${8000 + (index % 1000)}` : '';
  const prefix = random() < 0.7 ? pick(['/mcp', '/mcp/', '/v1/mcp', '/api/mcp']) : '';
  const globs = (count: number): string[] =>
    Array.from({ length: count }, () =>
      random() < 0.5 ? `${pick(TOOL_VERBS)}_*` : `${pick(TOOL_VERBS)}_${pick(TOOL_NOUNS)}`,
    );
  const toolRoll = random();
  const tools =
    toolRoll < 0.3
      ? undefined
      : toolRoll < 0.8
        ? { allow: [...new Set(globs(2 + Math.floor(random() * 5)))], deny: ['*delete*'] }
        : { deny: [...new Set(['*delete*', ...globs(1 + Math.floor(random() * 3))])] };
  return {
    id: vendor,
    host,
    transport: 'http',
    ...(port !== '' || prefix !== '' ? { url: `https://${host}${port}${prefix}` } : {}),
    scopes: [`${pick(TOOL_NOUNS)}.read`],
    ...(tools !== undefined ? { tools } : {}),
    ...(random() < 0.05 ? { mode: 'dry-run' as const } : {}),
    ...review,
  };
}

/**
 * An allowlist of `size` entries (the target entry included) as YAML. Reviewed 30 days before
 * `today`, expiring 180 days after, so no entry is expired or near expiry on the day it runs.
 */
export function generateAllowlist(size: number, today: Date, seed = 1): string {
  if (size < 1) throw new Error('an allowlist for the benchmark needs at least the target entry');
  const random = seeded(seed);
  const reviewedOn = day(today.getTime() - 30 * DAY_MS);
  const expiresOn = day(today.getTime() + 180 * DAY_MS);
  const entries: AllowlistEntry[] = [targetEntry(reviewedOn, expiresOn)];
  for (let i = 1; i < size; i++) entries.push(generatedEntry(i, random, reviewedOn, expiresOn));
  const approved = entries.map((entry) => ({
    ...entry,
    review_sha256: computeReviewSha256(entry),
  }));
  const doc = {
    version: `bench-${size}`,
    default_action: 'deny',
    mode: 'enforce',
    review_url: 'https://mcp-review.corp.example/request',
    deny_style: 'auto',
    approved,
  };
  // The loader rejects anchors and aliases, so repeated values must be written out in full.
  return stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 });
}
