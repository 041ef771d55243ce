/**
 * Which decisions are shadow-MCP attempts, and what the discovery table keeps of one.
 *
 * One reading for both sources: the service builds the attempt from the audit record it has just
 * logged (src/telemetry/logger.ts auditRecord), and `mcp-gate discover` from audit lines read
 * back from `kubectl logs`. So the live table and a table rebuilt from logs always agree on what
 * counts and how it is keyed. docs/discovery.md states the rules:
 * - recorded: MCP decisions that name no allowlist entry, with reason `unapproved` (default deny,
 *   and CONNECT or TLS-SNI checks to known MCP hosts), `default_allow` (default_action: allow
 *   lets unreviewed servers through; they are shadow MCP all the same) or `uninspectable`;
 * - keyed by host and path prefix, the path's first segment (`/mcp/v1` → `/mcp`, `/` and
 *   host-only checks → `/`): coarse enough that session ids and tenants deeper in a path do not
 *   split one server into many rows, and exactly the prefix an allowlist `url` matches on;
 * - never an argument, a body, a header value or a query string: names of methods and tools,
 *   the classified client label, protocol revisions.
 * Pure: no I/O, no clock (the time comes in).
 */
import { CLIENT_NAMES, clientFromName, clientFromUserAgent } from '../core/mcp/client.js';
import type { ClientName } from '../core/mcp/client.js';
import { normaliseAuthority } from '../core/normalise.js';

/** Reasons of a decision without an entry that make it a shadow-MCP attempt. */
export const DISCOVERY_REASONS: ReadonlySet<string> = new Set([
  'unapproved',
  'default_allow',
  'uninspectable',
]);

/** What the audit line says the request got. */
export type AttemptOutcome = 'deny' | 'would_deny' | 'allow';

/** One shadow-MCP attempt, as the discovery table records it. */
export interface DiscoveryAttempt {
  /** Normalised host (lower case, no port). */
  readonly host: string;
  /** `/` or `/<first segment>` (see the module comment). */
  readonly pathPrefix: string;
  /** A CONNECT or TLS-SNI check: only the host was seen, never a method or tool. */
  readonly hostOnly: boolean;
  readonly client: ClientName;
  /** JSON-RPC methods of the request's messages (responses left out). */
  readonly methods: readonly string[];
  readonly tool: string | undefined;
  readonly protocolVersion: string | undefined;
  readonly outcome: AttemptOutcome;
  /** Epoch ms. */
  readonly atMs: number;
}

/** The longest first path segment kept as a prefix; a longer one is keyed as `/`. */
const MAX_PREFIX_CHARS = 128;

/** `/` or `/<first segment>` of a normalised path (`""` for host-only checks). */
export function pathPrefixOf(path: string): string {
  const end = path.indexOf('/', 1);
  const prefix = end === -1 ? path : path.slice(0, end);
  if (prefix.length <= 1 || prefix.length > MAX_PREFIX_CHARS || !prefix.startsWith('/')) {
    return '/';
  }
  return prefix;
}

const CLIENTS: ReadonlySet<string> = new Set(CLIENT_NAMES);
const OUTCOMES: ReadonlySet<string> = new Set(['deny', 'would_deny', 'allow']);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/**
 * The attempt an audit record describes, or undefined when it is not one (see the module
 * comment). `record` is a decision line's fields, trusted or not: every field is checked.
 * `hostIsNormal` is the service's own knowledge that `host` is the request's normalised host
 * (RequestFacts.host was not empty), which spares the Check path a second normalisation; read
 * back from a log, the host is normalised again and kept only if that leaves it unchanged.
 */
export function attemptFromAudit(
  record: Readonly<Record<string, unknown>>,
  atMs: number,
  hostIsNormal?: boolean,
): DiscoveryAttempt | undefined {
  const reason = text(record['reason']);
  if (reason === undefined || !DISCOVERY_REASONS.has(reason)) return undefined;
  if (record['entry'] !== undefined && record['entry'] !== null) return undefined;
  const outcome = text(record['decision']);
  if (outcome === undefined || !OUTCOMES.has(outcome)) return undefined;
  const host = text(record['host']);
  // The audit line falls back to the raw authority when no host could be read with certainty:
  // only a host that is already in normal form names a server.
  if (host === undefined || host === '' || hostIsNormal === false) return undefined;
  if (hostIsNormal !== true && normaliseAuthority(host).host !== host) return undefined;
  const path = text(record['path']) ?? '';
  const methods = Array.isArray(record['methods'])
    ? record['methods'].filter((m): m is string => typeof m === 'string' && m !== 'response')
    : [];
  return {
    host,
    pathPrefix: pathPrefixOf(path),
    hostOnly: path === '',
    client: clientOf(record),
    methods,
    tool: text(record['tool']),
    protocolVersion: text(record['protocol_version']),
    outcome: outcome as AttemptOutcome,
    atMs,
  };
}

/** The record's `client`, or, for lines written before it existed, classified again. */
function clientOf(record: Readonly<Record<string, unknown>>): ClientName {
  const client = text(record['client']);
  if (client !== undefined && CLIENTS.has(client)) return client as ClientName;
  return (
    clientFromName(text(record['client_name'])) ??
    clientFromUserAgent(text(record['user_agent'])) ??
    'other'
  );
}
