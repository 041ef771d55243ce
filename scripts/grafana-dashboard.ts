/**
 * `npm run grafana:dashboard [-- --check]`: writes deploy/grafana/mcp-gate.json, the Grafana
 * dashboard, from the panel list below, so that every panel gets the same datasource, the same
 * job/instance filter and a layout without gaps or overlaps. Edit PANELS, never the JSON; with
 * --check nothing is written and it exits 1 when the committed file differs (the dashboard test
 * runs the same comparison).
 *
 * The file is Grafana's classic dashboard model (what file provisioning and the dashboard
 * sidecar load), typed here by @grafana/schema, Grafana's own generated types of that model, and
 * at the schemaVersion that package's defaultDashboard carries (the test compares them). The datasource is the variable `datasource`; `job` and
 * `instance` are chosen from the series mcp-gate itself exports, so nothing names a deployment.
 * test/integration/prometheus.test.ts runs every query against a real Prometheus scraping
 * mcp-gate.
 */
import path from 'node:path';
import {
  DashboardCursorSync,
  FieldColorModeId,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/schema';
import type { Dashboard, GridPos, Panel, RowPanel, VariableModel } from '@grafana/schema';
import { format, resolveConfig } from 'prettier';
import { ROOT, runGenerator } from './generated-files.js';

export const DASHBOARD_FILE = 'deploy/grafana/mcp-gate.json';
export const DASHBOARD_UID = 'mcp-gate';
/** Grafana's classic model version this file is written in (see the module comment). */
export const SCHEMA_VERSION = 42;
/** Grafana's grid is 24 columns wide. */
export const GRID_COLUMNS = 24;

/** The one filter of every mcp-gate query: the job and instances picked at the top. */
const SELECTED = 'job=~"$job", instance=~"$instance"';
/**
 * Envoy's HTTP ext_authz filter stats carry the filter's stat_prefix, `mcp_gate` in envoy/*.yaml,
 * as a label; the network filter of envoy/transparent.yaml (stat_prefix `mcp_gate_sni`) gets no
 * label from Envoy, so its prefix is part of the metric name.
 */
const ENVOY_HTTP_EXT_AUTHZ = (stat: string): string =>
  `envoy_http_ext_authz_${stat}{envoy_ext_authz_prefix="mcp_gate"}`;
const ENVOY_SNI_EXT_AUTHZ = (stat: string): string => `envoy_ext_authz_mcp_gate_sni_${stat}`;
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** One PromQL query of a panel. */
export interface PanelQuery {
  readonly expr: string;
  readonly legend?: string;
  /** Evaluated once at the end of the range (tables, bar gauges, stats), not as a series. */
  readonly instant?: boolean;
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly type: 'timeseries' | 'bargauge' | 'table' | 'stat';
  readonly width: number;
  readonly height: number;
  readonly unit: string;
  readonly queries: readonly PanelQuery[];
  /**
   * Whose metrics the panel shows: mcp-gate's own, or Envoy's (scraped separately from Envoy's
   * admin /stats/prometheus, so empty where nobody scrapes Envoy).
   */
  readonly source: 'mcp-gate' | 'envoy';
  /** Threshold steps (colour from value upward); the first applies from minus infinity. */
  readonly thresholds?: readonly (readonly [string, number | null])[];
  readonly stack?: boolean;
}

export interface RowSpec {
  readonly row: string;
}

const rate = (selector: string): string => `rate(${selector}[$__rate_interval])`;
const decisions = (matchers: string): string =>
  `mcp_gate_decisions_total{${matchers}${matchers === '' ? '' : ', '}${SELECTED}}`;
const latency = (quantile: number): PanelQuery => ({
  expr: `histogram_quantile(${quantile}, sum by (le) (${rate(`mcp_gate_check_duration_seconds_bucket{${SELECTED}}`)}))`,
  legend: `p${quantile * 100}`,
});
const envoyOutcome = (stat: string): PanelQuery => ({
  expr: `sum(${rate(ENVOY_HTTP_EXT_AUTHZ(stat))} or ${rate(ENVOY_SNI_EXT_AUTHZ(stat))})`,
  legend: stat,
});

/** The dashboard, top to bottom; rows start a new band of the grid. */
export const PANELS: readonly (PanelSpec | RowSpec)[] = [
  { row: 'Blocked MCP traffic' },
  {
    title: 'Blocked MCP attempts by reason',
    description:
      'Denied checks per second by deny reason (unapproved, tool_not_allowed, expired, …). Dry-run entries are not in here: see "Dry-run: would deny".',
    type: 'timeseries',
    width: 12,
    height: 8,
    unit: 'reqps',
    source: 'mcp-gate',
    stack: true,
    queries: [
      { expr: `sum by (reason) (${rate(decisions('decision="deny"'))})`, legend: '{{reason}}' },
    ],
  },
  {
    title: 'Allowed vs denied MCP requests',
    description:
      'MCP requests per second by outcome: allow, deny, and would_deny (allowed by dry-run). Traffic that is not MCP passes untouched and is left out.',
    type: 'timeseries',
    width: 12,
    height: 8,
    unit: 'reqps',
    source: 'mcp-gate',
    queries: [
      {
        expr: `sum by (decision) (${rate(decisions('server!="none"'))})`,
        legend: '{{decision}}',
      },
    ],
  },
  {
    title: 'Top shadow servers',
    description:
      'The unapproved MCP servers people try most, by host, from the discovery table of each replica (attempts since that replica started). GET /discovery and `mcp-gate discover` turn them into draft allowlist entries.',
    type: 'bargauge',
    width: 8,
    height: 9,
    unit: 'short',
    source: 'mcp-gate',
    queries: [
      {
        expr: `topk(10, sum by (host) (mcp_gate_discovered_attempts{${SELECTED}}))`,
        legend: '{{host}}',
        instant: true,
      },
    ],
  },
  {
    title: 'Top blocked tools',
    description:
      'Tool calls denied in the selected time range, by entry and tool. A tool is named only when the entry\'s tool rules spell it; other names count as "other" (unlisted servers always do), so the number of series stays bounded.',
    type: 'bargauge',
    width: 8,
    height: 9,
    unit: 'short',
    source: 'mcp-gate',
    queries: [
      {
        expr: `topk(10, sum by (server, tool) (increase(${decisions('decision="deny", tool!="none"')}[$__range])))`,
        legend: '{{server}} / {{tool}}',
        instant: true,
      },
    ],
  },
  {
    title: 'Blocked attempts by AI client',
    description:
      'Denied MCP requests per second by AI client (Claude Code, Cursor, VS Code, …; "other" when no rule matched). Clients name themselves, so this is a label, not an identity.',
    type: 'timeseries',
    width: 8,
    height: 9,
    unit: 'reqps',
    source: 'mcp-gate',
    stack: true,
    queries: [
      { expr: `sum by (client) (${rate(decisions('decision="deny"'))})`, legend: '{{client}}' },
    ],
  },
  {
    title: 'Dry-run: would deny',
    description:
      'Requests that enforcement would deny, per second, for the entries (or the whole allowlist) in dry-run mode: what switching to enforce would block.',
    type: 'timeseries',
    width: 24,
    height: 7,
    unit: 'reqps',
    source: 'mcp-gate',
    queries: [
      {
        expr: `sum by (server, reason) (${rate(decisions('decision="would_deny"'))})`,
        legend: '{{server}}: {{reason}}',
      },
    ],
  },
  { row: 'Approvals and the allowlist' },
  {
    title: 'Approvals by days to expiry',
    description:
      'Days until each approved entry expires (its expires_on), soonest first. Orange from 14 days out, red once expired: renew the review or remove the entry.',
    type: 'bargauge',
    width: 12,
    height: 9,
    unit: 'd',
    source: 'mcp-gate',
    thresholds: [
      ['red', null],
      ['orange', 0],
      ['green', 14],
    ],
    queries: [
      {
        expr: `sort((min by (server) (mcp_gate_approval_expiry_timestamp_seconds{${SELECTED}}) - time()) / 86400)`,
        legend: '{{server}}',
        instant: true,
      },
    ],
  },
  {
    title: 'Allowlist in force by instance',
    description:
      'The allowlist each instance enforces: its version label and the SHA-256 of the file. More than one row per version means the replicas disagree (a rollout, or a failed reload).',
    type: 'table',
    width: 12,
    height: 9,
    unit: 'short',
    source: 'mcp-gate',
    queries: [
      {
        expr: `max by (instance, version, sha256) (mcp_gate_allowlist_info{${SELECTED}})`,
        instant: true,
      },
    ],
  },
  {
    title: 'Failed allowlist loads',
    description:
      'Loads that failed in the selected range. A failed load keeps the last good allowlist; the log says what was wrong.',
    type: 'stat',
    width: 12,
    height: 4,
    unit: 'short',
    source: 'mcp-gate',
    thresholds: [
      ['green', null],
      ['red', 1],
    ],
    queries: [
      {
        expr: `sum(increase(mcp_gate_allowlist_reloads_total{result="failure", ${SELECTED}}[$__range]))`,
        instant: true,
      },
    ],
  },
  {
    title: 'Since the last good load',
    description:
      'Time since the instance that has gone longest without one last loaded the allowlist successfully.',
    type: 'stat',
    width: 12,
    height: 4,
    unit: 's',
    source: 'mcp-gate',
    queries: [
      {
        expr: `time() - min(mcp_gate_allowlist_last_reload_success_timestamp_seconds{${SELECTED}})`,
        instant: true,
      },
    ],
  },
  { row: 'Service health' },
  {
    title: 'Check latency p50 / p99',
    description:
      'Time mcp-gate spends answering one Check, from request decoded to response handed to gRPC. Envoy waits for it on every request it inspects.',
    type: 'timeseries',
    width: 8,
    height: 8,
    unit: 's',
    source: 'mcp-gate',
    queries: [latency(0.5), latency(0.99)],
  },
  {
    title: 'Overload and shedding',
    description:
      'Checks answered without inspection per second, by cause (queue_full and deadline_exceeded were denied as overloaded), and the deepest check queue of the selected instances.',
    type: 'timeseries',
    width: 8,
    height: 8,
    unit: 'short',
    source: 'mcp-gate',
    queries: [
      {
        expr: `sum by (cause) (${rate(`mcp_gate_checks_shed_total{${SELECTED}}`)})`,
        legend: 'shed: {{cause}}',
      },
      { expr: `max(mcp_gate_check_queue_depth{${SELECTED}})`, legend: 'queue depth' },
    ],
  },
  {
    title: 'Internal errors and dropped audit lines',
    description:
      'Internal errors per second by code (each was answered with a deny, reason internal_error), and audit lines dropped because stdout could not keep up.',
    type: 'timeseries',
    width: 8,
    height: 8,
    unit: 'short',
    source: 'mcp-gate',
    queries: [
      {
        expr: `sum by (code) (${rate(`mcp_gate_errors_total{${SELECTED}}`)})`,
        legend: 'error: {{code}}',
      },
      {
        expr: `sum(${rate(`mcp_gate_audit_lines_dropped_total{${SELECTED}}`)})`,
        legend: 'audit lines dropped',
      },
    ],
  },
  { row: 'Envoy' },
  {
    title: 'Envoy ext_authz outcomes',
    description:
      "Envoy's own view of its ext_authz filters (HTTP: stat_prefix mcp_gate; transparent mode's SNI filter: mcp_gate_sni), per second: ok and denied answers, errors (mcp-gate unreachable or too slow: answered 503), and failure_mode_allowed, requests let through unchecked, which the shipped configs never allow. Needs Envoy's admin /stats/prometheus scraped.",
    type: 'timeseries',
    width: 24,
    height: 8,
    unit: 'reqps',
    source: 'envoy',
    queries: ['ok', 'denied', 'error', 'failure_mode_allowed'].map(envoyOutcome),
  },
];

export function isRow(spec: PanelSpec | RowSpec): spec is RowSpec {
  return 'row' in spec;
}

/** Panels placed left to right, wrapping to the next band when a panel no longer fits. */
function layout(): (Panel | RowPanel)[] {
  const panels: (Panel | RowPanel)[] = [];
  let x = 0;
  let y = 0;
  let bandHeight = 0;
  let id = 1;
  for (const spec of PANELS) {
    if (isRow(spec)) {
      y += bandHeight;
      panels.push({
        id: id++,
        type: 'row',
        title: spec.row,
        collapsed: false,
        gridPos: { x: 0, y, w: GRID_COLUMNS, h: 1 },
        panels: [],
      });
      y += 1;
      x = 0;
      bandHeight = 0;
      continue;
    }
    if (x + spec.width > GRID_COLUMNS) {
      y += bandHeight;
      x = 0;
      bandHeight = 0;
    }
    panels.push(panel(id++, spec, { x, y, w: spec.width, h: spec.height }));
    x += spec.width;
    bandHeight = Math.max(bandHeight, spec.height);
  }
  return panels;
}

function panel(id: number, spec: PanelSpec, gridPos: GridPos): Panel {
  const steps = (spec.thresholds ?? [['green', null]]).map(([color, value]) => ({ color, value }));
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        color: {
          mode:
            spec.thresholds === undefined
              ? FieldColorModeId.PaletteClassic
              : FieldColorModeId.Thresholds,
        },
        thresholds: { mode: ThresholdsMode.Absolute, steps },
        ...(spec.type === 'timeseries'
          ? {
              custom: {
                drawStyle: 'line',
                fillOpacity: spec.stack === true ? 30 : 10,
                stacking: { mode: spec.stack === true ? 'normal' : 'none', group: 'A' },
                showPoints: 'never',
              },
            }
          : {}),
      },
      overrides: [],
    },
    options: options(spec),
    targets: spec.queries.map((query, index) => ({
      refId: String.fromCharCode(65 + index),
      datasource: DATASOURCE,
      expr: query.expr,
      legendFormat: query.legend ?? '__auto',
      range: query.instant !== true,
      instant: query.instant === true,
      ...(spec.type === 'table' ? { format: 'table' } : {}),
    })),
  };
}

function options(spec: PanelSpec): Record<string, unknown> {
  switch (spec.type) {
    case 'timeseries':
      return {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
    case 'bargauge':
      return {
        orientation: 'horizontal',
        displayMode: 'basic',
        showUnfilled: true,
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      };
    case 'stat':
      return {
        colorMode: 'value',
        graphMode: 'none',
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      };
    case 'table':
      return { showHeader: true, cellHeight: 'sm' };
  }
}

/** A query variable over a label of mcp_gate_allowlist_info, which every instance exports. */
function labelVariable(name: string, label: string, matchers: string): VariableModel {
  const query = `label_values(mcp_gate_allowlist_info${matchers}, ${name})`;
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { qryType: 1, query, refId: `PrometheusVariableQueryEditor-${name}` },
    // Re-read when the time range changes, so new instances show up.
    refresh: VariableRefresh.onTimeRangeChanged,
    multi: true,
    includeAll: true,
    // "All" as a regex over whatever exists, not a list frozen when the dashboard loaded.
    allValue: '.+',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    regex: '',
    sort: VariableSort.alphabeticalAsc,
  };
}

/** The dashboard as Grafana's classic JSON model. */
export function dashboard(): Dashboard {
  return {
    uid: DASHBOARD_UID,
    title: 'mcp-gate: shadow MCP and allowlist enforcement',
    description:
      'What mcp-gate blocks and why, which unapproved MCP servers people try, approvals close to expiry, and whether the service keeps up. Panels and their queries: README, section Monitoring.',
    tags: ['mcp-gate', 'mcp', 'security'],
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    timezone: 'browser',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    refresh: '30s',
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    links: [],
    annotations: { list: [] },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          options: [],
          refresh: VariableRefresh.onDashboardLoad,
          regex: '',
        },
        labelVariable('job', 'Job', ''),
        labelVariable('instance', 'Instance', '{job=~"$job"}'),
      ],
    },
    panels: layout(),
  };
}

/** The file's expected text: the dashboard as JSON, laid out as Prettier lays out the repo. */
export async function dashboardText(): Promise<string> {
  const file = path.join(ROOT, DASHBOARD_FILE);
  const config = (await resolveConfig(file)) ?? {};
  return format(JSON.stringify(dashboard()), { ...config, filepath: file });
}

if (process.argv[1] === import.meta.filename) {
  process.exitCode = await runGenerator(
    new Map([[DASHBOARD_FILE, await dashboardText()]]),
    'npm run grafana:dashboard',
  );
}
