/**
 * The structured logger (pino) and the audit line written for every MCP decision.
 *
 * The audit line never carries credentials (`authorization`, `proxy-authorization`, `cookie`,
 * `x-api-key`), tool argument values or bodies: it is built from an explicit field list, not by
 * dumping the request, and pino's redaction guards the operational logs as a second line.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { CREDENTIAL_HEADERS } from '../core/credential-headers.js';
import type { Decision } from '../core/decision.js';
import type { RequestFacts } from '../core/facts.js';
import type { McpInspection } from '../core/mcp/inspection.js';
import { createLogOutput, DEFAULT_LOG_BUFFER_BYTES } from './log-output.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: string;
  /**
   * Where lines go; defaults to a bounded stdout buffer (log-output.ts; `serve` passes its own,
   * sized by --log-buffer-bytes). Tests pass a sink.
   */
  readonly destination?: DestinationStream;
}

/**
 * Request headers that carry credentials (src/core/credential-headers.ts, the one list): never
 * written to a log line; the logger's redaction paths are built from it.
 */
export const SECRET_HEADERS: ReadonlySet<string> = CREDENTIAL_HEADERS;

/** Each secret header in a logged `headers` object, at the top level or one level down. */
const REDACT_PATHS = [...SECRET_HEADERS].flatMap((name) => [
  `headers["${name}"]`,
  `*.headers["${name}"]`,
]);

/** Creates the service logger: JSON lines, ISO time, credentials redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: 'mcp-gate',
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? createLogOutput({ maxBufferedBytes: DEFAULT_LOG_BUFFER_BYTES }),
  );
}

/**
 * The audit record of one MCP decision. Field names and types are a stable contract, documented
 * field by field in docs/audit-log.md (test/unit/telemetry/audit-schema.test.ts holds the two
 * together): add fields, never rename or retype one.
 */
export function auditRecord(
  decision: Decision,
  facts: RequestFacts,
  inspection: McpInspection,
  durationMs: number,
): Record<string, unknown> {
  const methods = [...new Set(inspection.messages.map((m) => m.method ?? 'response'))];
  return {
    decision_id: decision.id,
    request_id: facts.requestId,
    decision: decision.dryRun ? 'would_deny' : decision.verdict,
    reason: decision.reason,
    detail: decision.detail,
    dry_run: decision.dryRun,
    host: facts.host !== '' ? facts.host : facts.authority,
    port: facts.port,
    path: facts.path,
    http_method: facts.method,
    source: facts.source,
    methods,
    tool: decision.tool,
    client: decision.client,
    user: decision.principal.user,
    groups: decision.principal.groups,
    rule: decision.verdict === 'deny' || decision.dryRun ? decision.rules[0] : undefined,
    client_name: inspection.clientName,
    user_agent: inspection.userAgent,
    protocol_version: inspection.protocolVersion,
    entry: decision.entry?.id,
    review_ticket: decision.entry?.reviewTicket,
    allowlist_version: decision.allowlistVersion,
    duration_ms: Math.round(durationMs * 1000) / 1000,
  };
}
