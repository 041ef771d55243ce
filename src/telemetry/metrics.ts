/**
 * Prometheus metrics. Every label value comes from a closed set or from the allowlist itself, so
 * a flood of random hosts, tool names or client names cannot grow the number of series:
 * - `server`: an entry id, `unlisted` (MCP to no entry) or `none` (not MCP);
 * - `tool`: a tool name only when the entry's tool rules spell it literally, else `other`
 *   (or `none` when no tool was called);
 * - `client`: one of CLIENT_NAMES (src/core/mcp/client.ts), whatever the request claims;
 * - `reason`, `decision`, `result`, `code`, `cause`: fixed vocabularies.
 * So `mcp_gate_decisions_total` has at most 3 decisions × 11 reasons × (entries + 2) servers ×
 * (literal tool names + 2) × 13 clients series, a product of the allowlist's size and constants;
 * test/integration/metrics-flood.test.ts floods random hosts, tools and clients and checks that
 * the count does not move.
 *
 * Series that alert rules read with increase() exist from start-up at 0
 * (deploy/prometheus/rules.yaml): a counter series born at 1 has no earlier sample, so
 * increase() cannot see its first event, and the first unapproved attempt after a restart would
 * go unalerted. `mcp_gate_decisions_total` cannot be pre-created (its label sets depend on the
 * request), hence `mcp_gate_denials_total`, the same denials by reason alone.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Decision } from '../core/decision.js';
import { DENY_REASONS } from '../core/policy/policy.js';
import type { CompiledPolicy, ToolRule } from '../core/policy/policy.js';
import { createApprovalExpiry } from './approval-expiry.js';

/**
 * Why a check was answered without inspection: the `cause` label of
 * `mcp_gate_checks_shed_total`. Declared here, beside the series it pre-creates, for the queue
 * that sheds (src/envoy/check-queue.ts), so that telemetry/ imports nothing of the edge.
 * - `queue_full`: the queue was full at admission (denied as overloaded);
 * - `deadline_exceeded`: Envoy had stopped waiting when its turn came (denied as overloaded);
 * - `cancelled`: the caller went away before its turn (nobody left to answer).
 */
export const SHED_CAUSES = ['queue_full', 'deadline_exceeded', 'cancelled'] as const;
export type ShedCause = (typeof SHED_CAUSES)[number];

export interface Metrics {
  /** Records one decision and how long the Check took. */
  recordDecision(decision: Decision, seconds: number): void;
  /** Records an allowlist (re)load attempt. */
  recordReload(
    result: 'success' | 'failure',
    policy: CompiledPolicy | undefined,
    nowMs: number,
  ): void;
  /** Counts one re-render of Envoy's interception config (serve --envoy-render-dir). */
  recordEnvoyRender(result: 'success' | 'failure'): void;
  /** Counts an internal error by code. */
  recordError(code: string): void;
  /** Counts a check dropped without inspection (see src/envoy/check-queue.ts). */
  recordShed(cause: ShedCause): void;
  /** Reports the check queue's depth at every scrape. */
  observeQueue(depth: () => number): void;
  /** The gRPC serving certificate now in use expires at this epoch ms (TLS listeners only). */
  recordTlsCertificate(notAfterMs: number): void;
  /** Reports, at every scrape, the log lines the log output has dropped (log-output.ts). */
  observeDroppedLogLines(total: () => number): void;
}

/** Creates the metrics on the given registry (tests pass a fresh one). */
export function createMetrics(registry: Registry): Metrics {
  const decisions = new Counter({
    name: 'mcp_gate_decisions_total',
    help: 'Authorization decisions by outcome (allow, deny, would_deny in dry-run), reason, server (allowlist entry), tool and AI client (self-reported, from a fixed list).',
    labelNames: ['decision', 'reason', 'server', 'tool', 'client'] as const,
    registers: [registry],
  });
  const denials = new Counter({
    name: 'mcp_gate_denials_total',
    help: 'Denials (deny, or would_deny in dry-run) by reason only: the same events as mcp_gate_decisions_total, but every series exists from start-up at 0, so an increase() alert sees the first one after a restart.',
    labelNames: ['decision', 'reason'] as const,
    registers: [registry],
  });
  const approvalExpiry = createApprovalExpiry(registry);
  const duration = new Histogram({
    name: 'mcp_gate_check_duration_seconds',
    help: 'Time spent answering one Check, from request decoded to response handed to gRPC.',
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const entries = new Gauge({
    name: 'mcp_gate_allowlist_entries',
    help: 'Entries in the allowlist in force.',
    registers: [registry],
    // Under --workers, the primary merges the workers' metrics (src/cluster/primary.ts):
    // state every worker holds is reported once, not summed; counters are summed.
    aggregator: 'max',
  });
  const reloads = new Counter({
    name: 'mcp_gate_allowlist_reloads_total',
    help: 'Allowlist load attempts by result (success, failure). A failure keeps the last good allowlist.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: 'mcp_gate_allowlist_last_reload_success_timestamp_seconds',
    help: 'Unix time of the last successful allowlist load.',
    registers: [registry],
    // The worker that has gone longest without a successful load.
    aggregator: 'min',
  });
  const info = new Gauge({
    name: 'mcp_gate_allowlist_info',
    help: 'The allowlist in force: its version label and the SHA-256 of the file. Always 1.',
    labelNames: ['version', 'sha256'] as const,
    registers: [registry],
    aggregator: 'max',
  });
  const errors = new Counter({
    name: 'mcp_gate_errors_total',
    help: 'Internal errors by code; each was answered with a deny (reason internal_error).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const shed = new Counter({
    name: 'mcp_gate_checks_shed_total',
    help: 'Checks answered without inspection, by cause: queue_full and deadline_exceeded were denied as overloaded; cancelled ones had nobody left to answer.',
    labelNames: ['cause'] as const,
    registers: [registry],
  });
  const envoyRenders = new Counter({
    name: 'mcp_gate_envoy_renders_total',
    help: "Re-renders of Envoy's interception config after an allowlist load, by result. A failure keeps the last good files and never affects decisions.",
    labelNames: ['result'] as const,
    registers: [registry],
  });
  let queueDepth = (): number => 0;
  new Gauge({
    name: 'mcp_gate_check_queue_depth',
    help: 'Checks admitted and waiting for their turn (bounded by --max-pending-checks).',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  let droppedLines = (): number => 0;
  let droppedReported = 0;
  const droppedLogLines = new Counter({
    name: 'mcp_gate_audit_lines_dropped_total',
    help: 'Log lines (audit and operational) dropped whole because stdout was not read fast enough and the log buffer (--log-buffer-bytes) was full; Checks never wait for the log.',
    registers: [registry],
    collect() {
      // The output counts on its own (it exists before these metrics): report what is new.
      const total = droppedLines();
      if (total > droppedReported) this.inc(total - droppedReported);
      droppedReported = Math.max(droppedReported, total);
    },
  });
  droppedLogLines.inc(0);
  // Created on first use: an unset gauge would read 0, and an expiry alert would then fire for
  // every cleartext deployment.
  let tlsExpiry: Gauge | undefined;
  for (const result of ['success', 'failure'] as const) reloads.inc({ result }, 0);
  for (const cause of SHED_CAUSES) shed.inc({ cause }, 0);
  for (const result of ['success', 'failure'] as const) envoyRenders.inc({ result }, 0);
  for (const decision of ['deny', 'would_deny'] as const) {
    for (const reason of DENY_REASONS) denials.inc({ decision, reason }, 0);
  }

  return {
    recordDecision(decision, seconds) {
      const outcome = decision.dryRun ? 'would_deny' : decision.verdict;
      decisions.inc({
        decision: outcome,
        reason: decision.reason,
        server: serverLabel(decision),
        tool: toolLabel(decision),
        client: decision.client,
      });
      if (outcome !== 'allow') denials.inc({ decision: outcome, reason: decision.reason });
      duration.observe(seconds);
    },
    recordReload(result, policy, nowMs) {
      reloads.inc({ result });
      if (result === 'success' && policy !== undefined) {
        entries.set(policy.entries.length);
        lastSuccess.set(nowMs / 1000);
        info.reset();
        info.set({ version: policy.version, sha256: policy.sha256 }, 1);
        approvalExpiry.show(policy);
      }
    },
    recordError(code) {
      errors.inc({ code });
    },
    recordEnvoyRender(result) {
      envoyRenders.inc({ result });
    },
    recordShed(cause) {
      shed.inc({ cause });
    },
    observeQueue(depth) {
      queueDepth = depth;
    },
    observeDroppedLogLines(total) {
      droppedLines = total;
    },
    recordTlsCertificate(notAfterMs) {
      tlsExpiry ??= new Gauge({
        name: 'mcp_gate_grpc_tls_certificate_expiry_timestamp_seconds',
        help: 'Unix time at which the gRPC serving certificate in use expires (its notAfter); alert well before it.',
        registers: [registry],
        // Under --workers: the worker serving the oldest certificate.
        aggregator: 'min',
      });
      tlsExpiry.set(notAfterMs / 1000);
    },
  };
}

function serverLabel(decision: Decision): string {
  if (decision.entry !== undefined) return decision.entry.id;
  return decision.isMcp ? 'unlisted' : 'none';
}

/** Per tool rule, the names its patterns spell literally; built once per rule, not per decision. */
const literalToolNames = new WeakMap<ToolRule, ReadonlySet<string>>();

function toolLabel(decision: Decision): string {
  const tool = decision.tool;
  if (tool === undefined) return 'none';
  const rules = decision.entry?.tools;
  if (rules === undefined) return 'other';
  let literals = literalToolNames.get(rules);
  if (literals === undefined) {
    literals = new Set([...rules.deny, ...(rules.allow ?? [])]);
    literalToolNames.set(rules, literals);
  }
  return literals.has(tool) ? tool : 'other';
}
