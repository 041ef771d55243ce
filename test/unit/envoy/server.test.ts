/**
 * `check()` of src/envoy/server.ts with injected dependencies: whatever fails inside the Check
 * path, the answer is a deny with reason `internal_error` (HTTP 503), counted and logged, and
 * never an allow, not even when the policy is in dry-run.
 */
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';

import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import { PolicyStore } from '../../../src/config/policy-store.js';
import { isDecisionId } from '../../../src/core/decision-id.js';
import type { PolicySnapshot } from '../../../src/core/pipeline.js';
import { DEFAULT_DENY_TEXTS } from '../../../src/core/policy/deny-texts.js';
import type { CompiledPolicy, KnownHosts } from '../../../src/core/policy/policy.js';
import type { CheckResponse } from '../../../src/envoy/check-types.js';
import { check } from '../../../src/envoy/server.js';
import type { AuthzServerDeps } from '../../../src/envoy/server.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import type { Metrics } from '../../../src/telemetry/metrics.js';
import { envoyCheckRequest } from '../../helpers/envoy-check-request.js';
import { rpc } from '../../helpers/facts.js';
import { githubAllowlist } from '../../helpers/github-allowlist.js';
import { ICONV_CHARSETS } from '../../../src/text/iconv-charsets.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const LIMITS = { maxBodyBytes: 4 * 1024 * 1024, maxBatchElements: 1000 };

const allowlist = (mode: 'enforce' | 'dry-run'): string =>
  githubAllowlist({ mode, allow: ['get_*'], expiresOn: '2027-04-18' });

function policyOf(mode: 'enforce' | 'dry-run'): CompiledPolicy {
  const parsed = parseAllowlist(allowlist(mode), {
    fileName: 'allowlist.yaml',
    now: new Date(NOW),
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

const NO_KNOWN_HOSTS: KnownHosts = { sha256: '', size: 0, isKnownMcpHost: () => false };

/** A known-host list whose lookup fails: a fault deep inside decide(). */
const THROWING_KNOWN_HOSTS: KnownHosts = {
  sha256: '',
  size: 1,
  isKnownMcpHost: () => {
    throw new Error('known-host lookup exploded');
  },
};

/** What `current` of the test store does. */
type CurrentBehaviour =
  | { readonly kind: 'snapshot'; readonly snapshot: PolicySnapshot | undefined }
  | { readonly kind: 'throws'; readonly error: Error };

/** A real PolicyStore (never loaded) whose `current` the test decides. */
class TestStore extends PolicyStore {
  behaviour: CurrentBehaviour = { kind: 'snapshot', snapshot: undefined };

  override get current(): PolicySnapshot | undefined {
    if (this.behaviour.kind === 'throws') throw this.behaviour.error;
    return this.behaviour.snapshot;
  }
}

interface Harness {
  readonly deps: AuthzServerDeps;
  readonly store: TestStore;
  readonly registry: Registry;
  readonly logs: Record<string, unknown>[];
}

function harness(behaviour: CurrentBehaviour): Harness {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  const registry = new Registry();
  const metrics: Metrics = createMetrics(registry);
  const store = new TestStore({
    allowlistPath: '/nonexistent/allowlist.yaml',
    knownHostsPath: undefined,
    limits: LIMITS,
    logger,
    metrics,
    now: () => NOW,
  });
  store.behaviour = behaviour;
  return { deps: { store, logger, metrics, now: () => NOW }, store, registry, logs };
}

const SESSION = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
  'mcp-session-id': 'baf1d0a4-1336-41ec-9589-b07357099fec',
};
const DENIED_TOOL_CALL = envoyCheckRequest({
  authority: 'api.githubcopilot.com',
  path: '/mcp/',
  headers: SESSION,
  body: rpc('tools/call', { name: 'delete_repo', arguments: {} }, 7),
});
const CONNECT_UNLISTED = envoyCheckRequest({
  method: 'CONNECT',
  authority: 'mcp.unknown.example:443',
});

/** Runs check(); a throw is reported as a value so the test can assert on it. */
function runCheck(
  h: Harness,
  request = DENIED_TOOL_CALL,
): { response: CheckResponse } | { threw: unknown } {
  try {
    return { response: check(h.deps, request) };
  } catch (err: unknown) {
    return { threw: err };
  }
}

function expectInternalErrorDeny(
  outcome: { response: CheckResponse } | { threw: unknown },
  allowlistVersion: string,
): string {
  expect(outcome, 'check() must answer, never throw').not.toHaveProperty('threw');
  if (!('response' in outcome)) return '';
  const { response } = outcome;
  expect(response.status).toEqual({ code: 7, message: 'internal_error' });
  expect(response.ok_response).toBeUndefined();
  const denied = response.denied_response;
  expect(denied?.status).toEqual({ code: 503 });
  expect(denied?.body).toBe(DEFAULT_DENY_TEXTS.internal_error);
  const keys = (denied?.headers ?? []).map((h) => [h.header.key, h.header.value]);
  expect(keys.slice(0, 2)).toEqual([
    ['content-type', 'text/plain; charset=utf-8'],
    ['x-mcp-gate-reason', 'internal_error'],
  ]);
  const decisionId = denied?.headers?.find((h) => h.header.key === 'x-mcp-gate-decision-id')?.header
    .value;
  expect(isDecisionId(decisionId ?? '')).toBe(true);
  expect(response.dynamic_metadata?.fields).toMatchObject({
    decision_id: { stringValue: decisionId },
    verdict: { stringValue: 'deny' },
    reason: { stringValue: 'internal_error' },
    dry_run: { boolValue: false },
    allowlist_version: { stringValue: allowlistVersion },
  });
  return decisionId ?? '';
}

async function metricsText(registry: Registry): Promise<string> {
  return registry.metrics();
}

describe('check(): faults become internal_error denials', () => {
  test('no allowlist loaded (current is undefined): 503 deny, counted, logged', async () => {
    const h = harness({ kind: 'snapshot', snapshot: undefined });
    const decisionId = expectInternalErrorDeny(runCheck(h), '');
    const text = await metricsText(h.registry);
    expect(text).toContain('mcp_gate_errors_total{code="ERR_CHECK_FAILED"} 1');
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="deny",reason="internal_error",server="none",tool="none",client="none"} 1',
    );
    expect(text).toMatch(/^mcp_gate_check_duration_seconds_count 1$/m);
    const errors = h.logs.filter((l) => l['level'] === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: 'check failed; denied', decision_id: decisionId });
    expect(JSON.stringify(errors[0]?.['err'])).toContain('no allowlist loaded');
  });

  test('the store getter throws: 503 deny, counted, logged', async () => {
    const h = harness({ kind: 'throws', error: new Error('store exploded') });
    expectInternalErrorDeny(runCheck(h), '');
    const text = await metricsText(h.registry);
    expect(text).toContain('mcp_gate_errors_total{code="ERR_CHECK_FAILED"} 1');
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="deny",reason="internal_error",server="none",tool="none",client="none"} 1',
    );
    const errors = h.logs.filter((l) => l['level'] === 'error');
    expect(errors[0]).toMatchObject({ msg: 'check failed; denied' });
    expect(JSON.stringify(errors[0]?.['err'])).toContain('store exploded');
  });

  test.each(['enforce', 'dry-run'] as const)(
    'a fault inside decide() with the policy in %s: still a 503 deny, never an allow',
    async (mode) => {
      const h = harness({
        kind: 'snapshot',
        snapshot: {
          policy: policyOf(mode),
          knownHosts: THROWING_KNOWN_HOSTS,
          limits: LIMITS,
          charsets: ICONV_CHARSETS,
        },
      });
      const outcome = runCheck(h, CONNECT_UNLISTED);
      const decisionId = expectInternalErrorDeny(outcome, '2026.11');
      const text = await metricsText(h.registry);
      expect(text).toContain('mcp_gate_errors_total{code="ERR_CHECK_FAILED"} 1');
      expect(text).toContain(
        'mcp_gate_decisions_total{decision="deny",reason="internal_error",server="none",tool="none",client="none"} 1',
      );
      // Never counted as a dry-run would-deny or an allow, in either family.
      expect(text).not.toMatch(/^mcp_gate_decisions_total\{decision="(would_deny|allow)"/m);
      expect(text).toContain('mcp_gate_denials_total{decision="deny",reason="internal_error"} 1');
      expect(text).toContain(
        'mcp_gate_denials_total{decision="would_deny",reason="internal_error"} 0',
      );
      const error = h.logs.find((l) => l['msg'] === 'check failed; denied');
      expect(error).toMatchObject({ level: 'error', decision_id: decisionId });
      expect(JSON.stringify(error?.['err'])).toContain('known-host lookup exploded');
      // A failed check has no facts to audit: no decision line.
      expect(h.logs.filter((l) => l['msg'] === 'decision')).toEqual([]);
    },
  );

  test('every fault gets its own decision id', () => {
    const h = harness({ kind: 'snapshot', snapshot: undefined });
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const outcome = runCheck(h);
      if ('response' in outcome) {
        const id = outcome.response.dynamic_metadata?.fields?.['decision_id']?.stringValue;
        if (id !== undefined) ids.add(id);
      }
    }
    expect(ids.size).toBe(5);
  });
});

describe('check(): the same path without a fault (contrast)', () => {
  test('dry-run turns a policy deny into an allow with would-deny, unlike a fault', async () => {
    const h = harness({
      kind: 'snapshot',
      snapshot: {
        policy: policyOf('dry-run'),
        knownHosts: NO_KNOWN_HOSTS,
        limits: LIMITS,
        charsets: ICONV_CHARSETS,
      },
    });
    const response = check(h.deps, DENIED_TOOL_CALL);
    expect(response.status.code).toBe(0);
    const headers = response.ok_response?.headers ?? [];
    expect(headers.find((x) => x.header.key === 'x-mcp-gate-would-deny')?.header.value).toBe(
      'tool_not_allowed',
    );
    const text = await metricsText(h.registry);
    expect(text).not.toContain('mcp_gate_errors_total{code=');
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="would_deny",reason="tool_not_allowed",server="github-official",tool="other",client="other"} 1',
    );
    expect(h.logs.find((l) => l['msg'] === 'decision')).toMatchObject({
      decision: 'would_deny',
      dry_run: true,
      reason: 'tool_not_allowed',
    });
  });

  test('enforce: the policy deny itself is not an internal error', async () => {
    const h = harness({
      kind: 'snapshot',
      snapshot: {
        policy: policyOf('enforce'),
        knownHosts: NO_KNOWN_HOSTS,
        limits: LIMITS,
        charsets: ICONV_CHARSETS,
      },
    });
    const response = check(h.deps, DENIED_TOOL_CALL);
    expect(response.status).toEqual({ code: 7, message: 'tool_not_allowed' });
    expect(response.denied_response?.status).toEqual({ code: 200 });
    expect(await metricsText(h.registry)).not.toContain('mcp_gate_errors_total{code=');
  });
});
