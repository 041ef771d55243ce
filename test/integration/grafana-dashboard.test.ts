/**
 * deploy/grafana/mcp-gate.json as Grafana will load it: the committed file is what
 * scripts/grafana-dashboard.ts generates; panel ids are unique and the panels tile the 24-column
 * grid without overlapping; every panel and query reads the `datasource` variable; every
 * mcp-gate selector carries the job and instance filter and nothing names an instance; queries use
 * only variables the dashboard defines or Grafana provides. A broken copy must fail the same
 * checks. Whether the queries parse and return data is test/integration/prometheus.test.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultDashboard } from '@grafana/schema';
import { describe, expect, test } from 'vitest';

import {
  DASHBOARD_FILE,
  dashboard,
  dashboardText,
  GRID_COLUMNS,
  SCHEMA_VERSION,
} from '../../scripts/grafana-dashboard.js';
import { ROOT } from '../../scripts/generated-files.js';

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Dashboard {
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; query?: unknown }[] };
}

/** Variables Grafana itself provides to Prometheus queries. */
const BUILT_IN = new Set(['__rate_interval', '__range', '__interval']);

/** Everything wrong with a dashboard, as readable lines (empty: nothing). */
function problems(board: Dashboard): string[] {
  const found: string[] = [];
  const variables = board.templating?.list ?? [];
  const datasource = variables.find((v) => v.name === 'datasource');
  if (datasource?.type !== 'datasource' || datasource.query !== 'prometheus') {
    found.push('no Prometheus datasource variable "datasource"');
  }
  const defined = new Set(variables.map((v) => v.name));
  const panels = board.panels ?? [];
  const ids = panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length) found.push(`panel ids repeat: ${ids.join(',')}`);

  panels.forEach((panel, i) => {
    const where = `panel ${String(panel.id)} "${String(panel.title)}"`;
    const grid = panel.gridPos;
    if (grid === undefined) {
      found.push(`${where}: no gridPos`);
      return;
    }
    if (grid.x < 0 || grid.w < 1 || grid.h < 1 || grid.x + grid.w > GRID_COLUMNS) {
      found.push(`${where}: outside the grid`);
    }
    for (const other of panels.slice(i + 1)) {
      const o = other.gridPos;
      if (o === undefined) continue;
      const apart =
        grid.x + grid.w <= o.x ||
        o.x + o.w <= grid.x ||
        grid.y + grid.h <= o.y ||
        o.y + o.h <= grid.y;
      if (!apart) found.push(`${where} overlaps panel ${String(other.id)}`);
    }
    if (panel.type === 'row') return;
    if (panel.title === undefined || panel.description === undefined) {
      found.push(`${where}: no title or description`);
    }
    const reads = (d: Target['datasource']): boolean =>
      d?.type === 'prometheus' && d.uid === '${datasource}';
    if (!reads(panel.datasource)) found.push(`${where}: datasource is not \${datasource}`);
    const targets = panel.targets ?? [];
    if (targets.length === 0) found.push(`${where}: no queries`);
    const refIds = targets.map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length) found.push(`${where}: refIds repeat`);
    for (const target of targets) {
      const expr = target.expr ?? '';
      if (!reads(target.datasource)) found.push(`${where} ${String(target.refId)}: datasource`);
      for (const [, name] of expr.matchAll(/\$\{?(\w+)/g)) {
        if (!defined.has(name ?? '') && !BUILT_IN.has(name ?? '')) {
          found.push(`${where}: unknown variable $${String(name)}`);
        }
      }
      if (/instance\s*=\s*"/.test(expr)) found.push(`${where}: a hard-coded instance`);
      for (const [selector] of expr.matchAll(/\bmcp_gate_\w+(\{[^}]*\})?/g)) {
        if (!selector.includes('job=~"$job"') || !selector.includes('instance=~"$instance"')) {
          found.push(`${where}: ${selector} lacks the job/instance filter`);
        }
      }
    }
  });
  return found;
}

describe('deploy/grafana/mcp-gate.json', () => {
  test('is what scripts/grafana-dashboard.ts generates (npm run grafana:dashboard)', async () => {
    const committed = await readFile(path.join(ROOT, DASHBOARD_FILE), 'utf8');
    expect(committed).toBe(await dashboardText());
  });

  test('current schema, unique ids, no overlap, ${datasource} and the job/instance filter everywhere', async () => {
    const board = JSON.parse(await readFile(path.join(ROOT, DASHBOARD_FILE), 'utf8')) as Dashboard;
    expect(board.schemaVersion).toBe(SCHEMA_VERSION);
    // Grafana's own schema package names the current version; a newer one means reading the
    // migrations Grafana added (apps/dashboard/pkg/migration/schemaversion) before bumping ours.
    expect(SCHEMA_VERSION).toBe(defaultDashboard.schemaVersion);
    expect(problems(board)).toEqual([]);
    // Every panel the issue asks for, by its title.
    const titles = (board.panels ?? []).map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Blocked MCP attempts by reason',
        'Top shadow servers',
        'Top blocked tools',
        'Blocked attempts by AI client',
        'Allowed vs denied MCP requests',
        'Dry-run: would deny',
        'Approvals by days to expiry',
        'Allowlist in force by instance',
        'Failed allowlist loads',
        'Check latency p50 / p99',
        'Overload and shedding',
        'Envoy ext_authz outcomes',
      ]),
    );
  });

  test('a broken dashboard fails the same checks', () => {
    const board = structuredClone(dashboard()) as Dashboard;
    const [first, second, third] = (board.panels ?? []).filter((p) => p.type !== 'row');
    if (first === undefined || second?.gridPos === undefined || third?.targets?.[0] === undefined) {
      throw new Error('too few panels');
    }
    second.gridPos = { ...second.gridPos, x: first.gridPos?.x ?? 0, y: first.gridPos?.y ?? 0 };
    second.id = first.id ?? 1;
    third.datasource = { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' };
    third.targets[0].expr =
      'sum(rate(mcp_gate_decisions_total{instance="10.0.0.7:9192"}[$window]))';
    const found = problems(board).join('\n');
    expect(found).toMatch(/panel ids repeat/);
    expect(found).toMatch(/overlaps/);
    expect(found).toMatch(/datasource is not/);
    expect(found).toMatch(/unknown variable \$window/);
    expect(found).toMatch(/hard-coded instance/);
    expect(found).toMatch(/lacks the job\/instance filter/);
  });
});
