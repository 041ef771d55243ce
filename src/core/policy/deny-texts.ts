/**
 * The built-in deny texts, one template per DenyReason, and the rules every deny text (built-in
 * or a `deny_reasons` override from the allowlist) must satisfy.
 *
 * Contract:
 * - DEFAULT_DENY_TEXTS has a template for every member of DENY_REASONS (the type enforces it).
 * - Templates use only the placeholders in DENY_TEXT_PLACEHOLDERS; src/core/deny-message.ts fills
 *   them. The server-level reasons (unapproved, expired, rotation, uninspectable) carry
 *   `{review_url}`, because the person who is blocked needs to know where to go next.
 * - No template contains a phrase from findForbiddenWording (see there for why). A unit test
 *   checks both rules for the built-ins; the allowlist schema checks them for overrides.
 * Pure: constants and string checks only.
 */
import type { InspectionDetail } from '../mcp/inspection.js';
import type { DenyReason } from './policy.js';

/** The placeholders a deny text may use; anything else in braces is rejected at load time. */
export const DENY_TEXT_PLACEHOLDERS = [
  /** The matching entry's id, or the host when no entry matched. */
  'server',
  /** The request's host. */
  'host',
  /** The tool being called (empty when there is none). */
  'tool',
  /** The allowlist's `review_url`, extended with the request's details. */
  'review_url',
  /** The deny reason code (for example `uninspectable`). */
  'reason',
  /** The `description` of the condition that did not hold (empty for other reasons). */
  'condition',
] as const;
/** A placeholder name (without braces). */
export type DenyTextPlaceholder = (typeof DENY_TEXT_PLACEHOLDERS)[number];

/** The deny reasons that concern the whole server rather than one tool or mcp-gate itself. */
export const SERVER_LEVEL_DENY_REASONS = [
  'unapproved',
  'expired',
  'rotation',
  'uninspectable',
] as const satisfies readonly DenyReason[];

/** Built-in templates, used for every reason the allowlist's `deny_reasons` does not override. */
export const DEFAULT_DENY_TEXTS: Readonly<Record<DenyReason, string>> = Object.freeze({
  unapproved:
    'MCP server {host} is not approved for use here. Request a security review: {review_url}',
  expired: 'The approval for MCP server {server} has expired. Ask for a renewal: {review_url}',
  rotation:
    'The approval for MCP server {server} changed since it was reviewed and must be reviewed again: {review_url}',
  tool_not_allowed: 'Tool {tool} on MCP server {server} is not approved. Request it: {review_url}',
  principal_not_allowed:
    'MCP server {server} is approved for other people or groups, not for you. Request access: {review_url}',
  client_not_allowed:
    'MCP server {server} is approved for use from other AI clients than this one. Request it: {review_url}',
  condition_failed:
    'This call to MCP server {server} does not meet its approval ({condition}), so it was blocked. Request a change: {review_url}',
  uninspectable:
    'This request to MCP server {host} could not be inspected, so it was blocked. If you believe it should pass, report it: {review_url}',
  overloaded: 'mcp-gate is busy and blocked this MCP request. Please retry in a moment.',
  internal_error:
    'mcp-gate hit an internal error and blocked this MCP request. Please retry; if it keeps happening, contact your security team.',
});

/**
 * Built-in texts for details that need their own words, because the fix is not the person's but
 * the operator's or the reviewers': `tunnel_not_inspected` (reason `uninspectable`),
 * `identity_missing` (`principal_not_allowed`), `signature` (`rotation`).
 */
export const DEFAULT_DETAIL_DENY_TEXTS: Readonly<Partial<Record<InspectionDetail, string>>> =
  Object.freeze({
    tunnel_not_inspected:
      'MCP server {server} is approved with rules that can only be checked on inspected TLS, ' +
      'but this connection to {host} went through the proxy as an uninspected tunnel, so it ' +
      "was blocked. The network team must add {host} to the proxy's TLS inspection " +
      '(mcp-gate render-envoy). Report it: {review_url}',
    identity_missing:
      'MCP server {server} is approved for named people or groups only, and this request did ' +
      'not say who you are, so it was blocked. Sign in through the proxy or ask: {review_url}',
    signature:
      'The approval for MCP server {server} carries no valid signature from its reviewers, so ' +
      'it was blocked until they sign it again: {review_url}',
  });

/**
 * The template for a denial: the detail's own built-in text, unless the allowlist overrides the
 * reason's text (the operator chose what their people read), then the reason's text.
 */
export function denyTemplate(
  denyTexts: Readonly<Record<DenyReason, string>>,
  reason: DenyReason,
  detail: InspectionDetail | undefined,
): string {
  const own = detail === undefined ? undefined : DEFAULT_DETAIL_DENY_TEXTS[detail];
  if (own !== undefined && denyTexts[reason] === DEFAULT_DENY_TEXTS[reason]) return own;
  return denyTexts[reason];
}

// MCP clients read more into an error response than its status: per the transport spec a 404
// means "session gone, start over" and a 405 on GET means "no SSE stream", and several clients go
// further and search the error *text* for "404"/"Not Found" (fall back to the legacy SSE
// transport) or "Unauthorized" (start an OAuth sign-in). A deny text containing any of these
// would make the client retry, switch transports or open a login page instead of showing the
// person why they were blocked. "Method Not Allowed" is 405's reason phrase.
const FORBIDDEN_WORDING = /404|405|unauthori[sz]ed|not[\s_-]*found|method[\s_-]*not[\s_-]*allowed/i;

/**
 * The first phrase in `text` that MCP clients treat as a protocol signal ("404", "405",
 * "Unauthorized", "Not Found", "Method Not Allowed"; case-insensitive), or undefined.
 */
export function findForbiddenWording(text: string): string | undefined {
  return FORBIDDEN_WORDING.exec(text)?.[0];
}

/** Why findForbiddenWording's phrases are refused; shared by every message that reports one. */
export const FORBIDDEN_WORDING_REASON =
  'MCP clients read "404", "405", "Unauthorized" and "Not Found" in an error as protocol signals ' +
  '(restart the session, fall back to SSE, start an OAuth sign-in) and would hide the denial';

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN_PLACEHOLDERS: ReadonlySet<string> = new Set(DENY_TEXT_PLACEHOLDERS);

/** Every `{name}` in `text` whose name is not in DENY_TEXT_PLACEHOLDERS, in order of appearance. */
export function findUnknownPlaceholders(text: string): string[] {
  const unknown: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!KNOWN_PLACEHOLDERS.has(name)) unknown.push(`{${name}}`);
  }
  return unknown;
}
