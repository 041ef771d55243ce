/**
 * Judges one answer: does it say what the allowlist in force must have decided?
 *
 * Reloads race with checks, so the soak cannot know the one generation that decided a check.
 * It knows a window: a check sent while generation `lo` was known to be in force (its "loaded"
 * or "reloaded" line had been read) and answered when `hi` was the newest generation written
 * can only have been decided by a generation in `lo..hi`. A corrupted file is never a
 * generation, so it never widens the window. MCP answers name the generation that decided them
 * (dynamic metadata `allowlist_version`): that one must lie in the window AND its expected
 * answer must match exactly. Outside a reload the window is a single generation, so the
 * tolerance only covers checks that really overlapped a reload; the caller counts those.
 */
import type { EnvoyCheckResponse } from '../../test/helpers/authz-client.js';
import { headerOf } from '../../test/helpers/authz-client.js';
import { generationOf, traitsOf, versionLabel } from './allowlist-versions.js';
import type { Expected, Probe, Scenario } from './scenarios.js';

/** Generations that may have decided a check: `lo..hi` inclusive. */
export interface GenerationWindow {
  readonly lo: number;
  readonly hi: number;
}

export interface Judgement {
  /** Why the answer is wrong; undefined when it is right. */
  readonly wrong: string | undefined;
  /** The window held more than one generation. */
  readonly inTransition: boolean;
  /** ...and those generations expected different answers for this request. */
  readonly ambiguous: boolean;
}

export function judge(
  scenario: Scenario,
  probe: Probe,
  response: EnvoyCheckResponse,
  window: GenerationWindow,
): Judgement {
  const inTransition = window.hi > window.lo;
  if (window.lo < 0 || window.hi < window.lo) {
    return {
      wrong: `no generation known in force (${window.lo}..${window.hi})`,
      inTransition,
      ambiguous: false,
    };
  }
  const candidates = new Map<string, { generation: number; expected: Expected }>();
  for (let g = window.lo; g <= window.hi; g++) {
    const expected = scenario.expect(traitsOf(g));
    const key = JSON.stringify(expected);
    if (!candidates.has(key)) candidates.set(key, { generation: g, expected });
  }
  const ambiguous = candidates.size > 1;

  const reported = metadataString(response, 'allowlist_version');
  if (reported !== undefined) {
    const generation = generationOf(reported);
    if (generation === undefined || generation < window.lo || generation > window.hi) {
      return {
        wrong: `decided by allowlist ${JSON.stringify(reported)}, but only ${range(window)} can have been in force`,
        inTransition,
        ambiguous,
      };
    }
    const problem = mismatch(scenario.expect(traitsOf(generation)), probe, response);
    return {
      wrong: problem === undefined ? undefined : `under ${versionLabel(generation)}: ${problem}`,
      inTransition,
      ambiguous,
    };
  }
  // No version in the answer: only right if some generation in the window expected exactly it
  // (in practice, untouched non-MCP traffic, whose answer no generation changes).
  const problems: string[] = [];
  for (const { generation, expected } of candidates.values()) {
    const problem = mismatch(expected, probe, response);
    if (problem === undefined) return { wrong: undefined, inTransition, ambiguous };
    problems.push(`under ${versionLabel(generation)}: ${problem}`);
  }
  return { wrong: problems.join('; '), inTransition, ambiguous };
}

function range(window: GenerationWindow): string {
  return window.lo === window.hi
    ? versionLabel(window.lo)
    : `${versionLabel(window.lo)}..${versionLabel(window.hi)}`;
}

function metadataField(
  response: EnvoyCheckResponse,
  name: string,
): { stringValue?: string; boolValue?: boolean } | undefined {
  return response.dynamic_metadata?.fields?.[name];
}

function metadataString(response: EnvoyCheckResponse, name: string): string | undefined {
  return metadataField(response, name)?.stringValue;
}

/** Everything `expected` pins down about the answer; the first difference, or undefined. */
export function mismatch(
  expected: Expected,
  probe: Probe,
  response: EnvoyCheckResponse,
): string | undefined {
  const code = response.status?.code ?? 0;
  const wantCode = expected.verdict === 'allow' ? 0 : 7;
  if (code !== wantCode) {
    const said =
      response.status?.message ?? headerOf(response.denied_response?.headers, 'x-mcp-gate-reason');
    return `expected ${expected.verdict} (${expected.reason}), got gRPC status ${code} (${said ?? 'no reason'})`;
  }
  if (expected.untouched === true) {
    if (response.dynamic_metadata !== undefined) return 'non-MCP answer carries decision metadata';
    if ((response.ok_response?.headers ?? []).length > 0) return 'non-MCP answer sets headers';
    if (response.denied_response !== undefined) return 'allow carries a denied_response';
    return undefined;
  }

  const verdict = metadataString(response, 'verdict');
  const reason = metadataString(response, 'reason');
  const entry = metadataString(response, 'entry');
  const decisionId = metadataString(response, 'decision_id');
  if (verdict !== expected.verdict || reason !== expected.reason) {
    return `expected ${expected.verdict}/${expected.reason}, metadata says ${verdict ?? '-'}/${reason ?? '-'}`;
  }
  if (entry !== expected.entry) {
    return `expected entry ${expected.entry ?? '(none)'}, metadata says ${entry ?? '(none)'}`;
  }
  if (metadataField(response, 'dry_run')?.boolValue === true) return 'answer flagged dry-run';
  if (decisionId === undefined || decisionId === '') return 'no decision id in metadata';

  if (expected.verdict === 'allow') {
    const headers = response.ok_response?.headers;
    if (response.denied_response !== undefined) return 'allow carries a denied_response';
    if (headerOf(headers, 'x-mcp-gate-decision-id') !== decisionId) {
      return 'x-mcp-gate-decision-id does not match the metadata';
    }
    if (headerOf(headers, 'x-mcp-gate-server') !== expected.entry) {
      return `x-mcp-gate-server is ${headerOf(headers, 'x-mcp-gate-server') ?? '(absent)'}`;
    }
    return undefined;
  }

  const denied = response.denied_response;
  if (denied === undefined) return 'deny without a denied_response';
  if (response.status?.message !== expected.reason) {
    return `status message ${response.status?.message ?? '(none)'}`;
  }
  if (headerOf(denied.headers, 'x-mcp-gate-reason') !== expected.reason) {
    return `x-mcp-gate-reason is ${headerOf(denied.headers, 'x-mcp-gate-reason') ?? '(absent)'}`;
  }
  if (headerOf(denied.headers, 'x-mcp-gate-decision-id') !== decisionId) {
    return 'x-mcp-gate-decision-id does not match the metadata';
  }
  const httpStatus = denied.status?.code;
  const contentType = headerOf(denied.headers, 'content-type');
  const body = denied.body ?? '';
  if (expected.deny === 'tool_result') {
    if (httpStatus !== 'OK') return `tool denial with HTTP ${httpStatus ?? '(unset)'}, want 200`;
    if (contentType !== 'application/json') return `tool denial content-type ${contentType ?? '-'}`;
    return toolResultProblem(body, probe);
  }
  if (httpStatus !== 'Forbidden')
    return `server denial with HTTP ${httpStatus ?? '(unset)'}, want 403`;
  if (contentType?.startsWith('text/plain') !== true) {
    return `server denial content-type ${contentType ?? '-'}`;
  }
  // The text names the host the person tried: an answer meant for another request would not.
  if (!body.includes(probe.host)) return `403 text does not name ${probe.host}: ${body}`;
  return undefined;
}

/** A tool denial must be the JSON-RPC result for *this* call: same id, error flagged, tool named. */
function toolResultProblem(body: string, probe: Probe): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `tool denial body is not JSON: ${body.slice(0, 200)}`;
  }
  const message = parsed as {
    jsonrpc?: unknown;
    id?: unknown;
    result?: { isError?: unknown; content?: { text?: unknown }[] };
  };
  if (message.jsonrpc !== '2.0') return 'tool denial is not JSON-RPC 2.0';
  if (message.id !== probe.jsonRpcId) {
    return `tool denial answers id ${JSON.stringify(message.id)}, the call had id ${probe.jsonRpcId ?? '(none)'}`;
  }
  if (message.result?.isError !== true) return 'tool denial result lacks isError: true';
  const text = message.result.content?.[0]?.text;
  if (
    typeof text !== 'string' ||
    probe.tool === undefined ||
    !text.includes(`Tool ${probe.tool} `)
  ) {
    return `tool denial text does not name tool ${probe.tool ?? '?'}: ${String(text)}`;
  }
  return undefined;
}
