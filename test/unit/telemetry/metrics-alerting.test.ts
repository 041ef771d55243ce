/**
 * The metrics the alert rules (deploy/prometheus/rules.yaml) read: the series an increase()
 * alert needs exist at 0 before any event, the client label, and the approval expiry gauge.
 */
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';

import { parseAllowlist } from '../../../src/config/load-allowlist.js';
import type { Decision } from '../../../src/core/decision.js';
import { NO_PRINCIPAL } from '../../../src/core/policy/identity.js';
import { DENY_REASONS } from '../../../src/core/policy/policy.js';
import type { CompiledPolicy } from '../../../src/core/policy/policy.js';
import { EXPIRY_SLICE } from '../../../src/telemetry/approval-expiry.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { githubAllowlist } from '../../helpers/github-allowlist.js';
import { turnTally } from '../../helpers/turn-tally.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

const WIKI = `  - id: internal-wiki
    host: wiki.corp.example
    transport: http
    review_ticket: SEC-5001
    reviewed_by: security-platform
    reviewed_on: 2026-10-18
    expires_on: 2026-12-01
`;

function policyOf(text: string): CompiledPolicy {
  const result = parseAllowlist(text, { fileName: 'allowlist.yaml', now: new Date(NOW) });
  if (!result.ok) throw new Error('test allowlist is invalid');
  return result.policy;
}

/** A decision for the metrics to count; each call below names a consistent verdict and reason. */
function decision(overrides: Partial<Decision>): Decision {
  const built = {
    id: 'decision-id',
    verdict: 'deny',
    reason: 'unapproved',
    detail: undefined,
    dryRun: false,
    entry: undefined,
    server: 'shadow.example',
    tool: undefined,
    isMcp: true,
    client: 'other',
    principal: NO_PRINCIPAL,
    rules: [],
    condition: undefined,
    toolLevel: false,
    allowlistVersion: '2026.11',
    explanation: 'test',
    ...overrides,
  };
  return built as Decision;
}

describe('series alert rules read with increase() exist from start-up at 0', () => {
  test('before any event', async () => {
    const registry = new Registry();
    createMetrics(registry);
    const text = await registry.metrics();
    for (const decisionLabel of ['deny', 'would_deny']) {
      for (const reason of DENY_REASONS) {
        expect(text).toContain(
          `mcp_gate_denials_total{decision="${decisionLabel}",reason="${reason}"} 0\n`,
        );
      }
    }
    expect(text).toContain('mcp_gate_allowlist_reloads_total{result="failure"} 0\n');
    expect(text).toContain('mcp_gate_envoy_renders_total{result="failure"} 0\n');
    expect(text).toContain('mcp_gate_checks_shed_total{cause="queue_full"} 0\n');
    expect(text).toContain('mcp_gate_checks_shed_total{cause="deadline_exceeded"} 0\n');
    // decisions_total, by contrast, has no series until the first decision: the reason the
    // alerts read mcp_gate_denials_total.
    expect(text).not.toMatch(/^mcp_gate_decisions_total\{/m);
  });

  test('a denial and a dry-run would-deny count in both families; an allow only in decisions', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    metrics.recordDecision(decision({ client: 'cursor' }), 0.001);
    metrics.recordDecision(
      decision({ verdict: 'allow', dryRun: true, client: 'claude-code' }),
      0.001,
    );
    metrics.recordDecision(
      decision({ verdict: 'allow', reason: 'not_mcp', isMcp: false, client: 'none' }),
      0.001,
    );
    const text = await registry.metrics();
    expect(text).toContain('mcp_gate_denials_total{decision="deny",reason="unapproved"} 1\n');
    expect(text).toContain('mcp_gate_denials_total{decision="would_deny",reason="unapproved"} 1\n');
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="deny",reason="unapproved",server="unlisted",tool="none",client="cursor"} 1\n',
    );
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="would_deny",reason="unapproved",server="unlisted",tool="none",client="claude-code"} 1\n',
    );
    expect(text).toContain(
      'mcp_gate_decisions_total{decision="allow",reason="not_mcp",server="none",tool="none",client="none"} 1\n',
    );
    expect(text).not.toMatch(/mcp_gate_denials_total\{[^}]*reason="not_mcp"/);
  });
});

describe('mcp_gate_approval_expiry_timestamp_seconds', () => {
  const NAME = 'mcp_gate_approval_expiry_timestamp_seconds';

  test('each entry: the first instant it is expired (the UTC day after expires_on)', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    expect(await registry.metrics()).not.toMatch(new RegExp(`^${NAME}\\{`, 'm'));
    const policy = policyOf(githubAllowlist({ expiresOn: '2027-04-18', extraEntries: WIKI }));
    metrics.recordReload('success', policy, NOW);
    const text = await registry.metrics();
    expect(text).toContain(
      `${NAME}{server="github-official"} ${String(Date.UTC(2027, 3, 19) / 1000)}\n`,
    );
    expect(text).toContain(
      `${NAME}{server="internal-wiki"} ${String(Date.UTC(2026, 11, 2) / 1000)}\n`,
    );
    // The same instant decide() starts answering `expired` from.
    const wiki = policy.entries.find((e) => e.id === 'internal-wiki');
    expect(wiki?.expiresAtMs).toBe(Date.UTC(2026, 11, 2));
  });

  test('a reload replaces the set: a removed entry loses its series; a failed one changes nothing', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    metrics.recordReload('success', policyOf(githubAllowlist({ extraEntries: WIKI })), NOW);
    expect(await registry.metrics()).toContain(`${NAME}{server="internal-wiki"}`);
    metrics.recordReload('failure', undefined, NOW);
    expect(await registry.metrics()).toContain(`${NAME}{server="internal-wiki"}`);
    metrics.recordReload('success', policyOf(githubAllowlist()), NOW);
    const text = await registry.metrics();
    expect(text).not.toContain(`${NAME}{server="internal-wiki"}`);
    expect(text).toContain(`${NAME}{server="github-official"}`);
  });

  test('a large set is refilled a slice per turn of the event loop; scrapes meanwhile wait for all of it', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    const tally = turnTally();
    const entries = Array.from({ length: 2001 }, (_, i) =>
      tally.watch({ id: `e${i}`, expiresAtMs: Date.UTC(2027, 3, 19) }, 'id'),
    );
    const policy = { ...policyOf(githubAllowlist()), entries } as unknown as CompiledPolicy;
    metrics.recordReload('success', policy, NOW);
    const { result, perTurn } = await tally.during(() =>
      Promise.all([registry.metrics(), registry.metrics()]),
    );
    for (const text of result) {
      expect(text.match(new RegExp(`^${NAME}\\{`, 'gm'))).toHaveLength(2001);
    }
    expect(perTurn).toHaveLength(Math.ceil(2001 / EXPIRY_SLICE));
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(500);
  });
});
