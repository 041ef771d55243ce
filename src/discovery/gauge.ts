/**
 * `mcp_gate_discovered_attempts{host,client}`: the discovery table's most-tried servers as a
 * gauge, so a dashboard can name shadow servers with a bounded number of series.
 *
 * Computed at every scrape from the table as it is then: the `top` rows with the most attempts
 * counted, each row's attempts per client label, summed by host (two path prefixes of one host
 * are one host to a dashboard). A row that has left the top `top` has no series from that
 * scrape on. At most `top` × the number of client labels series, whatever is sent.
 * Under --workers the primary sums the workers' gauges per label set (prom-client's default
 * gauge aggregation): each worker has its own table, so a host counts the attempts of the
 * workers that rank it in their own top `top`.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { DiscoveryTable } from './table.js';

/** The gauge's default number of rows (`--discovery-gauge-top`). */
export const DEFAULT_GAUGE_TOP = 50;

/** Registers the gauge on `registry`, reading `table` at scrape time. */
export function registerDiscoveryGauge(
  registry: Registry,
  table: DiscoveryTable,
  top: number,
): void {
  new Gauge({
    name: 'mcp_gate_discovered_attempts',
    help: 'Attempts at MCP servers no allowlist entry approves, for the most-tried ones in the discovery table (GET /discovery), by host and AI client; computed at scrape time.',
    labelNames: ['host', 'client'] as const,
    registers: [registry],
    aggregator: 'sum',
    collect() {
      this.reset();
      for (const row of table.top(top)) {
        for (const [client, attempts] of row.clients)
          this.inc({ host: row.host, client }, attempts);
      }
    },
  });
}
