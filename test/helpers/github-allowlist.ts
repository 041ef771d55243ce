/**
 * The allowlist most integration suites need: one reviewed entry for GitHub's MCP server, with
 * the knobs the suites turn (version label, tool globs), and the Streamable HTTP `tools/call`
 * that goes with it, built as Envoy builds it. Every entry is stamped, as `mcp-gate stamp` leaves it.
 */
import type { CheckRequest } from '../../src/envoy/check-types.js';
import { envoyCheckRequest } from './envoy-check-request.js';
import { rpc } from './facts.js';
import { stamped } from './stamped.js';

export const REVIEW_URL = 'https://mcp-review.corp.example/request';

export interface GithubAllowlistOptions {
  readonly version?: string;
  /** Default `deny`. */
  readonly defaultAction?: 'deny' | 'allow';
  /** Written only when given (the schema's default is `enforce`). */
  readonly mode?: 'enforce' | 'dry-run';
  /** Written only when given (the schema's default is `auto`). */
  readonly denyStyle?: string;
  /** Tool allow globs; omitted = the entry has no tool rules (every tool). */
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  readonly expiresOn?: string;
  /** More entries, as YAML list items indented like the first (or top-level keys after them). */
  readonly extraEntries?: string;
  /** Top-level sections written before `approved:` (`identity:`, `bundles:`), as YAML. */
  readonly sections?: string;
}

/** `github-official` on api.githubcopilot.com, reviewed under SEC-4902, default deny; stamped. */
export function githubAllowlist(options: GithubAllowlistOptions = {}): string {
  const globs = (list: readonly string[]): string => list.map((g) => JSON.stringify(g)).join(', ');
  const tools =
    options.allow === undefined && options.deny === undefined
      ? ''
      : `    tools:\n${options.allow === undefined ? '' : `      allow: [${globs(options.allow)}]\n`}${
          options.deny === undefined ? '' : `      deny: [${globs(options.deny)}]\n`
        }`;
  const mode = options.mode === undefined ? '' : `mode: ${options.mode}\n`;
  const denyStyle = options.denyStyle === undefined ? '' : `deny_style: ${options.denyStyle}\n`;
  return stamped(`version: ${options.version ?? '2026.11'}
default_action: ${options.defaultAction ?? 'deny'}
${mode}review_url: ${REVIEW_URL}
${denyStyle}${options.sections ?? ''}approved:
  - id: github-official
    host: api.githubcopilot.com
    transport: http
    url: https://api.githubcopilot.com/mcp/
    scopes: [repo.read]
${tools}    review_ticket: SEC-4902
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: ${options.expiresOn ?? '2099-04-18'}
${options.extraEntries ?? ''}`);
}

/** Headers of a Streamable HTTP session after initialize (2025-11-25). */
export const SESSION_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
} as const;

/** A `tools/call` of `tool` (request id 7) to github-official, as Envoy sends it to us. */
export function githubToolCall(tool: string): CheckRequest {
  return envoyCheckRequest({
    authority: 'api.githubcopilot.com',
    path: '/mcp/',
    headers: SESSION_HEADERS,
    body: rpc('tools/call', { name: tool, arguments: {} }, 7),
  });
}
