/**
 * Turns measured runs into the report: medians per cell and server, paired ratios, a readable
 * table, and the JSON object `--json` prints.
 */
import type { MicroReport } from './micro.js';
import type { Cell } from './options.js';
import { SERVER_NAMES } from './servers.js';
import type { ServerName } from './servers.js';
import { median, round } from './stats.js';

/** One measured load of one server. */
export interface RunResult {
  readonly server: ServerName;
  readonly cell: Cell;
  readonly round: number;
  readonly rps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Server CPU (all threads) per answered Check. */
  readonly cpuUs: number;
  readonly rssMb: number;
  readonly gcMsPerS: number;
  readonly gcMaxMs: number;
  readonly requests: number;
}

export interface ServerFigures {
  readonly rps: number | null;
  readonly p50_us: number | null;
  readonly p99_us: number | null;
  readonly cpu_us: number | null;
  readonly rss_mb: number | null;
  readonly gc_ms_per_s: number | null;
  readonly gc_max_ms: number | null;
  readonly runs: number;
}

export type ShapeReport = {
  readonly shape: string;
  readonly payload: string;
} & Partial<Record<ServerName, ServerFigures>> &
  Record<string, unknown>;

/** The key of a cell in `shapes`: the shape for the headline payload, else `shape:payload`. */
export function cellKey(cell: Cell): string {
  return cell.payload === 'tools-call' ? cell.shape : `${cell.shape}:${cell.payload}`;
}

function figures(runs: readonly RunResult[]): ServerFigures {
  const m = (pick: (r: RunResult) => number, digits = 0): number | null =>
    round(median(runs.map(pick)), digits);
  return {
    rps: m((r) => r.rps),
    p50_us: m((r) => r.p50Us),
    p99_us: m((r) => r.p99Us),
    cpu_us: m((r) => r.cpuUs, 1),
    rss_mb: m((r) => r.rssMb, 1),
    gc_ms_per_s: m((r) => r.gcMsPerS, 2),
    gc_max_ms: m((r) => r.gcMaxMs, 2),
    runs: runs.length,
  };
}

/**
 * Median over rounds of ours/base within the same round: the three servers of a round ran
 * back to back, so a noisy minute moves both sides of each ratio.
 */
function pairedRatio(
  runs: readonly RunResult[],
  base: ServerName,
  pick: (r: RunResult) => number,
): number | null {
  const ratios: number[] = [];
  for (const ours of runs.filter((r) => r.server === 'ours')) {
    const other = runs.find((r) => r.server === base && r.round === ours.round);
    if (other !== undefined) ratios.push(pick(ours) / pick(other));
  }
  return round(median(ratios), 2);
}

export function buildShapes(
  cells: readonly Cell[],
  results: readonly RunResult[],
): Record<string, ShapeReport> {
  const shapes: Record<string, ShapeReport> = {};
  for (const cell of cells) {
    const runs = results.filter(
      (r) => r.cell.shape === cell.shape && r.cell.payload === cell.payload,
    );
    if (runs.length === 0) continue;
    const report: Record<string, unknown> = { shape: cell.shape, payload: cell.payload };
    for (const server of SERVER_NAMES) {
      const own = runs.filter((r) => r.server === server);
      if (own.length > 0) report[server] = figures(own);
    }
    for (const base of ['null', 'raw'] as const) {
      report[`ratio_rps_vs_${base}`] = pairedRatio(runs, base, (r) => r.rps);
      report[`ratio_p99_vs_${base}`] = pairedRatio(runs, base, (r) => r.p99Us);
      report[`ratio_cpu_vs_${base}`] = pairedRatio(runs, base, (r) => r.cpuUs);
    }
    shapes[cellKey(cell)] = report as ShapeReport;
  }
  return shapes;
}

function fmt(value: unknown, digits = 0): string {
  if (typeof value !== 'number') return '-';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** The load table: one block per cell, a row per server and a row of ratios. */
export function formatLoadTable(shapes: Readonly<Record<string, ShapeReport>>): string {
  const widths = [18, 9, 8, 8, 9, 8, 8, 8];
  const lines = [
    pad(
      ['cell / server', 'req/s', 'p50 µs', 'p99 µs', 'CPU µs', 'RSS MB', 'GC ms/s', 'GC max'],
      widths,
    ),
  ];
  for (const [key, report] of Object.entries(shapes)) {
    lines.push(key);
    for (const server of SERVER_NAMES) {
      const f = report[server];
      if (f === undefined) continue;
      lines.push(
        pad(
          [
            `  ${server}`,
            fmt(f.rps),
            fmt(f.p50_us),
            fmt(f.p99_us),
            fmt(f.cpu_us, 1),
            fmt(f.rss_mb, 0),
            fmt(f.gc_ms_per_s, 1),
            fmt(f.gc_max_ms, 1),
          ],
          widths,
        ),
      );
    }
    for (const base of ['null', 'raw'] as const) {
      lines.push(
        pad(
          [
            `  ours/${base}`,
            `${fmt(report[`ratio_rps_vs_${base}`], 2)}x`,
            '',
            `${fmt(report[`ratio_p99_vs_${base}`], 2)}x`,
            `${fmt(report[`ratio_cpu_vs_${base}`], 2)}x`,
            '',
            '',
            '',
          ],
          widths,
        ),
      );
    }
  }
  return lines.join('\n');
}

export function formatMicro(micro: MicroReport): string {
  const widths = [14, 10, 10, 10, 9];
  const lines = [
    'decision path (authorize: MCP inspection + policy), CPU ns per call, by allowlist size',
    pad(['payload', '10', '1,000', '10,000', '10k/10'], widths),
  ];
  for (const [payload, row] of Object.entries(micro.decision)) {
    lines.push(
      pad(
        [
          payload,
          fmt(row['ns_10']),
          fmt(row['ns_1000']),
          fmt(row['ns_10000']),
          `${fmt(row['ratio_10k_vs_10'], 2)}x`,
        ],
        widths,
      ),
    );
  }
  lines.push(
    `scoped decision (identity, access, two conditions): ${fmt(micro.scoping.scoped_ns)} ns, ` +
      `same entry unscoped ${fmt(micro.scoping.plain_ns)} ns, ${fmt(micro.scoping.ratio, 2)}x`,
  );
  lines.push('allowlist reload (PolicyStore: worker thread, snapshot in slices), by entries');
  const reloadWidths = [8, 12, 12, 12, 12];
  lines.push(pad(['entries', 'parse ms', 'parse CPU', 'reload ms', 'stall ms'], reloadWidths));
  for (const [size, row] of Object.entries(micro.reload.sizes)) {
    lines.push(
      pad(
        [
          size,
          fmt(row.parse_ms, 1),
          fmt(row.parse_cpu_ms, 1),
          fmt(row.reload_ms, 1),
          fmt(row.reload_max_stall_ms, 1),
        ],
        reloadWidths,
      ),
    );
  }
  lines.push(
    `reload 4,000/1,000: ${fmt(micro.reload.ratio_4k_vs_1k, 2)}x (4x is linear); reload ms is ` +
      'the median, stall ms the longest event-loop stall over all reloads of that size',
  );
  // The reload targets of docs/performance.md; "linear" allows a quarter over 4x for noise.
  const rows = Object.values(micro.reload.sizes);
  const thousand = micro.reload.sizes['1000']?.reload_ms ?? null;
  const stall = Math.max(...rows.map((row) => row.reload_max_stall_ms ?? Infinity));
  const ratio = micro.reload.ratio_4k_vs_1k;
  const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  lines.push(
    `reload targets: 1,000 entries <= 1,000 ms ${met(thousand !== null && thousand <= 1000)}; ` +
      `stall <= 20 ms ${met(stall <= 20)}; linear (4,000/1,000 <= 5x) ${met(ratio !== null && ratio <= 5)}`,
  );
  return lines.join('\n');
}
