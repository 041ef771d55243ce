/**
 * Prometheus metrics. Every label value comes from a closed set or from the allowlist itself, so
 * a flood of random hosts or tool names cannot grow the number of series:
 * - `server`: an entry id, `unlisted` (MCP to no entry) or `none` (not MCP);
 * - `tool`: a tool name only when the entry's tool rules spell it literally, else `other`
 *   (or `none` when no tool was called);
 * - `reason`, `decision`, `result`, `code`: fixed vocabularies.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Decision } from '../core/decision.js';
import type { CompiledPolicy, ToolRule } from '../core/policy/policy.js';
import type { ShedCause } from '../envoy/check-queue.js';

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
}

/** Creates the metrics on the given registry (tests pass a fresh one). */
export function createMetrics(registry: Registry): Metrics {
  const decisions = new Counter({
    name: 'mcp_gate_decisions_total',
    help: 'Authorization decisions by outcome (allow, deny, would_deny in dry-run), reason, server (allowlist entry) and tool.',
    labelNames: ['decision', 'reason', 'server', 'tool'] as const,
    registers: [registry],
  });
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
  // Created on first use: an unset gauge would read 0, and an expiry alert would then fire for
  // every cleartext deployment.
  let tlsExpiry: Gauge | undefined;
  for (const result of ['success', 'failure'] as const) reloads.inc({ result }, 0);
  for (const cause of ['queue_full', 'deadline_exceeded', 'cancelled'] as const) {
    shed.inc({ cause }, 0);
  }

  return {
    recordDecision(decision, seconds) {
      const outcome = decision.dryRun ? 'would_deny' : decision.verdict;
      decisions.inc({
        decision: outcome,
        reason: decision.reason,
        server: serverLabel(decision),
        tool: toolLabel(decision),
      });
      duration.observe(seconds);
    },
    recordReload(result, policy, nowMs) {
      reloads.inc({ result });
      if (result === 'success' && policy !== undefined) {
        entries.set(policy.entries.length);
        lastSuccess.set(nowMs / 1000);
        info.reset();
        info.set({ version: policy.version, sha256: policy.sha256 }, 1);
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
