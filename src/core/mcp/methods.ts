/**
 * The MCP method names of every protocol revision from 2024-11-05 to 2026-07-28
 * (docs/wire/mcp.md, Methods), and the revision facts the inspector needs.
 */

/** Every JSON-RPC method name MCP defines, in any direction, in any revision. */
export const MCP_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'server/discover',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'subscriptions/listen',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'sampling/createMessage',
  'roots/list',
  'elicitation/create',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'tasks/update',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'notifications/message',
  'notifications/resources/updated',
  'notifications/resources/list_changed',
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/elicitation/complete',
  'notifications/tasks/status',
  'notifications/subscriptions/acknowledged',
]);

/** Methods whose `params.name` / `params.uri` the 2026-07-28 `Mcp-Name` header mirrors. */
export const NAMED_METHODS: ReadonlySet<string> = new Set([
  'tools/call',
  'prompts/get',
  'resources/read',
]);

/** The first revision whose servers must validate `Mcp-Method`/`Mcp-Name` against the body. */
export const HEADER_VALIDATING_REVISION = '2026-07-28';

/** The first revision that forbids JSON-RPC batches (2025-03-26 was the only one with them). */
export const BATCHLESS_REVISION = '2025-06-18';

/** Key prefix of the reserved `_meta` keys (2026-07-28 request metadata). */
export const META_PREFIX = 'io.modelcontextprotocol/';

/** Protocol revisions are dates; only date-shaped values are compared as revisions. */
export function isRevision(value: string | undefined): value is string {
  return value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(value);
}

/** True when `revision` is at or after `threshold` (both `YYYY-MM-DD`). */
export function revisionAtLeast(revision: string | undefined, threshold: string): boolean {
  return isRevision(revision) && revision >= threshold;
}
