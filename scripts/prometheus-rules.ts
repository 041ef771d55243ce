/**
 * `npm run prometheus:rules [-- --check]`: writes mcp-gate's alert rules twice from the one list
 * below: deploy/prometheus/rules.yaml (Prometheus rule groups, for `rule_files:`) and
 * deploy/prometheus/prometheus-rule.yaml (the same groups in a prometheus-operator
 * PrometheusRule). Edit ALERTS, never the YAML; with --check nothing is written and it exits 1
 * when a committed file differs (test/integration/prometheus-rules.test.ts runs the same check,
 * then `promtool check rules` and `promtool test rules` on test/fixtures/prometheus/).
 *
 * Conventions of the monitoring mixins: CamelCase names with the one prefix `McpGate`, a
 * `severity` label (critical pages, warning tickets), and `summary`, `description` and
 * `runbook_url` annotations; each runbook is the section of docs/monitoring.md named after the
 * alert. mcp-gate's series are selected by `job="mcp-gate"`, the job the ServiceMonitor in
 * deploy/kubernetes/components/monitoring produces; Envoy's by the ext_authz stat prefixes of
 * envoy/*.yaml and src/envoy-render/fragments.ts, whatever job scrapes Envoy.
 *
 * Every increase() here reads a series that exists from start-up at 0 (src/telemetry/metrics.ts;
 * Envoy creates its filter counters with the filter), so the first event after a restart counts.
 */
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { stringify } from 'yaml';
import { driftedFiles, ROOT, runGenerator } from './generated-files.js';

export const RULES_FILE = 'deploy/prometheus/rules.yaml';
export const PROMETHEUS_RULE_FILE = 'deploy/prometheus/prometheus-rule.yaml';
/**
 * Where `runbook_url` points: the runbook document, a section per alert. A repository-relative
 * path until the docs are served somewhere; set the published URL here and regenerate.
 */
export const RUNBOOK_DOC = 'docs/monitoring.md';

/** mcp-gate's own series. */
const JOB = 'job="mcp-gate"';
/** The HTTP ext_authz filter's stat_prefix (envoy/*.yaml), a label in Envoy's Prometheus output. */
const ENVOY_HTTP = 'envoy_ext_authz_prefix="mcp_gate"';
/**
 * The network ext_authz filter (transparent mode, stat_prefix `mcp_gate_sni`): Envoy extracts no
 * tag from its stat names, so the prefix stays in the metric name.
 */
const ENVOY_SNI = 'envoy_ext_authz_mcp_gate_sni';

/** The Check latency budget's alert threshold, in seconds (see McpGateCheckLatencyHigh). */
const LATENCY_THRESHOLD_SECONDS = 0.0025;

export interface AlertSpec {
  /** `McpGate…`; also the runbook section's heading in docs/monitoring.md. */
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: 'critical' | 'warning';
  readonly summary: string;
  readonly description: string;
}

/** Hosts behind unapproved attempts in the last 15 minutes, from the discovery gauge. */
const RECENT_SHADOW_HOSTS = `topk(5, (sum by (host) (mcp_gate_discovered_attempts{${JOB}}) - (sum by (host) (mcp_gate_discovered_attempts{${JOB}} offset 15m) or sum by (host) (mcp_gate_discovered_attempts{${JOB}}) * 0)) > 0)`;

/** The alerts, in the order of docs/monitoring.md. */
export const ALERTS: readonly AlertSpec[] = [
  {
    alert: 'McpGateUnapprovedMcpAttempt',
    expr: `sum by (namespace, job) (increase(mcp_gate_denials_total{${JOB}, reason="unapproved"}[15m])) > 0`,
    for: '0m',
    severity: 'warning',
    summary: 'MCP traffic to a server no allowlist entry approves.',
    description:
      'Requests to unapproved MCP servers in the last 15 minutes (denied, or let through by dry-run). ' +
      `Hosts tried: {{ range query \`${RECENT_SHADOW_HOSTS}\` }}{{ .Labels.host }} ({{ .Value }}) {{ end }}` +
      '(GET /discovery has them all; mcp-gate discover drafts entries from it).',
  },
  {
    alert: 'McpGateApprovalExpiringSoon',
    expr: `(min by (namespace, job, server) (mcp_gate_approval_expiry_timestamp_seconds{${JOB}}) - time()) < 14 * 86400 > 0`,
    for: '1h',
    severity: 'warning',
    summary: 'An allowlist approval expires within 14 days.',
    description:
      'Entry {{ $labels.server }} expires in {{ $value | humanizeDuration }}; from then on every request to it is denied with reason expired. Renew its review (ticket, date, expires_on) before then.',
  },
  {
    alert: 'McpGateExpiredApprovalInUse',
    expr: `sum by (namespace, job) (increase(mcp_gate_denials_total{${JOB}, reason="expired"}[15m])) > 0`,
    for: '0m',
    severity: 'warning',
    summary: 'People still use an MCP server whose approval has expired.',
    description:
      'Requests to an allowlist entry past its expires_on in the last 15 minutes (denied, or let through by dry-run). ' +
      `Expired entries: {{ range query \`max by (server) (mcp_gate_approval_expiry_timestamp_seconds{${JOB}}) <= time()\` }}{{ .Labels.server }} {{ end }}` +
      '(renew the review, or remove the entry and tell its users).',
  },
  {
    alert: 'McpGateAllowlistReloadFailing',
    expr: `sum by (namespace, job) (increase(mcp_gate_allowlist_reloads_total{${JOB}, result="failure"}[15m])) > 0`,
    for: '0m',
    severity: 'warning',
    summary: 'An allowlist reload was rejected; the last good allowlist stays in force.',
    description:
      'The allowlist file changed but could not be loaded in the last 15 minutes, so the change did not take effect. The error line "allowlist reload rejected" lists why; mcp-gate validate shows the same.',
  },
  {
    alert: 'McpGateCheckLatencyHigh',
    expr: `histogram_quantile(0.99, sum by (namespace, job, le) (rate(mcp_gate_check_duration_seconds_bucket{${JOB}}[5m]))) > ${String(LATENCY_THRESHOLD_SECONDS)}`,
    for: '10m',
    severity: 'warning',
    summary: 'Check latency p99 is over budget.',
    description:
      'The 99th percentile of time spent in a Check is {{ $value | humanizeDuration }}, over 2.5 ms for 10 minutes (the end-to-end budget is 1.5 ms at 1,000 req/s; Envoy gives up after 1 s and denies).',
  },
  {
    alert: 'McpGateChecksShed',
    expr: `sum by (namespace, job) (increase(mcp_gate_checks_shed_total{${JOB}, cause=~"queue_full|deadline_exceeded"}[5m])) > 0`,
    for: '0m',
    severity: 'warning',
    summary: 'mcp-gate is overloaded and sheds Checks.',
    description:
      'In the last 5 minutes Checks were answered without inspection and denied as overloaded (503): the queue was full (--max-pending-checks) or a check waited past its deadline.',
  },
  {
    alert: 'McpGateDown',
    expr: `up{${JOB}} == 0 or absent(up{${JOB}})`,
    for: '5m',
    severity: 'critical',
    summary: 'mcp-gate is down or not scraped.',
    description:
      'No successful scrape of job mcp-gate{{ with $labels.instance }} at {{ . }}{{ end }} for 5 minutes. Envoy fails closed: MCP traffic it sends to an mcp-gate that does not answer is denied with 503.',
  },
  {
    alert: 'McpGateAuditLinesDropped',
    expr: `sum by (namespace, job, instance) (increase(mcp_gate_audit_lines_dropped_total{${JOB}}[15m])) > 0`,
    for: '0m',
    severity: 'warning',
    summary: 'mcp-gate dropped audit log lines.',
    description:
      '{{ $labels.instance }} dropped log lines in the last 15 minutes because nothing read its stdout fast enough; decisions went on, but the audit trail has gaps.',
  },
  {
    alert: 'McpGateGrpcTlsCertificateExpiringSoon',
    expr: `min by (namespace, job, instance) (mcp_gate_grpc_tls_certificate_expiry_timestamp_seconds{${JOB}}) - time() < 7 * 86400`,
    for: '1h',
    severity: 'warning',
    summary: "mcp-gate's gRPC serving certificate expires within 7 days.",
    description:
      'The certificate {{ $labels.instance }} serves to Envoy expires in {{ $value | humanizeDuration }} (negative: expired). Once expired, Envoy refuses the TLS handshake and denies MCP traffic.',
  },
  {
    alert: 'McpGateEnvoyRenderFailing',
    expr: `sum by (namespace, job) (increase(mcp_gate_envoy_renders_total{${JOB}, result="failure"}[15m])) > 0`,
    for: '0m',
    severity: 'warning',
    summary: "Envoy's interception config could not be re-rendered.",
    description:
      'After an allowlist load, writing the interception config for Envoy failed in the last 15 minutes; Envoy keeps the files of the last good render, so interception lags the allowlist.',
  },
  {
    alert: 'McpGateEnvoyExtAuthzErrors',
    expr: `sum by (namespace, job) (increase(envoy_http_ext_authz_error{${ENVOY_HTTP}}[5m]) or increase(${ENVOY_SNI}_error[5m])) > 0`,
    for: '0m',
    severity: 'warning',
    summary: 'Envoy could not get an answer from mcp-gate.',
    description:
      'Envoy {{ $labels.job }} counted ext_authz errors in the last 5 minutes (mcp-gate unreachable, timed out or answering with a gRPC error); with failure_mode_allow false each such request was denied.',
  },
  {
    alert: 'McpGateEnvoyFailOpen',
    expr: `sum by (namespace, job) (increase(envoy_http_ext_authz_failure_mode_allowed{${ENVOY_HTTP}}[5m]) or increase(${ENVOY_SNI}_failure_mode_allowed[5m])) > 0`,
    for: '0m',
    severity: 'critical',
    summary: 'Envoy let MCP traffic through without a decision (failure_mode_allow).',
    description:
      'Envoy {{ $labels.job }} allowed requests unchecked in the last 5 minutes because mcp-gate failed and failure_mode_allow is true. The allowlist was not enforced for them: a security incident.',
  },
];

/** The runbook section of an alert: the GitHub-style anchor of its heading. */
export function runbookUrl(alert: string): string {
  return `${RUNBOOK_DOC}#${alert.toLowerCase()}`;
}

/** The rule groups, as both files hold them. */
export function ruleGroups(): unknown[] {
  return [
    {
      name: 'mcp-gate',
      rules: ALERTS.map((a) => ({
        alert: a.alert,
        expr: a.expr,
        for: a.for,
        labels: { severity: a.severity },
        annotations: {
          summary: a.summary,
          description: a.description,
          runbook_url: runbookUrl(a.alert),
        },
      })),
    },
  ];
}

const HEADER = `# Generated by scripts/prometheus-rules.ts (npm run prometheus:rules): edit the list there, not
# this file. Runbooks: ${RUNBOOK_DOC}.
`;

/** Both files' text, formatted as the repository's Prettier would. */
export async function renderRuleFiles(): Promise<Map<string, string>> {
  const rules = stringify({ groups: ruleGroups() }, { lineWidth: 0 });
  const operator = stringify(
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: 'mcp-gate',
        labels: { 'app.kubernetes.io/name': 'mcp-gate', 'app.kubernetes.io/part-of': 'mcp-gate' },
      },
      spec: { groups: ruleGroups() },
    },
    { lineWidth: 0 },
  );
  const options = (await resolveConfig(path.join(ROOT, RULES_FILE))) ?? {};
  const pretty = (text: string): Promise<string> =>
    format(HEADER + text, { ...options, parser: 'yaml' });
  return new Map([
    [RULES_FILE, await pretty(rules)],
    [PROMETHEUS_RULE_FILE, await pretty(operator)],
  ]);
}

/** The generated files whose committed copy differs (missing counts as differing). */
export async function staleRuleFiles(): Promise<string[]> {
  return driftedFiles(await renderRuleFiles());
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  process.exitCode = await runGenerator(await renderRuleFiles(), 'npm run prometheus:rules');
}
