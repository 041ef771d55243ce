/**
 * `mcp-gate explain --allowlist FILE --request FILE [--known-hosts FILE] [--reviewers FILE] [--now ISO-DATE]`:
 * runs one CheckRequest (proto3 JSON, camelCase or snake_case, as Envoy's docs and OPA decision
 * logs show it) through exactly the path the service uses and prints the decision as JSON.
 */
import { readConfigFile } from '../config/config-file.js';
import { formatIssue } from '../config/config-issues.js';
import { loadPolicyForCommand } from '../config/load-policy.js';
import { newDecisionId } from '../core/decision-id.js';
import type { RequestFacts } from '../core/facts.js';
import type { McpInspection } from '../core/mcp/inspection.js';
import { isCredentialHeader } from '../core/credential-headers.js';
import type { CheckRequest, CheckResponse } from '../envoy/check-types.js';
import { structToJson } from '../envoy/struct-json.js';
import { checkRequestJsonToBytes } from '../envoy/check-request-json.js';
import { decodeCheckRequest } from '../envoy/check-request-codec.js';
import { answerCheck } from '../envoy/answer-check.js';
import { ICONV_CHARSETS } from '../text/iconv-charsets.js';
import { parseCommandArgs } from './args.js';
import type { CliIo } from './io.js';

export const EXPLAIN_USAGE = `usage: mcp-gate explain --allowlist FILE --request FILE [--known-hosts FILE] [--now ISO-DATE]
                       [--reviewers FILE] [--max-body-bytes N] [--max-batch N]

Prints the decision for one CheckRequest (proto3 JSON) as JSON: decision, reason, detail, entry,
decision_id, dry_run, explanation, facts, inspection and the check_response mcp-gate would send.
--now fixes the clock (e.g. 2027-04-19 or 2027-04-19T08:00:00Z).
--known-hosts defaults to the list bundled with mcp-gate, as serve does; "none" uses no list.
--reviewers checks review signatures against the trust file, as serve --reviewers does: give it
whenever the service runs with it, or explain may call approved what the service denies.`;

/** Runs explain; returns the exit code. */
export async function runExplain(args: string[], io: CliIo): Promise<number> {
  const flags = parseCommandArgs(
    {
      args,
      options: {
        allowlist: { type: 'string' },
        request: { type: 'string' },
        'known-hosts': { type: 'string' },
        reviewers: { type: 'string' },
        now: { type: 'string' },
        'max-body-bytes': { type: 'string', default: String(4 * 1024 * 1024) },
        'max-batch': { type: 'string', default: '1000' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    },
    EXPLAIN_USAGE,
    io,
  );
  if (typeof flags === 'number') return flags;
  const { values } = flags;
  if (values.allowlist === undefined || values.request === undefined) {
    io.stderr(`--allowlist and --request are required\n${EXPLAIN_USAGE}\n`);
    return 2;
  }
  const now = values.now === undefined ? io.now : new Date(values.now);
  if (Number.isNaN(now.getTime())) {
    io.stderr(`--now: not an ISO date: ${values.now ?? ''}\n`);
    return 2;
  }
  const maxBodyBytes = Number(values['max-body-bytes']);
  const maxBatchElements = Number(values['max-batch']);
  if (
    !Number.isSafeInteger(maxBodyBytes) ||
    maxBodyBytes < 1 ||
    !Number.isSafeInteger(maxBatchElements) ||
    maxBatchElements < 1
  ) {
    io.stderr('--max-body-bytes and --max-batch must be positive integers\n');
    return 2;
  }

  // The loader serve uses, with its default known-host list, so that explain answers what the
  // service would.
  const loaded = await loadPolicyForCommand(
    values.allowlist,
    values['known-hosts'],
    now,
    values.reviewers,
  );
  if (!loaded.ok) {
    for (const line of loaded.errors) io.stderr(`${line}\n`);
    return 1;
  }

  const requestText = await readOrReport(values.request, io);
  if (requestText === undefined) return 1;
  let request: CheckRequest;
  try {
    // JSON → the bytes Envoy would send → the server's own decoder, so serve reads them alike.
    request = decodeCheckRequest(checkRequestJsonToBytes(JSON.parse(requestText) as unknown));
  } catch (err: unknown) {
    io.stderr(`${values.request}: not a CheckRequest in proto3 JSON: ${(err as Error).message}\n`);
    return 1;
  }

  const { policy, knownHosts } = loaded;
  const limits = { maxBodyBytes, maxBatchElements };
  const snapshot = { policy, knownHosts, limits, charsets: ICONV_CHARSETS };
  // The service's own path from the decoded request to the response (answer-check.ts).
  const { facts, decision, inspection, response } = answerCheck(
    snapshot,
    request,
    now.getTime(),
    newDecisionId(),
  );
  const output = {
    decision: decision.verdict,
    reason: decision.reason,
    detail: decision.detail ?? null,
    entry: decision.entry?.id ?? null,
    review_ticket: decision.entry?.reviewTicket ?? null,
    decision_id: decision.id,
    dry_run: decision.dryRun,
    tool: decision.tool ?? null,
    client: decision.client,
    user: decision.principal.user ?? null,
    groups: decision.principal.groups ?? null,
    identity_problem: decision.principal.problem ?? null,
    rules: decision.rules,
    condition:
      decision.condition === undefined
        ? null
        : { expr: decision.condition.expr, description: decision.condition.description },
    allowlist_version: decision.allowlistVersion,
    explanation: decision.explanation,
    now: now.toISOString(),
    facts: factsToJson(facts),
    inspection: inspectionToJson(inspection),
    check_response: checkResponseToJson(response),
  };
  io.stdout(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}

async function readOrReport(path: string, io: CliIo): Promise<string | undefined> {
  const read = await readConfigFile(path);
  if (read.ok) return read.text;
  io.stderr(`${formatIssue(path, read.error)}\n`);
  return undefined;
}

function factsToJson(facts: RequestFacts): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [name, value] of facts.headers) {
    headers[name] = isCredentialHeader(name) ? '[redacted]' : value;
  }
  return {
    method: facts.method,
    authority: facts.authority,
    host: facts.host,
    port: facts.port ?? null,
    raw_path: facts.rawPath,
    path: facts.path,
    connect: facts.isConnect,
    scheme: facts.scheme,
    protocol: facts.protocol,
    request_id: facts.requestId ?? null,
    sni: facts.sni ?? null,
    body_bytes: facts.body?.length ?? null,
    body_truncated: facts.bodyTruncated,
    headers,
  };
}

function inspectionToJson(inspection: McpInspection): Record<string, unknown> {
  return {
    mcp: inspection.isMcp,
    signals: inspection.signals,
    transport: inspection.transport,
    batch: inspection.batch,
    protocol_version: inspection.protocolVersion ?? null,
    client_name: inspection.clientName ?? null,
    user_agent: inspection.userAgent ?? null,
    failure: inspection.failure ?? null,
    messages: inspection.messages.map((m) => ({
      kind: m.kind,
      method: m.method ?? null,
      id: m.idJson ?? null,
      tool: m.tool ?? null,
      resource_uri: m.resourceUri ?? null,
      prompt: m.prompt ?? null,
    })),
  };
}

/** The CheckResponse with Struct metadata as plain JSON, for reading. */
function checkResponseToJson(response: CheckResponse): Record<string, unknown> {
  const { dynamic_metadata: metadata, ...rest } = response;
  return metadata === undefined
    ? { ...rest }
    : { ...rest, dynamic_metadata: structToJson(metadata) };
}
