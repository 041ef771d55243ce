/**
 * The allowlist generations the soak writes, and what each one decides.
 *
 * Generation `n` is labelled `soak-n` (the label comes back in every MCP answer's dynamic
 * metadata). Two independent bits of `n` flip real decisions, so consecutive generations never
 * decide alike: bit 0 adds `create_issue` to the GitHub entry's tool globs, bit 1 approves the
 * host mcp.linear.app (which the known-host list marks as MCP-only, so CONNECTs to it flip too).
 *
 * `version` is the file's last line on purpose: a reader that caught a file half written lacks
 * it, and the service must reject that as a schema error instead of serving a cut-down policy.
 */
import { stampAllowlistText } from '../../src/config/stamp-file.js';

/** What generation `n` approves beyond the fixed part. */
export interface GenerationTraits {
  readonly createIssueAllowed: boolean;
  readonly linearApproved: boolean;
}

export function traitsOf(generation: number): GenerationTraits {
  return {
    createIssueAllowed: (generation & 1) === 1,
    linearApproved: (generation & 2) === 2,
  };
}

const LABEL_PREFIX = 'soak-';

export function versionLabel(generation: number): string {
  return `${LABEL_PREFIX}${generation}`;
}

/** The generation a version label names; undefined for anything the soak did not write. */
export function generationOf(label: string): number | undefined {
  const match = /^soak-(0|[1-9]\d{0,8})$/.exec(label);
  return match === null ? undefined : Number(match[1]);
}

/** The known-MCP-host list: both hosts serve only MCP, so a tunnel to them is judged. */
export const KNOWN_HOSTS_YAML = `hosts:
  - mcp.linear.app
  - mcp.notion.com
`;

/** `YYYY-MM-DD` (UTC) `days` after `from`. */
function isoDay(from: Date, days: number): string {
  return new Date(from.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}

/** The allowlist text of one generation; review dates are relative to `today` so none expire. */
export function renderAllowlist(generation: number, today: Date): string {
  const { createIssueAllowed, linearApproved } = traitsOf(generation);
  const reviewed = isoDay(today, -10);
  const expires = isoDay(today, 400);
  const githubAllow = ["'get_*'", "'list_*'", "'search_*'"];
  if (createIssueAllowed) githubAllow.push('create_issue');
  const linear = linearApproved
    ? `  - id: linear
    host: mcp.linear.app
    transport: http
    scopes: [issues.read]
    review_ticket: SEC-5120
    reviewed_by: security-platform
    reviewed_on: ${reviewed}
    expires_on: ${expires}
`
    : '';
  // Stamped, as a reviewed file is: the loader requires review_sha256 on every entry.
  return stampAllowlistText(`# mcp-gate soak allowlist, generation ${generation}
default_action: deny
mode: enforce
review_url: https://mcp-review.corp.example/request
approved:
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    url: https://api.githubcopilot.com/mcp/
    scopes: [repo.read, issues.read]
    tools:
      allow: [${githubAllow.join(', ')}]
      deny: ['*delete*']
    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: ${reviewed}
    expires_on: ${expires}
${linear}version: ${versionLabel(generation)}
`).text;
}

/** A way of breaking the file; `text` must fail validation whatever the generation. */
export interface Corruption {
  readonly name: string;
  text(generation: number, today: Date): string;
}

/**
 * Both corruptions would widen access if the service took them: the first is generation text
 * with an unclosed flow sequence (invalid YAML), the second a schema error that would approve
 * every MCP server. Their version label is one no answer may ever carry.
 */
export const CORRUPTIONS: readonly Corruption[] = [
  {
    name: 'invalid YAML',
    text: (generation, today) =>
      renderAllowlist(generation, today)
        .replace("deny: ['*delete*']", "deny: ['*delete*'")
        .replace(/version: .*\n$/, 'version: soak-corrupt-yaml\n'),
  },
  {
    name: 'schema error',
    text: (generation, today) =>
      renderAllowlist(generation, today)
        .replace('default_action: deny', 'default_action: allow_everything')
        .replace(/version: .*\n$/, 'version: soak-corrupt-schema\n'),
  },
];
